//! The audit's reads: the whole journal a chunk at a time, the balances, every close.

use super::*;
use crate::store::AuditRead;

/// Every closed day with its figures, what the entries it settled add up to, and what its
/// journal entry moved, for the audit to compare.
pub(super) async fn settlement_checks(
    connection: &mut PgConnection,
) -> Result<Vec<SettlementCheck>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.merchant_id, s.day, s.cash - s.reversed_cash AS drawer_cash, \
           s.payments - s.refunds AS net_payments, \
           (SELECT coalesce(sum(CASE \
               WHEN e.code = 'top_up' AND t.code = 'cash' THEN t.amount \
               WHEN e.code = 'top_up_reversal' AND t.code = 'cash' THEN -t.amount \
               ELSE 0 END), 0)::BIGINT \
            FROM settled_entries se JOIN journal_entries e ON e.sequence = se.entry_sequence \
            JOIN transfers t ON t.entry_sequence = e.sequence \
            WHERE se.merchant_id = s.merchant_id AND se.day = s.day) AS drawer_cash_of_entries, \
           (SELECT coalesce(sum(CASE \
               WHEN e.code = 'payment' AND t.code = 'payment' THEN t.amount \
               WHEN e.code = 'refund' AND t.code = 'refund' THEN -t.amount \
               ELSE 0 END), 0)::BIGINT \
            FROM settled_entries se JOIN journal_entries e ON e.sequence = se.entry_sequence \
            JOIN transfers t ON t.entry_sequence = e.sequence \
            WHERE se.merchant_id = s.merchant_id AND se.day = s.day) AS net_payments_of_entries, \
           (SELECT coalesce(sum(t.amount), 0)::BIGINT FROM transfers t \
            WHERE t.entry_sequence = s.entry_sequence AND t.code = 'settlement' \
              AND t.from_account LIKE 'drawer/%' AND t.to_account = 'service') AS drawer_cash_moved, \
           (SELECT coalesce(sum(CASE \
               WHEN t.from_account = 'service' AND t.to_account = 'world' THEN t.amount \
               WHEN t.from_account = 'world' AND t.to_account = 'service' THEN -t.amount \
               ELSE 0 END), 0)::BIGINT FROM transfers t \
            WHERE t.entry_sequence = s.entry_sequence AND t.code = 'settlement') AS net_moved \
         FROM settlements s ORDER BY s.merchant_id, s.day",
    )
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
    connection: &mut PgConnection,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<JournalEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT sequence, applied_at_ms, code, recorded_at_ms, merchant_id, terminal_id, order_id, \
         outbox_entry_id, customer_id, business_day, previous_hash, hash \
         FROM journal_entries WHERE sequence > $1 ORDER BY sequence LIMIT $2",
    )
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
         WHERE entry_sequence BETWEEN $1 AND $2 ORDER BY entry_sequence, position",
    )
    .bind(first_sequence)
    .bind(last_sequence)
    .fetch_all(&mut *connection)
    .await?;
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

/// The audit's view: one read transaction, so the journal, the closes and the balances
/// are seen at the same instant. Dropped, it rolls back (it wrote nothing).
pub struct PgAuditRead {
    pub(super) transaction: sqlx::Transaction<'static, Postgres>,
}

impl AuditRead for PgAuditRead {
    async fn journal_after(
        &mut self,
        after_sequence: i64,
        limit: i64,
    ) -> Stored<Vec<JournalEntry>> {
        read_journal(&mut self.transaction, after_sequence, limit).await
    }

    async fn settlement_checks(&mut self) -> Stored<Vec<SettlementCheck>> {
        settlement_checks(&mut self.transaction).await
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
}
