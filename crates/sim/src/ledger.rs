//! A plain read of the server's database for the invariants, on either backend: the same
//! SQL (sums cast to BIGINT, `?` placeholders numbered for PostgreSQL), decoded alike.

use anyhow::{Context, Result};
use sqlx::{PgPool, SqlitePool};

#[derive(Debug, Clone)]
pub enum LedgerReader {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// `?` placeholders as PostgreSQL numbers them.
fn numbered(sql: &str) -> String {
    let mut numbered = String::with_capacity(sql.len() + 8);
    let mut next = 0;
    for character in sql.chars() {
        if character == '?' {
            next += 1;
            numbered.push_str(&format!("${next}"));
        } else {
            numbered.push(character);
        }
    }
    numbered
}

impl LedgerReader {
    pub async fn open_sqlite(path: &str) -> Result<LedgerReader> {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .context("opening the ledger to read")?;
        Ok(LedgerReader::Sqlite(pool))
    }

    pub async fn open_postgres(url: &str) -> Result<LedgerReader> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .context("opening the ledger to read")?;
        Ok(LedgerReader::Postgres(pool))
    }

    /// One BIGINT (a count, or a sum cast to BIGINT) from `sql` with its text binds.
    pub async fn number(&self, sql: &str, binds: &[&str]) -> Result<i64> {
        Ok(match self {
            LedgerReader::Sqlite(pool) => {
                let mut query = sqlx::query_scalar::<_, i64>(sql);
                for bind in binds {
                    query = query.bind(*bind);
                }
                query.fetch_one(pool).await?
            }
            LedgerReader::Postgres(pool) => {
                let sql = numbered(sql);
                let mut query = sqlx::query_scalar::<_, i64>(&sql);
                for bind in binds {
                    query = query.bind(*bind);
                }
                query.fetch_one(pool).await?
            }
        })
    }

    /// A column of text from `sql` with its text binds.
    pub async fn texts(&self, sql: &str, binds: &[&str]) -> Result<Vec<String>> {
        Ok(match self {
            LedgerReader::Sqlite(pool) => {
                let mut query = sqlx::query_scalar::<_, String>(sql);
                for bind in binds {
                    query = query.bind(*bind);
                }
                query.fetch_all(pool).await?
            }
            LedgerReader::Postgres(pool) => {
                let sql = numbered(sql);
                let mut query = sqlx::query_scalar::<_, String>(&sql);
                for bind in binds {
                    query = query.bind(*bind);
                }
                query.fetch_all(pool).await?
            }
        })
    }

    /// The journal's last entry: its sequence and hash.
    pub async fn head(&self) -> Result<(i64, Vec<u8>)> {
        const HEAD: &str =
            "SELECT sequence, hash FROM journal_entries ORDER BY sequence DESC LIMIT 1";
        Ok(match self {
            LedgerReader::Sqlite(pool) => sqlx::query_as(HEAD).fetch_one(pool).await?,
            LedgerReader::Postgres(pool) => sqlx::query_as(HEAD).fetch_one(pool).await?,
        })
    }

    pub async fn close(&self) {
        match self {
            LedgerReader::Sqlite(pool) => pool.close().await,
            LedgerReader::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_for_postgresql() {
        assert_eq!(super::numbered("a = ? AND b = ?"), "a = $1 AND b = $2");
    }
}
