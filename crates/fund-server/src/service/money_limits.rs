//! The money limits in force (the wallet cap, the reserve's threshold and refill) and
//! taking money out of the reserve: both changed only by an approved proposal.

use super::*;
use crate::ledger::MoneyLimits;
use crate::store::Storage;

impl<S: Storage> FundService<S> {
    /// The limits the ledger enforces now, with their stored version: the newest version
    /// operators set, or (before any) those the server was started with.
    pub async fn money_limits(&self) -> Result<(MoneyLimits, Option<i64>), ServiceError> {
        Ok(match self.store.money_limits().await? {
            Some(stored) => (stored.limits, Some(stored.version)),
            None => (self.config.policy.limits(), None),
        })
    }

    /// Stores `limits` as the next version, once per `source`.
    pub(super) async fn set_money_limits(
        &self,
        limits: MoneyLimits,
        source: &str,
    ) -> Result<i64, ServiceError> {
        Ok(self.store.set_money_limits(limits, source, self.store.clock().now_ms()).await?)
    }

    /// Moves `amount` from the reserve back to the bank, once per key; refused when the
    /// reserve would fall under its threshold.
    pub(super) async fn defund_reserve(
        &self,
        amount: PositiveAmount,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let kind = CommandKind::DefundReserve { amount };
        self.submit(self.reserve_command("defund", amount, idempotency_key, kind)).await
    }
}
