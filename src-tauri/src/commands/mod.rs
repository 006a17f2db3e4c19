//! Tauri commands, one file per area. Each is a few lines: take state, call `counter-core`,
//! map the error to `{code, message}`.

pub mod connection;
pub mod sync;

use serde::Serialize;

/// What a failed command gives the UI: a stable code to branch on and a message to show.
#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl CommandError {
    pub fn local(error: counter_core::store::LocalStoreError) -> CommandError {
        tracing::error!(%error, "local store");
        CommandError {
            code: "local_storage_failed".to_owned(),
            message: "The counter could not read its local data; it has been logged.".to_owned(),
        }
    }
}
