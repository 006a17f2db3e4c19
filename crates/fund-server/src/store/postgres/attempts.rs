//! Rate-limit windows: one upsert per attempt, shared by every process on the database.

use sqlx::Row;

use super::PgStore;
use crate::store::{AttemptStore, StoreError};

impl AttemptStore for PgStore {
    /// One statement: the key's row lock makes concurrent attempts, from any process,
    /// count one after another. Requests read the clock before they queue for the row, so
    /// a window may have begun a little after an attempt's `now_ms`: it still counts in
    /// that window. Only a window begun more than a window's length ahead (the clock was
    /// set back) starts again, so a key is never shut out by a wrong clock.
    async fn count_attempt(
        &self,
        key: &[u8; 32],
        now_ms: i64,
        window_ms: i64,
        purge_before_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        assert!(window_ms > 0, "a rate-limit window has a length");
        if let Some(before) = purge_before_ms {
            sqlx::query("DELETE FROM attempt_windows WHERE window_started_ms < $1")
                .bind(before)
                .execute(&self.counters)
                .await?;
        }
        let row = sqlx::query(
            "INSERT INTO attempt_windows (key, window_started_ms, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               attempts = CASE WHEN attempt_windows.window_started_ms <= $2 - $3 \
                                  OR attempt_windows.window_started_ms > $2 + $3 \
                               THEN 1 ELSE attempt_windows.attempts + 1 END, \
               window_started_ms = CASE WHEN attempt_windows.window_started_ms <= $2 - $3 \
                                             OR attempt_windows.window_started_ms > $2 + $3 \
                                        THEN $2 ELSE attempt_windows.window_started_ms END \
             RETURNING attempts",
        )
        .bind(key.as_slice())
        .bind(now_ms)
        .bind(window_ms)
        .fetch_one(&self.counters)
        .await?;
        attempts(row.try_get("attempts")?)
    }

    async fn attempts_in_window(
        &self,
        key: &[u8; 32],
        now_ms: i64,
        window_ms: i64,
    ) -> Result<u64, StoreError> {
        let counted: Option<i64> = sqlx::query_scalar(
            "SELECT attempts FROM attempt_windows \
             WHERE key = $1 AND window_started_ms > $2 - $3 AND window_started_ms <= $2 + $3",
        )
        .bind(key.as_slice())
        .bind(now_ms)
        .bind(window_ms)
        .fetch_optional(&self.counters)
        .await?;
        counted.map_or(Ok(0), attempts)
    }
}

fn attempts(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(super::corrupt)
}
