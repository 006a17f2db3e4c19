//! The money limits operators set under four eyes (the wallet cap, the reserve's threshold
//! and refill), kept as versions: the newest is what the ledger enforces.

use std::future::Future;

use super::Stored;
use crate::ledger::MoneyLimits;

/// A stored version of the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLimits {
    pub version: i64,
    pub limits: MoneyLimits,
    /// What set them: `proposal/<id>`.
    pub source: String,
    pub set_at_ms: i64,
}

pub trait LimitStore {
    /// The newest version, if operators ever set one.
    fn money_limits(&self) -> impl Future<Output = Stored<Option<StoredLimits>>> + Send;
    /// Stores `limits` as the next version, once per `source`: storing again under the same
    /// source adds nothing and answers the version stored the first time.
    fn set_money_limits(
        &self,
        limits: MoneyLimits,
        source: &str,
        now_ms: i64,
    ) -> impl Future<Output = Stored<i64>> + Send;
}
