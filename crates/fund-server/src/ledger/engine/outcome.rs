//! What the ledger answers: an outcome (stored and replayed), or a deferral that wrote
//! nothing.

use super::*;

/// What a command did. Stored with its idempotency key, so a replay gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Funded {
        entry_sequence: i64,
        amount: Amount,
    },
    Defunded {
        entry_sequence: i64,
        amount: Amount,
    },
    ToppedUp {
        entry_sequence: i64,
        customer_id: CustomerId,
        amount: Amount,
        bonus: Amount,
        /// True when the bonus applied differs from the one the counter showed.
        bonus_adjusted: bool,
        wallet_balance: Amount,
    },
    Paid {
        entry_sequence: i64,
        order_id: OrderId,
        customer_id: CustomerId,
        amount: Amount,
        confirmation_code: String,
        wallet_balance: Amount,
    },
    TopUpReversed {
        entry_sequence: i64,
        customer_id: CustomerId,
        amount: Amount,
        bonus_clawed_back: Amount,
        wallet_balance: Amount,
        /// When the reversal was applied, by the server's clock. Absent from outcomes
        /// stored before it was kept.
        #[serde(default)]
        reversed_at_ms: Option<i64>,
    },
    Redeemed {
        entry_sequence: i64,
        customer_id: CustomerId,
        /// Cash paid out: `principal` and `yield_paid` together.
        cash: Amount,
        principal: Amount,
        yield_paid: Amount,
        bonus_clawed_back: Amount,
        wallet_balance: Amount,
        /// When it was applied, by the server's clock: the day it counts in.
        redeemed_at_ms: i64,
    },
    Refunded {
        entry_sequence: i64,
        order_id: OrderId,
        amount: Amount,
        refunded_total: Amount,
        wallet_balance: Amount,
        /// When the refund was applied, by the server's clock. Absent from outcomes
        /// stored before it was kept.
        #[serde(default)]
        refunded_at_ms: Option<i64>,
    },
    YieldPosted {
        entry_sequence: i64,
        customer_id: CustomerId,
        amount: Amount,
    },
    BonusForfeited {
        /// `None` when the wallet held no bonus.
        entry_sequence: Option<i64>,
        customer_id: CustomerId,
        amount: Amount,
    },
    DayClosed {
        /// `None` when the day moved no money.
        entry_sequence: Option<i64>,
        merchant_id: MerchantId,
        day: String,
        figures: SettlementFigures,
    },
    /// Refused for good: retrying the same request gives the same answer.
    Rejected {
        code: RejectCode,
        message: String,
    },
}

impl Outcome {
    pub(super) fn rejected(code: RejectCode, message: impl Into<String>) -> Outcome {
        Outcome::Rejected { code, message: message.into() }
    }
}

/// A decided command: its outcome, and whether that is the stored answer to an earlier
/// request with the same idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub outcome: Outcome,
    pub replayed: bool,
}

/// Why a command could not be decided now. Nothing was written for it, and the same
/// request may succeed later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Deferred {
    /// The key is kept for the log; the message shown to the sender never includes it (it
    /// is the server's namespaced key, with the sender's id in it).
    #[error("this Idempotency-Key was already used for a different request; use a new key")]
    KeyReused { key: String },
    #[error(
        "the reserve cannot cover {needed} and the service account cannot refill it; \
         the operator must fund the reserve (retry later)"
    )]
    ReserveInsufficient { needed: String },
    #[error("the service account cannot cover this refund now (retry later)")]
    ServiceInsufficient,
    #[error("an amount left its range: {0}")]
    Overflow(String),
    #[error("internal error: the guard on {account} tripped; nothing was written")]
    GuardTripped { account: String },
}

/// Why the rules refuse a command for good: the ledger's closed set of refusals. Stored
/// with the outcome under its idempotency key, as its `snake_case` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    CustomerUnknown,
    CustomerNotBound,
    WalletCapExceeded,
    OrderAlreadyPaid,
    InsufficientFunds,
    OrderNotFound,
    OrderOfAnotherMerchant,
    RefundExceedsPaid,
    TopUpNotFound,
    TopUpOfAnotherMerchant,
    ReversalExceedsTopUp,
    WalletInsufficient,
    DrawerInsufficient,
    RedemptionExceedsBalance,
    RedemptionNotMade,
    WalletChanged,
    DayAlreadyClosed,
    ReserveUnderThreshold,
}
