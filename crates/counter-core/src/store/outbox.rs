//! The counter's top-ups and its outbox: each top-up written with its outbox entry in one
//! transaction, pushed until the server answers, marked by that answer.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopUpStatus {
    Pending,
    Confirmed,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpRecord {
    pub entry_id: OutboxEntryId,
    pub receipt_number: String,
    pub customer_id: CustomerId,
    pub amount: PositiveAmount,
    pub bonus_shown: Amount,
    pub rule_version: Option<u32>,
    pub recorded_at_ms: i64,
    /// The name of who took the cash, as it was then.
    pub cashier_name: Option<String>,
    pub status: TopUpStatus,
    pub status_code: Option<String>,
    pub status_message: Option<String>,
}

/// An outbox entry waiting for the server, with what it was sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    pub sequence: i64,
    pub entry: OutboxEntry,
}

/// An entry the server refused for good: the cashier or manager must act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsAttention {
    pub sequence: i64,
    pub entry_id: OutboxEntryId,
    pub code: String,
    pub message: String,
}

/// A top-up to record: what the cashier took and showed, when, and who they are.
#[derive(Debug, Clone, Copy)]
pub struct NewTopUp<'a> {
    pub customer_id: CustomerId,
    pub amount: PositiveAmount,
    pub bonus_shown: Amount,
    pub rule_version: Option<u32>,
    pub recorded_at_ms: i64,
    pub cashier: Option<&'a Cashier>,
}

impl LocalStore {
    /// Records a cash top-up and its outbox entry in one transaction. The receipt number
    /// is the terminal's prefix and the outbox sequence, so no two counters share one.
    pub async fn record_top_up(
        &self,
        receipt_prefix: &str,
        top_up: NewTopUp<'_>,
    ) -> Result<TopUpRecord, LocalStoreError> {
        let NewTopUp { customer_id, amount, bonus_shown, rule_version, recorded_at_ms, cashier } =
            top_up;
        // IMMEDIATE: the next sequence is read and taken under the write lock.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT max(sequence) FROM outbox")
            .fetch_one(&mut *transaction)
            .await?;
        let sequence = last.unwrap_or(0) + 1;
        let entry_id = OutboxEntryId::generate_from(&self.env.ids);
        let entry = OutboxEntry {
            id: entry_id,
            sequence: u64::try_from(sequence).map_err(corrupt)?,
            recorded_at_ms,
            action: CounterAction::CashTopUp {
                customer_id,
                amount,
                bonus_shown,
                bonus_rule_version: rule_version,
            },
            cashier: cashier.map(|cashier| cashier.staff_id),
        };
        let payload = serde_json::to_string(&entry).map_err(corrupt)?;
        let receipt_number = format!("{receipt_prefix}-{sequence:08}");
        sqlx::query(
            "INSERT INTO top_ups (entry_id, receipt_number, customer_id, amount, bonus_shown, rule_version, \
             recorded_at_ms, status, cashier_id, cashier_name) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        )
        .bind(entry_id.to_string())
        .bind(&receipt_number)
        .bind(customer_id.to_string())
        .bind(amount.amount().minor_units())
        .bind(bonus_shown.minor_units())
        .bind(rule_version.map(i64::from))
        .bind(recorded_at_ms)
        .bind(cashier.map(|cashier| cashier.staff_id.to_string()))
        .bind(cashier.map(|cashier| cashier.name.clone()))
        .execute(&mut *transaction)
        .await?;
        sqlx::query("INSERT INTO outbox (sequence, entry_id, payload, state, created_at_ms) VALUES (?, ?, ?, 'pending', ?)")
            .bind(sequence)
            .bind(entry_id.to_string())
            .bind(payload)
            .bind(recorded_at_ms)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(TopUpRecord {
            entry_id,
            receipt_number,
            customer_id,
            amount,
            bonus_shown,
            rule_version,
            recorded_at_ms,
            cashier_name: cashier.map(|cashier| cashier.name.clone()),
            status: TopUpStatus::Pending,
            status_code: None,
            status_message: None,
        })
    }

    /// The oldest entries still owed to the server, in order.
    pub async fn pending_entries(&self, limit: i64) -> Result<Vec<PendingEntry>, LocalStoreError> {
        let rows = sqlx::query("SELECT sequence, payload FROM outbox WHERE state = 'pending' ORDER BY sequence LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(PendingEntry {
                    sequence: row.try_get("sequence")?,
                    entry: serde_json::from_str(row.try_get::<&str, _>("payload")?)
                        .map_err(corrupt)?,
                })
            })
            .collect()
    }

    /// Stores the server's answers to one push in one transaction: applied entries are
    /// acknowledged (their top-ups confirmed), refused ones go to needs attention, and the
    /// ones to retry later are counted and stay pending.
    pub async fn record_push_results(
        &self,
        results: &[tillfund_core::protocol::EntryResult],
        now_ms: i64,
    ) -> Result<(), LocalStoreError> {
        use tillfund_core::protocol::EntryOutcome;
        let mut transaction = self.pool.begin().await?;
        for result in results {
            let entry_id = result.id.to_string();
            let (state, error, top_up_status, code, message) = match &result.outcome {
                EntryOutcome::Applied | EntryOutcome::AlreadyApplied => {
                    ("acknowledged", None, "confirmed", None, None)
                }
                EntryOutcome::Rejected { code, message } => (
                    "needs_attention",
                    Some(format!("{code}: {message}")),
                    "rejected",
                    Some(code.as_str()),
                    Some(message.as_str()),
                ),
                EntryOutcome::RetryLater { code, message } => {
                    ("pending", Some(format!("{code}: {message}")), "pending", None, None)
                }
            };
            let answered_at_ms = (state != "pending").then_some(now_ms);
            sqlx::query(
                "UPDATE outbox SET state = ?, last_error = coalesce(?, last_error), attempts = attempts + 1, \
                 answered_at_ms = ? WHERE entry_id = ?",
            )
            .bind(state)
            .bind(error)
            .bind(answered_at_ms)
            .bind(&entry_id)
            .execute(&mut *transaction)
            .await?;
            sqlx::query("UPDATE top_ups SET status = ?, status_code = ?, status_message = ? WHERE entry_id = ?")
                .bind(top_up_status)
                .bind(code)
                .bind(message)
                .bind(&entry_id)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    pub async fn needs_attention(&self) -> Result<Vec<NeedsAttention>, LocalStoreError> {
        let rows = sqlx::query(
            "SELECT sequence, entry_id, coalesce(last_error, '') AS last_error FROM outbox \
             WHERE state = 'needs_attention' ORDER BY sequence",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let error: String = row.try_get("last_error")?;
                let (code, message) =
                    error.split_once(": ").unwrap_or(("rejected", error.as_str()));
                Ok(NeedsAttention {
                    sequence: row.try_get("sequence")?,
                    entry_id: OutboxEntryId::from_str(row.try_get::<&str, _>("entry_id")?)
                        .map_err(corrupt)?,
                    code: code.to_owned(),
                    message: message.to_owned(),
                })
            })
            .collect()
    }

    /// How many entries wait for the server, and since when the oldest.
    pub async fn pending_summary(&self) -> Result<(i64, Option<i64>), LocalStoreError> {
        let row = sqlx::query("SELECT count(*) AS pending, min(created_at_ms) AS oldest FROM outbox WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("pending")?, row.try_get("oldest")?))
    }

    pub async fn top_up(
        &self,
        entry_id: OutboxEntryId,
    ) -> Result<Option<TopUpRecord>, LocalStoreError> {
        let row = sqlx::query(
            "SELECT entry_id, receipt_number, customer_id, amount, bonus_shown, rule_version, recorded_at_ms, \
             status, status_code, status_message, cashier_name FROM top_ups WHERE entry_id = ?",
        )
        .bind(entry_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let status = match row.try_get::<&str, _>("status")? {
                "pending" => TopUpStatus::Pending,
                "confirmed" => TopUpStatus::Confirmed,
                "rejected" => TopUpStatus::Rejected,
                other => return Err(corrupt(format!("top-up status {other}"))),
            };
            Ok(TopUpRecord {
                entry_id: OutboxEntryId::from_str(row.try_get::<&str, _>("entry_id")?)
                    .map_err(corrupt)?,
                receipt_number: row.try_get("receipt_number")?,
                customer_id: CustomerId::from_str(row.try_get::<&str, _>("customer_id")?)
                    .map_err(corrupt)?,
                amount: PositiveAmount::try_from(row.try_get::<i64, _>("amount")?)
                    .map_err(corrupt)?,
                bonus_shown: Amount::from_minor_units(row.try_get("bonus_shown")?)
                    .map_err(corrupt)?,
                rule_version: row
                    .try_get::<Option<i64>, _>("rule_version")?
                    .map(|v| u32::try_from(v).unwrap_or(0)),
                recorded_at_ms: row.try_get("recorded_at_ms")?,
                cashier_name: row.try_get("cashier_name")?,
                status,
                status_code: row.try_get("status_code")?,
                status_message: row.try_get("status_message")?,
            })
        })
        .transpose()
    }
}
