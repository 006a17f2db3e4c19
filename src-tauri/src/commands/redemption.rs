//! Paying a customer out in cash against the code from their wallet
//! (`counter_core::redemptions`): a manager's act, online only; the drawer opens for it.

use serde::Serialize;
use tauri::State;

use super::CommandError;
use super::staff::signed_in;
use crate::state::AppState;
use counter_core::redemptions::RedemptionDone;
use counter_core::staff::{Cashier, Role};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RedemptionView {
    pub done: RedemptionDone,
    /// The cash drawer did not open: the payout is made all the same; the manager opens
    /// the drawer with its key.
    pub drawer_problem: Option<CommandError>,
}

/// Prints a payout's slip; returns the print job id.
#[tauri::command]
pub async fn print_redemption(
    state: State<'_, AppState>,
    entry_sequence: i64,
) -> Result<i64, CommandError> {
    signed_in(&state, Role::Cashier)?;
    let printer = super::counter::configured_printer(&state).await?;
    let receipt = state.counter.redemption_receipt(entry_sequence).await?;
    Ok(state.counter.print(&printer, &receipt).await?)
}

#[tauri::command]
pub async fn redeem(
    state: State<'_, AppState>,
    customer: String,
    code: String,
    amount: String,
) -> Result<RedemptionView, CommandError> {
    let by = Cashier::from(&signed_in(&state, Role::Manager)?);
    let done = state.counter.redeem(Some(&by), &customer, &code, &amount).await?;
    // Paid first: the drawer's fate never undoes or blocks the payout.
    let drawer_problem = super::drawer_kick::drawer_after_top_up(&state).await;
    Ok(RedemptionView { done, drawer_problem })
}
