//! Reversals of this counter's top-ups: those the server answered, and the one per top-up
//! still waiting for its answer (kept with its key, so that a retry cannot reverse twice).
//! The same shape as refunds (`store/refunds.rs`), for the same reasons.

use super::*;

/// A reversal sent (or about to be sent) whose answer has not arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalAttempt {
    /// Also the idempotency key sent; the same on every resend.
    pub reversal_id: String,
    pub entry_id: OutboxEntryId,
    pub amount: i64,
    /// Who pressed it first; sent with every resend, so the request stays the same.
    pub cashier: Option<Cashier>,
}

/// What the server applied, as the counter keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReversalApplied {
    pub amount: i64,
    pub bonus_clawed_back: i64,
    /// The server's time of the reversal: the day both sides count it in.
    pub reversed_at_ms: i64,
}

/// Most unanswered reversals the sync worker resends in one round.
pub const REVERSAL_RESENDS_PER_ROUND_MAX: i64 = 50;

fn attempt_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<ReversalAttempt, LocalStoreError> {
    Ok(ReversalAttempt {
        reversal_id: row.try_get("reversal_id")?,
        entry_id: OutboxEntryId::from_str(row.try_get::<&str, _>("entry_id")?).map_err(corrupt)?,
        amount: row.try_get("amount")?,
        cashier: cashier_from_row(row)?,
    })
}

impl LocalStore {
    /// The top-up's unanswered reversal if there is one (whatever amount it was for),
    /// otherwise a new attempt for `amount` under a fresh key, stored before it is sent.
    pub async fn begin_reversal(
        &self,
        entry_id: OutboxEntryId,
        amount: i64,
        now_ms: i64,
        cashier: Option<&Cashier>,
    ) -> Result<ReversalAttempt, LocalStoreError> {
        assert!(amount > 0, "a reversal is of a positive amount");
        // One statement decides, so two presses at once share one attempt.
        sqlx::query(
            "INSERT INTO reversal_attempts (entry_id, reversal_id, amount, started_at_ms, \
             cashier_id, cashier_name) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO NOTHING",
        )
        .bind(entry_id.to_string())
        .bind(OutboxEntryId::generate_from(&self.env.ids).to_string())
        .bind(amount)
        .bind(now_ms)
        .bind(cashier.map(|cashier| cashier.staff_id.to_string()))
        .bind(cashier.map(|cashier| cashier.name.clone()))
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT reversal_id, entry_id, amount, cashier_id, cashier_name FROM reversal_attempts WHERE entry_id = ?",
        )
        .bind(entry_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        attempt_from_row(&row)
    }

    /// The server applied the reversal (now or on an earlier send): it joins the reversals
    /// and stops waiting, together. Applying the same answer twice keeps one reversal.
    pub async fn finish_reversal(
        &self,
        attempt: &ReversalAttempt,
        applied: ReversalApplied,
    ) -> Result<(), LocalStoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO top_up_reversals \
             (reversal_id, entry_id, amount, bonus_clawed_back, reversed_at_ms, cashier_id, \
             cashier_name) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reversal_id) DO NOTHING",
        )
        .bind(&attempt.reversal_id)
        .bind(attempt.entry_id.to_string())
        .bind(applied.amount)
        .bind(applied.bonus_clawed_back)
        .bind(applied.reversed_at_ms)
        .bind(attempt.cashier.as_ref().map(|cashier| cashier.staff_id.to_string()))
        .bind(attempt.cashier.as_ref().map(|cashier| cashier.name.clone()))
        .execute(&mut *transaction)
        .await?;
        sqlx::query("DELETE FROM reversal_attempts WHERE reversal_id = ?")
            .bind(&attempt.reversal_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The server refused the reversal for good: nothing was given back, the top-up is
    /// free for a new reversal.
    pub async fn drop_reversal(&self, attempt: &ReversalAttempt) -> Result<(), LocalStoreError> {
        sqlx::query("DELETE FROM reversal_attempts WHERE reversal_id = ?")
            .bind(&attempt.reversal_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Unanswered reversals, oldest first.
    pub async fn unanswered_reversals(
        &self,
        limit: i64,
    ) -> Result<Vec<ReversalAttempt>, LocalStoreError> {
        let rows = sqlx::query(
            "SELECT reversal_id, entry_id, amount, cashier_id, cashier_name FROM reversal_attempts \
             ORDER BY started_at_ms, reversal_id LIMIT ?",
        )
        .bind(limit.clamp(0, REVERSAL_RESENDS_PER_ROUND_MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    /// What the server has given back of a top-up so far, as this counter heard it.
    pub async fn reversed_of(&self, entry_id: OutboxEntryId) -> Result<i64, LocalStoreError> {
        Ok(sqlx::query_scalar(
            "SELECT coalesce(sum(amount), 0) FROM top_up_reversals WHERE entry_id = ?",
        )
        .bind(entry_id.to_string())
        .fetch_one(&self.pool)
        .await?)
    }
}

/// A top-up as the manager's list of recent top-ups shows it, with what has been given
/// back of it so far.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecentTopUp {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub entry_id: OutboxEntryId,
    pub receipt_number: String,
    /// From the customer cache; `None` once the customer left the cache (another store).
    pub customer_name: Option<String>,
    /// Minor units.
    pub amount: i64,
    pub bonus_shown: i64,
    pub reversed: i64,
    /// "pending", "confirmed" or "rejected": only a confirmed top-up can be reversed.
    #[cfg_attr(feature = "ts", ts(type = "\"pending\" | \"confirmed\" | \"rejected\""))]
    pub status: String,
    /// A reversal of it was sent and its answer has not arrived.
    pub reversal_unanswered: bool,
    /// Taken while this counter was enrolled at another store or fund server (or under an
    /// enrolment it has no record of): it cannot be reversed from here. A top-up of an
    /// earlier enrolment at the same store can (`Counter::reverse_top_up`).
    pub earlier_enrolment: bool,
    pub recorded_at_ms: i64,
}

/// The longest list of recent top-ups one call returns.
pub const RECENT_TOP_UPS_MAX: i64 = 100;

impl LocalStore {
    /// This counter's newest top-ups, newest first, at most `limit` (capped).
    pub async fn recent_top_ups(&self, limit: i64) -> Result<Vec<RecentTopUp>, LocalStoreError> {
        let rows = sqlx::query(
            "SELECT t.entry_id, t.receipt_number, c.display_name, t.amount, t.bonus_shown, \
               t.status, t.recorded_at_ms, \
               (SELECT coalesce(sum(r.amount), 0) FROM top_up_reversals r \
                 WHERE r.entry_id = t.entry_id) AS reversed, \
               EXISTS (SELECT 1 FROM reversal_attempts a WHERE a.entry_id = t.entry_id) AS unanswered \
             FROM top_ups t LEFT JOIN customers c ON c.customer_id = t.customer_id \
             ORDER BY t.recorded_at_ms DESC, t.receipt_number DESC LIMIT ?",
        )
        .bind(limit.clamp(0, RECENT_TOP_UPS_MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                if !matches!(status.as_str(), "pending" | "confirmed" | "rejected") {
                    return Err(corrupt(format!("top-up status {status}")));
                }
                Ok(RecentTopUp {
                    entry_id: OutboxEntryId::from_str(row.try_get::<&str, _>("entry_id")?)
                        .map_err(corrupt)?,
                    receipt_number: row.try_get("receipt_number")?,
                    customer_name: row.try_get("display_name")?,
                    amount: row.try_get("amount")?,
                    bonus_shown: row.try_get("bonus_shown")?,
                    reversed: row.try_get("reversed")?,
                    status,
                    reversal_unanswered: row.try_get::<i64, _>("unanswered")? == 1,
                    // Known only against the profile: `Counter::recent_top_ups` sets it.
                    earlier_enrolment: false,
                    recorded_at_ms: row.try_get("recorded_at_ms")?,
                })
            })
            .collect()
    }
}
