//! Events pushed to the UI. Names are constants shared with `ui/` by convention; the UI
//! never has to poll for what these carry.

use counter_core::connection::ConnectionStatus;
use tauri::{AppHandle, Emitter};
use tokio::sync::watch;

/// Carries a `ConnectionStatus` each time the connection to the server changes state.
pub const CONNECTION_CHANGED: &str = "connection-changed";
/// Carries a `CustomerDisplay` to the customer-facing window when the cashier's changes it.
pub const CUSTOMER_DISPLAY_CHANGED: &str = "customer-display-changed";

/// Emits each change published by the connection monitor, until the monitor stops.
pub async fn forward_connection_changes(
    app: AppHandle,
    mut receiver: watch::Receiver<ConnectionStatus>,
) {
    while receiver.changed().await.is_ok() {
        let status = receiver.borrow_and_update().clone();
        if let Err(error) = app.emit(CONNECTION_CHANGED, status) {
            tracing::warn!(%error, "cannot emit {CONNECTION_CHANGED}");
        }
    }
}
