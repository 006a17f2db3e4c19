//! What moved through the ledger in a period, for the operators' dashboard: each kind of
//! transfer's count and sum, and the reserve's net change.

use std::future::Future;

use super::Stored;

/// One kind of transfer in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTotal {
    /// The transfer's code (`cash`, `bonus`, `payment`, `refund`, `yield`, …).
    pub code: String,
    /// Journal entries with such a transfer.
    pub entries: i64,
    /// Minor units.
    pub amount: i64,
}

/// What moved in `[start_ms, end_ms)` by the server's time of application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flows {
    pub transfers: Vec<TransferTotal>,
    /// Into the reserve less out of it, minor units.
    pub reserve_change: i64,
}

impl Flows {
    pub fn total(&self, code: &str) -> (i64, i64) {
        self.transfers
            .iter()
            .find(|total| total.code == code)
            .map_or((0, 0), |total| (total.entries, total.amount))
    }
}

pub trait FlowStore {
    /// Sums by an index on the entries' time: a day of a busy platform reads that day only.
    fn flows_between(
        &self,
        start_ms: i64,
        end_ms: i64,
    ) -> impl Future<Output = Stored<Flows>> + Send;
    /// Idempotency keys of counters' outbox entries refused for good since `since_ms`,
    /// newest first, at most `limit` (by an index on the records' time).
    fn refused_outbox_keys_since(
        &self,
        since_ms: i64,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<String>>> + Send;
}
