//! Money limits on SQLite, in the ledger's file.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tillfund_core::Amount;

use super::{SqliteStore, corrupt};
use crate::ledger::MoneyLimits;
use crate::store::StoreError;
use crate::store::limit_store::{LimitStore, StoredLimits};

pub(super) const NEWEST_LIMITS: &str = "SELECT version, wallet_cap, reserve_threshold, \
    reserve_refill, source, set_at_ms FROM money_limits ORDER BY version DESC LIMIT 1";

pub(super) fn limits_row(row: &SqliteRow) -> Result<StoredLimits, StoreError> {
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

impl LimitStore for SqliteStore {
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
        // One statement: the next version is taken and written at once. (`WHERE true`:
        // SQLite reads an `ON CONFLICT` after a bare `FROM` as a join constraint.)
        sqlx::query(
            "INSERT INTO money_limits \
             (version, wallet_cap, reserve_threshold, reserve_refill, source, set_at_ms) \
             SELECT coalesce(max(version), 0) + 1, ?, ?, ?, ?, ? FROM money_limits WHERE true \
             ON CONFLICT (source) DO NOTHING",
        )
        .bind(limits.wallet_balance_cap.minor_units())
        .bind(limits.reserve_threshold.minor_units())
        .bind(limits.reserve_refill.minor_units())
        .bind(source)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_scalar("SELECT version FROM money_limits WHERE source = ?")
            .bind(source)
            .fetch_one(&self.pool)
            .await?)
    }
}
