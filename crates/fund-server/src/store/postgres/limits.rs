//! Money limits on PostgreSQL.

use sqlx::Row;
use sqlx::postgres::PgRow;
use tillfund_core::Amount;

use super::{PgStore, corrupt};
use crate::ledger::MoneyLimits;
use crate::store::StoreError;
use crate::store::limit_store::{LimitStore, StoredLimits};

pub(super) const NEWEST_LIMITS: &str = "SELECT version, wallet_cap, reserve_threshold, \
    reserve_refill, source, set_at_ms FROM money_limits ORDER BY version DESC LIMIT 1";

pub(super) fn limits_row(row: &PgRow) -> Result<StoredLimits, StoreError> {
    let amount = |column: &str| -> Result<Amount, StoreError> {
        Amount::from_minor_units(row.try_get(column)?).map_err(corrupt)
    };
    Ok(StoredLimits {
        version: row.try_get("version")?,
        limits: MoneyLimits {
            wallet_balance_cap: amount("wallet_cap")?,
            reserve_threshold: amount("reserve_threshold")?,
            reserve_refill: amount("reserve_refill")?,
        },
        source: row.try_get("source")?,
        set_at_ms: row.try_get("set_at_ms")?,
    })
}

impl LimitStore for PgStore {
    async fn money_limits(&self) -> Result<Option<StoredLimits>, StoreError> {
        let row = sqlx::query(NEWEST_LIMITS).fetch_optional(&self.pool).await?;
        row.as_ref().map(limits_row).transpose()
    }

    async fn set_money_limits(
        &self,
        limits: MoneyLimits,
        source: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        // Two approvals at once would take the same next version: one at a time.
        let mut transaction = self.pool.begin().await?;
        sqlx::query("LOCK TABLE money_limits IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO money_limits \
             (version, wallet_cap, reserve_threshold, reserve_refill, source, set_at_ms) \
             SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5 FROM money_limits \
             ON CONFLICT (source) DO NOTHING",
        )
        .bind(limits.wallet_balance_cap.minor_units())
        .bind(limits.reserve_threshold.minor_units())
        .bind(limits.reserve_refill.minor_units())
        .bind(source)
        .bind(now_ms)
        .execute(&mut *transaction)
        .await?;
        let version = sqlx::query_scalar("SELECT version FROM money_limits WHERE source = $1")
            .bind(source)
            .fetch_one(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(version)
    }
}
