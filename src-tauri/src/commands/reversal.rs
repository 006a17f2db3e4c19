//! Top-up reversals: the list of recent top-ups and a manager's reversal of one
//! (`counter_core::reversals`, online only).

use tauri::State;

use super::CommandError;
use super::counter::parse_entry_id;
use super::staff::signed_in;
use crate::state::AppState;
use counter_core::reversals::ReversalDone;
use counter_core::staff::{Cashier, Role};
use counter_core::store::RecentTopUp;

#[tauri::command]
pub async fn recent_top_ups(
    state: State<'_, AppState>,
    limit: i64,
) -> Result<Vec<RecentTopUp>, CommandError> {
    signed_in(&state, Role::Cashier)?;
    Ok(state.counter.recent_top_ups(limit).await?)
}

/// Gives back `amount` in cash for the top-up `entry_id`; the server claws back the bonus
/// in proportion and answers with what it did.
#[tauri::command]
pub async fn reverse_top_up(
    state: State<'_, AppState>,
    entry_id: String,
    amount: String,
) -> Result<ReversalDone, CommandError> {
    let by = Cashier::from(&signed_in(&state, Role::Manager)?);
    Ok(state.counter.reverse_top_up(Some(&by), parse_entry_id(&entry_id)?, &amount).await?)
}
