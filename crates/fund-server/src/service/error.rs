//! The service's errors: a code of the one table (`ErrorCode`: its HTTP status, its English
//! and Chinese texts) and a message for the person who asked.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    /// Stable and machine-readable; its status and texts are in `ErrorCode`'s table.
    pub code: ErrorCode,
    /// Written for the person who asked, with the particulars (amounts, limits).
    pub message: String,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ServiceError {
        ServiceError { code, message: message.into() }
    }

    /// A failure of the server, not of the request: logged, never explained to the sender.
    pub fn is_internal(&self) -> bool {
        self.code.http_status() == 500
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> ServiceError {
        tracing::error!(%error, "storage error");
        ServiceError::new(
            ErrorCode::StorageUnavailable,
            "The server could not reach its database; nothing was changed. Try again.",
        )
    }
}

impl From<SubmitError> for ServiceError {
    fn from(error: SubmitError) -> ServiceError {
        match error {
            SubmitError::Deferred(deferred) => deferred_error(&deferred),
            SubmitError::Storage(message) => {
                tracing::error!(%message, "ledger storage error");
                ServiceError::new(
                    ErrorCode::StorageUnavailable,
                    "The ledger could not write; nothing was changed. Try again.",
                )
            }
            SubmitError::ShuttingDown => ServiceError::new(
                ErrorCode::ShuttingDown,
                "The server is restarting; nothing was changed. Try again.",
            ),
        }
    }
}

/// What the sender hears of a command the ledger could not decide now.
pub(super) fn deferred_error(deferred: &Deferred) -> ServiceError {
    match deferred {
        Deferred::KeyReused { .. } => {
            ServiceError::new(ErrorCode::IdempotencyKeyReused, deferred.to_string())
        }
        Deferred::ReserveInsufficient { .. } => {
            ServiceError::new(ErrorCode::ReserveInsufficient, deferred.to_string())
        }
        Deferred::ServiceInsufficient => {
            ServiceError::new(ErrorCode::ServiceInsufficient, deferred.to_string())
        }
        Deferred::Overflow(_) | Deferred::GuardTripped { .. } => internal(deferred.to_string()),
    }
}

/// The wire's code for a refusal of the ledger's rules.
pub(crate) fn reject_error_code(code: RejectCode) -> ErrorCode {
    match code {
        RejectCode::CustomerUnknown => ErrorCode::CustomerUnknown,
        RejectCode::CustomerNotBound => ErrorCode::CustomerNotBound,
        RejectCode::WalletCapExceeded => ErrorCode::WalletCapExceeded,
        RejectCode::OrderAlreadyPaid => ErrorCode::OrderAlreadyPaid,
        RejectCode::InsufficientFunds => ErrorCode::InsufficientFunds,
        RejectCode::OrderNotFound => ErrorCode::OrderNotFound,
        RejectCode::OrderOfAnotherMerchant => ErrorCode::OrderOfAnotherMerchant,
        RejectCode::RefundExceedsPaid => ErrorCode::RefundExceedsPaid,
        RejectCode::TopUpNotFound => ErrorCode::TopUpNotFound,
        RejectCode::TopUpOfAnotherMerchant => ErrorCode::TopUpOfAnotherMerchant,
        RejectCode::ReversalExceedsTopUp => ErrorCode::ReversalExceedsTopUp,
        RejectCode::WalletInsufficient => ErrorCode::WalletInsufficient,
        RejectCode::DrawerInsufficient => ErrorCode::DrawerInsufficient,
        RejectCode::RedemptionExceedsBalance => ErrorCode::RedemptionExceedsBalance,
        RejectCode::RedemptionNotMade => ErrorCode::RedemptionNotMade,
        RejectCode::WalletChanged => ErrorCode::WalletChanged,
        RejectCode::ReserveUnderThreshold => ErrorCode::ReserveUnderThreshold,
        RejectCode::DayAlreadyClosed => ErrorCode::DayAlreadyClosed,
    }
}

pub(super) fn outcome_error(code: RejectCode, message: &str) -> ServiceError {
    ServiceError::new(reject_error_code(code), message)
}

pub(super) fn locked_error(
    locked_until_ms: i64,
    now_ms: i64,
    zone: &jiff::tz::TimeZone,
) -> ServiceError {
    ServiceError::new(
        ErrorCode::WalletLocked,
        format!(
            "Too many wrong PINs: the wallet is locked {}.",
            until_clock(locked_until_ms, now_ms, zone)
        ),
    )
}

/// "until 14:35 Asia/Shanghai time (15 minutes from now)": a clock time is what a person
/// can act on; the minutes say how long that is.
pub(super) fn until_clock(until_ms: i64, now_ms: i64, zone: &jiff::tz::TimeZone) -> String {
    let minutes = ((until_ms - now_ms) + 59_999) / 60_000;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    match jiff::Timestamp::from_millisecond(until_ms) {
        Ok(until) => format!(
            "until {} {} time ({minutes} {unit} from now)",
            until.to_zoned(zone.clone()).strftime("%H:%M"),
            zone.iana_name().unwrap_or("UTC")
        ),
        Err(_) => format!("for {minutes} more {unit}"),
    }
}

pub(crate) fn internal(message: String) -> ServiceError {
    tracing::error!(%message, "internal error");
    ServiceError::new(ErrorCode::Internal, "The server failed; it has been logged.")
}

pub(super) fn pin_check_error(error: crate::pin_checker::PinCheckError) -> ServiceError {
    match error {
        crate::pin_checker::PinCheckError::ShuttingDown => shutting_down(),
        other => internal(other.to_string()),
    }
}

pub(super) fn shutting_down() -> ServiceError {
    ServiceError::new(ErrorCode::ShuttingDown, "The server is restarting; try again.")
}
