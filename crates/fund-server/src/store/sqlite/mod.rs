//! The SQLite implementation of the storage traits, the embedded default: one file, WAL
//! journal, `synchronous = FULL` so that a commit that returned is on disk, and a second
//! file for the counters (request nonces, PIN attempts). `ledger/` holds the ledger's batch
//! writes and the reports' reads; `parties.rs`, `terminals.rs` and `yields.rs` the rest.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tillfund_core::Amount;

use crate::model::Clock;

pub use super::CommitGate;

mod attempts;
mod cash_counts;
mod cashiers;
mod ledger;
mod limits;
mod operators;
mod parties;
mod proposals;
mod redemption_codes;
mod staff;
mod terminal_directory;
mod terminals;
mod yields;

pub use ledger::{SqliteAuditRead, SqliteBatch};

use super::{Storage, StoreError, Stored};

// Reading rows back: a value that does not parse is a corrupt row, never a panic.

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(super) fn parse<T: FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    T::from_str(text).map_err(corrupt)
}

pub(super) fn parse_optional<T: FromStr>(text: Option<String>) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.map(|text| parse(&text)).transpose()
}

pub(super) fn amount(minor_units: i64) -> Result<Amount, StoreError> {
    Amount::from_minor_units(minor_units).map_err(corrupt)
}

/// How many connections the server holds; SQLite serialises writers anyway.
const POOL_CONNECTIONS_MAX: u32 = 8;
/// Page cache per connection, in KiB.
const PAGE_CACHE_KIB: u32 = 64 * 1024;
/// How long a writer waits for another writer's lock before it reports busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The counters database (`<name>.counters.sqlite` beside the ledger's file): request
    /// nonces and PIN attempts. Its own file, so its one-row writes take their own write
    /// lock instead of waiting behind the ledger's group commit; `synchronous = NORMAL`,
    /// so they do not each wait for an fsync either. A crash may forget the last of them
    /// (a nonce accepted again within its 5-minute window, an attempt uncounted); WAL mode
    /// never corrupts the file. Money never goes here.
    counters_pool: SqlitePool,
    clock: Clock,
}

/// Connections of the counters pool; its writes are one short statement each.
const COUNTERS_POOL_CONNECTIONS_MAX: u32 = 4;

/// The database holds terminal keys (sealed), PIN hashes and the journal: only the
/// server's user may read it. A new file is created 0600 before SQLite opens it (SQLite
/// gives its WAL and shared-memory files the database file's mode); an existing one, and
/// its WAL and shared-memory files, are made 0600 if they were readable by others.
fn restrict_database_files(file_path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if file_path.is_empty() || file_path.starts_with(':') || file_path.contains("mode=memory") {
        return Ok(());
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file_path) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{file_path}{suffix}");
        match crate::vault::restrict_to_owner(std::path::Path::new(&path)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// The counters database beside the ledger's file: `fund.sqlite` → `fund.counters.sqlite`.
fn counters_file_path(file_path: &str) -> String {
    match file_path.strip_suffix(".sqlite") {
        Some(stem) => format!("{stem}.counters.sqlite"),
        None => format!("{file_path}.counters"),
    }
}

impl SqliteStore {
    /// The ledger database, for the copy to PostgreSQL.
    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The counters database, for the copy to PostgreSQL.
    pub(super) fn counters_pool(&self) -> &SqlitePool {
        &self.counters_pool
    }

    /// The same store reading time from `clock` (the simulator's, or a test's).
    pub fn with_clock(self, clock: Clock) -> SqliteStore {
        SqliteStore { clock, ..self }
    }

    pub async fn connect(database_url: &str) -> Result<SqliteStore, StoreError> {
        SqliteStore::connect_with(database_url, None).await
    }

    /// As `connect`; `commit_gate` is asked at every commit of the ledger database and
    /// `false` turns that commit into a rollback: the simulator's way to kill the server in
    /// the middle of a batch, as a power cut would.
    pub async fn connect_with(
        database_url: &str,
        commit_gate: Option<CommitGate>,
    ) -> Result<SqliteStore, StoreError> {
        let Some(path) = database_url.strip_prefix("sqlite://") else {
            let shown = super::redacted_url(database_url).chars().take(80).collect();
            return Err(StoreError::UnsupportedUrl(shown));
        };
        let file_path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(file_path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::DataDirectory {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
        let counters_path = counters_file_path(file_path);
        for path in [file_path, counters_path.as_str()] {
            restrict_database_files(path)
                .map_err(|source| StoreError::DataDirectory { path: path.to_owned(), source })?;
        }
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Wallets are touched at random: a page cache that holds the hot part of the
            // accounts and idempotency indexes saves a read per insert.
            .pragma("cache_size", format!("-{PAGE_CACHE_KIB}"))
            // Fewer, larger checkpoints: each one stalls the writer for a moment.
            .pragma("wal_autocheckpoint", "4000");
        let counters_options = options
            .clone()
            .filename(&counters_path)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(false);
        let mut pool_options = SqlitePoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .acquire_timeout(BUSY_TIMEOUT);
        if let Some(gate) = commit_gate {
            pool_options = pool_options.after_connect(move |connection, _| {
                let gate = gate.clone();
                Box::pin(async move {
                    connection.lock_handle().await?.set_commit_hook(move || gate());
                    Ok(())
                })
            });
        }
        let pool = pool_options.connect_with(options).await?;
        let counters_pool = SqlitePoolOptions::new()
            .max_connections(COUNTERS_POOL_CONNECTIONS_MAX)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(counters_options)
            .await?;
        Ok(SqliteStore { pool, counters_pool, clock: Clock::system() })
    }

    /// PIN attempt counts kept in `customers` by an earlier version move to the counters
    /// database: copied (a row already there wins), then cleared, so running this again
    /// changes nothing.
    async fn move_pin_attempts_to_counters(&self) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "SELECT id, failed_pin_attempts, locked_until_ms FROM customers \
             WHERE failed_pin_attempts > 0 OR locked_until_ms IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            sqlx::query(
                "INSERT INTO pin_attempts (customer_id, failed_attempts, locked_until_ms) \
                 VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(row.try_get::<String, _>("id")?)
            .bind(row.try_get::<i64, _>("failed_pin_attempts")?)
            .bind(row.try_get::<Option<i64>, _>("locked_until_ms")?)
            .execute(&self.counters_pool)
            .await?;
        }
        if !rows.is_empty() {
            sqlx::query(
                "UPDATE customers SET failed_pin_attempts = 0, locked_until_ms = NULL \
                 WHERE failed_pin_attempts > 0 OR locked_until_ms IS NOT NULL",
            )
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}

impl Storage for SqliteStore {
    fn clock(&self) -> &Clock {
        &self.clock
    }

    async fn migrate(&self) -> Stored<()> {
        // A binary rolled back to an older version still opens the files a newer one
        // migrated (migrations only add, see docs/OPERATIONS.md).
        let mut ledger = sqlx::migrate!("./migrations/sqlite");
        ledger.set_ignore_missing(true);
        ledger.run(&self.pool).await?;
        let mut counters = sqlx::migrate!("./migrations/sqlite-counters");
        counters.set_ignore_missing(true);
        counters.run(&self.counters_pool).await?;
        self.move_pin_attempts_to_counters().await
    }

    async fn ping(&self) -> Stored<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Moves the write-ahead log into the database file, so the file's size is the data's.
    async fn checkpoint(&self) -> Stored<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.counters_pool.close().await;
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PartyStore;
    use tillfund_core::{CustomerId, MemberCode, PhoneNumber};

    #[tokio::test]
    async fn pin_attempts_counted_by_an_earlier_version_move_to_the_counters_once() {
        let directory = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", directory.path().join("fund.sqlite").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let customer = crate::model::Customer {
            id: CustomerId::generate(),
            phone: PhoneNumber::parse("13900000001").unwrap(),
            display_name: "Locked".into(),
            member_code: MemberCode::from_body(1),
            pin_hash: "hash".into(),
        };
        store
            .register_customer(&customer, &[], || MemberCode::from_body(2), None, 1)
            .await
            .unwrap();
        // What an earlier version left in the ledger's file: four wrong PINs and a lock.
        sqlx::query("UPDATE customers SET failed_pin_attempts = 4, locked_until_ms = 90000")
            .execute(&store.pool)
            .await
            .unwrap();

        store.migrate().await.unwrap();
        let moved: (i64, Option<i64>) = sqlx::query_as(
            "SELECT failed_attempts, locked_until_ms FROM pin_attempts WHERE customer_id = ?",
        )
        .bind(customer.id.to_string())
        .fetch_one(&store.counters_pool)
        .await
        .unwrap();
        assert_eq!(moved, (4, Some(90_000)));
        let left: (i64, Option<i64>) =
            sqlx::query_as("SELECT failed_pin_attempts, locked_until_ms FROM customers")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!(left, (0, None), "cleared where it was");
        // The lock holds: the next attempt is refused until it runs out.
        let attempt = store.take_pin_attempt(customer.id, 5, 1_000, 2_000).await.unwrap();
        assert_eq!(attempt, crate::store::PinAttempt::Locked { until_ms: 90_000 });

        // Running it again changes nothing; a newer count in the counters wins.
        sqlx::query("UPDATE customers SET failed_pin_attempts = 1")
            .execute(&store.pool)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let kept: i64 = sqlx::query_scalar("SELECT failed_attempts FROM pin_attempts")
            .fetch_one(&store.counters_pool)
            .await
            .unwrap();
        assert_eq!(kept, 4);
    }
}
