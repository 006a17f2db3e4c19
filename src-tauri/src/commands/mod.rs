//! Tauri commands, one file per area. Each is a few lines: take state, call `counter-core`,
//! map the error to `{code, message}`.

pub mod connection;
pub mod counter;
pub mod display;
pub mod staff;
pub mod sync;

use serde::Serialize;

/// What a failed command gives the UI: a stable code to branch on and a message to show.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl From<counter_core::counter::CounterError> for CommandError {
    fn from(error: counter_core::counter::CounterError) -> CommandError {
        if let counter_core::counter::CounterError::Local(local) = error {
            return CommandError::local(local);
        }
        CommandError { code: error.code().to_owned(), message: error.to_string() }
    }
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
