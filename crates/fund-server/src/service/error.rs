//! The service's errors: a kind the HTTP layer maps to a status, a stable code, a message.

use super::*;

/// What kind of failure an error is; the HTTP layer maps each to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule; retrying it unchanged fails again.
    Invalid,
    /// Who is asking could not be established.
    Unauthenticated,
    /// Who is asking may not do this.
    Forbidden,
    NotFound,
    /// It conflicts with the current state (phone taken, key reused, already paid).
    Conflict,
    /// The wallet is locked after too many wrong PINs.
    Locked,
    /// Too many attempts; wait and try again.
    TooManyAttempts,
    /// Not possible now; the same request may succeed later.
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub kind: ErrorKind,
    /// Stable and machine-readable; see the OpenAPI description for the list.
    pub code: String,
    pub message: String,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> ServiceError {
        ServiceError { kind, code: code.to_owned(), message: message.into() }
    }

    pub fn invalid(code: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::new(ErrorKind::Invalid, code, message)
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> ServiceError {
        tracing::error!(%error, "storage error");
        ServiceError::new(
            ErrorKind::Unavailable,
            "storage_unavailable",
            "The server could not reach its database; nothing was changed. Try again.",
        )
    }
}

impl From<SubmitError> for ServiceError {
    fn from(error: SubmitError) -> ServiceError {
        match error {
            SubmitError::Deferred(deferred) => {
                let kind = match deferred.code() {
                    "idempotency_key_reused" => ErrorKind::Conflict,
                    "internal" | "amount_out_of_range" => ErrorKind::Internal,
                    _ => ErrorKind::Unavailable,
                };
                ServiceError::new(kind, deferred.code(), deferred.to_string())
            }
            SubmitError::Storage(message) => {
                tracing::error!(%message, "ledger storage error");
                ServiceError::new(
                    ErrorKind::Unavailable,
                    "storage_unavailable",
                    "The ledger could not write; nothing was changed. Try again.",
                )
            }
            SubmitError::ShuttingDown => ServiceError::new(
                ErrorKind::Unavailable,
                "shutting_down",
                "The server is restarting; nothing was changed. Try again.",
            ),
        }
    }
}

pub(super) fn outcome_error(code: &str, message: &str) -> ServiceError {
    let kind = match code {
        "customer_unknown" | "order_not_found" | "top_up_not_found" => ErrorKind::NotFound,
        "order_already_paid" | "day_already_closed" => ErrorKind::Conflict,
        "order_of_another_merchant" | "top_up_of_another_merchant" => ErrorKind::Forbidden,
        _ => ErrorKind::Invalid,
    };
    ServiceError::new(kind, code, message)
}

pub(super) fn locked_error(locked_until_ms: i64, now_ms: i64) -> ServiceError {
    let minutes = ((locked_until_ms - now_ms) + 59_999) / 60_000;
    ServiceError::new(
        ErrorKind::Locked,
        "wallet_locked",
        format!("Too many wrong PINs: the wallet is locked for {minutes} more minutes."),
    )
}

pub(crate) fn internal(message: String) -> ServiceError {
    tracing::error!(%message, "internal error");
    ServiceError::new(ErrorKind::Internal, "internal", "The server failed; it has been logged.")
}

pub(super) fn pin_check_error(error: crate::pin_checker::PinCheckError) -> ServiceError {
    match error {
        crate::pin_checker::PinCheckError::ShuttingDown => shutting_down(),
        other => internal(other.to_string()),
    }
}

pub(super) fn shutting_down() -> ServiceError {
    ServiceError::new(
        ErrorKind::Unavailable,
        "shutting_down",
        "The server is restarting; try again.",
    )
}
