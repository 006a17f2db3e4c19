//! The databases tests run on: a SQLite file in a directory of its own, or a throwaway
//! database on the test PostgreSQL server, and a way beneath the store into either.
//! `TILLFUND_TEST_DATABASE=postgres` runs the API and ledger tests on PostgreSQL (`make
//! test` runs them on both); the storage conformance suite always runs on both.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fund_server::store::Backend;
use fund_server::store::prelude::*;

/// A database of its own on the test PostgreSQL server, dropped (connections and all) when
/// this guard is, so no check sees another's rows and nothing is left behind.
pub struct ThrowawayDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

/// The server the PostgreSQL checks use; `make test` makes sure it answers.
pub fn postgres_admin_url() -> String {
    std::env::var("TILLFUND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl ThrowawayDatabase {
    pub async fn create() -> ThrowawayDatabase {
        use sqlx::Connection;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let admin_url = postgres_admin_url();
        let name = format!(
            "tillfund_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            {
                let mut salt = [0_u8; 4];
                tillfund_core::random::fill(&mut salt);
                u32::from_be_bytes(salt)
            }
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
            panic!("PostgreSQL at {admin_url} does not answer ({error}); `make test` starts it, or set TILLFUND_TEST_POSTGRES")
        });
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        let (base, _) = admin_url.rsplit_once('/').expect("a database URL ends in /NAME");
        ThrowawayDatabase { url: format!("{base}/{name}"), admin_url, name }
    }
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop cannot await; a thread with its own runtime does the dropping.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut admin =
                    sqlx::PgConnection::connect(&admin_url).await.map_err(std::io::Error::other)?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<(), std::io::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}: {dropped:?}", self.name);
        }
    }
}

/// Where a check can reach the database beneath a store, as an intruder with the file or
/// the credentials would.
pub trait RawDatabase {
    fn url(&self) -> String;
}

/// A SQLite store's file, in a directory removed with this guard.
pub struct SqliteFile {
    pub url: String,
    pub _directory: tempfile::TempDir,
}

impl SqliteFile {
    pub fn create() -> SqliteFile {
        let directory = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", directory.path().join("fund.sqlite").display());
        SqliteFile { url, _directory: directory }
    }
}

impl RawDatabase for SqliteFile {
    fn url(&self) -> String {
        self.url.clone()
    }
}

impl RawDatabase for ThrowawayDatabase {
    fn url(&self) -> String {
        self.url.clone()
    }
}

/// Runs one statement on the database at `url`, beneath any store.
pub async fn execute_raw(url: &str, statement: &str) -> Result<u64, String> {
    use sqlx::Connection;
    if url.starts_with("sqlite://") {
        let mut connection =
            sqlx::SqliteConnection::connect(url).await.map_err(|e| e.to_string())?;
        let done = sqlx::query(statement).execute(&mut connection).await.map_err(|e| e.to_string());
        connection.close().await.map_err(|e| e.to_string())?;
        done.map(|done| done.rows_affected())
    } else {
        let mut connection = sqlx::PgConnection::connect(url).await.map_err(|e| e.to_string())?;
        let done = sqlx::query(statement).execute(&mut connection).await.map_err(|e| e.to_string());
        connection.close().await.map_err(|e| e.to_string())?;
        done.map(|done| done.rows_affected())
    }
}

/// The database of one test, on the backend `TILLFUND_TEST_DATABASE` names.
pub enum TestDatabase {
    Sqlite(SqliteFile),
    Postgres(ThrowawayDatabase),
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        match std::env::var("TILLFUND_TEST_DATABASE").as_deref() {
            Ok("postgres") => TestDatabase::Postgres(ThrowawayDatabase::create().await),
            Ok("sqlite") | Err(_) => TestDatabase::Sqlite(SqliteFile::create()),
            Ok(other) => panic!("TILLFUND_TEST_DATABASE is sqlite or postgres, not {other}"),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres(_))
    }

    /// A fresh, migrated store on this database.
    pub async fn store(&self) -> Backend {
        let store = Backend::connect(&self.url()).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// What the database holds on disk, in bytes (for the benchmarks' bytes per op).
    pub async fn bytes(&self) -> u64 {
        use sqlx::Connection;
        match self {
            TestDatabase::Sqlite(file) => {
                let path = file.url.trim_start_matches("sqlite://").to_owned();
                [path.clone(), format!("{path}-wal")]
                    .iter()
                    .filter_map(|name| std::fs::metadata(name).ok())
                    .map(|metadata| metadata.len())
                    .sum()
            }
            TestDatabase::Postgres(database) => {
                let mut connection = sqlx::PgConnection::connect(&database.url).await.unwrap();
                let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(&mut connection)
                    .await
                    .unwrap();
                u64::try_from(bytes).unwrap_or(0)
            }
        }
    }

    /// Runs one statement beneath the store.
    pub async fn execute_raw(&self, statement: &str) -> Result<u64, String> {
        execute_raw(&self.url(), statement).await
    }
}

impl RawDatabase for TestDatabase {
    fn url(&self) -> String {
        match self {
            TestDatabase::Sqlite(file) => file.url(),
            TestDatabase::Postgres(database) => database.url(),
        }
    }
}
