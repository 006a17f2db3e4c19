//! A throwaway database on the test PostgreSQL server (`TILLFUND_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, what `make test` makes sure answers), for
//! tests that run several fund-server processes on one database. Dropped with its guard,
//! connections and all.

use sqlx::Connection;

pub struct ThrowawayDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl ThrowawayDatabase {
    pub async fn create() -> anyhow::Result<ThrowawayDatabase> {
        let admin_url = std::env::var("TILLFUND_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut salt = [0_u8; 4];
        tillfund_core::random::fill(&mut salt);
        let name = format!("tillfund_e2e_{}_{:08x}", std::process::id(), u32::from_be_bytes(salt));
        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
        admin.close().await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
        Ok(ThrowawayDatabase { url: format!("{base}/{name}"), admin_url, name })
    }
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}: {dropped:?}", self.name);
        }
    }
}
