use counter_core::connection::ConnectionStatus;
use tauri::State;

use crate::state::AppState;

/// The latest known connection status, for the UI's first paint; changes follow as
/// `connection-changed` events.
#[tauri::command]
pub fn connection_status(state: State<'_, AppState>) -> ConnectionStatus {
    state.connection.borrow().clone()
}

/// When the process started, for the start-up time the UI reports.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The UI calls this once its first screen is drawn and usable. The time is logged (an
/// operator sees slow starts in the log) and the start benchmark waits for this line.
#[tauri::command]
pub fn ui_ready() {
    let elapsed = STARTED.get().map_or(0, |started| started.elapsed().as_millis());
    tracing::info!("ready after {elapsed} ms");
}
