//! Every store's day for the platform's staff, as JSON and as CSV (one row per store),
//! and the dashboard's figures.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use serde::Deserialize;
use tillfund_core::protocol::{CashierDayBody, CounterDayBody, StoreDayBody, StoreDaysBody};
use tillfund_core::settlement::SettlementFigures;
use tillfund_core::{Currency, TerminalId};

use super::extract::ApiQuery;
use super::operators::OperatorCall;
use super::{ApiError, AppState, ErrorBody};
use crate::service::{CashierDay, ErrorCode, StoreDay, StoredCashCount};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayParams {
    /// `YYYY-MM-DD`, each store's own day in its time zone.
    pub day: String,
}

pub(super) fn parse_day(text: &str) -> Result<Date, ApiError> {
    text.trim().parse().map_err(|_| ApiError::new(ErrorCode::DayInvalid, "A day is YYYY-MM-DD."))
}

pub(super) fn store_day_body(day: &Date, store: StoreDay) -> StoreDayBody {
    StoreDayBody {
        merchant_id: store.merchant.id,
        name: store.merchant.name,
        day: day.to_string(),
        closed: store.closed,
        drawer_cash: store.figures.drawer_cash(),
        net_owed_to_store: store.figures.net_owed_to_store(),
        figures: store.figures,
        counters: with_cashiers(
            counter_days(store.by_terminal, store.cash_counts)
                .into_iter()
                .map(|(terminal_id, figures, count)| CounterDayBody {
                    terminal_id,
                    figures,
                    cash_count: count.map(|count| count.count),
                    cashiers: Vec::new(),
                })
                .collect(),
            store.cashiers,
        ),
    }
}

/// Each counter's day with who did what there; a counter known only by its cashier lines
/// (it closed a day without entries) is listed too, with zero figures.
fn with_cashiers(
    mut counters: Vec<CounterDayBody>,
    cashiers: Vec<CashierDay>,
) -> Vec<CounterDayBody> {
    for line in cashiers {
        let (Some(terminal_id), Some(staff_id)) = (line.terminal_id, line.staff_id) else {
            continue;
        };
        let body = CashierDayBody {
            staff_id,
            name: line.name,
            top_up_count: line.top_up_count,
            top_ups: line.top_ups,
            refund_count: line.refund_count,
            refunds: line.refunds,
            reversal_count: line.reversal_count,
            reversed_cash: line.reversed,
            redemption_count: line.redemption_count,
            redeemed_cash: line.redeemed,
            closes: line.closes,
        };
        match counters.iter_mut().find(|counter| counter.terminal_id == terminal_id) {
            Some(counter) => counter.cashiers.push(body),
            None => counters.push(CounterDayBody {
                terminal_id,
                figures: SettlementFigures::default(),
                cash_count: None,
                cashiers: vec![body],
            }),
        }
    }
    counters
}

/// Every counter of a store's day with its figures and its drawer count: a counter that
/// counted an empty drawer (no entries that day) is listed too, with zero figures.
pub(super) fn counter_days(
    by_terminal: Vec<(TerminalId, SettlementFigures)>,
    mut cash_counts: Vec<StoredCashCount>,
) -> Vec<(TerminalId, SettlementFigures, Option<StoredCashCount>)> {
    let mut days: Vec<_> = by_terminal
        .into_iter()
        .map(|(terminal_id, figures)| {
            let count = cash_counts
                .iter()
                .position(|count| count.terminal_id == terminal_id)
                .map(|index| cash_counts.swap_remove(index));
            (terminal_id, figures, count)
        })
        .collect();
    days.extend(
        cash_counts
            .into_iter()
            .map(|count| (count.terminal_id, SettlementFigures::default(), Some(count))),
    );
    days
}

/// Every store's figures for the day: closed or open, the drawer's cash and the net.
#[utoipa::path(
    get, path = "/v1/operator/settlements", tag = "operator",
    params(DayParams),
    responses(
        (status = 200, body = StoreDaysBody),
        (status = 422, description = "day_invalid", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn days(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiQuery(params): ApiQuery<DayParams>,
) -> Result<Json<StoreDaysBody>, ApiError> {
    let day = parse_day(&params.day)?;
    let stores = state.service().store_days(&call.operator, &call.source, day).await?;
    Ok(Json(StoreDaysBody {
        currency: state.currency().code().to_owned(),
        days: stores.into_iter().map(|store| store_day_body(&day, store)).collect(),
    }))
}

/// The same as CSV, one row per store, amounts in major units.
#[utoipa::path(
    get, path = "/v1/operator/settlements.csv", tag = "operator",
    params(DayParams),
    responses(
        (status = 200, description = "One row per store", content_type = "text/csv", body = String),
        (status = 422, description = "day_invalid", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn days_csv(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiQuery(params): ApiQuery<DayParams>,
) -> Result<Response, ApiError> {
    let day = parse_day(&params.day)?;
    let stores = state.service().store_days(&call.operator, &call.source, day).await?;
    let bodies: Vec<_> = stores.into_iter().map(|store| store_day_body(&day, store)).collect();
    Ok(csv_response(&day, &to_csv(&bodies, state.currency())))
}

pub(super) fn csv_response(day: &Date, csv: &str) -> Response {
    let disposition = format!("attachment; filename=\"settlements-{day}.csv\"");
    (
        [(CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (CONTENT_DISPOSITION, disposition)],
        csv.to_owned(),
    )
        .into_response()
}

/// One row per store; names are quoted and defused as in the trail's export.
pub fn to_csv(days: &[StoreDayBody], currency: Currency) -> String {
    let money = |units: i64| {
        tillfund_core::Amount::from_minor_units(units)
            .map_or_else(|_| units.to_string(), |amount| amount.format(currency))
    };
    let mut csv = String::from(
        "\"day\",\"store\",\"merchant_id\",\"closed\",\"top_ups\",\"cash\",\"bonus\",\"payments\",\
         \"payment_amount\",\"refunds\",\"refund_amount\",\"reversals\",\"reversed_cash\",\
         \"redemptions\",\"redeemed_cash\",\"drawer_cash\",\"net_owed_to_store\",\"currency\"\r\n",
    );
    for day in days {
        let figures = &day.figures;
        let cells = [
            day.day.clone(),
            day.name.clone(),
            day.merchant_id.to_string(),
            day.closed.to_string(),
            figures.top_up_count.to_string(),
            money(figures.cash),
            money(figures.bonus),
            figures.payment_count.to_string(),
            money(figures.payments),
            figures.refund_count.to_string(),
            money(figures.refunds),
            figures.reversal_count.to_string(),
            money(figures.reversed_cash),
            figures.redemption_count.to_string(),
            money(figures.redeemed_cash),
            money(day.drawer_cash),
            money(day.net_owed_to_store),
            currency.code().to_owned(),
        ];
        let row: Vec<String> = cells
            .iter()
            .map(|cell| {
                // A store's name is typed by people: never a formula in a spreadsheet.
                let defused = if cell.starts_with(['=', '+', '@', '\t', '\r']) { "'" } else { "" };
                format!("\"{defused}{}\"", cell.replace('"', "\"\""))
            })
            .collect();
        csv.push_str(&row.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// The dashboard: the reserve and its last 30 days, today's flows, silent counters and
/// what waits for approval (everyone reads).
#[utoipa::path(
    get, path = "/v1/operator/dashboard", tag = "operator",
    responses((status = 200, body = tillfund_core::protocol::DashboardBody)),
    security(("operator_session" = []))
)]
pub async fn dashboard(
    State(state): State<AppState>,
    call: OperatorCall,
) -> Result<Json<tillfund_core::protocol::DashboardBody>, ApiError> {
    use tillfund_core::protocol::{
        DashboardBody, DayBalanceBody, FlowBody, LastAuditBody, RefusedEntriesBody,
        SilentCounterBody,
    };
    let board = state.service().dashboard(&call.operator, &call.source).await?;
    Ok(Json(DashboardBody {
        status: super::health::status_body(state.currency(), board.status),
        today: board.today.to_string(),
        today_flows: board
            .today_flows
            .transfers
            .into_iter()
            .map(|total| FlowBody {
                code: total.code,
                entries: total.entries,
                amount: total.amount,
            })
            .collect(),
        reserve_by_day: board
            .reserve_by_day
            .into_iter()
            .map(|(day, reserve)| DayBalanceBody { day: day.to_string(), reserve })
            .collect(),
        silent_counters: board
            .silent_counters
            .into_iter()
            .map(|silent| SilentCounterBody {
                merchant: silent.merchant,
                label: silent.label,
                terminal_id: silent.terminal_id,
                last_seen_ms: silent.last_seen_ms,
            })
            .collect(),
        refused_entries: board
            .refused_entries
            .into_iter()
            .map(|refused| RefusedEntriesBody {
                merchant: refused.merchant,
                label: refused.label,
                terminal_id: refused.terminal_id,
                refused: refused.refused,
            })
            .collect(),
        last_audit: board.last_audit.map(|audit| LastAuditBody {
            at_ms: audit.at_ms,
            by: audit.by,
            outcome: audit.outcome,
            detail: audit.detail,
        }),
        pending_proposals: board.pending_proposals as u64,
    }))
}
