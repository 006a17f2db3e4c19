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
    Amount, CustomerId, MerchantId, OrderId, OutboxEntryId, PositiveAmount, StaffId, TerminalId,
};

use crate::client::{ClientError, Enrolment, ServerClient, TerminalCredentials};
use crate::staff::Cashier;
use crate::transport::CounterEnv;
use tillfund_core::protocol::BindingChangeBody;

mod earlier_terminals;
mod outbox;
mod refunds;
mod reversals;

pub use earlier_terminals::EarlierTerminal;
pub use outbox::{NeedsAttention, NewTopUp, PendingEntry, TopUpRecord, TopUpStatus};
pub use refunds::{REFUND_RESENDS_PER_ROUND_MAX, RefundAttempt};
pub use reversals::{
    RECENT_TOP_UPS_MAX, REVERSAL_RESENDS_PER_ROUND_MAX, RecentTopUp, ReversalApplied,
    ReversalAttempt,
};

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

#[derive(Debug, Clone)]
pub struct LocalStore {
    pool: SqlitePool,
    /// Announces each order found paid, once its row says so (see `paid_orders`).
    paid: tokio::sync::broadcast::Sender<OrderId>,
    /// The counter's clock, ids and way to the server.
    env: CounterEnv,
}

/// Paid-order announcements a slow listener may fall behind by before it is told it
/// missed some (and should read its open order again).
const PAID_ANNOUNCEMENTS_BUFFERED: usize = 64;

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

/// A row of `customers` (columns customer_id, phone, display_name, member_code, bound).
fn cached_customer_from_row(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<CachedCustomer, LocalStoreError> {
    Ok(CachedCustomer {
        customer_id: CustomerId::from_str(row.try_get::<&str, _>("customer_id")?)
            .map_err(corrupt)?,
        phone: row.try_get("phone")?,
        display_name: row.try_get("display_name")?,
        member_code: row.try_get("member_code")?,
        bound: row.try_get::<i64, _>("bound")? == 1,
    })
}

impl LocalStore {
    /// Opens (creating if needed) the database file, readable by its user only, and
    /// brings its schema up to date.
    pub async fn open(path: &Path) -> Result<LocalStore, LocalStoreError> {
        LocalStore::open_with(path, CounterEnv::system()).await
    }

    /// As `open`, reading time, ids and the server through `env`.
    pub async fn open_with(path: &Path, env: CounterEnv) -> Result<LocalStore, LocalStoreError> {
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
        let mut pool_options = SqlitePoolOptions::new().max_connections(4);
        if let Some(gate) = env.commit_gate.clone() {
            pool_options = pool_options.after_connect(move |connection, _| {
                let gate = gate.clone();
                Box::pin(async move {
                    connection.lock_handle().await?.set_commit_hook(move || gate());
                    Ok(())
                })
            });
        }
        let pool = pool_options.connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        // The write-ahead log holds recent pages (the key among them) until a checkpoint.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            restrict_to_owner(Path::new(&file));
        }
        let (paid, _) = tokio::sync::broadcast::channel(PAID_ANNOUNCEMENTS_BUFFERED);
        Ok(LocalStore { pool, paid, env })
    }

    /// Orders of this counter as they are found paid, by the server's answer or by the
    /// customer's code: what the UI waits on instead of asking again and again. A receiver
    /// that falls behind gets `RecvError::Lagged` and should read its open order again.
    pub fn paid_orders(&self) -> tokio::sync::broadcast::Receiver<OrderId> {
        self.paid.subscribe()
    }

    /// Tells the listeners that an order is paid (nobody listening is fine).
    pub(crate) fn announce_paid(&self, order_id: OrderId) {
        let _ = self.paid.send(order_id);
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Now, by the counter's clock.
    pub fn now_ms(&self) -> i64 {
        self.env.clock.now_ms()
    }

    pub fn env(&self) -> &CounterEnv {
        &self.env
    }

    /// A client for `server_url` over the counter's transport.
    pub fn server_client(&self, server_url: &str) -> Result<ServerClient, ClientError> {
        ServerClient::with_env(server_url, &self.env)
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
        let mut ours = Vec::new();
        for (order_id, paid_at_ms) in paid {
            let updated = sqlx::query(
                "UPDATE orders SET status = 'paid', paid_at_ms = ?, paid_by = 'server' WHERE order_id = ?",
            )
            .bind(paid_at_ms)
            .bind(order_id.to_string())
            .execute(&mut *transaction)
            .await?;
            // Orders of the store's other counters come in the same page; only this
            // counter's have a row here.
            if updated.rows_affected() > 0 {
                ours.push(*order_id);
            }
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('payments_cursor', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(next_after.to_string())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        for order_id in ours {
            self.announce_paid(order_id);
        }
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

    /// Stores what enrolment gave. Enrolling again keeps the terminal it was among the
    /// earlier terminals (`earlier_terminals.rs`), and (for another store, say) clears the
    /// customer cache and rules of the previous one, and on a move to another store the
    /// payments cursor, which counts in the old store's feed. History and staff are kept
    /// (`re_enrolment.rs`; the staff go to the new store with the next sync, `staff_sync`);
    /// nothing waits in the outbox by then.
    pub async fn save_enrolment(
        &self,
        server_url: &str,
        enrolment: &Enrolment,
    ) -> Result<(), LocalStoreError> {
        let mut transaction = self.pool.begin().await?;
        earlier_terminals::remember_current_terminal(
            &mut transaction,
            enrolment.terminal_id,
            self.now_ms(),
        )
        .await?;
        let previous_store: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'merchant_id'")
                .fetch_optional(&mut *transaction)
                .await?;
        if previous_store
            .is_some_and(|previous| previous != enrolment.merchant.merchant_id.to_string())
        {
            crate::staff_sync::restart_for_new_store(&mut transaction).await?;
        }
        sqlx::query(
            "DELETE FROM settings WHERE key = 'payments_cursor' AND \
             (SELECT value FROM settings WHERE key = 'merchant_id') IS NOT ?",
        )
        .bind(enrolment.merchant.merchant_id.to_string())
        .execute(&mut *transaction)
        .await?;
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
        row.as_ref().map(cached_customer_from_row).transpose()
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
        rows.iter().map(cached_customer_from_row).collect()
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

/// The `cashier_id` and `cashier_name` columns of a row, when it has them set.
pub(crate) fn cashier_from_row(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<Option<Cashier>, LocalStoreError> {
    let id: Option<String> = row.try_get("cashier_id")?;
    let name: Option<String> = row.try_get("cashier_name")?;
    match (id, name) {
        (Some(id), Some(name)) => {
            Ok(Some(Cashier { staff_id: StaffId::from_str(&id).map_err(corrupt)?, name }))
        }
        _ => Ok(None),
    }
}
