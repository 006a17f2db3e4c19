//! Storage of counters: activation codes, enrolment, sealed keys, request nonces,
//! revocation.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use tillfund_core::{MerchantId, TerminalId};

use super::parties::{merchant_exists, merchant_from_row};
use super::{SqliteStore, StoreError, parse};
use crate::model::{Merchant, Terminal};
use crate::store::{EnrolOutcome, TerminalStore, secret_hash};

pub(super) const TERMINAL_COLUMNS: &str = "id, merchant_id, label, receipt_prefix, secret, server_public_key, enrolled_at_ms, revoked_at_ms, replaces, replaced_by";

pub(super) async fn insert_terminal(
    connection: &mut SqliteConnection,
    terminal: &Terminal,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO terminals (id, merchant_id, label, receipt_prefix, secret, server_public_key, \
         enrolled_at_ms, replaces) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(terminal.id.to_string())
    .bind(terminal.merchant_id.to_string())
    .bind(&terminal.label)
    .bind(&terminal.receipt_prefix)
    .bind(&terminal.secret)
    .bind(&terminal.server_public_key)
    .bind(now_ms)
    .bind(terminal.replaces.map(|replaced| replaced.to_string()))
    .execute(&mut *connection)
    .await?;
    Ok(())
}

pub(super) async fn merchant_in(
    connection: &mut SqliteConnection,
    merchant_id: MerchantId,
) -> Result<Merchant, StoreError> {
    let row =
        sqlx::query("SELECT id, name, time_zone, settlement_account FROM merchants WHERE id = ?")
            .bind(merchant_id.to_string())
            .fetch_one(&mut *connection)
            .await?;
    merchant_from_row(&row)
}

pub(super) fn terminal_from_row(row: &SqliteRow) -> Result<Terminal, StoreError> {
    Ok(Terminal {
        id: parse(row.try_get::<&str, _>("id")?)?,
        merchant_id: parse(row.try_get::<&str, _>("merchant_id")?)?,
        label: row.try_get("label")?,
        receipt_prefix: row.try_get("receipt_prefix")?,
        secret: row.try_get("secret")?,
        server_public_key: row.try_get("server_public_key")?,
        enrolled_at_ms: row.try_get("enrolled_at_ms")?,
        revoked: row.try_get::<Option<i64>, _>("revoked_at_ms")?.is_some(),
        replaces: row.try_get::<Option<&str>, _>("replaces")?.map(parse).transpose()?,
        replaced_by: row.try_get::<Option<&str>, _>("replaced_by")?.map(parse).transpose()?,
    })
}

impl TerminalStore for SqliteStore {
    /// Stores a new activation code (only its hash) for a merchant.
    async fn add_activation_code(
        &self,
        merchant_id: MerchantId,
        code: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<bool, StoreError> {
        // IMMEDIATE: it reads before it writes, and a deferred transaction overtaken by
        // another writer fails at its first write at once, busy timeout or not.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if !merchant_exists(&mut transaction, merchant_id).await? {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO activation_codes (code_hash, merchant_id, created_at_ms, expires_at_ms) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(secret_hash(code))
        .bind(merchant_id.to_string())
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Uses an activation code once: creates `terminal` (key sealed, server public key
    /// set) for the code's merchant and remembers the counter's public key. The same
    /// counter asking again with the same public key while the code is valid (its answer
    /// was lost) gets the terminal it made back, which holds nothing it could not compute
    /// itself; any other request with a used code is refused. With `replaces`, the terminal
    /// the counter was is revoked and marked replaced (first replacement only) in the same
    /// transaction; a retry must name the same one.
    async fn enrol_terminal(
        &self,
        code: &str,
        counter_public_key: &str,
        replaces: Option<TerminalId>,
        new_terminal: impl FnOnce(MerchantId, String) -> Terminal + Send,
        now_ms: i64,
    ) -> Result<EnrolOutcome, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "SELECT merchant_id, expires_at_ms, used_at_ms, terminal_id, enrol_key \
             FROM activation_codes WHERE code_hash = ?",
        )
        .bind(secret_hash(code))
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(row) = row else { return Ok(EnrolOutcome::CodeUnknown) };
        let expired = row.try_get::<i64, _>("expires_at_ms")? <= now_ms;
        if row.try_get::<Option<i64>, _>("used_at_ms")?.is_some() {
            let same_counter = row.try_get::<Option<String>, _>("enrol_key")?.as_deref()
                == Some(counter_public_key);
            let terminal_id: Option<String> = row.try_get("terminal_id")?;
            if let (true, false, Some(terminal_id)) = (same_counter, expired, terminal_id) {
                let terminal_row =
                    sqlx::query(&format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE id = ?"))
                        .bind(&terminal_id)
                        .fetch_one(&mut *transaction)
                        .await?;
                let terminal = terminal_from_row(&terminal_row)?;
                if !terminal.revoked && terminal.replaces == replaces {
                    let merchant = merchant_in(&mut transaction, terminal.merchant_id).await?;
                    return Ok(EnrolOutcome::Enrolled { terminal: Box::new(terminal), merchant });
                }
            }
            return Ok(EnrolOutcome::CodeUsed);
        }
        if expired {
            return Ok(EnrolOutcome::CodeExpired);
        }
        let merchant_id: MerchantId = parse(row.try_get::<&str, _>("merchant_id")?)?;
        let terminal_count: i64 = sqlx::query_scalar("SELECT count(*) FROM terminals")
            .fetch_one(&mut *transaction)
            .await?;
        // Counted under the write lock, so two enrolments never get the same prefix.
        let mut terminal = new_terminal(merchant_id, format!("T{:04}", terminal_count + 1));
        // As stored: enrolled now, whatever the maker said.
        terminal.enrolled_at_ms = now_ms;
        terminal.replaces = replaces;
        assert_eq!(terminal.merchant_id, merchant_id, "a code enrols for its own merchant");
        insert_terminal(&mut transaction, &terminal, now_ms).await?;
        if let Some(replaced) = replaces {
            sqlx::query(
                "UPDATE terminals SET revoked_at_ms = coalesce(revoked_at_ms, ?), \
                 replaced_by = coalesce(replaced_by, ?) WHERE id = ?",
            )
            .bind(now_ms)
            .bind(terminal.id.to_string())
            .bind(replaced.to_string())
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query(
            "UPDATE activation_codes SET used_at_ms = ?, terminal_id = ?, enrol_key = ? \
             WHERE code_hash = ?",
        )
        .bind(now_ms)
        .bind(terminal.id.to_string())
        .bind(counter_public_key)
        .bind(secret_hash(code))
        .execute(&mut *transaction)
        .await?;
        let merchant = merchant_in(&mut transaction, merchant_id).await?;
        transaction.commit().await?;
        Ok(EnrolOutcome::Enrolled { terminal: Box::new(terminal), merchant })
    }

    /// Adds an enrolled terminal directly (the demo seed and benchmarks; counters enrol
    /// with an activation code).
    async fn add_terminal(&self, terminal: &Terminal, now_ms: i64) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        insert_terminal(&mut connection, terminal, now_ms).await
    }

    /// Terminals whose key is stored as `is_sealed` says it is not: rows from before keys
    /// were sealed, to be sealed at start-up.
    async fn terminal_secrets(&self) -> Result<Vec<(TerminalId, String)>, StoreError> {
        let rows = sqlx::query("SELECT id, secret FROM terminals ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((parse(row.try_get::<&str, _>("id")?)?, row.try_get("secret")?)))
            .collect()
    }

    async fn replace_terminal_secret(
        &self,
        terminal_id: TerminalId,
        secret: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE terminals SET secret = ? WHERE id = ?")
            .bind(secret)
            .bind(terminal_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Accepts a signed request's nonce once: false when this terminal used it already.
    /// Expired nonces are purged now and then, by whichever request comes along.
    async fn use_request_nonce(
        &self,
        terminal_id: TerminalId,
        nonce: &str,
        expires_at_ms: i64,
        purge_before_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        if let Some(before) = purge_before_ms {
            sqlx::query("DELETE FROM request_nonces WHERE expires_at_ms < ?")
                .bind(before)
                .execute(&self.counters_pool)
                .await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO request_nonces (terminal_id, nonce, expires_at_ms) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(terminal_id.to_string())
        .bind(nonce)
        .bind(expires_at_ms)
        .execute(&self.counters_pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn terminal(&self, terminal_id: TerminalId) -> Result<Option<Terminal>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE id = ?"))
            .bind(terminal_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(terminal_from_row).transpose()
    }

    /// Returns false when there is no such terminal.
    async fn revoke_terminal(
        &self,
        terminal_id: TerminalId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE terminals SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE id = ?",
        )
        .bind(now_ms)
        .bind(terminal_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
