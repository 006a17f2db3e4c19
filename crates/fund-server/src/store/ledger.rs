//! The ledger's storage on SQLite: one `BEGIN IMMEDIATE` transaction per batch of commands.
//!
//! `BEGIN IMMEDIATE` takes SQLite's write lock before the batch reads anything, so the
//! balances the engine decides on cannot change under it, even with a second process on
//! the same file. All reads and writes use a handful of multi-row statements per batch,
//! never one query per command: that is what lets one writer keep up with many counters.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::{
    Amount, CustomerId, MerchantId, OrderId, OutboxEntryId, PositiveAmount, TerminalId,
};

use super::{Store, StoreError, amount, corrupt, parse, parse_optional};
use crate::ledger::audit::{AuditReport, Auditor, SettlementCheck};
use crate::ledger::figures_by_terminal;
use crate::ledger::{
    Account, AlertChange, AppliedTopUp, Batch, BatchNeeds, BatchState, BatchWrites, Command,
    Decided, Deferred, EntryReferences, JournalEntry, LedgerPolicy, NewEntry, Outcome, PaidOrder,
    RuleSetRecord, SettlementFigures, StoredOutcome, TopUpKey, Transfer, UnsettledDay,
    UnsettledEntry,
};

/// Rows bound in one statement; well under SQLite's limit of 32,766 variables.
const ROWS_PER_STATEMENT: usize = 200;
/// Entries read per round trip by the audit.
const AUDIT_CHUNK_ENTRIES: i64 = 5_000;

fn hash(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| corrupt("a hash is not 32 bytes"))
}

impl Store {
    /// Decides and writes a batch of commands atomically. The result has one entry per
    /// command, in order. On `Err` nothing at all was written and every command may be
    /// retried.
    pub async fn apply_batch(
        &self,
        policy: &LedgerPolicy,
        commands: &[Command],
    ) -> Result<Vec<Result<Decided, Deferred>>, StoreError> {
        let needs = BatchNeeds::of(commands);
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let state = load_batch_state(&mut transaction, &needs, self.clock.now_ms()).await?;
        let mut batch = Batch::new(policy, state);
        let results: Vec<Result<Decided, Deferred>> =
            commands.iter().map(|command| batch.apply(command)).collect();
        let writes = batch.finish();
        write_batch(&mut transaction, &writes, self.clock.now_ms()).await?;
        transaction.commit().await?;
        Ok(results)
    }

    /// The figures of a merchant's day: as closed, or, while open, what a close now would
    /// settle. The flag says whether the day is closed.
    pub async fn settlement(
        &self,
        merchant_id: MerchantId,
        day: &str,
        day_end_ms: i64,
    ) -> Result<(SettlementFigures, Vec<(TerminalId, SettlementFigures)>, bool), StoreError> {
        let row = sqlx::query(
            "SELECT top_up_count, cash, bonus, payment_count, payments, refund_count, refunds, \
             reversal_count, reversed_cash, reversed_bonus \
             FROM settlements WHERE merchant_id = ? AND day = ?",
        )
        .bind(merchant_id.to_string())
        .bind(day)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            let figures = figures_from_row(&row)?;
            let rows = sqlx::query(&format!(
                "SELECT terminal_id, {FIGURE_COLUMNS} FROM settlement_terminals WHERE merchant_id = ? AND day = ?"
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
                .collect::<Result<Vec<_>, StoreError>>()?;
            return Ok((figures, by_terminal, true));
        }
        let mut connection = self.pool.acquire().await?;
        let open = unsettled_day(&mut connection, merchant_id, day, day_end_ms).await?;
        let (figures, by_terminal) = figures_by_terminal(&open.entries);
        Ok((figures, by_terminal, false))
    }

    /// Orders paid at a merchant after journal entry `after_entry`, oldest first: how a
    /// counter learns that its payment codes were paid.
    /// A wallet's latest journal entries, newest first: what happened and by how much the
    /// wallet changed (all buckets together), at most `limit`.
    pub async fn wallet_history(
        &self,
        customer_id: CustomerId,
        limit: u32,
    ) -> Result<Vec<WalletEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.sequence, e.code, e.applied_at_ms, m.name AS merchant, m.time_zone, \
                    coalesce(sum(CASE WHEN t.to_account LIKE ?2 THEN t.amount ELSE 0 END), 0) \
                  - coalesce(sum(CASE WHEN t.from_account LIKE ?2 THEN t.amount ELSE 0 END), 0) AS change \
             FROM journal_entries e \
             JOIN transfers t ON t.entry_sequence = e.sequence \
             LEFT JOIN merchants m ON m.id = e.merchant_id \
             WHERE e.customer_id = ?1 \
             GROUP BY e.sequence ORDER BY e.sequence DESC LIMIT ?3",
        )
        .bind(customer_id.to_string())
        .bind(format!("customer/{customer_id}/%"))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WalletEntry {
                    sequence: row.try_get("sequence")?,
                    code: row.try_get("code")?,
                    applied_at_ms: row.try_get("applied_at_ms")?,
                    merchant: row.try_get("merchant")?,
                    merchant_time_zone: row.try_get("time_zone")?,
                    change: row.try_get("change")?,
                })
            })
            .collect()
    }

    /// Who paid a counter's order, if anyone has.
    pub async fn order_payer(
        &self,
        terminal_id: TerminalId,
        order_id: OrderId,
    ) -> Result<Option<CustomerId>, StoreError> {
        let payer: Option<String> = sqlx::query_scalar(
            "SELECT customer_id FROM paid_orders WHERE terminal_id = ? AND order_id = ?",
        )
        .bind(terminal_id.to_string())
        .bind(order_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        payer.map(|text| parse(&text)).transpose()
    }

    pub async fn paid_orders_after(
        &self,
        merchant_id: MerchantId,
        after_entry: i64,
        limit: i64,
    ) -> Result<Vec<PaidOrder>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PAID_ORDER_COLUMNS} FROM paid_orders \
             WHERE merchant_id = ? AND payment_entry > ? ORDER BY payment_entry LIMIT ?"
        ))
        .bind(merchant_id.to_string())
        .bind(after_entry)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(paid_order_from_row).collect()
    }

    /// How many journal entries there are of each code.
    pub async fn entry_counts(&self) -> Result<HashMap<String, i64>, StoreError> {
        let rows =
            sqlx::query("SELECT code, count(*) AS entries FROM journal_entries GROUP BY code")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|row| Ok((row.try_get("code")?, row.try_get("entries")?))).collect()
    }

    /// Moves the write-ahead log into the database file, so the file's size is the data's.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }

    /// Every stored balance.
    pub async fn all_balances(&self) -> Result<Vec<(Account, Amount)>, StoreError> {
        let rows = sqlx::query("SELECT key, balance FROM accounts ORDER BY key")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((parse(row.try_get::<&str, _>("key")?)?, amount(row.try_get("balance")?)?))
            })
            .collect()
    }

    pub async fn balance(&self, account: Account) -> Result<Amount, StoreError> {
        let balance: Option<i64> = sqlx::query_scalar("SELECT balance FROM accounts WHERE key = ?")
            .bind(account.to_string())
            .fetch_optional(&self.pool)
            .await?;
        amount(balance.unwrap_or(0))
    }

    /// The open reserve alert, if any.
    pub async fn reserve_alert(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT message FROM ledger_alerts WHERE name = 'reserve'")
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The bonus rule set in force (version 0, no rules, before any is published).
    pub async fn current_bonus_rules(&self) -> Result<BonusRuleSet, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let (_, current) = load_rule_sets(&mut connection, &BTreeSet::new()).await?;
        Ok(current)
    }

    /// Publishes a new bonus rule set, superseding the current one. Returns its version.
    pub async fn publish_bonus_rules(
        &self,
        rules: Vec<tillfund_core::bonus::BonusRule>,
    ) -> Result<BonusRuleSet, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM bonus_rule_sets")
            .fetch_one(&mut *transaction)
            .await?;
        let version = u32::try_from(current.unwrap_or(0) + 1).map_err(corrupt)?;
        let rule_set = BonusRuleSet::new(version, rules).map_err(StoreError::Invalid)?;
        let now = self.clock.now_ms();
        sqlx::query(
            "UPDATE bonus_rule_sets SET superseded_at_ms = ? WHERE superseded_at_ms IS NULL",
        )
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let rules_json = serde_json::to_string(rule_set.rules()).map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO bonus_rule_sets (version, rules, published_at_ms) VALUES (?, ?, ?)",
        )
        .bind(i64::from(version))
        .bind(rules_json)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(rule_set)
    }

    /// Replays the whole journal and checks every invariant (see `ledger::audit`).
    pub async fn audit(&self) -> Result<AuditReport, StoreError> {
        // One read transaction: the journal and the balances are seen at the same instant.
        let mut transaction = self.pool.begin().await?;
        let mut auditor = Auditor::new();
        let mut after_sequence = 0_i64;
        loop {
            let entries = read_journal(&mut transaction, after_sequence, AUDIT_CHUNK_ENTRIES).await;
            let entries = match entries {
                Ok(entries) => entries,
                Err(StoreError::Corrupt(problem)) => {
                    auditor.problem(format!("after entry {after_sequence}: unreadable: {problem}"));
                    break;
                }
                Err(error) => return Err(error),
            };
            let Some(last) = entries.last() else { break };
            after_sequence = last.sequence;
            for entry in &entries {
                auditor.check_entry(entry);
            }
        }
        for check in settlement_checks(&mut transaction).await? {
            auditor.check_settlement(&check);
        }
        let rows = sqlx::query("SELECT key, balance FROM accounts ORDER BY key")
            .fetch_all(&mut *transaction)
            .await?;
        let mut balances = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get("key")?;
            match (Account::from_str(&key), amount(row.try_get("balance")?)) {
                (Ok(account), Ok(balance)) => balances.push((account, balance)),
                _ => auditor.problem(format!("account row '{key}' is unreadable")),
            }
        }
        transaction.rollback().await?;
        Ok(auditor.finish(&balances))
    }
}

/// Every closed day with its figures, what the entries it settled add up to, and what its
/// journal entry moved, for the audit to compare.
async fn settlement_checks(
    connection: &mut SqliteConnection,
) -> Result<Vec<SettlementCheck>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.merchant_id, s.day, s.cash - s.reversed_cash AS drawer_cash, \
           s.payments - s.refunds AS net_payments, \
           (SELECT coalesce(sum(CASE \
               WHEN e.code = 'top_up' AND t.code = 'cash' THEN t.amount \
               WHEN e.code = 'top_up_reversal' AND t.code = 'cash' THEN -t.amount \
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

const FIGURE_COLUMNS: &str = "top_up_count, cash, bonus, payment_count, payments, refund_count, \
    refunds, reversal_count, reversed_cash, reversed_bonus";

fn figures_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<SettlementFigures, StoreError> {
    Ok(SettlementFigures {
        top_up_count: row.try_get("top_up_count")?,
        cash: row.try_get("cash")?,
        bonus: row.try_get("bonus")?,
        payment_count: row.try_get("payment_count")?,
        payments: row.try_get("payments")?,
        refund_count: row.try_get("refund_count")?,
        refunds: row.try_get("refunds")?,
        reversal_count: row.try_get("reversal_count")?,
        reversed_cash: row.try_get("reversed_cash")?,
        reversed_bonus: row.try_get("reversed_bonus")?,
    })
}

const PAID_ORDER_COLUMNS: &str = "order_id, merchant_id, terminal_id, customer_id, amount, \
    paid_principal, paid_bonus, paid_yield, refunded_principal, refunded_bonus, refunded_yield, \
    payment_entry, paid_at_ms";

fn paid_order_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<PaidOrder, StoreError> {
    Ok(PaidOrder {
        order_id: parse(row.try_get::<&str, _>("order_id")?)?,
        merchant_id: parse(row.try_get::<&str, _>("merchant_id")?)?,
        terminal_id: parse(row.try_get::<&str, _>("terminal_id")?)?,
        customer_id: parse(row.try_get::<&str, _>("customer_id")?)?,
        amount: PositiveAmount::try_from(row.try_get::<i64, _>("amount")?).map_err(corrupt)?,
        paid_split: [
            row.try_get("paid_principal")?,
            row.try_get("paid_bonus")?,
            row.try_get("paid_yield")?,
        ],
        refunded_split: [
            row.try_get("refunded_principal")?,
            row.try_get("refunded_bonus")?,
            row.try_get("refunded_yield")?,
        ],
        payment_entry: row.try_get("payment_entry")?,
        paid_at_ms: row.try_get("paid_at_ms")?,
    })
}

async fn load_batch_state(
    connection: &mut SqliteConnection,
    needs: &BatchNeeds,
    now_ms: i64,
) -> Result<BatchState, StoreError> {
    let customer_ids: Vec<String> = needs.customers.iter().map(ToString::to_string).collect();
    let mut existing_customers = HashSet::new();
    let mut bindings = HashSet::new();
    for chunk in customer_ids.chunks(ROWS_PER_STATEMENT) {
        // Each customer with each merchant it is bound to ('-' for none), packed in one row.
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT group_concat(c.id || ' ' || coalesce(b.merchant_id, '-'), char(10)) \
             FROM customers c LEFT JOIN bindings b ON b.customer_id = c.id WHERE c.id IN (",
        );
        push_list(&mut query, chunk);
        let packed: Option<String> = query.build_query_scalar().fetch_one(&mut *connection).await?;
        for line in packed.as_deref().unwrap_or("").lines() {
            let (customer, merchant) =
                line.split_once(' ').ok_or_else(|| corrupt("packed binding"))?;
            let customer_id: CustomerId = parse(customer)?;
            existing_customers.insert(customer_id);
            if merchant != "-" {
                let pair = (customer_id, parse::<MerchantId>(merchant)?);
                if needs.bindings.contains(&pair) {
                    bindings.insert(pair);
                }
            }
        }
    }

    let order_ids: Vec<String> =
        needs.orders.iter().map(|(_, order_id)| order_id.to_string()).collect();
    let mut orders = HashMap::new();
    for chunk in order_ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {PAID_ORDER_COLUMNS} FROM paid_orders WHERE order_id IN ("
        ));
        push_list(&mut query, chunk);
        for row in query.build().fetch_all(&mut *connection).await? {
            let order = paid_order_from_row(&row)?;
            // Order ids are per counter: another counter's order of the same id is not it.
            let order_key = (order.terminal_id, order.order_id);
            if needs.orders.contains(&order_key) {
                orders.insert(order_key, order);
            }
        }
    }

    let top_ups = load_top_ups(connection, &needs.top_ups).await?;

    // A refund names only its order, a reversal only its top-up; the wallet they touch is
    // known once those are loaded, so the accounts to load are completed here.
    let mut accounts = needs.accounts.clone();
    for order in orders.values() {
        accounts.extend(Account::wallet_buckets(order.customer_id));
    }
    for top_up in top_ups.values() {
        accounts.extend(Account::wallet_buckets(top_up.customer_id));
    }
    // Every needed account is in the map, at zero when it has no row yet: the engine treats
    // an account missing from the map as a bug, never as an empty account.
    let mut balances: HashMap<Account, Amount> =
        accounts.iter().map(|account| (*account, Amount::ZERO)).collect();
    let account_keys: Vec<String> = accounts.iter().map(ToString::to_string).collect();
    for chunk in account_keys.chunks(ROWS_PER_STATEMENT) {
        // One row for the whole chunk: sqlx hands rows over from its SQLite thread one at a
        // time, and a batch loads hundreds of balances.
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT group_concat(key || ' ' || balance, char(10)) FROM accounts WHERE key IN (",
        );
        push_list(&mut query, chunk);
        let packed: Option<String> = query.build_query_scalar().fetch_one(&mut *connection).await?;
        for line in packed.as_deref().unwrap_or("").lines() {
            let (key, balance) = line.split_once(' ').ok_or_else(|| corrupt("packed balance"))?;
            balances.insert(parse(key)?, amount(parse(balance)?)?);
        }
    }

    let keys: Vec<String> = needs.idempotency_keys.iter().cloned().collect();
    let mut idempotency = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT key, fingerprint, outcome FROM idempotency_records WHERE key IN (",
        );
        push_list(&mut query, chunk);
        for row in query.build().fetch_all(&mut *connection).await? {
            let outcome: Outcome =
                serde_json::from_str(row.try_get::<&str, _>("outcome")?).map_err(corrupt)?;
            idempotency.insert(
                row.try_get::<String, _>("key")?,
                StoredOutcome { fingerprint: hash(row.try_get("fingerprint")?)?, outcome },
            );
        }
    }

    let mut unsettled = HashMap::new();
    for (merchant_id, day, day_end_ms) in &needs.closes {
        let day_state = unsettled_day(connection, *merchant_id, day, *day_end_ms).await?;
        unsettled.insert((*merchant_id, day.clone()), day_state);
    }

    let (rule_sets, current_rule_set) =
        load_rule_sets(connection, &needs.rule_set_versions).await?;

    let head = sqlx::query(
        "SELECT sequence, hash, applied_at_ms FROM journal_entries ORDER BY sequence DESC LIMIT 1",
    )
    .fetch_optional(&mut *connection)
    .await?;
    let (head_sequence, head_hash, head_applied_at_ms) = match head {
        Some(row) => {
            (row.try_get("sequence")?, hash(row.try_get("hash")?)?, row.try_get("applied_at_ms")?)
        }
        None => (0, crate::ledger::entry::GENESIS_HASH, 0),
    };

    Ok(BatchState {
        top_ups,
        unsettled,
        balances,
        existing_customers,
        bindings,
        orders,
        idempotency,
        rule_sets,
        current_rule_set,
        head_sequence,
        head_hash,
        applied_at_ms: now_ms.max(head_applied_at_ms),
    })
}

/// Applied top-ups by their outbox entry, with what reversals have taken back so far.
async fn load_top_ups(
    connection: &mut SqliteConnection,
    wanted: &BTreeSet<TopUpKey>,
) -> Result<HashMap<TopUpKey, AppliedTopUp>, StoreError> {
    let ids: Vec<String> = wanted.iter().map(|(_, entry_id)| entry_id.to_string()).collect();
    let mut top_ups: HashMap<TopUpKey, AppliedTopUp> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT e.outbox_entry_id, e.terminal_id, e.merchant_id, e.customer_id, e.code, \
             t.code AS transfer_code, \
             t.amount FROM journal_entries e JOIN transfers t ON t.entry_sequence = e.sequence \
             WHERE e.code IN ('top_up', 'top_up_reversal') AND e.outbox_entry_id IN (",
        );
        push_list(&mut query, chunk);
        for row in query.build().fetch_all(&mut *connection).await? {
            let outbox_entry_id: OutboxEntryId = parse(row.try_get::<&str, _>("outbox_entry_id")?)?;
            let terminal_id: TerminalId = parse(row.try_get::<&str, _>("terminal_id")?)?;
            let key = (terminal_id, outbox_entry_id);
            // Entry ids are per counter: another counter's entry of the same id is not it.
            if !wanted.contains(&key) {
                continue;
            }
            let entry = match top_ups.get_mut(&key) {
                Some(entry) => entry,
                None => top_ups.entry(key).or_insert(AppliedTopUp {
                    outbox_entry_id,
                    terminal_id,
                    merchant_id: parse(row.try_get::<&str, _>("merchant_id")?)?,
                    customer_id: parse(row.try_get::<&str, _>("customer_id")?)?,
                    amount: 0,
                    bonus: 0,
                    reversed_amount: 0,
                    reversed_bonus: 0,
                }),
            };
            let amount: i64 = row.try_get("amount")?;
            match (row.try_get::<&str, _>("code")?, row.try_get::<&str, _>("transfer_code")?) {
                ("top_up", "principal") => entry.amount += amount,
                ("top_up", "bonus") => entry.bonus += amount,
                ("top_up_reversal", "principal") => entry.reversed_amount += amount,
                ("top_up_reversal", "bonus") => entry.reversed_bonus += amount,
                _ => {}
            }
        }
    }
    // A reversal without its top-up cannot happen; drop anything that is not a top-up.
    top_ups.retain(|_, top_up| top_up.amount > 0);
    Ok(top_ups)
}

async fn load_rule_sets(
    connection: &mut SqliteConnection,
    versions: &BTreeSet<u32>,
) -> Result<(HashMap<u32, RuleSetRecord>, BonusRuleSet), StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT version, rules, published_at_ms, superseded_at_ms FROM bonus_rule_sets \
         WHERE version = (SELECT max(version) FROM bonus_rule_sets)",
    );
    // A counter names at most a few versions per batch; the list is short.
    for version in versions.iter().take(ROWS_PER_STATEMENT) {
        query.push(" OR version = ").push_bind(i64::from(*version));
    }
    let mut records = HashMap::new();
    let mut current: Option<(u32, BonusRuleSet)> = None;
    for row in query.build().fetch_all(&mut *connection).await? {
        let version = u32::try_from(row.try_get::<i64, _>("version")?).map_err(corrupt)?;
        let rules = serde_json::from_str(row.try_get::<&str, _>("rules")?).map_err(corrupt)?;
        let rule_set = BonusRuleSet::new(version, rules).map_err(corrupt)?;
        if current.as_ref().is_none_or(|(current_version, _)| version > *current_version) {
            current = Some((version, rule_set.clone()));
        }
        records.insert(
            version,
            RuleSetRecord {
                rule_set,
                published_at_ms: row.try_get("published_at_ms")?,
                superseded_at_ms: row.try_get("superseded_at_ms")?,
            },
        );
    }
    let current = current.map_or_else(BonusRuleSet::empty, |(_, rule_set)| rule_set);
    Ok((records, current))
}

fn push_list(query: &mut QueryBuilder<'_, Sqlite>, values: &[String]) {
    let mut separated = query.separated(", ");
    for value in values {
        separated.push_bind(value.clone());
    }
    separated.push_unseparated(")");
}

async fn write_batch(
    connection: &mut SqliteConnection,
    writes: &BatchWrites,
    now: i64,
) -> Result<(), StoreError> {
    for chunk in writes.entries.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO journal_entries (sequence, applied_at_ms, code, recorded_at_ms, merchant_id, terminal_id, \
             order_id, outbox_entry_id, customer_id, business_day, previous_hash, hash) ",
        );
        query.push_values(chunk, |mut row, journal_entry| {
            let entry = &journal_entry.entry;
            let references = &entry.references;
            row.push_bind(journal_entry.sequence)
                .push_bind(journal_entry.applied_at_ms)
                .push_bind(entry.code.as_str())
                .push_bind(entry.recorded_at_ms)
                .push_bind(references.merchant_id.map(|id| id.to_string()))
                .push_bind(references.terminal_id.map(|id| id.to_string()))
                .push_bind(references.order_id.map(|id| id.to_string()))
                .push_bind(references.outbox_entry_id.map(|id| id.to_string()))
                .push_bind(references.customer_id.map(|id| id.to_string()))
                .push_bind(references.business_day.clone())
                .push_bind(journal_entry.previous_hash.to_vec())
                .push_bind(journal_entry.hash.to_vec());
        });
        query.build().execute(&mut *connection).await?;
    }

    let transfers: Vec<(i64, usize, &Transfer)> = writes
        .entries
        .iter()
        .flat_map(|journal_entry| {
            journal_entry
                .entry
                .transfers
                .iter()
                .enumerate()
                .map(|(position, transfer)| (journal_entry.sequence, position, transfer))
        })
        .collect();
    for chunk in transfers.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO transfers (entry_sequence, position, from_account, to_account, amount, code) ",
        );
        query.push_values(chunk, |mut row, (sequence, position, transfer)| {
            row.push_bind(*sequence)
                .push_bind(i64::try_from(*position).unwrap_or(i64::MAX))
                .push_bind(transfer.from.to_string())
                .push_bind(transfer.to.to_string())
                .push_bind(transfer.amount.amount().minor_units())
                .push_bind(transfer.code.as_str());
        });
        query.build().execute(&mut *connection).await?;
    }

    for chunk in writes.balances.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new("INSERT INTO accounts (key, balance) ");
        query.push_values(chunk, |mut row, (account, balance)| {
            row.push_bind(account.to_string()).push_bind(balance.minor_units());
        });
        query.push(
            " ON CONFLICT (key) DO UPDATE SET balance = excluded.balance, version = accounts.version + 1",
        );
        query.build().execute(&mut *connection).await?;
    }

    for chunk in writes.new_orders.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO paid_orders (order_id, merchant_id, terminal_id, customer_id, amount, \
             paid_principal, paid_bonus, paid_yield, refunded_principal, refunded_bonus, \
             refunded_yield, payment_entry, paid_at_ms) ",
        );
        query.push_values(chunk, |mut row, order| {
            row.push_bind(order.order_id.to_string())
                .push_bind(order.merchant_id.to_string())
                .push_bind(order.terminal_id.to_string())
                .push_bind(order.customer_id.to_string())
                .push_bind(order.amount.amount().minor_units())
                .push_bind(order.paid_split[0])
                .push_bind(order.paid_split[1])
                .push_bind(order.paid_split[2])
                .push_bind(order.refunded_split[0])
                .push_bind(order.refunded_split[1])
                .push_bind(order.refunded_split[2])
                .push_bind(order.payment_entry)
                .push_bind(order.paid_at_ms);
        });
        query.build().execute(&mut *connection).await?;
    }

    for ((terminal_id, order_id), refunded_split) in &writes.refunded_orders {
        sqlx::query(
            "UPDATE paid_orders SET refunded_principal = ?, refunded_bonus = ?, refunded_yield = ? \
             WHERE terminal_id = ? AND order_id = ?",
        )
        .bind(refunded_split[0])
        .bind(refunded_split[1])
        .bind(refunded_split[2])
        .bind(terminal_id.to_string())
        .bind(order_id.to_string())
        .execute(&mut *connection)
        .await?;
    }

    let outcomes: Vec<(String, Vec<u8>, String)> = writes
        .outcomes
        .iter()
        .map(|(key, outcome)| {
            serde_json::to_string(outcome)
                .map(|json| (key.key.clone(), key.fingerprint.to_vec(), json))
                .map_err(corrupt)
        })
        .collect::<Result<_, _>>()?;
    for chunk in outcomes.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO idempotency_records (key, fingerprint, outcome, created_at_ms) ",
        );
        query.push_values(chunk, |mut row, (key, fingerprint, outcome)| {
            row.push_bind(key.clone())
                .push_bind(fingerprint.clone())
                .push_bind(outcome.clone())
                .push_bind(now);
        });
        query.build().execute(&mut *connection).await?;
    }

    for closed in &writes.settlements {
        let figures = &closed.figures;
        sqlx::query(
            "INSERT INTO settlements (merchant_id, day, entry_sequence, top_up_count, cash, bonus, \
             payment_count, payments, refund_count, refunds, reversal_count, reversed_cash, \
             reversed_bonus, closed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(closed.merchant_id.to_string())
        .bind(&closed.day)
        .bind(closed.entry_sequence)
        .bind(figures.top_up_count)
        .bind(figures.cash)
        .bind(figures.bonus)
        .bind(figures.payment_count)
        .bind(figures.payments)
        .bind(figures.refund_count)
        .bind(figures.refunds)
        .bind(figures.reversal_count)
        .bind(figures.reversed_cash)
        .bind(figures.reversed_bonus)
        .bind(now)
        .execute(&mut *connection)
        .await?;
        for (terminal_id, terminal_figures) in &closed.by_terminal {
            sqlx::query(&format!(
                "INSERT INTO settlement_terminals (merchant_id, day, terminal_id, {FIGURE_COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))
            .bind(closed.merchant_id.to_string())
            .bind(&closed.day)
            .bind(terminal_id.to_string())
            .bind(terminal_figures.top_up_count)
            .bind(terminal_figures.cash)
            .bind(terminal_figures.bonus)
            .bind(terminal_figures.payment_count)
            .bind(terminal_figures.payments)
            .bind(terminal_figures.refund_count)
            .bind(terminal_figures.refunds)
            .bind(terminal_figures.reversal_count)
            .bind(terminal_figures.reversed_cash)
            .bind(terminal_figures.reversed_bonus)
            .execute(&mut *connection)
            .await?;
        }
        for chunk in closed.settled_entries.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO settled_entries (entry_sequence, merchant_id, day) ",
            );
            query.push_values(chunk, |mut row, sequence| {
                row.push_bind(*sequence)
                    .push_bind(closed.merchant_id.to_string())
                    .push_bind(closed.day.clone());
            });
            query.build().execute(&mut *connection).await?;
        }
    }

    match &writes.reserve_alert {
        AlertChange::Unchanged => {}
        AlertChange::Raised(message) => {
            sqlx::query(
                "INSERT INTO ledger_alerts (name, message, raised_at_ms) VALUES ('reserve', ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET message = excluded.message",
            )
            .bind(message)
            .bind(now)
            .execute(&mut *connection)
            .await?;
        }
        AlertChange::Cleared => {
            sqlx::query("DELETE FROM ledger_alerts WHERE name = 'reserve'")
                .execute(&mut *connection)
                .await?;
        }
    }
    Ok(())
}

/// A merchant's entries recorded before `day_end_ms` that no close has settled, with their
/// figures; and whether `day` itself was already closed.
async fn unsettled_day(
    connection: &mut SqliteConnection,
    merchant_id: MerchantId,
    day: &str,
    day_end_ms: i64,
) -> Result<UnsettledDay, StoreError> {
    let already_closed = sqlx::query("SELECT 1 FROM settlements WHERE merchant_id = ? AND day = ?")
        .bind(merchant_id.to_string())
        .bind(day)
        .fetch_optional(&mut *connection)
        .await?
        .is_some();
    let rows = sqlx::query(
        "SELECT e.sequence, e.terminal_id, e.code, t.code AS transfer_code, t.amount \
         FROM journal_entries e JOIN transfers t ON t.entry_sequence = e.sequence \
         WHERE e.merchant_id = ? AND e.recorded_at_ms < ? \
           AND e.code IN ('top_up', 'top_up_reversal', 'payment', 'refund') \
           AND NOT EXISTS (SELECT 1 FROM settled_entries s WHERE s.entry_sequence = e.sequence) \
         ORDER BY e.sequence",
    )
    .bind(merchant_id.to_string())
    .bind(day_end_ms)
    .fetch_all(&mut *connection)
    .await?;
    let mut state = UnsettledDay { already_closed, entries: Vec::new() };
    for row in rows {
        let sequence: i64 = row.try_get("sequence")?;
        let amount: i64 = row.try_get("amount")?;
        let code: &str = row.try_get("code")?;
        let transfer_code: &str = row.try_get("transfer_code")?;
        if state.entries.last().is_none_or(|(_, entry)| entry.sequence() != sequence) {
            let terminal_id = parse_optional(row.try_get("terminal_id")?)?;
            state.entries.push((
                terminal_id,
                match code {
                    "top_up" => UnsettledEntry::TopUp { sequence, cash: 0, bonus: 0 },
                    "top_up_reversal" => UnsettledEntry::Reversal { sequence, cash: 0, bonus: 0 },
                    "payment" => UnsettledEntry::Payment { sequence, amount: 0 },
                    "refund" => UnsettledEntry::Refund { sequence, amount: 0 },
                    other => {
                        return Err(corrupt(format!(
                            "entry {sequence} of code {other} in a settlement"
                        )));
                    }
                },
            ));
        }
        match (state.entries.last_mut().map(|(_, entry)| entry), transfer_code) {
            (Some(UnsettledEntry::TopUp { cash, .. }), "cash") => *cash += amount,
            (Some(UnsettledEntry::TopUp { bonus, .. }), "bonus") => *bonus += amount,
            (Some(UnsettledEntry::Reversal { cash, .. }), "cash") => *cash += amount,
            (Some(UnsettledEntry::Reversal { bonus, .. }), "bonus") => *bonus += amount,
            (Some(UnsettledEntry::Payment { amount: total, .. }), _)
            | (Some(UnsettledEntry::Refund { amount: total, .. }), _) => *total += amount,
            _ => {}
        }
    }
    Ok(state)
}

/// Entries after `after_sequence`, at most `limit`, with their transfers, in order.
async fn read_journal(
    connection: &mut SqliteConnection,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<JournalEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT sequence, applied_at_ms, code, recorded_at_ms, merchant_id, terminal_id, order_id, \
         outbox_entry_id, customer_id, business_day, previous_hash, hash \
         FROM journal_entries WHERE sequence > ? ORDER BY sequence LIMIT ?",
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
         WHERE entry_sequence BETWEEN ? AND ? ORDER BY entry_sequence, position",
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

/// One line of a wallet's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletEntry {
    pub sequence: i64,
    /// The entry's kind: `top_up`, `payment`, `refund`, `yield`, `top_up_reversal`.
    pub code: String,
    pub applied_at_ms: i64,
    pub merchant: Option<String>,
    pub merchant_time_zone: Option<String>,
    /// Minor units in (positive) or out (negative) of the wallet.
    pub change: i64,
}
