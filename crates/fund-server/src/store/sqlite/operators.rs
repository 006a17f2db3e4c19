//! Operator accounts, sessions and the trail on SQLite, in the ledger's file (these are
//! records to keep, not counters to lose on a crash).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tillfund_core::OperatorId;

use super::{SqliteStore, parse, parse_optional};
use crate::operators::{Actor, NewTrailRecord, TRAIL_GENESIS_HASH, TrailRecord};
use crate::store::operator_store::{OperatorRecord, OperatorStore, SessionLimits, TrailQuery};
use crate::store::{PinAttempt, StoreError, secret_hash};

const OPERATOR_COLUMNS: &str = "id, name, role, password_hash, totp_secret_sealed, \
    totp_last_step, disabled, locked_until_ms, created_at_ms";

const TRAIL_COLUMNS: &str = "sequence, at_ms, operator_id, operator_name, source, action, \
    subject, detail, outcome, previous_hash, hash";

/// A session is marked seen at most this often: a page of requests writes once.
const SEEN_RESOLUTION_MS: i64 = 60_000;

fn operator_row(row: &SqliteRow) -> Result<OperatorRecord, StoreError> {
    Ok(OperatorRecord {
        id: parse(&row.try_get::<String, _>("id")?)?,
        name: row.try_get("name")?,
        role: parse(&row.try_get::<String, _>("role")?)?,
        password_hash: row.try_get("password_hash")?,
        totp_secret_sealed: row.try_get("totp_secret_sealed")?,
        totp_last_step: row.try_get("totp_last_step")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        locked_until_ms: row.try_get("locked_until_ms")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

fn hash_column(row: &SqliteRow, column: &str) -> Result<[u8; 32], StoreError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    bytes.try_into().map_err(|_| super::corrupt(format!("{column} is not 32 bytes")))
}

fn trail_row(row: &SqliteRow) -> Result<TrailRecord, StoreError> {
    Ok(TrailRecord {
        sequence: row.try_get("sequence")?,
        record: NewTrailRecord {
            at_ms: row.try_get("at_ms")?,
            actor: Actor {
                operator_id: parse_optional(row.try_get("operator_id")?)?,
                name: row.try_get("operator_name")?,
            },
            source: row.try_get("source")?,
            action: parse(&row.try_get::<String, _>("action")?)?,
            subject: row.try_get("subject")?,
            detail: row.try_get("detail")?,
            outcome: row.try_get("outcome")?,
        },
        previous_hash: hash_column(row, "previous_hash")?,
        hash: hash_column(row, "hash")?,
    })
}

impl OperatorStore for SqliteStore {
    async fn add_operator(&self, operator: &OperatorRecord) -> Result<bool, StoreError> {
        let added = sqlx::query(
            "INSERT INTO operators (id, name, role, password_hash, totp_secret_sealed, \
               totp_last_step, disabled, locked_until_ms, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(operator.id.to_string())
        .bind(&operator.name)
        .bind(operator.role.as_str())
        .bind(&operator.password_hash)
        .bind(&operator.totp_secret_sealed)
        .bind(operator.totp_last_step)
        .bind(i64::from(operator.disabled))
        .bind(operator.locked_until_ms)
        .bind(operator.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(added.rows_affected() == 1)
    }

    async fn operator(&self, id: OperatorId) -> Result<Option<OperatorRecord>, StoreError> {
        sqlx::query(&format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(operator_row)
            .transpose()
    }

    async fn operator_by_name(&self, name: &str) -> Result<Option<OperatorRecord>, StoreError> {
        sqlx::query(&format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(operator_row)
            .transpose()
    }

    async fn list_operators(&self, limit: u32) -> Result<Vec<OperatorRecord>, StoreError> {
        sqlx::query(&format!("SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY name LIMIT ?"))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(operator_row)
            .collect()
    }

    async fn take_sign_in_attempt(
        &self,
        id: OperatorId,
        limit: i64,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> Result<PinAttempt, StoreError> {
        assert!(limit > 0, "a sign-in attempt limit is positive");
        // One statement, so parallel attempts count one after another under the write
        // lock; a locked account is left alone (no row comes back). A lock that has run
        // out starts the count again at one.
        let row = sqlx::query(
            "UPDATE operators SET \
               failed_sign_ins = CASE WHEN locked_until_ms IS NOT NULL THEN 1 \
                                      ELSE failed_sign_ins + 1 END, \
               locked_until_ms = CASE WHEN (CASE WHEN locked_until_ms IS NOT NULL THEN 1 \
                                                 ELSE failed_sign_ins + 1 END) >= ?2 \
                                      THEN ?3 ELSE NULL END \
             WHERE id = ?1 AND (locked_until_ms IS NULL OR locked_until_ms <= ?4) \
             RETURNING failed_sign_ins, locked_until_ms",
        )
        .bind(id.to_string())
        .bind(limit)
        .bind(lock_until_ms)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            let attempt: i64 = row.try_get("failed_sign_ins")?;
            let locked: Option<i64> = row.try_get("locked_until_ms")?;
            assert!(attempt >= 1 && attempt <= limit, "attempt {attempt} of {limit}");
            return Ok(PinAttempt::Taken { attempt, locks: locked.is_some() });
        }
        let until_ms: Option<i64> =
            sqlx::query_scalar("SELECT locked_until_ms FROM operators WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
                .flatten();
        Ok(PinAttempt::Locked { until_ms: until_ms.unwrap_or(lock_until_ms) })
    }

    async fn reset_sign_in_failures(&self, id: OperatorId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE operators SET failed_sign_ins = 0, locked_until_ms = NULL WHERE id = ?",
        )
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn use_totp_step(&self, id: OperatorId, step: i64) -> Result<bool, StoreError> {
        let used = sqlx::query(
            "UPDATE operators SET totp_last_step = ?2 \
             WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
        )
        .bind(id.to_string())
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(used.rows_affected() == 1)
    }

    async fn set_operator_disabled(
        &self,
        id: OperatorId,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let changed = sqlx::query(
            "UPDATE operators SET disabled = ?2, failed_sign_ins = 0, locked_until_ms = NULL \
             WHERE id = ?1",
        )
        .bind(id.to_string())
        .bind(i64::from(disabled))
        .execute(&mut *transaction)
        .await?;
        if disabled {
            sqlx::query("DELETE FROM operator_sessions WHERE operator_id = ?")
                .bind(id.to_string())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(changed.rows_affected() == 1)
    }

    async fn set_operator_password(
        &self,
        id: OperatorId,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        self.replace_credential(id, "password_hash", password_hash).await
    }

    async fn set_operator_totp(
        &self,
        id: OperatorId,
        totp_secret_sealed: &str,
    ) -> Result<bool, StoreError> {
        self.replace_credential(id, "totp_secret_sealed", totp_secret_sealed).await
    }

    async fn add_operator_session(
        &self,
        token: &str,
        id: OperatorId,
        now_ms: i64,
        expires_at_ms: i64,
        limits: SessionLimits,
    ) -> Result<(), StoreError> {
        assert!(limits.per_operator_max > 0, "an operator may hold a session");
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The account's dead sessions go, and the least recently seen beyond the limit.
        sqlx::query(
            "DELETE FROM operator_sessions WHERE operator_id = ?1 \
               AND (expires_at_ms <= ?2 OR last_seen_ms <= ?2 - ?3)",
        )
        .bind(id.to_string())
        .bind(now_ms)
        .bind(limits.idle_ms)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "DELETE FROM operator_sessions WHERE token_hash IN ( \
               SELECT token_hash FROM operator_sessions WHERE operator_id = ?1 \
               ORDER BY last_seen_ms DESC LIMIT -1 OFFSET ?2)",
        )
        .bind(id.to_string())
        .bind(limits.per_operator_max - 1)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO operator_sessions \
               (token_hash, operator_id, created_at_ms, last_seen_ms, expires_at_ms) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(secret_hash(token))
        .bind(id.to_string())
        .bind(now_ms)
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn operator_session(
        &self,
        token: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<OperatorId>, StoreError> {
        let hash = secret_hash(token);
        let row = sqlx::query(
            "SELECT operator_sessions.operator_id, operator_sessions.last_seen_ms \
             FROM operator_sessions JOIN operators ON operators.id = operator_sessions.operator_id \
             WHERE token_hash = ?1 AND expires_at_ms > ?2 AND last_seen_ms > ?2 - ?3 \
               AND operators.disabled = 0",
        )
        .bind(&hash)
        .bind(now_ms)
        .bind(idle_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last_seen_ms: i64 = row.try_get("last_seen_ms")?;
        if last_seen_ms < now_ms - SEEN_RESOLUTION_MS {
            sqlx::query("UPDATE operator_sessions SET last_seen_ms = ?2 WHERE token_hash = ?1")
                .bind(&hash)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(parse(&row.try_get::<String, _>("operator_id")?)?))
    }

    async fn end_operator_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM operator_sessions WHERE token_hash = ?")
            .bind(secret_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn end_operator_sessions(&self, id: OperatorId) -> Result<u64, StoreError> {
        let ended = sqlx::query("DELETE FROM operator_sessions WHERE operator_id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(ended.rows_affected())
    }

    async fn append_trail(&self, record: &NewTrailRecord) -> Result<TrailRecord, StoreError> {
        // The write lock first, so that no other append reads the same head.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head =
            sqlx::query("SELECT sequence, hash FROM operator_trail ORDER BY sequence DESC LIMIT 1")
                .fetch_optional(&mut *transaction)
                .await?;
        let (sequence, previous_hash) = match head {
            Some(row) => (row.try_get::<i64, _>("sequence")?, hash_column(&row, "hash")?),
            None => (0, TRAIL_GENESIS_HASH),
        };
        let sealed = TrailRecord::seal(sequence + 1, record.clone(), previous_hash);
        sqlx::query(&format!(
            "INSERT INTO operator_trail ({TRAIL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(sealed.sequence)
        .bind(record.at_ms)
        .bind(record.actor.operator_id.map(|id| id.to_string()))
        .bind(&record.actor.name)
        .bind(&record.source)
        .bind(record.action.as_str())
        .bind(&record.subject)
        .bind(&record.detail)
        .bind(&record.outcome)
        .bind(sealed.previous_hash.as_slice())
        .bind(sealed.hash.as_slice())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(sealed)
    }

    async fn trail(&self, query: &TrailQuery) -> Result<Vec<TrailRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TRAIL_COLUMNS} FROM operator_trail \
             WHERE (?1 IS NULL OR sequence < ?1) AND (?2 IS NULL OR operator_id = ?2) \
               AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR at_ms >= ?4) \
               AND (?5 IS NULL OR at_ms < ?5) \
             ORDER BY sequence DESC LIMIT ?6"
        ))
        .bind(query.before_sequence)
        .bind(query.operator_id.map(|id| id.to_string()))
        .bind(query.action.map(|action| action.as_str()))
        .bind(query.from_ms)
        .bind(query.until_ms)
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(trail_row)
        .collect()
    }

    async fn trail_after(
        &self,
        after_sequence: i64,
        limit: i64,
    ) -> Result<Vec<TrailRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TRAIL_COLUMNS} FROM operator_trail WHERE sequence > ? ORDER BY sequence LIMIT ?"
        ))
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(trail_row)
        .collect()
    }
}

impl SqliteStore {
    /// Replaces a credential column and ends every session, in one transaction.
    async fn replace_credential(
        &self,
        id: OperatorId,
        column: &'static str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let changed = sqlx::query(&format!(
            "UPDATE operators SET {column} = ?2, failed_sign_ins = 0, locked_until_ms = NULL \
             WHERE id = ?1"
        ))
        .bind(id.to_string())
        .bind(value)
        .execute(&mut *transaction)
        .await?;
        sqlx::query("DELETE FROM operator_sessions WHERE operator_id = ?")
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(changed.rows_affected() == 1)
    }
}
