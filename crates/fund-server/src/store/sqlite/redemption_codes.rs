//! Redemption codes on SQLite, in the ledger's file.

use sqlx::Row;
use tillfund_core::{CustomerId, MerchantId};

use super::{SqliteStore, parse};
use crate::store::StoreError;
use crate::store::redemption_code_store::{
    IssueOutcome, RedemptionCodeRecord, RedemptionCodeStore, StoredRedemptionCode,
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn code_row(row: &sqlx::sqlite::SqliteRow) -> Result<StoredRedemptionCode, StoreError> {
    Ok(StoredRedemptionCode {
        record: RedemptionCodeRecord {
            id: row.try_get("id")?,
            customer_id: parse(&row.try_get::<String, _>("customer_id")?)?,
            merchant_id: parse(&row.try_get::<String, _>("merchant_id")?)?,
            code_hash: row.try_get("code_hash")?,
            amount: row.try_get("amount")?,
            issued_at_ms: row.try_get("issued_at_ms")?,
            expires_at_ms: row.try_get("expires_at_ms")?,
            closes_wallet: row.try_get::<i64, _>("closes_wallet")? == 1,
        },
        used_at_ms: row.try_get("used_at_ms")?,
        claimed_by: row.try_get("claimed_by")?,
    })
}

impl RedemptionCodeStore for SqliteStore {
    async fn issue_redemption_code(
        &self,
        record: &RedemptionCodeRecord,
        daily_max: i64,
        live_max: i64,
    ) -> Result<IssueOutcome, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // IMMEDIATE: the write lock from the first read, so the sums and the insert are one
        // decision.
        let now = record.issued_at_ms;
        let row = sqlx::query(
            "SELECT CAST(coalesce(sum(amount), 0) AS BIGINT) AS issued, \
                    count(*) FILTER (WHERE used_at_ms IS NULL AND expires_at_ms > ?2) AS live \
             FROM redemption_codes WHERE customer_id = ?1 AND issued_at_ms > ?3 \
               AND (used_at_ms IS NOT NULL OR expires_at_ms > ?2)",
        )
        .bind(record.customer_id.to_string())
        .bind(now)
        .bind(now - DAY_MS)
        .fetch_one(&mut *transaction)
        .await?;
        let issued: i64 = row.try_get("issued")?;
        let live: i64 = row.try_get("live")?;
        if live >= live_max {
            return Ok(IssueOutcome::TooManyLive);
        }
        if issued.checked_add(record.amount).is_none_or(|total| total > daily_max) {
            return Ok(IssueOutcome::DailyLimitReached { issued });
        }
        sqlx::query(
            "INSERT INTO redemption_codes (id, customer_id, merchant_id, code_hash, amount, \
             issued_at_ms, expires_at_ms, closes_wallet) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&record.id)
        .bind(record.customer_id.to_string())
        .bind(record.merchant_id.to_string())
        .bind(&record.code_hash)
        .bind(record.amount)
        .bind(record.issued_at_ms)
        .bind(record.expires_at_ms)
        .bind(i64::from(record.closes_wallet))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(IssueOutcome::Issued)
    }

    async fn redemption_codes(
        &self,
        customer_id: CustomerId,
        merchant_id: MerchantId,
        now_ms: i64,
        attempt: &str,
        limit: i64,
    ) -> Result<Vec<StoredRedemptionCode>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, customer_id, merchant_id, code_hash, amount, issued_at_ms, \
                    expires_at_ms, closes_wallet, used_at_ms, claimed_by \
             FROM redemption_codes WHERE customer_id = ?1 AND merchant_id = ?2 \
               AND ((used_at_ms IS NULL AND expires_at_ms > ?3) OR claimed_by = ?4 \
                    OR used_at_ms > ?5) \
             ORDER BY issued_at_ms DESC LIMIT ?6",
        )
        .bind(customer_id.to_string())
        .bind(merchant_id.to_string())
        .bind(now_ms)
        .bind(attempt)
        .bind(now_ms - DAY_MS)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(code_row).collect()
    }

    async fn claim_redemption_code(&self, id: &str, attempt: &str) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "UPDATE redemption_codes SET claimed_by = ?2 \
             WHERE id = ?1 AND (claimed_by IS NULL OR claimed_by = ?2)",
        )
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    async fn release_redemption_code(&self, id: &str, attempt: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE redemption_codes SET claimed_by = NULL \
             WHERE id = ?1 AND claimed_by = ?2 AND used_at_ms IS NULL",
        )
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn close_wallet(&self, customer_id: CustomerId, now_ms: i64) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE customers SET closed_at_ms = ? WHERE id = ? AND closed_at_ms IS NULL")
            .bind(now_ms)
            .bind(customer_id.to_string())
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM customer_sessions WHERE customer_id = ?")
            .bind(customer_id.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn wallet_closed(&self, customer_id: CustomerId) -> Result<bool, StoreError> {
        let closed: Option<Option<i64>> =
            sqlx::query_scalar("SELECT closed_at_ms FROM customers WHERE id = ?")
                .bind(customer_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(closed.flatten().is_some())
    }

    async fn mark_redemption_code_used(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE redemption_codes SET used_at_ms = ? WHERE id = ? AND used_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
