use counter_core::connection::ConnectionStatus;
use counter_core::counter::Counter;
use tokio::sync::watch;

/// Everything the commands need, given to Tauri once with `manage`.
pub struct AppState {
    pub connection: watch::Receiver<ConnectionStatus>,
    /// The counter's local store and actions.
    pub counter: Counter,
}
