//! Events pushed to the UI. Names are constants shared with `ui/` by convention; the UI
//! never has to poll for what these carry.

use counter_core::connection::ConnectionStatus;
use tauri::{AppHandle, Emitter};
use tokio::sync::watch;

/// Carries a `ConnectionStatus` each time the connection to the server changes state.
pub const CONNECTION_CHANGED: &str = "connection-changed";
/// Carries a `CustomerDisplay` to the customer-facing window when the cashier's changes it.
pub const CUSTOMER_DISPLAY_CHANGED: &str = "customer-display-changed";
/// Carries an `OrderPaid` each time one of this counter's orders is found paid.
pub const ORDER_PAID: &str = "order-paid";

/// Which order was found paid; `None` when the app fell behind and the UI should read its
/// open order again.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct OrderPaid {
    pub order_id: Option<String>,
}

/// Emits each order the counter finds paid, so the sale screen shows "paid" at once.
pub async fn forward_paid_orders(
    app: AppHandle,
    mut paid: tokio::sync::broadcast::Receiver<tillfund_core::OrderId>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let announcement = match paid.recv().await {
            Ok(order_id) => OrderPaid { order_id: Some(order_id.to_string()) },
            Err(RecvError::Lagged(_)) => OrderPaid { order_id: None },
            Err(RecvError::Closed) => return,
        };
        if let Err(error) = app.emit(ORDER_PAID, announcement) {
            tracing::warn!(%error, "cannot emit {ORDER_PAID}");
        }
    }
}

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
