use counter_core::connection::ConnectionStatus;
use tokio::sync::watch;

/// Everything the commands need, given to Tauri once with `manage`.
pub struct AppState {
    pub connection: watch::Receiver<ConnectionStatus>,
}
