//! A throwaway PostgreSQL database per run, on the test server `make test` keeps answering.

use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};
use sqlx::Connection;

/// The server the runs use: `TILLFUND_TEST_POSTGRES`, or the local one with trust auth.
pub fn admin_url() -> String {
    std::env::var("TILLFUND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database of its own for this run; its name is never traced (it holds the process id).
pub struct ThrowawayDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl ThrowawayDatabase {
    pub async fn create(seed: u64) -> Result<ThrowawayDatabase> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let admin_url = admin_url();
        let name = format!(
            "tillfund_sim_{}_{seed}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .with_context(|| format!("PostgreSQL at {admin_url} does not answer"))?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
        admin.close().await?;
        let (base, _) = admin_url.rsplit_once('/').context("a database URL ends in /NAME")?;
        Ok(ThrowawayDatabase { url: format!("{base}/{name}"), admin_url, name })
    }

    pub async fn drop_database(&self) -> Result<()> {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(())
    }
}
