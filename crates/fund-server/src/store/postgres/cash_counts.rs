//! Drawer counts on PostgreSQL.

use sqlx::Row;
use sqlx::postgres::PgRow;
use tillfund_core::cash_count::CashCount;
use tillfund_core::{MerchantId, TerminalId};

use super::{PgStore, corrupt, parse};
use crate::store::StoreError;
use crate::store::cash_count_store::{CashCountStore, StoredCashCount};

const COLUMNS: &str = "terminal_id, opening_float, drawer_cash, cash_dropped, cash_drop_count, \
    expected, counted, over_short, denominations, counted_by, counted_at_ms, note, \
    server_drawer_cash, recorded_at_ms";

fn count_row(row: &PgRow) -> Result<StoredCashCount, StoreError> {
    let denominations: String = row.try_get("denominations")?;
    Ok(StoredCashCount {
        terminal_id: parse(&row.try_get::<String, _>("terminal_id")?)?,
        count: CashCount {
            opening_float: row.try_get("opening_float")?,
            drawer_cash: row.try_get("drawer_cash")?,
            cash_dropped: row.try_get("cash_dropped")?,
            cash_drop_count: row.try_get("cash_drop_count")?,
            expected: row.try_get("expected")?,
            counted: row.try_get("counted")?,
            over_short: row.try_get("over_short")?,
            denominations: serde_json::from_str(&denominations).map_err(corrupt)?,
            counted_by: row.try_get("counted_by")?,
            counted_at_ms: row.try_get("counted_at_ms")?,
            note: row.try_get("note")?,
        },
        server_drawer_cash: row.try_get("server_drawer_cash")?,
        recorded_at_ms: row.try_get("recorded_at_ms")?,
    })
}

impl CashCountStore for PgStore {
    async fn keep_cash_count(
        &self,
        merchant_id: MerchantId,
        terminal_id: TerminalId,
        day: &str,
        count: &CashCount,
        server_drawer_cash: i64,
        now_ms: i64,
    ) -> Result<StoredCashCount, StoreError> {
        let denominations = serde_json::to_string(&count.denominations).map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO cash_counts (terminal_id, day, merchant_id, opening_float, drawer_cash, \
             cash_dropped, cash_drop_count, expected, counted, over_short, denominations, \
             counted_by, counted_at_ms, note, server_drawer_cash, recorded_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (terminal_id, day) DO NOTHING",
        )
        .bind(terminal_id.to_string())
        .bind(day)
        .bind(merchant_id.to_string())
        .bind(count.opening_float)
        .bind(count.drawer_cash)
        .bind(count.cash_dropped)
        .bind(count.cash_drop_count)
        .bind(count.expected)
        .bind(count.counted)
        .bind(count.over_short)
        .bind(denominations)
        .bind(&count.counted_by)
        .bind(count.counted_at_ms)
        .bind(&count.note)
        .bind(server_drawer_cash)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cash_counts WHERE terminal_id = $1 AND day = $2"
        ))
        .bind(terminal_id.to_string())
        .bind(day)
        .fetch_one(&self.pool)
        .await?;
        count_row(&row)
    }

    async fn cash_counts(
        &self,
        merchant_id: MerchantId,
        day: &str,
    ) -> Result<Vec<StoredCashCount>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cash_counts WHERE merchant_id = $1 AND day = $2 ORDER BY terminal_id"
        ))
        .bind(merchant_id.to_string())
        .bind(day)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(count_row).collect()
    }
}
