//! The reports' reads: a merchant's day, a wallet's history, and the audit's view.

use super::audit::PgAuditRead;
use super::settlement::figures_from_row;
use super::*;
use crate::ledger::audit::NextCheckpoint;
use crate::store::{ReportStore, StoredDay, WalletEntry};

impl ReportStore for PgStore {
    type Audit = PgAuditRead;

    async fn stored_day(
        &self,
        merchant_id: MerchantId,
        day: &str,
        day_end_ms: i64,
    ) -> Stored<StoredDay> {
        let row = sqlx::query(&format!(
            "SELECT {FIGURE_COLUMNS} FROM settlements WHERE merchant_id = $1 AND day = $2"
        ))
        .bind(merchant_id.to_string())
        .bind(day)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            let figures = figures_from_row(&row)?;
            let rows = sqlx::query(&format!(
                "SELECT terminal_id, {FIGURE_COLUMNS} FROM settlement_terminals \
                 WHERE merchant_id = $1 AND day = $2"
            ))
            .bind(merchant_id.to_string())
            .bind(day)
            .fetch_all(&self.pool)
            .await?;
            let by_terminal = rows
                .iter()
                .map(|row| {
                    Ok((parse(row.try_get::<&str, _>("terminal_id")?)?, figures_from_row(row)?))
                })
                .collect::<Stored<Vec<_>>>()?;
            return Ok(StoredDay::Closed { figures, by_terminal });
        }
        let mut connection = self.pool.acquire().await?;
        Ok(StoredDay::Open(unsettled_day(&mut connection, merchant_id, day, day_end_ms).await?))
    }

    async fn terminal_day(
        &self,
        merchant_id: MerchantId,
        terminal_id: TerminalId,
        start_ms: i64,
        end_ms: i64,
    ) -> Stored<SettlementFigures> {
        let mut connection = self.pool.acquire().await?;
        terminal_window(&mut connection, merchant_id, terminal_id, start_ms, end_ms).await
    }

    /// A wallet's latest journal entries, newest first: what happened and by how much the
    /// wallet changed (all buckets together), at most `limit`.
    async fn wallet_history(
        &self,
        customer_id: CustomerId,
        limit: u32,
    ) -> Stored<Vec<WalletEntry>> {
        let rows = sqlx::query(
            "SELECT e.sequence, e.code, e.applied_at_ms, m.name AS merchant, m.time_zone, \
                    (coalesce(sum(CASE WHEN t.to_account LIKE $2 THEN t.amount ELSE 0 END), 0) \
                  - coalesce(sum(CASE WHEN t.from_account LIKE $2 THEN t.amount ELSE 0 END), 0))::BIGINT AS change \
             FROM journal_entries e \
             JOIN transfers t ON t.entry_sequence = e.sequence \
             LEFT JOIN merchants m ON m.id = e.merchant_id \
             WHERE e.customer_id = $1 \
             GROUP BY e.sequence, m.name, m.time_zone ORDER BY e.sequence DESC LIMIT $3",
        )
        .bind(customer_id.to_string())
        .bind(format!("customer/{customer_id}/%"))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WalletEntry {
                    sequence: row.try_get("sequence")?,
                    code: parse(row.try_get::<&str, _>("code")?)?,
                    applied_at_ms: row.try_get("applied_at_ms")?,
                    merchant: row.try_get("merchant")?,
                    merchant_time_zone: row.try_get("time_zone")?,
                    change: row.try_get("change")?,
                })
            })
            .collect()
    }

    async fn begin_audit(&self) -> Stored<PgAuditRead> {
        // One snapshot for every read (PostgreSQL's default gives each statement its own,
        // and other processes write between the audit's chunks).
        let transaction =
            self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
        Ok(PgAuditRead { transaction })
    }

    async fn forget_audit_checkpoint(&self) -> Stored<()> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM audit_checkpoint").execute(&mut *transaction).await?;
        sqlx::query("DELETE FROM audit_balances").execute(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn save_audit_checkpoint(
        &self,
        resumed_after: Option<i64>,
        next: &NextCheckpoint,
    ) -> Stored<bool> {
        super::audit::save_checkpoint(&self.pool, resumed_after, next).await
    }
}
