//! What the storage traits take and give beyond the domain's own types: outcomes of the
//! storage operations that can end more than one way, and the rows of reads.

use rust_decimal::Decimal;
use tillfund_core::{CustomerId, MerchantId, TerminalId};

use crate::ledger::{EntryCode, SettlementFigures, UnsettledDay};
use crate::model::{Customer, Merchant, Terminal};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("'{0}' is not a database URL this server supports (use sqlite://PATH)")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDirectory { path: String, source: std::io::Error },
    /// The backend's own error, kept whole for the log.
    #[error("database error: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
    #[error("database migration failed: {0}")]
    Migration(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored row is invalid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Invalid(#[from] tillfund_core::bonus::RuleError),
    /// `fund-server copy-to` stopped before committing anything.
    #[error("copy refused: {0}")]
    CopyRefused(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolOutcome {
    Enrolled { terminal: Box<Terminal>, merchant: Merchant },
    CodeUnknown,
    CodeUsed,
    CodeExpired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterOutcome {
    Registered(Customer),
    /// The idempotency key was used before with the same request: this customer.
    Replayed(CustomerId),
    /// The idempotency key was used before with another request.
    KeyReused,
    PhoneTaken,
    MerchantUnknown(MerchantId),
}

/// A client's key for a registration and a fingerprint of the request (never the PIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationKey {
    pub key: String,
    pub fingerprint: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindOutcome {
    Changed,
    Unchanged,
    MerchantUnknown,
}

/// One PIN attempt as the database counted it, before the PIN is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinAttempt {
    /// The attempt is counted; `attempt` is its number in the current run of wrong PINs.
    /// `locks` says the wallet is locked already, pending this attempt: a right PIN unlocks
    /// it again, a wrong one leaves it locked.
    Taken { attempt: i64, locks: bool },
    /// Locked: no attempt is allowed before this time.
    Locked { until_ms: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingChange {
    pub sequence: i64,
    pub customer: Customer,
    pub bound: bool,
}

/// One line of a wallet's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletEntry {
    pub sequence: i64,
    /// The entry's kind: a top-up, payment, refund, yield or reversal.
    pub code: EntryCode,
    pub applied_at_ms: i64,
    pub merchant: Option<String>,
    pub merchant_time_zone: Option<String>,
    /// Minor units in (positive) or out (negative) of the wallet.
    pub change: i64,
}

/// A merchant's day as stored: closed with the figures the close recorded, or still open
/// with the entries a close now would settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredDay {
    Closed { figures: SettlementFigures, by_terminal: Vec<(TerminalId, SettlementFigures)> },
    Open(UnsettledDay),
}

/// One wallet's accrual for one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletAccrual {
    pub customer_id: CustomerId,
    pub balance: i64,
    pub accrued: Decimal,
}

/// A wallet with whole minor units of yield accrued and not posted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostingDue {
    pub customer_id: CustomerId,
    pub cumulative_floor: i64,
    pub posted: i64,
}

/// A page of running totals, and the wallets among them with yield due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingsDue {
    pub due: Vec<PostingDue>,
    /// Where the next page starts; `None` when this was the last.
    pub next: Option<CustomerId>,
}

/// One day of a wallet's yield, as accrued (exact, in minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YieldDay {
    pub day: String,
    /// The end-of-day balance the day's yield was computed on, minor units.
    pub balance: i64,
    pub accrued: Decimal,
}
