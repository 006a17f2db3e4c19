//! Who did it at the counter: the member of the store's staff a counter names on a top-up,
//! refund, reversal or close. Kept beside the ledger, once per record.

use std::future::Future;

use tillfund_core::{MerchantId, StaffId, TerminalId};

use super::Stored;

/// What a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CashierKind {
    TopUp,
    Refund,
    Reversal,
    Redemption,
    Close,
}

impl CashierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CashierKind::TopUp => "top_up",
            CashierKind::Refund => "refund",
            CashierKind::Reversal => "reversal",
            CashierKind::Redemption => "redemption",
            CashierKind::Close => "close",
        }
    }
}

/// One record's cashier, as a counter named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashierRecord {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub kind: CashierKind,
    /// The outbox entry id, the refund's or reversal's key, or the closed day.
    pub record_id: String,
    pub staff_id: StaffId,
    /// Minor units moved; 0 for a close.
    pub amount: i64,
    pub recorded_at_ms: i64,
}

/// A member's part of a counter's day: how many of each kind and what they moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CashierDay {
    pub terminal_id: Option<TerminalId>,
    pub staff_id: Option<StaffId>,
    /// From the store's staff list; `None` for an id the store does not know (a member a
    /// counter kept to itself, or another store's).
    pub name: Option<String>,
    pub top_up_count: i64,
    pub top_ups: i64,
    pub refund_count: i64,
    pub refunds: i64,
    pub reversal_count: i64,
    pub reversed: i64,
    pub redemption_count: i64,
    pub redeemed: i64,
    pub closes: i64,
}

pub trait CashierStore {
    /// Keeps `record` unless the record has a cashier already (the first one named stays).
    fn keep_cashier(&self, record: &CashierRecord) -> impl Future<Output = Stored<()>> + Send;

    /// The store's records between `start_ms` and `end_ms` per counter and member, at most
    /// `limit` lines.
    fn cashier_days(
        &self,
        merchant_id: MerchantId,
        start_ms: i64,
        end_ms: i64,
        limit: i64,
    ) -> impl Future<Output = Stored<Vec<CashierDay>>> + Send;
}
