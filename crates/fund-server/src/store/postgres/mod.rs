//! The PostgreSQL implementation of the storage traits, for an operator who outgrows one
//! machine: several fund-server processes on one database. `ledger/` holds the ledger's
//! batch writes and the reports' reads; `parties.rs`, `terminals.rs` and `yields.rs` the
//! rest. The SQL is the SQLite backend's, in PostgreSQL's dialect.
//!
//! What SQLite serialises with its one write lock, PostgreSQL serialises with transaction-
//! scoped advisory locks, taken by whichever process writes, never by trusting one:
//! `LEDGER_LOCK` around every batch (and bonus rule publishing), so each process group-
//! commits and the batches of all processes apply one after another, their journal entries
//! chained in commit order; `PARTIES_LOCK` around registrations and binding changes, so
//! the change feed's sequence is its commit order and a counter's cursor never skips a
//! change; `YIELD_LOCK` around a day's accrual, so every process may run the scheduler;
//! `OPERATORS_LOCK` around an append to the operators' trail, so its chain has one head.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tillfund_core::Amount;

use super::{Storage, StoreError, Stored};
use crate::model::Clock;

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

pub use ledger::{PgAuditRead, PgBatch};

// Reading rows back: a value that does not parse is a corrupt row, never a panic.

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(super) fn parse<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    T::from_str(text).map_err(corrupt)
}

pub(super) fn parse_optional<T: std::str::FromStr>(
    text: Option<String>,
) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.map(|text| parse(&text)).transpose()
}

pub(super) fn amount(minor_units: i64) -> Result<Amount, StoreError> {
    Amount::from_minor_units(minor_units).map_err(corrupt)
}

/// Advisory lock keys: "tillfund" in ASCII, then the area.
pub(super) const LEDGER_LOCK: i64 = 0x7469_6c6c_6675_0001;
pub(super) const PARTIES_LOCK: i64 = 0x7469_6c6c_6675_0002;
pub(super) const YIELD_LOCK: i64 = 0x7469_6c6c_6675_0003;
pub(super) const OPERATORS_LOCK: i64 = 0x7469_6c6c_6675_0004;

/// Takes an advisory lock for the rest of the transaction on `connection`.
pub(super) async fn lock(connection: &mut sqlx::PgConnection, key: i64) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(key).execute(&mut *connection).await?;
    Ok(())
}

/// A commit gate that `Debug` can name.
#[derive(Clone)]
pub(super) struct GateHandle(pub(super) super::CommitGate);

impl std::fmt::Debug for GateHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("CommitGate(…)")
    }
}

/// Connections per process; every process of a deployment holds this many at most.
const POOL_CONNECTIONS_MAX: u32 = 16;
/// Connections per process for the counters (nonces, rate-limit windows, PIN attempts):
/// single-row statements that each hold a connection for one round trip.
const COUNTERS_CONNECTIONS_MAX: u32 = 8;
/// How long a request waits for a connection before it reports the database busy.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The counters' own connections, whose commits do not wait for the WAL to reach the
    /// disk (`synchronous_commit = off`), as SQLite's counters file does not wait for
    /// fsync. A server crash may forget the last fraction of a second of counts, never
    /// more: WAL is written in order, so a ledger commit that did wait also made durable
    /// every count committed before it (the nonce of the request it applied, the PIN
    /// attempt of the payment it paid). Each count stays one atomic statement.
    counters: PgPool,
    clock: Clock,
    /// The simulator's crash switch on ledger commits; `None` in a server.
    commit_gate: Option<GateHandle>,
}

impl PgStore {
    /// Connects to `postgres://…` (or `postgresql://…`).
    /// The same store reading time from `clock` (the simulator's, or a test's).
    pub fn with_clock(self, clock: Clock) -> PgStore {
        PgStore { clock, ..self }
    }

    pub async fn connect(database_url: &str) -> Result<PgStore, StoreError> {
        let options: PgConnectOptions = database_url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone().application_name("fund-server"))
            .await?;
        let counters = PgPoolOptions::new()
            .max_connections(COUNTERS_CONNECTIONS_MAX)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(
                options
                    .application_name("fund-server-counters")
                    .options([("synchronous_commit", "off")]),
            );
        Ok(PgStore { pool, counters, clock: Clock::system(), commit_gate: None })
    }

    /// As `connect`; `commit_gate` is asked before every ledger batch commits (the
    /// simulator's server crashes). Other writes are not gated.
    pub async fn connect_with(
        database_url: &str,
        commit_gate: Option<super::CommitGate>,
    ) -> Result<PgStore, StoreError> {
        let store = PgStore::connect(database_url).await?;
        Ok(PgStore { commit_gate: commit_gate.map(GateHandle), ..store })
    }

    /// The pool, for the copy from SQLite.
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether `database_url` names a PostgreSQL database.
    pub fn accepts(database_url: &str) -> bool {
        database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
    }
}

impl Storage for PgStore {
    fn clock(&self) -> &Clock {
        &self.clock
    }

    /// sqlx takes an advisory lock while it migrates, so processes starting together
    /// migrate once.
    async fn migrate(&self) -> Stored<()> {
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        // During a rolling upgrade an older process may restart after a newer one has
        // migrated: it runs on the newer schema (migrations only add, see
        // docs/OPERATIONS.md) instead of refusing to start.
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        // Every batch updates the same hot balances: without vacuum their dead versions
        // and the tables' statistics go stale, and throughput falls as the ledger grows.
        let autovacuum: String =
            sqlx::query_scalar("SHOW autovacuum").fetch_one(&self.pool).await?;
        if autovacuum != "on" {
            tracing::warn!(
                "autovacuum is off on this PostgreSQL server: turn it on (the default), or \
                 run VACUUM (ANALYZE) on this database often (docs/OPERATIONS.md)"
            );
        }
        Ok(())
    }

    async fn ping(&self) -> Stored<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// PostgreSQL checkpoints on its own schedule; a commit that returned is durable.
    async fn checkpoint(&self) -> Stored<()> {
        Ok(())
    }

    async fn close(&self) {
        self.counters.close().await;
        self.pool.close().await;
    }
}
