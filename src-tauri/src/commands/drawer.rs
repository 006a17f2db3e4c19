//! The drawer through the day: the opening float, cash drops to the bank, and the blind
//! count before the close (`counter-core/src/cash_desk.rs`).

use counter_core::cash_desk::{Counted, DrawerDay};
use counter_core::counter::CounterError;
use counter_core::staff::Role;
use serde::Deserialize;
use tauri::State;
use tillfund_core::Currency;
use tillfund_core::cash_count::DenominationCount;

use super::CommandError;
use super::counter::{DayReportView, parse_day};
use super::staff::signed_in;
use crate::state::AppState;

/// The drawer of `day`, or of the store's today when no day is given.
#[tauri::command]
pub async fn drawer_day(
    state: State<'_, AppState>,
    day: Option<String>,
) -> Result<DrawerDay, CommandError> {
    signed_in(&state, Role::Cashier)?;
    let day = match day.filter(|day| !day.is_empty()) {
        Some(day) => parse_day(&day)?,
        None => state.counter.store_today().await?,
    };
    Ok(state.counter.drawer_day(day).await?)
}

/// The float put in the drawer before the first sale (whoever opens the counter).
#[tauri::command]
pub async fn set_opening_float(
    state: State<'_, AppState>,
    amount: String,
) -> Result<DrawerDay, CommandError> {
    let by = signed_in(&state, Role::Cashier)?;
    Ok(state.counter.set_opening_float(&amount, &by).await?)
}

/// Cash taken out to the bank: a manager's action.
#[tauri::command]
pub async fn record_cash_drop(
    state: State<'_, AppState>,
    amount: String,
) -> Result<DrawerDay, CommandError> {
    let by = signed_in(&state, Role::Manager)?;
    Ok(state.counter.record_cash_drop(&amount, &by).await?)
}

/// What the manager counted: pieces per note and coin value, or one total.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum CountedInput {
    Denominations { pieces: Vec<DenominationCount> },
    Total { amount: String },
}

/// The blind count of the day's drawer (a manager's, once); answers the day's report,
/// now with the expected cash and the over/short.
#[tauri::command]
pub async fn count_cash(
    state: State<'_, AppState>,
    day: String,
    counted: CountedInput,
    note: Option<String>,
    language: Option<String>,
) -> Result<DayReportView, CommandError> {
    let by = signed_in(&state, Role::Manager)?;
    let day = parse_day(&day)?;
    let counted = match counted {
        CountedInput::Denominations { pieces } => Counted::Denominations(pieces),
        CountedInput::Total { amount } => {
            let profile = state.counter.profile().await?;
            let currency = Currency::from_code(&profile.currency).unwrap_or_default();
            let amount = tillfund_core::Amount::parse(&amount, currency).map_err(|error| {
                CounterError::Field { code: error.code(), message: error.to_string() }
            })?;
            Counted::Total(amount)
        }
    };
    state.counter.count_cash(day, counted, note, &by).await?;
    let report = state.counter.day_report(day).await?;
    DayReportView::new(&state, report, language.as_deref()).await
}
