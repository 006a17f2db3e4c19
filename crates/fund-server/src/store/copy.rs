//! Moving a ledger from the embedded SQLite files to PostgreSQL, for an operator who
//! outgrows one machine: every row of every table, unchanged (hashes, ids, sequences,
//! sealed terminal keys), into an empty, migrated PostgreSQL database in one transaction.
//!
//! The two schemas hold the same tables with the same column names; the copy reads each
//! source column by the target's column list and binds it as the target's type, so a
//! column added to both schemas is copied without a change here, and a table added to the
//! schemas but missing from the lists below stops the copy before it starts.
//!
//! The proof that the copy is whole is in two parts: here, before the commit, both
//! schemas must hold the same tables with the same columns, and every table's row count
//! (SQLite's `count(*)` under the lock, PostgreSQL's in the transaction) and every
//! account's balance must be equal; the caller then runs the audit on the copy (hash
//! chain, balances against transfers, settlements), which reads PostgreSQL through the
//! storage traits, not through this file, and compares the journal's length.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::{PgStore, SqliteStore, StoreError, Stored};

/// The ledger database's tables, each after the tables it references.
const LEDGER_TABLES: [&str; 32] = [
    "merchants",
    "terminals",
    "customers",
    "bindings",
    "binding_changes",
    "activation_codes",
    "customer_sessions",
    "accounts",
    "journal_entries",
    "transfers",
    "idempotency_records",
    "paid_orders",
    "bonus_rule_sets",
    "ledger_alerts",
    "yield_rates",
    "yield_days",
    "yield_accruals",
    "yield_positions",
    "settlements",
    "settlement_terminals",
    "settled_entries",
    // Copied as they are; the full audit of the copy then moves the checkpoint.
    "audit_checkpoint",
    "audit_balances",
    "operators",
    "operator_sessions",
    "operator_trail",
    "proposals",
    "money_limits",
    "cash_counts",
    "store_staff",
    "cashier_records",
    "redemption_codes",
];

/// The counters database's tables (request nonces, PIN attempts, rate-limit windows): a
/// nonce copied cannot be replayed against the new database within its window, and a
/// locked wallet stays locked.
const COUNTER_TABLES: [&str; 3] = ["request_nonces", "pin_attempts", "attempt_windows"];

/// Rows per INSERT statement: PostgreSQL takes at most 65,535 parameters per statement and
/// the widest table has 16 columns.
const ROWS_PER_INSERT: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Each table with the rows copied, in copy order.
    pub tables: Vec<(&'static str, u64)>,
    /// Accounts whose balance was read back from the copy and found equal.
    pub accounts_compared: usize,
    /// Journal entries in the source while it was locked, all of them copied.
    pub journal_entries: u64,
}

/// One target column: its name, how to bind it, and whether PostgreSQL generates it.
struct Column {
    name: String,
    kind: ColumnKind,
    generated: bool,
}

#[derive(Debug, Clone, Copy)]
enum ColumnKind {
    Integer,
    Text,
    Bytes,
}

enum Value {
    Integer(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

fn refused(message: impl Into<String>) -> StoreError {
    StoreError::CopyRefused(message.into())
}

/// Copies everything in `source` into `target`: a database with no tables, or only this
/// schema's tables, all empty. Migrates `target`, then copies in one PostgreSQL
/// transaction that holds the ledger's, the parties' and the yield's advisory locks (no
/// server on the target can interleave), while SQLite's write lock is held on the source
/// (no server can commit there; stop them first all the same: what they wrote after the
/// copy would be on the old database only). Nothing is committed unless every table holds
/// in PostgreSQL the rows it holds in SQLite and every balance is equal.
pub async fn copy_sqlite_to_postgres(source: &SqliteStore, target: &PgStore) -> Stored<CopyReport> {
    let known: Vec<&str> = LEDGER_TABLES.iter().chain(COUNTER_TABLES.iter()).copied().collect();
    // Before migrating: a database that holds anything else is not the one meant.
    if let Some(foreign) =
        target_tables(target).await?.iter().find(|table| !known.contains(&table.as_str()))
    {
        return Err(refused(format!(
            "the target database holds a table {foreign} that is not Tillfund's: copy into a \
             new database"
        )));
    }
    super::Storage::migrate(target).await?;
    let target_schema = target_tables(target).await?;
    if let Some(missing) = known.iter().find(|table| !target_schema.iter().any(|t| t == *table)) {
        return Err(refused(format!("the migrated target has no table {missing}")));
    }
    if let Some(extra) = target_schema.iter().find(|table| !known.contains(&table.as_str())) {
        return Err(refused(format!(
            "table {extra} of the PostgreSQL schema is not in the copy's lists; refusing to \
             copy part of the data"
        )));
    }

    // The write lock on the ledger's file; one read snapshot of the counters' file. Both
    // roll back when dropped, whatever fails below.
    let mut ledger = source.pool().begin_with("BEGIN IMMEDIATE").await?;
    let mut counters = source.counters_pool().begin().await?;
    check_source_tables(&mut ledger, &LEDGER_TABLES).await?;
    check_source_tables(&mut counters, &COUNTER_TABLES).await?;
    let mut transaction = target.pool().begin().await?;
    for lock in
        [super::postgres::LEDGER_LOCK, super::postgres::PARTIES_LOCK, super::postgres::YIELD_LOCK]
    {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock)
            .execute(&mut *transaction)
            .await?;
    }
    for table in known.iter() {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *transaction)
            .await?;
        if rows > 0 {
            return Err(refused(format!(
                "the target database is not empty ({table} holds {rows} rows): copy into a \
                 new database"
            )));
        }
    }
    let mut report = CopyReport { tables: Vec::new(), accounts_compared: 0, journal_entries: 0 };
    for table in LEDGER_TABLES {
        let rows = copy_table(table, &mut ledger, &mut transaction).await?;
        report.tables.push((table, rows));
    }
    for table in COUNTER_TABLES {
        let rows = copy_table(table, &mut counters, &mut transaction).await?;
        report.tables.push((table, rows));
    }
    report.journal_entries = report
        .tables
        .iter()
        .find(|(table, _)| *table == "journal_entries")
        .map_or(0, |(_, rows)| *rows);
    report.accounts_compared = compare_balances(&mut ledger, &mut transaction).await?;
    transaction.commit().await?;
    ledger.rollback().await?;
    counters.rollback().await?;
    Ok(report)
}

async fn target_tables(target: &PgStore) -> Stored<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
           AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(target.pool())
    .await?)
}

/// Every table of a SQLite file must be one the copy knows, and every one it expects there
/// must exist: a table only SQLite has would otherwise be left behind.
async fn check_source_tables(source: &mut sqlx::SqliteConnection, expected: &[&str]) -> Stored<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
    )
    .fetch_all(&mut *source)
    .await?;
    if let Some(unknown) = tables.iter().find(|table| !expected.contains(&table.as_str())) {
        return Err(refused(format!(
            "the SQLite table {unknown} is not in the copy's lists; refusing to copy part of the data"
        )));
    }
    if let Some(missing) = expected.iter().find(|table| !tables.iter().any(|t| t == *table)) {
        return Err(refused(format!(
            "the SQLite database has no table {missing}: is it migrated?"
        )));
    }
    Ok(())
}

async fn target_columns(table: &str, transaction: &mut sqlx::PgConnection) -> Stored<Vec<Column>> {
    let rows = sqlx::query(
        "SELECT column_name::text AS name, data_type::text AS type, is_identity::text AS identity \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *transaction)
    .await?;
    rows.iter()
        .map(|row: &PgRow| {
            let name: String = row.try_get("name")?;
            let kind = match row.try_get::<String, _>("type")?.as_str() {
                "bigint" | "integer" | "smallint" => ColumnKind::Integer,
                "text" | "character varying" => ColumnKind::Text,
                "bytea" => ColumnKind::Bytes,
                other => {
                    return Err(refused(format!(
                        "column {table}.{name} has type {other}, which the copy does not know"
                    )));
                }
            };
            let generated = row.try_get::<String, _>("identity")? == "YES";
            Ok(Column { name, kind, generated })
        })
        .collect()
}

/// Copies one table in statements of `ROWS_PER_INSERT` rows; returns the rows copied,
/// after checking that the target holds as many as the source.
async fn copy_table(
    table: &'static str,
    source: &mut sqlx::SqliteConnection,
    transaction: &mut sqlx::PgConnection,
) -> Stored<u64> {
    let columns = target_columns(table, transaction).await?;
    if columns.is_empty() {
        return Err(refused(format!("the target database has no table {table}: is it migrated?")));
    }
    let mut source_columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(&mut *source)
            .await?;
    let mut target_names: Vec<String> = columns.iter().map(|column| column.name.clone()).collect();
    source_columns.sort();
    target_names.sort();
    if source_columns != target_names {
        return Err(refused(format!(
            "{table} has the columns {source_columns:?} in SQLite but {target_names:?} in \
             PostgreSQL; refusing to copy part of the data"
        )));
    }
    let source_count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *source)
        .await?;
    let names: Vec<String> = columns.iter().map(|column| format!("\"{}\"", column.name)).collect();
    let select = format!("SELECT {} FROM {table} ORDER BY 1", names.join(", "));
    let unreadable = |error: sqlx::Error| {
        refused(format!("cannot read {table} from SQLite with PostgreSQL's columns: {error}"))
    };
    let mut source_rows = sqlx::query(&select).fetch(&mut *source);
    let mut copied = 0_u64;
    let mut chunk = Vec::with_capacity(ROWS_PER_INSERT);
    loop {
        let row = source_rows.try_next().await.map_err(unreadable)?;
        if let Some(row) = &row {
            chunk.push(read_row(row, &columns)?);
        }
        if chunk.len() == ROWS_PER_INSERT || (row.is_none() && !chunk.is_empty()) {
            copied += chunk.len() as u64;
            insert_rows(table, &columns, &names, std::mem::take(&mut chunk), transaction).await?;
        }
        if row.is_none() {
            break;
        }
    }
    drop(source_rows);
    if let Some(generated) = columns.iter().find(|column| column.generated) {
        // The next generated value continues after the copied ones.
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{name}'), \
             GREATEST((SELECT max(\"{name}\") FROM {table}), 1), \
             (SELECT count(*) > 0 FROM {table}))",
            name = generated.name
        ))
        .execute(&mut *transaction)
        .await?;
    }
    let target_rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *transaction)
        .await?;
    if u64::try_from(target_rows).ok() != Some(copied) || target_rows != source_count {
        return Err(refused(format!(
            "{table}: SQLite holds {source_count} rows, {copied} were read and PostgreSQL holds \
             {target_rows}"
        )));
    }
    Ok(copied)
}

fn read_row(row: &SqliteRow, columns: &[Column]) -> Stored<Vec<Value>> {
    columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            Ok(match column.kind {
                ColumnKind::Integer => Value::Integer(row.try_get(index)?),
                ColumnKind::Text => Value::Text(row.try_get(index)?),
                ColumnKind::Bytes => Value::Bytes(row.try_get(index)?),
            })
        })
        .collect()
}

async fn insert_rows(
    table: &str,
    columns: &[Column],
    names: &[String],
    rows: Vec<Vec<Value>>,
    transaction: &mut sqlx::PgConnection,
) -> Stored<()> {
    let overriding =
        if columns.iter().any(|column| column.generated) { " OVERRIDING SYSTEM VALUE" } else { "" };
    let mut insert = QueryBuilder::<Postgres>::new(format!(
        "INSERT INTO {table} ({}){overriding} ",
        names.join(", ")
    ));
    insert.push_values(rows, |mut builder, row| {
        for value in row {
            match value {
                Value::Integer(value) => builder.push_bind(value),
                Value::Text(value) => builder.push_bind(value),
                Value::Bytes(value) => builder.push_bind(value),
            };
        }
    });
    insert.build().execute(&mut *transaction).await?;
    Ok(())
}

/// Every account's balance, read from both databases, must be equal; returns how many.
async fn compare_balances(
    source: &mut sqlx::SqliteConnection,
    transaction: &mut sqlx::PgConnection,
) -> Stored<usize> {
    const BALANCES: &str = "SELECT key, balance FROM accounts ORDER BY key";
    let source_balances: BTreeMap<String, i64> = sqlx::query(BALANCES)
        .fetch_all(&mut *source)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("key")?, row.try_get("balance")?)))
        .collect::<Stored<_>>()?;
    let target_balances: BTreeMap<String, i64> = sqlx::query(BALANCES)
        .fetch_all(&mut *transaction)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("key")?, row.try_get("balance")?)))
        .collect::<Stored<_>>()?;
    if source_balances != target_balances {
        let differing = source_balances
            .iter()
            .find(|(key, balance)| target_balances.get(*key) != Some(balance))
            .map_or("an account only in PostgreSQL", |(key, _)| key.as_str());
        return Err(refused(format!("the balance of {differing} differs after the copy")));
    }
    Ok(source_balances.len())
}
