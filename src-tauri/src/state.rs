use std::sync::Mutex;

use counter_core::connection::ConnectionStatus;
use counter_core::counter::Counter;
use counter_core::staff::Shift;
use tokio::sync::watch;

use crate::commands::display::CustomerDisplay;

/// Everything the commands need, given to Tauri once with `manage`.
pub struct AppState {
    pub connection: watch::Receiver<ConnectionStatus>,
    /// The server the connection monitor probes; enrolment points it at the new server.
    pub server_target: watch::Sender<String>,
    /// The counter's local store and actions.
    pub counter: Counter,
    /// Who is signed in at this counter.
    pub shift: Shift,
    /// What the customer-facing window shows now; a window opened later starts from it.
    pub customer_display: Mutex<CustomerDisplay>,
}
