//! The dashboard's sums on PostgreSQL.

use sqlx::Row;

use crate::store::StoreError;
use crate::store::flows::{FlowStore, Flows, TransferTotal};
use crate::store::postgres::PgStore;

impl FlowStore for PgStore {
    async fn flows_between(&self, start_ms: i64, end_ms: i64) -> Result<Flows, StoreError> {
        let rows = sqlx::query(
            "SELECT t.code AS code, count(DISTINCT e.sequence) AS entries, sum(t.amount)::BIGINT AS amount, \
               sum(CASE WHEN t.to_account = 'reserve' THEN t.amount \
                        WHEN t.from_account = 'reserve' THEN -t.amount ELSE 0 END)::BIGINT AS reserve \
             FROM journal_entries e JOIN transfers t ON t.entry_sequence = e.sequence \
             WHERE e.applied_at_ms >= $1 AND e.applied_at_ms < $2 \
             GROUP BY t.code ORDER BY t.code",
        )
        .bind(start_ms)
        .bind(end_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut flows = Flows::default();
        for row in rows {
            flows.reserve_change += row.try_get::<i64, _>("reserve")?;
            flows.transfers.push(TransferTotal {
                code: row.try_get("code")?,
                entries: row.try_get("entries")?,
                amount: row.try_get("amount")?,
            });
        }
        Ok(flows)
    }

    async fn refused_outbox_keys_since(
        &self,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        // An outcome is stored as JSON with its tag first: `{"outcome":"rejected",…`.
        Ok(sqlx::query_scalar(
            "SELECT key FROM idempotency_records \
             WHERE created_at_ms >= $1 AND key LIKE 'terminal/%/outbox/%' \
               AND outcome LIKE '{\"outcome\":\"rejected\"%' \
             ORDER BY created_at_ms DESC LIMIT $2",
        )
        .bind(since_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}
