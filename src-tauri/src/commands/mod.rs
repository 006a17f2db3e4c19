//! Tauri commands, one file per area. Each is a few lines: take state, call `counter-core`,
//! map the error to `{code, message}`.

pub mod connection;
pub mod counter;
pub mod display;
pub mod drawer;
pub mod drawer_kick;
pub mod enrolment;
pub mod redemption;
pub mod reversal;
pub mod sound;
pub mod staff;
pub mod sync;

use counter_core::error_code::CounterCode;
use serde::Serialize;

/// What a failed command gives the UI: a stable code to branch on, a message to show, and
/// the same in Chinese from the tables of the counter, the server and the core (`None` for
/// a code none of them has: a newer server's, whose message is shown).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CommandError {
    pub code: String,
    pub message: String,
    pub message_zh: Option<String>,
}

impl From<counter_core::counter::CounterError> for CommandError {
    fn from(error: counter_core::counter::CounterError) -> CommandError {
        if let counter_core::counter::CounterError::Local(local) = error {
            return CommandError::local(local);
        }
        CommandError {
            code: error.code().to_owned(),
            message: error.to_string(),
            message_zh: error.chinese().map(str::to_owned),
        }
    }
}

impl CommandError {
    /// A refusal of the app itself.
    pub fn counter(code: CounterCode, message: impl Into<String>) -> CommandError {
        CommandError {
            code: code.as_str().to_owned(),
            message: message.into(),
            message_zh: Some(code.chinese().to_owned()),
        }
    }

    pub fn local(error: counter_core::store::LocalStoreError) -> CommandError {
        tracing::error!(%error, "local store");
        CommandError::counter(
            CounterCode::LocalStorageFailed,
            "The counter could not read its local data; it has been logged.",
        )
    }
}
