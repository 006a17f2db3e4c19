use counter_core::connection::ConnectionStatus;
use tauri::State;

use crate::state::AppState;

/// The latest known connection status, for the UI's first paint; changes follow as
/// `connection-changed` events.
#[tauri::command]
pub fn connection_status(state: State<'_, AppState>) -> ConnectionStatus {
    state.connection.borrow().clone()
}
