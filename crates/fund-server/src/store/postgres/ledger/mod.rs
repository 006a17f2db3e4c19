//! The ledger's storage on SQLite: one `BEGIN IMMEDIATE` transaction per batch of commands.
//! `load.rs` reads what a batch needs, `write.rs` writes what it produced, `settlement.rs`
//! reads a store's day, `audit.rs` reads the journal for the audit, `reports.rs` answers
//! the reports; this file runs a batch and answers the ledger's simple reads.
//!
//! `BEGIN IMMEDIATE` takes SQLite's write lock before the batch reads anything, so the
//! balances the engine decides on cannot change under it, even with a second process on
//! the same file. All reads and writes use a handful of multi-row statements per batch,
//! never one query per command: that is what lets one writer keep up with many counters.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::{
    Amount, CustomerId, MerchantId, OrderId, OutboxEntryId, PositiveAmount, TerminalId,
};

use super::{LEDGER_LOCK, PgStore, StoreError, amount, corrupt, lock, parse, parse_optional};
use crate::ledger::audit::SettlementCheck;
use crate::ledger::{
    Account, AlertChange, AppliedTopUp, BatchNeeds, BatchState, BatchWrites, EntryReferences,
    JournalEntry, NewEntry, Outcome, PaidOrder, RuleSetRecord, SettlementFigures, StoredOutcome,
    TerminalEntry, TopUpKey, Transfer, UnsettledDay,
};
use crate::store::{BatchTransaction, LedgerStore, Stored};

mod audit;
mod flows;
mod load;
mod reports;
mod settlement;
mod write;

pub use audit::PgAuditRead;

use load::{load_batch_state, load_rule_sets};
use settlement::{FIGURE_COLUMNS, terminal_window, unsettled_day, unsettled_within};
use write::write_batch;

/// Rows bound in one statement; well under SQLite's limit of 32,766 variables.
const ROWS_PER_STATEMENT: usize = 200;

fn hash(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| corrupt("a hash is not 32 bytes"))
}

const PAID_ORDER_COLUMNS: &str = "order_id, merchant_id, terminal_id, customer_id, amount, \
    paid_principal, paid_bonus, paid_yield, refunded_principal, refunded_bonus, refunded_yield, \
    payment_entry, paid_at_ms";

fn paid_order_from_row(row: &sqlx::postgres::PgRow) -> Result<PaidOrder, StoreError> {
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

fn push_list(query: &mut QueryBuilder<'_, Postgres>, values: &[String]) {
    let mut separated = query.separated(", ");
    for value in values {
        separated.push_bind(value.clone());
    }
    separated.push_unseparated(")");
}

/// One batch's write transaction, holding SQLite's write lock from `begin_batch` to
/// `commit` (`BEGIN IMMEDIATE`), so that what `load` read cannot change before `write`.
/// Dropped without `commit`, it rolls back and nothing of the batch was written. The ledger
/// writer drives it: load → decide (the engine) → write → commit.
pub struct PgBatch {
    transaction: sqlx::Transaction<'static, Postgres>,
    clock: crate::model::Clock,
    commit_gate: Option<super::GateHandle>,
}

impl BatchTransaction for PgBatch {
    /// Everything `needs` names, as it is now (see `BatchState`).
    async fn load(&mut self, needs: &BatchNeeds) -> Result<BatchState, StoreError> {
        load_batch_state(&mut self.transaction, needs, self.clock.now_ms()).await
    }

    async fn write(&mut self, writes: &BatchWrites) -> Result<(), StoreError> {
        write_batch(&mut self.transaction, writes, self.clock.now_ms()).await
    }

    /// The notification leaves with the commit (PostgreSQL delivers it then, or never).
    async fn commit(mut self) -> Result<(), StoreError> {
        if let Some(gate) = &self.commit_gate {
            if !(gate.0)() {
                // Dropped, the transaction rolls back: nothing of the batch is written.
                self.transaction.rollback().await?;
                return Err(StoreError::Database(Box::new(std::io::Error::other(
                    "the commit gate refused the commit (a simulated crash)",
                ))));
            }
        }
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(COMMITS_CHANNEL)
            .execute(&mut *self.transaction)
            .await?;
        self.transaction.commit().await?;
        Ok(())
    }
}

/// The channel every process's batches notify on commit.
const COMMITS_CHANNEL: &str = "tillfund_commits";
/// Pause before listening again after the listening connection failed.
const LISTEN_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

impl LedgerStore for PgStore {
    type Batch = PgBatch;

    /// LISTENs on the commits channel on a connection of its own; a lost connection is
    /// replaced, and the commits are bumped once then, since a notification may have been
    /// missed meanwhile (a spurious bump only makes a long poll read again).
    async fn follow_commits(&self, commits: tokio::sync::watch::Sender<u64>) {
        loop {
            let listened = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
                listener.listen(COMMITS_CHANNEL).await?;
                commits.send_modify(|count| *count += 1);
                loop {
                    listener.recv().await?;
                    commits.send_modify(|count| *count += 1);
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            }
            .await;
            if self.pool.is_closed() {
                return;
            }
            if let Err(error) = listened {
                tracing::warn!(%error, "listening for other processes' commits; retrying");
            }
            tokio::time::sleep(LISTEN_RETRY).await;
        }
    }

    async fn begin_batch(&self) -> Stored<PgBatch> {
        let mut transaction = self.pool.begin().await?;
        lock(&mut transaction, LEDGER_LOCK).await?;
        Ok(PgBatch {
            transaction,
            clock: self.clock.clone(),
            commit_gate: self.commit_gate.clone(),
        })
    }

    /// Who paid a counter's order, if anyone has.
    async fn order_payer(
        &self,
        terminal_id: TerminalId,
        order_id: OrderId,
    ) -> Result<Option<CustomerId>, StoreError> {
        let payer: Option<String> = sqlx::query_scalar(
            "SELECT customer_id FROM paid_orders WHERE terminal_id = $1 AND order_id = $2",
        )
        .bind(terminal_id.to_string())
        .bind(order_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        payer.map(|text| parse(&text)).transpose()
    }

    /// Orders paid at a merchant after journal entry `after_entry`, oldest first: how a
    /// counter learns that its payment codes were paid.
    async fn paid_orders_after(
        &self,
        merchant_id: MerchantId,
        after_entry: i64,
        limit: i64,
    ) -> Result<Vec<PaidOrder>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PAID_ORDER_COLUMNS} FROM paid_orders \
             WHERE merchant_id = $1 AND payment_entry > $2 ORDER BY payment_entry LIMIT $3"
        ))
        .bind(merchant_id.to_string())
        .bind(after_entry)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(paid_order_from_row).collect()
    }

    /// How many journal entries there are of each code.
    async fn entry_counts(&self) -> Result<HashMap<String, i64>, StoreError> {
        let rows =
            sqlx::query("SELECT code, count(*) AS entries FROM journal_entries GROUP BY code")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|row| Ok((row.try_get("code")?, row.try_get("entries")?))).collect()
    }

    /// Every stored balance.
    async fn all_balances(&self) -> Result<Vec<(Account, Amount)>, StoreError> {
        let rows = sqlx::query("SELECT key, balance FROM accounts ORDER BY key")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((parse(row.try_get::<&str, _>("key")?)?, amount(row.try_get("balance")?)?))
            })
            .collect()
    }

    async fn balance(&self, account: Account) -> Result<Amount, StoreError> {
        let balance: Option<i64> =
            sqlx::query_scalar("SELECT balance FROM accounts WHERE key = $1")
                .bind(account.to_string())
                .fetch_optional(&self.pool)
                .await?;
        amount(balance.unwrap_or(0))
    }

    /// The open reserve alert, if any.
    async fn reserve_alert(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT message FROM ledger_alerts WHERE name = 'reserve'")
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The bonus rule set in force (version 0, no rules, before any is published).
    async fn current_bonus_rules(&self) -> Result<BonusRuleSet, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let (_, current) = load_rule_sets(&mut connection, &BTreeSet::new()).await?;
        Ok(current)
    }

    async fn bonus_rule_versions(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::store::RuleSetVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, rules, published_at_ms, superseded_at_ms FROM bonus_rule_sets \
             ORDER BY version DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let rules: Vec<tillfund_core::bonus::BonusRule> =
                    serde_json::from_str(&row.try_get::<String, _>("rules")?).map_err(corrupt)?;
                Ok(crate::store::RuleSetVersion {
                    version: u32::try_from(row.try_get::<i64, _>("version")?).map_err(corrupt)?,
                    published_at_ms: row.try_get("published_at_ms")?,
                    superseded_at_ms: row.try_get("superseded_at_ms")?,
                    rules: rules.len(),
                })
            })
            .collect()
    }

    /// Publishes a new bonus rule set, superseding the current one. Returns its version.
    async fn publish_bonus_rules(
        &self,
        rules: Vec<tillfund_core::bonus::BonusRule>,
    ) -> Result<BonusRuleSet, StoreError> {
        let mut transaction = self.pool.begin().await?;
        lock(&mut transaction, LEDGER_LOCK).await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM bonus_rule_sets")
            .fetch_one(&mut *transaction)
            .await?;
        let version = u32::try_from(current.unwrap_or(0) + 1).map_err(corrupt)?;
        let rule_set = BonusRuleSet::new(version, rules).map_err(StoreError::Invalid)?;
        let now = self.clock.now_ms();
        sqlx::query(
            "UPDATE bonus_rule_sets SET superseded_at_ms = $1 WHERE superseded_at_ms IS NULL",
        )
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let rules_json = serde_json::to_string(rule_set.rules()).map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO bonus_rule_sets (version, rules, published_at_ms) VALUES ($1, $2, $3)",
        )
        .bind(i64::from(version))
        .bind(rules_json)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(rule_set)
    }
}
