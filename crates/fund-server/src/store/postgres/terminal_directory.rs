//! The merchant's counters and activation codes as operators see them, on PostgreSQL.

use sqlx::Row;
use tillfund_core::{MerchantId, TerminalId};

use super::{PgStore, parse, parse_optional};
use crate::store::StoreError;
use crate::store::terminal_directory::{ActivationCodeRecord, TerminalDirectory, TerminalSummary};

impl TerminalDirectory for PgStore {
    async fn mark_terminal_seen(
        &self,
        terminal_id: TerminalId,
        now_ms: i64,
        app_version: Option<&str>,
        resolution_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE terminals SET last_seen_ms = $2, app_version = coalesce($3, app_version) \
             WHERE id = $1 AND (last_seen_ms IS NULL OR last_seen_ms <= $2 - $4 \
                                OR ($3::TEXT IS NOT NULL AND app_version IS DISTINCT FROM $3))",
        )
        .bind(terminal_id.to_string())
        .bind(now_ms)
        .bind(app_version)
        .bind(resolution_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn terminals_of(
        &self,
        merchant_id: MerchantId,
        limit: u32,
    ) -> Result<Vec<TerminalSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, label, receipt_prefix, enrolled_at_ms, revoked_at_ms, last_seen_ms, \
               app_version FROM terminals WHERE merchant_id = $1 ORDER BY enrolled_at_ms, id LIMIT $2",
        )
        .bind(merchant_id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TerminalSummary {
                    id: parse(&row.try_get::<String, _>("id")?)?,
                    label: row.try_get("label")?,
                    receipt_prefix: row.try_get("receipt_prefix")?,
                    enrolled_at_ms: row.try_get("enrolled_at_ms")?,
                    revoked_at_ms: row.try_get("revoked_at_ms")?,
                    last_seen_ms: row.try_get("last_seen_ms")?,
                    app_version: row.try_get("app_version")?,
                })
            })
            .collect()
    }

    async fn activation_codes_of(
        &self,
        merchant_id: MerchantId,
        limit: u32,
    ) -> Result<Vec<ActivationCodeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT code_hash, created_at_ms, expires_at_ms, used_at_ms, terminal_id, \
               cancelled_at_ms FROM activation_codes WHERE merchant_id = $1 \
             ORDER BY created_at_ms DESC, code_hash LIMIT $2",
        )
        .bind(merchant_id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ActivationCodeRecord {
                    code_hash: row.try_get("code_hash")?,
                    created_at_ms: row.try_get("created_at_ms")?,
                    expires_at_ms: row.try_get("expires_at_ms")?,
                    used_at_ms: row.try_get("used_at_ms")?,
                    terminal_id: parse_optional(row.try_get("terminal_id")?)?,
                    cancelled_at_ms: row.try_get("cancelled_at_ms")?,
                })
            })
            .collect()
    }

    async fn cancel_activation_code(
        &self,
        merchant_id: MerchantId,
        code_hash: &[u8],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let cancelled = sqlx::query(
            "UPDATE activation_codes SET cancelled_at_ms = $3, expires_at_ms = $3 \
             WHERE code_hash = $1 AND merchant_id = $2 AND used_at_ms IS NULL \
               AND cancelled_at_ms IS NULL AND expires_at_ms > $3",
        )
        .bind(code_hash)
        .bind(merchant_id.to_string())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(cancelled.rows_affected() == 1)
    }
}
