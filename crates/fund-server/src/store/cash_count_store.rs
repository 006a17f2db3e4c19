//! The drawer counts counters send with a day's close: one per counter and business day,
//! kept as sent (never replaced), beside the drawer cash the server counted for that
//! counter's day when the count arrived.

use std::future::Future;

use tillfund_core::cash_count::CashCount;
use tillfund_core::{MerchantId, TerminalId};

use super::Stored;

/// A counter's count for a day, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCashCount {
    pub terminal_id: TerminalId,
    pub count: CashCount,
    /// Cash the server's entries of the counter's day put in the drawer (top-ups less
    /// reversals) when the count arrived: differs from `count.drawer_cash` only when the
    /// counter's records differ from the server's.
    pub server_drawer_cash: i64,
    pub recorded_at_ms: i64,
}

pub trait CashCountStore {
    /// Keeps `count` for the counter's `day` unless one is kept already; answers the kept
    /// one (the first: a second count of the same day changes nothing).
    fn keep_cash_count(
        &self,
        merchant_id: MerchantId,
        terminal_id: TerminalId,
        day: &str,
        count: &CashCount,
        server_drawer_cash: i64,
        now_ms: i64,
    ) -> impl Future<Output = Stored<StoredCashCount>> + Send;

    /// Every count kept for the store's `day`, at most one per counter.
    fn cash_counts(
        &self,
        merchant_id: MerchantId,
        day: &str,
    ) -> impl Future<Output = Stored<Vec<StoredCashCount>>> + Send;
}
