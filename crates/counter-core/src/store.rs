//! The counter's local SQLite database: settings and enrolment, the cache of customers
//! bound to this store, bonus rules, top-ups, and the outbox.
//!
//! Every action the server must learn of is written with its outbox entry in one
//! transaction, so a crash or power cut at any moment leaves both or neither.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::protocol::{CounterAction, OutboxEntry};
use tillfund_core::signing::TerminalKey;
use tillfund_core::{
    Amount, CustomerId, MerchantId, OrderId, OutboxEntryId, PositiveAmount, TerminalId,
};

use crate::client::{Enrolment, TerminalCredentials};
use tillfund_core::protocol::BindingChangeBody;

#[derive(Debug, thiserror::Error)]
pub enum LocalStoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDirectory { path: String, source: std::io::Error },
    #[error("local database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("local database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("a stored row is invalid: {0}")]
    Corrupt(String),
}

fn corrupt(what: impl std::fmt::Display) -> LocalStoreError {
    LocalStoreError::Corrupt(what.to_string())
}

/// This counter's identity, as enrolment gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterProfile {
    pub server_url: String,
    pub terminal_id: TerminalId,
    pub terminal_key: String,
    pub receipt_prefix: String,
    pub merchant_id: MerchantId,
    pub merchant_name: String,
    pub time_zone: String,
    pub currency: String,
}

impl CounterProfile {
    pub fn credentials(&self) -> Result<TerminalCredentials, LocalStoreError> {
        Ok(TerminalCredentials {
            terminal_id: self.terminal_id,
            key: TerminalKey::from_hex(&self.terminal_key).map_err(corrupt)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCustomer {
    pub customer_id: CustomerId,
    pub phone: String,
    pub display_name: String,
    pub member_code: String,
    pub bound: bool,
}

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

#[derive(Debug, Clone)]
pub struct LocalStore {
    pool: SqlitePool,
}

const SETTING_KEYS: [&str; 8] = [
    "server_url",
    "terminal_id",
    "terminal_key",
    "receipt_prefix",
    "merchant_id",
    "merchant_name",
    "time_zone",
    "currency",
];

impl LocalStore {
    /// Opens (creating if needed) the database file, readable by its user only, and
    /// brings its schema up to date.
    pub async fn open(path: &Path) -> Result<LocalStore, LocalStoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| LocalStoreError::DataDirectory {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        // The write-ahead log holds recent pages (the key among them) until a checkpoint.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            restrict_to_owner(Path::new(&file));
        }
        Ok(LocalStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn payments_cursor(&self) -> Result<i64, LocalStoreError> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'payments_cursor'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(value.and_then(|value| value.parse().ok()).unwrap_or(0))
    }

    /// Marks orders the server reports paid, and moves the cursor, together. A payment
    /// for an order this counter cancelled still counts: the customer paid it.
    pub async fn apply_paid_orders(
        &self,
        paid: &[(OrderId, i64)],
        next_after: i64,
    ) -> Result<(), LocalStoreError> {
        let mut transaction = self.pool.begin().await?;
        for (order_id, paid_at_ms) in paid {
            sqlx::query("UPDATE orders SET status = 'paid', paid_at_ms = ?, paid_by = 'server' WHERE order_id = ?")
                .bind(paid_at_ms)
                .bind(order_id.to_string())
                .execute(&mut *transaction)
                .await?;
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('payments_cursor', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(next_after.to_string())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, LocalStoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), LocalStoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores what enrolment gave. Enrolling again (for another store, say) clears the
    /// customer cache and rules of the previous one; the outbox is kept: its entries were
    /// signed for the old terminal and are still owed to the server.
    pub async fn save_enrolment(
        &self,
        server_url: &str,
        enrolment: &Enrolment,
    ) -> Result<(), LocalStoreError> {
        let mut transaction = self.pool.begin().await?;
        let values = [
            server_url.to_owned(),
            enrolment.terminal_id.to_string(),
            enrolment.terminal_key.clone(),
            enrolment.receipt_prefix.clone(),
            enrolment.merchant.merchant_id.to_string(),
            enrolment.merchant.name.clone(),
            enrolment.merchant.time_zone.clone(),
            enrolment.currency.clone(),
        ];
        for (key, value) in SETTING_KEYS.iter().zip(values) {
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *transaction)
                .await?;
        }
        sqlx::query("DELETE FROM settings WHERE key = 'bindings_cursor'")
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM customers").execute(&mut *transaction).await?;
        sqlx::query("DELETE FROM bonus_rules").execute(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// This counter's profile, or `None` before enrolment.
    pub async fn profile(&self) -> Result<Option<CounterProfile>, LocalStoreError> {
        let mut values = Vec::with_capacity(SETTING_KEYS.len());
        for key in SETTING_KEYS {
            match self.setting(key).await? {
                Some(value) => values.push(value),
                None => return Ok(None),
            }
        }
        Ok(Some(CounterProfile {
            server_url: values[0].clone(),
            terminal_id: values[1].parse().map_err(corrupt)?,
            terminal_key: values[2].clone(),
            receipt_prefix: values[3].clone(),
            merchant_id: values[4].parse().map_err(corrupt)?,
            merchant_name: values[5].clone(),
            time_zone: values[6].clone(),
            currency: values[7].clone(),
        }))
    }

    pub async fn bindings_cursor(&self) -> Result<i64, LocalStoreError> {
        Ok(self.setting("bindings_cursor").await?.and_then(|value| value.parse().ok()).unwrap_or(0))
    }

    /// Applies a page of binding changes and moves the cursor, together.
    pub async fn apply_binding_changes(
        &self,
        changes: &[BindingChangeBody],
        next_after: i64,
    ) -> Result<(), LocalStoreError> {
        let mut transaction = self.pool.begin().await?;
        for change in changes {
            let customer = &change.customer;
            sqlx::query(
                "INSERT INTO customers (customer_id, phone, display_name, member_code, bound, changed_sequence) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET phone = excluded.phone, \
                 display_name = excluded.display_name, member_code = excluded.member_code, \
                 bound = excluded.bound, changed_sequence = excluded.changed_sequence",
            )
            .bind(customer.customer_id.to_string())
            .bind(&customer.phone)
            .bind(&customer.display_name)
            .bind(&customer.member_code)
            .bind(i64::from(change.bound))
            .bind(change.sequence)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query("INSERT INTO settings (key, value) VALUES ('bindings_cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(next_after.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Finds a cached customer by member code or phone number (already normalised).
    pub async fn find_customer(
        &self,
        member_code_or_phone: &str,
    ) -> Result<Option<CachedCustomer>, LocalStoreError> {
        let row = sqlx::query(
            "SELECT customer_id, phone, display_name, member_code, bound FROM customers \
             WHERE member_code = ?1 OR phone = ?1 LIMIT 1",
        )
        .bind(member_code_or_phone)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(CachedCustomer {
                customer_id: CustomerId::from_str(row.try_get::<&str, _>("customer_id")?)
                    .map_err(corrupt)?,
                phone: row.try_get("phone")?,
                display_name: row.try_get("display_name")?,
                member_code: row.try_get("member_code")?,
                bound: row.try_get::<i64, _>("bound")? == 1,
            })
        })
        .transpose()
    }

    /// Customers in the cache whose name, phone or member code contains `query` (all when
    /// empty): bound ones first, then by name; at most `limit`.
    pub async fn search_customers(
        &self,
        query: &str,
        limit: i64,
    ) -> Result<Vec<CachedCustomer>, LocalStoreError> {
        let escaped: String = query
            .trim()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let rows = sqlx::query(
            "SELECT customer_id, phone, display_name, member_code, bound FROM customers \
             WHERE display_name LIKE ?1 ESCAPE '\\' OR phone LIKE ?1 ESCAPE '\\' \
                OR member_code LIKE ?1 ESCAPE '\\' \
             ORDER BY bound DESC, display_name COLLATE NOCASE, phone LIMIT ?2",
        )
        .bind(format!("%{escaped}%"))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CachedCustomer {
                    customer_id: CustomerId::from_str(row.try_get::<&str, _>("customer_id")?)
                        .map_err(corrupt)?,
                    phone: row.try_get("phone")?,
                    display_name: row.try_get("display_name")?,
                    member_code: row.try_get("member_code")?,
                    bound: row.try_get::<i64, _>("bound")? == 1,
                })
            })
            .collect()
    }

    pub async fn save_bonus_rules(
        &self,
        rule_set: &BonusRuleSet,
        now_ms: i64,
    ) -> Result<(), LocalStoreError> {
        let json = serde_json::to_string(rule_set).map_err(corrupt)?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM bonus_rules").execute(&mut *transaction).await?;
        sqlx::query("INSERT INTO bonus_rules (version, rule_set, fetched_at_ms) VALUES (?, ?, ?)")
            .bind(i64::from(rule_set.version()))
            .bind(json)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The cached rule set; the empty set (no bonus) before the first pull.
    pub async fn bonus_rules(&self) -> Result<BonusRuleSet, LocalStoreError> {
        let json: Option<String> = sqlx::query_scalar("SELECT rule_set FROM bonus_rules LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        match json {
            Some(json) => serde_json::from_str(&json).map_err(corrupt),
            None => Ok(BonusRuleSet::empty()),
        }
    }

    /// Records a cash top-up and its outbox entry in one transaction. The receipt number
    /// is the terminal's prefix and the outbox sequence, so no two counters share one.
    pub async fn record_top_up(
        &self,
        receipt_prefix: &str,
        customer_id: CustomerId,
        amount: PositiveAmount,
        bonus_shown: Amount,
        rule_version: Option<u32>,
        recorded_at_ms: i64,
    ) -> Result<TopUpRecord, LocalStoreError> {
        // IMMEDIATE: the next sequence is read and taken under the write lock.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT max(sequence) FROM outbox")
            .fetch_one(&mut *transaction)
            .await?;
        let sequence = last.unwrap_or(0) + 1;
        let entry_id = OutboxEntryId::generate();
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
        };
        let payload = serde_json::to_string(&entry).map_err(corrupt)?;
        let receipt_number = format!("{receipt_prefix}-{sequence:08}");
        sqlx::query(
            "INSERT INTO top_ups (entry_id, receipt_number, customer_id, amount, bonus_shown, rule_version, \
             recorded_at_ms, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
        )
        .bind(entry_id.to_string())
        .bind(&receipt_number)
        .bind(customer_id.to_string())
        .bind(amount.amount().minor_units())
        .bind(bonus_shown.minor_units())
        .bind(rule_version.map(i64::from))
        .bind(recorded_at_ms)
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
             status, status_code, status_message FROM top_ups WHERE entry_id = ?",
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
                status,
                status_code: row.try_get("status_code")?,
                status_message: row.try_get("status_message")?,
            })
        })
        .transpose()
    }
}

/// Makes the database file readable and writable by its owner only: it holds the
/// terminal's signing key.
fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(error) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(%error, path = %path.display(), "cannot restrict the local database to its owner");
        }
    }
}
