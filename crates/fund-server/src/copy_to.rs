//! `fund-server copy-to`: the move of an embedded SQLite ledger into PostgreSQL, proven by
//! the copy's own checks (`fund_server::store::copy_sqlite_to_postgres`) and then by the
//! audit of the copy through the service the servers run.

use anyhow::{Context, bail};
use fund_server::store::{PgStore, ServerStore, redacted_url};

use crate::{Setup, print_audit, start_service, start_service_on};

/// `copy-to`: audits the SQLite ledger, copies it into the empty PostgreSQL database at
/// `target_url` (one transaction, rows and balances compared before the commit), then
/// audits the copy through the same service code the servers run and compares its length
/// with what the source held under its lock.
pub(crate) async fn copy_to(setup: &Setup, target_url: &str) -> anyhow::Result<()> {
    if !PgStore::accepts(target_url) {
        bail!("copy-to copies into PostgreSQL: give a postgres://… URL of an empty database");
    }
    let source = start_service(setup).await?;
    let ServerStore::Sqlite(sqlite) = source.store() else {
        bail!(
            "the source database is PostgreSQL already; copy-to moves an embedded SQLite \
             ledger (between PostgreSQL servers use pg_dump and pg_restore)"
        );
    };
    let source_audit = source.audit().await?;
    if !source_audit.passed() {
        bail!(
            "the SQLite ledger fails its audit ({} problems; run `fund-server audit`): fix it \
             before copying",
            source_audit.problems_found
        );
    }
    let shown_url = redacted_url(target_url);
    let target = PgStore::connect(target_url)
        .await
        .with_context(|| format!("cannot open the database {shown_url}"))?;
    let report = fund_server::store::copy_sqlite_to_postgres(sqlite, &target).await?;
    for (table, rows) in &report.tables {
        println!("copied {rows} rows of {table}");
    }
    println!("balances of all {} accounts are equal in both databases", report.accounts_compared);
    // Committed from here on: a failure below means the copy must not be used.
    let after_commit = |problem: String| {
        anyhow::anyhow!(
            "{problem}. The copy was committed but is not to be used: drop the database \
             {shown_url}, create it again and run copy-to again"
        )
    };
    let copy = start_service_on(setup, ServerStore::Postgres(target))
        .await
        .map_err(|error| after_commit(format!("{error:#}")))?;
    let copy_audit = copy.audit_full().await.map_err(|error| after_commit(error.message))?;
    if copy_audit.entries_checked != report.journal_entries {
        return Err(after_commit(format!(
            "the copy holds {} journal entries, the source held {}",
            copy_audit.entries_checked, report.journal_entries
        )));
    }
    print_audit(&copy_audit).map_err(|error| after_commit(format!("{error:#}")))?;
    println!("the copy is complete: point every server at {shown_url}");
    Ok(())
}
