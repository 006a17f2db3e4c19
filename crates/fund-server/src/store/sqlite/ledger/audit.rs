//! The audit's reads (the journal a chunk at a time, the balances, the closes, and for the
//! incremental audit the checkpoint, the balances kept there and earlier entries by id) and
//! the checkpoint's write.

use super::*;
use crate::ledger::audit::{AuditCheckpoint, BalanceDrift, NextCheckpoint, ReferencesToRecall};
use crate::store::AuditRead;

const JOURNAL_COLUMNS: &str = "sequence, applied_at_ms, code, recorded_at_ms, merchant_id, \
    terminal_id, order_id, outbox_entry_id, customer_id, business_day, previous_hash, hash";

/// Every closed day with its figures, what the entries it settled add up to, and what its
/// journal entry moved, for the audit to compare.
pub(super) async fn settlement_checks(
    connection: &mut SqliteConnection,
    after_sequence: i64,
) -> Result<Vec<SettlementCheck>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.merchant_id, s.day, s.cash - s.reversed_cash - s.redeemed_cash AS drawer_cash, \
           s.payments - s.refunds AS net_payments, \
           (SELECT coalesce(sum(CASE \
               WHEN e.code = 'top_up' AND t.code = 'cash' THEN t.amount \
               WHEN e.code = 'top_up_reversal' AND t.code = 'cash' THEN -t.amount \
               WHEN e.code = 'redemption' AND t.code = 'cash' THEN -t.amount \
               ELSE 0 END), 0) \
            FROM settled_entries se JOIN journal_entries e ON e.sequence = se.entry_sequence \
            JOIN transfers t ON t.entry_sequence = e.sequence \
            WHERE se.merchant_id = s.merchant_id AND se.day = s.day) AS drawer_cash_of_entries, \
           (SELECT coalesce(sum(CASE \
               WHEN e.code = 'payment' AND t.code = 'payment' THEN t.amount \
               WHEN e.code = 'refund' AND t.code = 'refund' THEN -t.amount \
               ELSE 0 END), 0) \
            FROM settled_entries se JOIN journal_entries e ON e.sequence = se.entry_sequence \
            JOIN transfers t ON t.entry_sequence = e.sequence \
            WHERE se.merchant_id = s.merchant_id AND se.day = s.day) AS net_payments_of_entries, \
           (SELECT coalesce(sum(t.amount), 0) FROM transfers t \
            WHERE t.entry_sequence = s.entry_sequence AND t.code = 'settlement' \
              AND t.from_account LIKE 'drawer/%' AND t.to_account = 'service') AS drawer_cash_moved, \
           (SELECT coalesce(sum(CASE \
               WHEN t.from_account = 'service' AND t.to_account = 'world' THEN t.amount \
               WHEN t.from_account = 'world' AND t.to_account = 'service' THEN -t.amount \
               ELSE 0 END), 0) FROM transfers t \
            WHERE t.entry_sequence = s.entry_sequence AND t.code = 'settlement') AS net_moved \
         FROM settlements s \
         WHERE s.entry_sequence > ? OR s.entry_sequence IS NULL \
         ORDER BY s.merchant_id, s.day",
    )
    .bind(after_sequence)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SettlementCheck {
                merchant_id: row.try_get("merchant_id")?,
                day: row.try_get("day")?,
                drawer_cash: row.try_get("drawer_cash")?,
                net_payments: row.try_get("net_payments")?,
                drawer_cash_of_entries: row.try_get("drawer_cash_of_entries")?,
                net_payments_of_entries: row.try_get("net_payments_of_entries")?,
                drawer_cash_moved: row.try_get("drawer_cash_moved")?,
                net_moved: row.try_get("net_moved")?,
            })
        })
        .collect()
}

/// Entries after `after_sequence`, at most `limit`, with their transfers, in order.
pub(super) async fn read_journal(
    connection: &mut SqliteConnection,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<JournalEntry>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {JOURNAL_COLUMNS} FROM journal_entries WHERE sequence > ? ORDER BY sequence LIMIT ?"
    ))
    .bind(after_sequence)
    .bind(limit)
    .fetch_all(&mut *connection)
    .await?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    let first_sequence: i64 = first.try_get("sequence")?;
    let last_sequence: i64 = last.try_get("sequence")?;
    let transfer_rows = sqlx::query(
        "SELECT entry_sequence, from_account, to_account, amount, code FROM transfers \
         WHERE entry_sequence BETWEEN ? AND ? ORDER BY entry_sequence, position",
    )
    .bind(first_sequence)
    .bind(last_sequence)
    .fetch_all(&mut *connection)
    .await?;
    entries_from_rows(rows, transfer_rows)
}

/// Every entry up to `up_to_sequence` carrying one of `ids`, with its transfers, in order.
async fn read_entries_carrying(
    connection: &mut SqliteConnection,
    up_to_sequence: i64,
    ids: &ReferencesToRecall,
) -> Result<Vec<JournalEntry>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let json = |ids: Vec<String>| serde_json::to_string(&ids).map_err(corrupt);
    let outbox_entry_ids = json(ids.outbox_entry_ids.iter().map(ToString::to_string).collect())?;
    let order_ids = json(ids.order_ids.iter().map(ToString::to_string).collect())?;
    // Two arms, each on its partial index; an entry carrying both ids comes back once.
    let rows = sqlx::query(&format!(
        "SELECT {JOURNAL_COLUMNS} FROM journal_entries WHERE sequence <= ?1 \
           AND outbox_entry_id IN (SELECT value FROM json_each(?2)) \
         UNION \
         SELECT {JOURNAL_COLUMNS} FROM journal_entries WHERE sequence <= ?1 \
           AND order_id IN (SELECT value FROM json_each(?3)) \
         ORDER BY sequence"
    ))
    .bind(up_to_sequence)
    .bind(outbox_entry_ids)
    .bind(order_ids)
    .fetch_all(&mut *connection)
    .await?;
    let mut sequences = Vec::with_capacity(rows.len());
    for row in &rows {
        sequences.push(row.try_get::<i64, _>("sequence")?);
    }
    let transfer_rows = sqlx::query(
        "SELECT entry_sequence, from_account, to_account, amount, code FROM transfers \
         WHERE entry_sequence IN (SELECT value FROM json_each(?)) \
         ORDER BY entry_sequence, position",
    )
    .bind(serde_json::to_string(&sequences).map_err(corrupt)?)
    .fetch_all(&mut *connection)
    .await?;
    entries_from_rows(rows, transfer_rows)
}

/// Journal rows joined with their transfer rows (both in order).
fn entries_from_rows(
    rows: Vec<sqlx::sqlite::SqliteRow>,
    transfer_rows: Vec<sqlx::sqlite::SqliteRow>,
) -> Result<Vec<JournalEntry>, StoreError> {
    let mut transfers_by_entry: HashMap<i64, Vec<Transfer>> = HashMap::new();
    for row in transfer_rows {
        let transfer = Transfer {
            from: parse(row.try_get::<&str, _>("from_account")?)?,
            to: parse(row.try_get::<&str, _>("to_account")?)?,
            amount: PositiveAmount::try_from(row.try_get::<i64, _>("amount")?).map_err(corrupt)?,
            code: parse(row.try_get::<&str, _>("code")?)?,
        };
        transfers_by_entry.entry(row.try_get("entry_sequence")?).or_default().push(transfer);
    }
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let sequence: i64 = row.try_get("sequence")?;
        let entry = NewEntry {
            code: parse(row.try_get::<&str, _>("code")?)?,
            recorded_at_ms: row.try_get("recorded_at_ms")?,
            references: EntryReferences {
                merchant_id: parse_optional(row.try_get("merchant_id")?)?,
                terminal_id: parse_optional(row.try_get("terminal_id")?)?,
                order_id: parse_optional::<OrderId>(row.try_get("order_id")?)?,
                outbox_entry_id: parse_optional(row.try_get("outbox_entry_id")?)?,
                customer_id: parse_optional(row.try_get("customer_id")?)?,
                business_day: row.try_get("business_day")?,
            },
            transfers: transfers_by_entry.remove(&sequence).unwrap_or_default(),
        };
        entries.push(JournalEntry {
            sequence,
            applied_at_ms: row.try_get("applied_at_ms")?,
            entry,
            previous_hash: hash(row.try_get("previous_hash")?)?,
            hash: hash(row.try_get("hash")?)?,
        });
    }
    Ok(entries)
}

/// Keeps a passing audit's checkpoint and balances, unless a concurrent audit moved the
/// checkpoint since this one read it (a full audit replaces any older checkpoint).
pub(super) async fn save_checkpoint(
    pool: &sqlx::SqlitePool,
    resumed_after: Option<i64>,
    next: &NextCheckpoint,
) -> Result<bool, StoreError> {
    let checkpoint = &next.checkpoint;
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
    let moved = match resumed_after {
        Some(sequence) => sqlx::query(
            "UPDATE audit_checkpoint SET sequence = ?, hash = ?, applied_at_ms = ?, \
             audited_at_ms = ? WHERE id = 1 AND sequence = ?",
        )
        .bind(checkpoint.sequence)
        .bind(checkpoint.hash.as_slice())
        .bind(checkpoint.applied_at_ms)
        .bind(checkpoint.audited_at_ms)
        .bind(sequence),
        None => sqlx::query(
            "INSERT INTO audit_checkpoint (id, sequence, hash, applied_at_ms, audited_at_ms) \
             VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence, \
             hash = excluded.hash, applied_at_ms = excluded.applied_at_ms, \
             audited_at_ms = excluded.audited_at_ms \
             WHERE audit_checkpoint.sequence <= excluded.sequence",
        )
        .bind(checkpoint.sequence)
        .bind(checkpoint.hash.as_slice())
        .bind(checkpoint.applied_at_ms)
        .bind(checkpoint.audited_at_ms),
    }
    .execute(&mut *transaction)
    .await?
    .rows_affected();
    if moved != 1 {
        return Ok(false);
    }
    if next.replaces_all {
        sqlx::query("DELETE FROM audit_balances").execute(&mut *transaction).await?;
    }
    for chunk in next.balances.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO audit_balances (key, balance) ");
        insert.push_values(chunk, |mut row, (account, balance)| {
            row.push_bind(account.to_string()).push_bind(*balance);
        });
        insert.push(" ON CONFLICT (key) DO UPDATE SET balance = excluded.balance");
        insert.build().execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    Ok(true)
}

/// The audit's view: one read transaction, so the journal, the closes and the balances
/// are seen at the same instant. Dropped, it rolls back (it wrote nothing).
pub struct SqliteAuditRead {
    pub(super) transaction: sqlx::Transaction<'static, Sqlite>,
}

impl AuditRead for SqliteAuditRead {
    async fn journal_after(
        &mut self,
        after_sequence: i64,
        limit: i64,
    ) -> Stored<Vec<JournalEntry>> {
        read_journal(&mut self.transaction, after_sequence, limit).await
    }

    async fn entries_carrying(
        &mut self,
        up_to_sequence: i64,
        ids: &ReferencesToRecall,
    ) -> Stored<Vec<JournalEntry>> {
        read_entries_carrying(&mut self.transaction, up_to_sequence, ids).await
    }

    async fn settlement_checks(&mut self, after_sequence: i64) -> Stored<Vec<SettlementCheck>> {
        settlement_checks(&mut self.transaction, after_sequence).await
    }

    async fn balances(&mut self) -> Stored<Vec<Result<(Account, Amount), String>>> {
        let rows = sqlx::query("SELECT key, balance FROM accounts ORDER BY key")
            .fetch_all(&mut *self.transaction)
            .await?;
        let mut balances = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get("key")?;
            balances.push(match (Account::from_str(&key), amount(row.try_get("balance")?)) {
                (Ok(account), Ok(balance)) => Ok((account, balance)),
                _ => Err(key),
            });
        }
        Ok(balances)
    }

    async fn checkpoint(&mut self) -> Stored<Option<AuditCheckpoint>> {
        let row = sqlx::query(
            "SELECT sequence, hash, applied_at_ms, audited_at_ms FROM audit_checkpoint WHERE id = 1",
        )
        .fetch_optional(&mut *self.transaction)
        .await?;
        row.map(|row| {
            Ok(AuditCheckpoint {
                sequence: row.try_get("sequence")?,
                hash: hash(row.try_get("hash")?)?,
                applied_at_ms: row.try_get("applied_at_ms")?,
                audited_at_ms: row.try_get("audited_at_ms")?,
            })
        })
        .transpose()
    }

    async fn checkpoint_balances(&mut self, accounts: &[Account]) -> Stored<Vec<(Account, i64)>> {
        let mut balances = Vec::with_capacity(accounts.len());
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let rows = sqlx::query(
                "SELECT key, balance FROM audit_balances \
                 WHERE key IN (SELECT value FROM json_each(?))",
            )
            .bind(serde_json::to_string(&keys).map_err(corrupt)?)
            .fetch_all(&mut *self.transaction)
            .await?;
            for row in rows {
                balances.push((parse(row.try_get::<&str, _>("key")?)?, row.try_get("balance")?));
            }
        }
        Ok(balances)
    }

    async fn balance_drift(&mut self) -> Stored<Vec<BalanceDrift>> {
        let rows = sqlx::query(
            "SELECT a.key, a.balance AS stored, b.balance AS at_checkpoint FROM accounts a \
             LEFT JOIN audit_balances b ON b.key = a.key \
             WHERE b.balance IS NULL OR b.balance <> a.balance \
             UNION ALL \
             SELECT b.key, NULL, b.balance FROM audit_balances b \
             WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.key = b.key)",
        )
        .fetch_all(&mut *self.transaction)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BalanceDrift {
                    key: row.try_get("key")?,
                    stored: row.try_get("stored")?,
                    at_checkpoint: row.try_get("at_checkpoint")?,
                })
            })
            .collect()
    }

    async fn account_count(&mut self) -> Stored<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
            .fetch_one(&mut *self.transaction)
            .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }
}
