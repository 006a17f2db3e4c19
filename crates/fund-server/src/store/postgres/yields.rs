//! Storage of yield accrual: set-based, a few statements per day for every wallet at once.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::{Postgres, QueryBuilder, Row};
use tillfund_core::CustomerId;

use super::{PgStore, StoreError, YIELD_LOCK, corrupt, lock};
use crate::store::{PostingDue, WalletAccrual, YieldDay, YieldStore};

const ROWS_PER_STATEMENT: usize = 500;

impl YieldStore for PgStore {
    async fn set_yield_rate(
        &self,
        effective_from: &str,
        annual_rate: Decimal,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO yield_rates (effective_from, annual_rate, set_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (effective_from) DO UPDATE SET annual_rate = excluded.annual_rate, set_at_ms = excluded.set_at_ms",
        )
        .bind(effective_from)
        .bind(annual_rate.to_string())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn yield_rates(&self) -> Result<Vec<(String, Decimal)>, StoreError> {
        let rows = sqlx::query(
            "SELECT effective_from, annual_rate FROM yield_rates ORDER BY effective_from",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let rate =
                    Decimal::from_str(row.try_get::<&str, _>("annual_rate")?).map_err(corrupt)?;
                Ok((row.try_get("effective_from")?, rate))
            })
            .collect()
    }

    async fn last_accrued_day(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT max(day) FROM yield_days").fetch_one(&self.pool).await?)
    }

    /// Days accrued but whose posting has not finished.
    async fn unposted_days(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT day FROM yield_days WHERE posted_at_ms IS NULL ORDER BY day")
            .fetch_all(&self.pool)
            .await?)
    }

    /// When the first journal entry was applied; `None` for an empty journal.
    async fn first_applied_at_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT applied_at_ms FROM journal_entries ORDER BY sequence LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The last journal entry applied before `end_ms` (0 when none was).
    async fn sequence_before(&self, end_ms: i64) -> Result<i64, StoreError> {
        let sequence: Option<i64> = sqlx::query_scalar(
            "SELECT max(sequence) FROM journal_entries WHERE applied_at_ms < $1",
        )
        .bind(end_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(sequence.unwrap_or(0))
    }

    /// Every wallet's total balance as it was right after entry `sequence`: today's
    /// balances minus what the entries after it moved. One statement for all wallets.
    async fn wallet_totals_as_of(
        &self,
        sequence: i64,
    ) -> Result<Vec<(CustomerId, i64)>, StoreError> {
        let rows = sqlx::query(
            "WITH later AS ( \
                 SELECT to_account AS key, amount AS delta FROM transfers \
                   WHERE entry_sequence > $1 AND to_account LIKE 'customer/%' \
                 UNION ALL \
                 SELECT from_account, -amount FROM transfers \
                   WHERE entry_sequence > $1 AND from_account LIKE 'customer/%' \
             ), deltas AS (SELECT key, sum(delta) AS delta FROM later GROUP BY key) \
             SELECT substr(a.key, 10, 36) AS customer_id, \
                    sum(a.balance - coalesce(d.delta, 0))::BIGINT AS balance \
             FROM accounts a LEFT JOIN deltas d ON d.key = a.key \
             WHERE a.key LIKE 'customer/%' GROUP BY substr(a.key, 10, 36)",
        )
        .bind(sequence)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let customer_id = CustomerId::from_str(row.try_get::<&str, _>("customer_id")?)
                    .map_err(corrupt)?;
                Ok((customer_id, row.try_get("balance")?))
            })
            .collect()
    }

    /// Records one day's accruals and adds them to each wallet's running total, once:
    /// returns false (and writes nothing) when the day was already accrued.
    async fn record_accrual_day(
        &self,
        day: &str,
        through_sequence: i64,
        annual_rate: Decimal,
        accruals: &[WalletAccrual],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        lock(&mut transaction, YIELD_LOCK).await?;
        let inserted = sqlx::query(
            "INSERT INTO yield_days (day, through_sequence, annual_rate, wallets, accrued_at_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(through_sequence)
        .bind(annual_rate.to_string())
        .bind(i64::try_from(accruals.len()).unwrap_or(i64::MAX))
        .bind(now_ms)
        .execute(&mut *transaction)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        let mut positions: HashMap<CustomerId, Decimal> = HashMap::new();
        for row in sqlx::query("SELECT customer_id, cumulative FROM yield_positions")
            .fetch_all(&mut *transaction)
            .await?
        {
            let customer_id =
                CustomerId::from_str(row.try_get::<&str, _>("customer_id")?).map_err(corrupt)?;
            let cumulative =
                Decimal::from_str(row.try_get::<&str, _>("cumulative")?).map_err(corrupt)?;
            positions.insert(customer_id, cumulative);
        }
        for chunk in accruals.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Postgres>::new(
                "INSERT INTO yield_accruals (customer_id, day, balance, accrued) ",
            );
            query.push_values(chunk, |mut row, accrual| {
                row.push_bind(accrual.customer_id.to_string())
                    .push_bind(day.to_owned())
                    .push_bind(accrual.balance)
                    .push_bind(accrual.accrued.to_string());
            });
            query.build().execute(&mut *transaction).await?;
            let mut query = QueryBuilder::<Postgres>::new(
                "INSERT INTO yield_positions (customer_id, cumulative) ",
            );
            query.push_values(chunk, |mut row, accrual| {
                let cumulative = positions.get(&accrual.customer_id).copied().unwrap_or_default()
                    + accrual.accrued;
                row.push_bind(accrual.customer_id.to_string()).push_bind(cumulative.to_string());
            });
            query.push(" ON CONFLICT (customer_id) DO UPDATE SET cumulative = excluded.cumulative");
            query.build().execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(true)
    }

    /// Wallets with at least one whole minor unit accrued and not posted.
    async fn yield_postings_due(&self) -> Result<Vec<PostingDue>, StoreError> {
        let rows = sqlx::query("SELECT customer_id, cumulative, posted FROM yield_positions")
            .fetch_all(&self.pool)
            .await?;
        let mut due = Vec::new();
        for row in rows {
            let cumulative =
                Decimal::from_str(row.try_get::<&str, _>("cumulative")?).map_err(corrupt)?;
            let posted: i64 = row.try_get("posted")?;
            let cumulative_floor = i64::try_from(cumulative.floor()).map_err(corrupt)?;
            if cumulative_floor > posted {
                due.push(PostingDue {
                    customer_id: CustomerId::from_str(row.try_get::<&str, _>("customer_id")?)
                        .map_err(corrupt)?,
                    cumulative_floor,
                    posted,
                });
            }
        }
        Ok(due)
    }

    /// Records postings that the ledger applied: `posted` rises to the floor it paid up to.
    async fn record_yield_posted(&self, posted: &[(CustomerId, i64)]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        lock(&mut transaction, YIELD_LOCK).await?;
        for chunk in posted.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Postgres>::new("WITH paid (customer_id, posted) AS (");
            query.push_values(chunk, |mut row, (customer_id, posted_up_to)| {
                row.push_bind(customer_id.to_string()).push_bind(*posted_up_to);
            });
            query.push(
                ") UPDATE yield_positions SET posted = GREATEST(yield_positions.posted, paid.posted) \
                 FROM paid WHERE yield_positions.customer_id = paid.customer_id",
            );
            query.build().execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn mark_yield_day_posted(&self, day: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE yield_days SET posted_at_ms = $1 WHERE day = $2 AND posted_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(day)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A wallet's most recent accrual days, oldest first, at most `days`.
    async fn yield_days(
        &self,
        customer_id: CustomerId,
        days: u32,
    ) -> Result<Vec<YieldDay>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, balance, accrued FROM yield_accruals WHERE customer_id = $1 \
             ORDER BY day DESC LIMIT $2",
        )
        .bind(customer_id.to_string())
        .bind(i64::from(days))
        .fetch_all(&self.pool)
        .await?;
        let mut days = rows
            .iter()
            .map(|row| {
                Ok(YieldDay {
                    day: row.try_get("day")?,
                    balance: row.try_get("balance")?,
                    accrued: Decimal::from_str(row.try_get::<&str, _>("accrued")?)
                        .map_err(corrupt)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        days.reverse();
        Ok(days)
    }
}
