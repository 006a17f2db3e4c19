//! Who did it at the counter, on SQLite, in the ledger's file.

use sqlx::Row;
use tillfund_core::MerchantId;

use super::{SqliteStore, parse};
use crate::store::StoreError;
use crate::store::cashier_store::{CashierDay, CashierRecord, CashierStore};

fn day_row(row: &sqlx::sqlite::SqliteRow) -> Result<CashierDay, StoreError> {
    Ok(CashierDay {
        terminal_id: Some(parse(&row.try_get::<String, _>("terminal_id")?)?),
        staff_id: Some(parse(&row.try_get::<String, _>("staff_id")?)?),
        name: row.try_get("name")?,
        top_up_count: row.try_get("top_up_count")?,
        top_ups: row.try_get("top_ups")?,
        refund_count: row.try_get("refund_count")?,
        refunds: row.try_get("refunds")?,
        reversal_count: row.try_get("reversal_count")?,
        reversed: row.try_get("reversed")?,
        redemption_count: row.try_get("redemption_count")?,
        redeemed: row.try_get("redeemed")?,
        closes: row.try_get("closes")?,
    })
}

impl CashierStore for SqliteStore {
    async fn keep_cashier(&self, record: &CashierRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cashier_records (terminal_id, kind, record_id, merchant_id, staff_id, \
             amount, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (terminal_id, kind, record_id) DO NOTHING",
        )
        .bind(record.terminal_id.to_string())
        .bind(record.kind.as_str())
        .bind(&record.record_id)
        .bind(record.merchant_id.to_string())
        .bind(record.staff_id.to_string())
        .bind(record.amount)
        .bind(record.recorded_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn cashier_days(
        &self,
        merchant_id: MerchantId,
        start_ms: i64,
        end_ms: i64,
        limit: i64,
    ) -> Result<Vec<CashierDay>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.terminal_id, r.staff_id, max(s.name) AS name, \
         count(*) FILTER (WHERE r.kind = 'top_up') AS top_up_count, \
         CAST(coalesce(sum(r.amount) FILTER (WHERE r.kind = 'top_up'), 0) AS BIGINT) AS top_ups, \
         count(*) FILTER (WHERE r.kind = 'refund') AS refund_count, \
         CAST(coalesce(sum(r.amount) FILTER (WHERE r.kind = 'refund'), 0) AS BIGINT) AS refunds, \
         count(*) FILTER (WHERE r.kind = 'reversal') AS reversal_count, \
         CAST(coalesce(sum(r.amount) FILTER (WHERE r.kind = 'reversal'), 0) AS BIGINT) AS reversed, \
         count(*) FILTER (WHERE r.kind = 'redemption') AS redemption_count, \
         CAST(coalesce(sum(r.amount) FILTER (WHERE r.kind = 'redemption'), 0) AS BIGINT) AS redeemed, \
         count(*) FILTER (WHERE r.kind = 'close') AS closes \
     FROM cashier_records r \
     LEFT JOIN store_staff s ON s.merchant_id = r.merchant_id AND s.staff_id = r.staff_id \
     WHERE r.merchant_id = ? AND r.recorded_at_ms >= ? AND r.recorded_at_ms < ? \
     GROUP BY r.terminal_id, r.staff_id ORDER BY r.terminal_id, max(s.name), r.staff_id LIMIT ?",
        )
        .bind(merchant_id.to_string())
        .bind(start_ms)
        .bind(end_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(day_row).collect()
    }
}
