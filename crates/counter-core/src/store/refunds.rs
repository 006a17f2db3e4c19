//! Refunds of this counter: those the server answered, and the one per order still waiting
//! for its answer (kept with its key, so that a retry cannot refund twice).

use super::*;

/// A refund sent (or about to be sent) whose answer has not arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAttempt {
    /// Also the idempotency key sent; the same on every resend.
    pub refund_id: String,
    pub order_id: OrderId,
    pub amount: i64,
    /// Who pressed it first; sent with every resend, so the request stays the same.
    pub cashier: Option<Cashier>,
}

/// Most unanswered refunds the sync worker resends in one round.
pub const REFUND_RESENDS_PER_ROUND_MAX: i64 = 50;

fn attempt_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<RefundAttempt, LocalStoreError> {
    Ok(RefundAttempt {
        refund_id: row.try_get("refund_id")?,
        order_id: OrderId::from_str(row.try_get::<&str, _>("order_id")?).map_err(corrupt)?,
        amount: row.try_get("amount")?,
        cashier: cashier_from_row(row)?,
    })
}

impl LocalStore {
    /// The order's unanswered refund if there is one (whatever amount it was for),
    /// otherwise a new attempt for `amount` under a fresh key, stored before it is sent.
    pub async fn begin_refund(
        &self,
        order_id: OrderId,
        amount: i64,
        now_ms: i64,
        cashier: Option<&Cashier>,
    ) -> Result<RefundAttempt, LocalStoreError> {
        assert!(amount > 0, "a refund is of a positive amount");
        // One statement decides, so two presses at once share one attempt.
        sqlx::query(
            "INSERT INTO refund_attempts (order_id, refund_id, amount, started_at_ms, \
             cashier_id, cashier_name) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(order_id.to_string())
        .bind(OrderId::generate_from(&self.env.ids).to_string())
        .bind(amount)
        .bind(now_ms)
        .bind(cashier.map(|cashier| cashier.staff_id.to_string()))
        .bind(cashier.map(|cashier| cashier.name.clone()))
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT refund_id, order_id, amount, cashier_id, cashier_name FROM refund_attempts WHERE order_id = ?",
        )
        .bind(order_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        attempt_from_row(&row)
    }

    /// The server applied the refund (now or on an earlier send): it joins the refunds
    /// and stops waiting, together. Applying the same answer twice keeps one refund.
    pub async fn finish_refund(
        &self,
        attempt: &RefundAttempt,
        refunded_amount: i64,
        now_ms: i64,
    ) -> Result<(), LocalStoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO refunds (refund_id, order_id, amount, refunded_at_ms, cashier_id, \
             cashier_name) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (refund_id) DO NOTHING",
        )
        .bind(&attempt.refund_id)
        .bind(attempt.order_id.to_string())
        .bind(refunded_amount)
        .bind(now_ms)
        .bind(attempt.cashier.as_ref().map(|cashier| cashier.staff_id.to_string()))
        .bind(attempt.cashier.as_ref().map(|cashier| cashier.name.clone()))
        .execute(&mut *transaction)
        .await?;
        sqlx::query("DELETE FROM refund_attempts WHERE refund_id = ?")
            .bind(&attempt.refund_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The server refused the refund for good: nothing was refunded, the order is free
    /// for a new refund.
    pub async fn drop_refund(&self, attempt: &RefundAttempt) -> Result<(), LocalStoreError> {
        sqlx::query("DELETE FROM refund_attempts WHERE refund_id = ?")
            .bind(&attempt.refund_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Unanswered refunds, oldest first.
    pub async fn unanswered_refunds(
        &self,
        limit: i64,
    ) -> Result<Vec<RefundAttempt>, LocalStoreError> {
        let rows = sqlx::query(
            "SELECT refund_id, order_id, amount, cashier_id, cashier_name FROM refund_attempts \
             ORDER BY started_at_ms, refund_id LIMIT ?",
        )
        .bind(limit.clamp(0, REFUND_RESENDS_PER_ROUND_MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attempt_from_row).collect()
    }
}
