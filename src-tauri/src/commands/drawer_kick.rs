//! The cash drawer's kick through the receipt printer: the manager's test button and the
//! setting that opens it on cash top-ups (`counter_core::drawer`). The drawer's money
//! through the day (float, drops, count) is `drawer.rs`.

use serde::Serialize;
use tauri::State;

use super::CommandError;
use super::counter::configured_printer;
use super::staff::signed_in;
use crate::state::AppState;
use counter_core::drawer::DrawerAfterTopUp;
use counter_core::staff::Role;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DrawerSettings {
    /// The drawer hangs off the printer: without one there is nothing to open.
    pub printer_set: bool,
    pub open_on_cash_top_up: bool,
}

#[tauri::command]
pub async fn drawer_settings(state: State<'_, AppState>) -> Result<DrawerSettings, CommandError> {
    Ok(DrawerSettings {
        printer_set: state.counter.printer().await?.is_some(),
        open_on_cash_top_up: state.counter.drawer_on_cash_top_up().await?,
    })
}

#[tauri::command]
pub async fn set_drawer_on_cash_top_up(
    state: State<'_, AppState>,
    open: bool,
) -> Result<(), CommandError> {
    signed_in(&state, Role::Manager)?;
    Ok(state.counter.set_drawer_on_cash_top_up(open).await?)
}

/// Settings' test button: a manager's act, like any drawer opened without a sale.
#[tauri::command]
pub async fn open_drawer(state: State<'_, AppState>) -> Result<(), CommandError> {
    signed_in(&state, Role::Manager)?;
    let printer = configured_printer(&state).await?;
    Ok(state.counter.open_drawer(&printer).await?)
}

/// What the top-up screen says about the drawer: nothing when it opened or was not asked
/// to; the problem otherwise. The top-up stands either way.
pub async fn drawer_after_top_up(state: &AppState) -> Option<CommandError> {
    match state.counter.open_drawer_after_top_up().await {
        DrawerAfterTopUp::Opened | DrawerAfterTopUp::NotAsked => None,
        DrawerAfterTopUp::Failed(error) => {
            tracing::warn!(%error, "cash drawer after a top-up");
            Some(CommandError::from(error))
        }
    }
}
