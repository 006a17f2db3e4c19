//! Storage of yield accrual: set-based, a few statements per day for every wallet at once.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::{Postgres, QueryBuilder, Row};
use tillfund_core::CustomerId;

use super::{PgStore, StoreError, YIELD_LOCK, corrupt, lock};
use crate::store::yield_pages::{
    PageAccruals, WALLETS_PER_PAGE, accrue_page, parse_customer, sum_by_customer, wallet_keys,
};
use crate::store::{AccruedDay, PostingDue, PostingsDue, YieldDay, YieldStore};

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

    async fn record_accrual_day(
        &self,
        day: &str,
        through_sequence: i64,
        annual_rate: Decimal,
        mut accrue: impl FnMut(i64) -> Option<Decimal> + Send,
        now_ms: i64,
    ) -> Result<Option<AccruedDay>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        lock(&mut transaction, YIELD_LOCK).await?;
        let inserted = sqlx::query(
            "INSERT INTO yield_days (day, through_sequence, annual_rate, wallets, accrued_at_ms) \
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(through_sequence)
        .bind(annual_rate.to_string())
        .bind(now_ms)
        .execute(&mut *transaction)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(None);
        }
        // Balances are read from one snapshot, while other processes go on writing: what
        // moved since the day's last entry and every page's balances are seen at the same
        // instant. The running totals are read and written under the yield lock.
        let mut snapshot =
            self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
        let moved_since = sum_by_customer(
            sqlx::query_as::<_, (String, i64)>(
                "SELECT key, sum(delta)::BIGINT FROM ( \
                   SELECT to_account AS key, amount AS delta FROM transfers \
                     WHERE entry_sequence > $1 AND to_account LIKE 'customer/%' \
                   UNION ALL \
                   SELECT from_account, -amount FROM transfers \
                     WHERE entry_sequence > $1 AND from_account LIKE 'customer/%' \
                 ) moved GROUP BY key",
            )
            .bind(through_sequence)
            .fetch_all(&mut *snapshot)
            .await?,
        )?;
        let mut recorded = AccruedDay::default();
        let mut after = String::new();
        loop {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM customers WHERE id > $1 AND closed_at_ms IS NULL \
                     ORDER BY id LIMIT $2",
            )
            .bind(&after)
            .bind(WALLETS_PER_PAGE)
            .fetch_all(&mut *snapshot)
            .await?;
            let Some(last) = ids.last() else { break };
            after.clone_from(last);
            let customers =
                ids.iter().map(|id| parse_customer(id)).collect::<Result<Vec<_>, _>>()?;
            let balances_now = sum_by_customer(
                sqlx::query_as::<_, (String, i64)>(
                    "SELECT key, balance FROM accounts WHERE key = ANY($1)",
                )
                .bind(wallet_keys(&customers))
                .fetch_all(&mut *snapshot)
                .await?,
            )?;
            let mut positions = HashMap::new();
            for (customer_id, cumulative) in sqlx::query_as::<_, (String, String)>(
                "SELECT customer_id, cumulative FROM yield_positions WHERE customer_id = ANY($1)",
            )
            .bind(&ids)
            .fetch_all(&mut *transaction)
            .await?
            {
                positions.insert(
                    parse_customer(&customer_id)?,
                    Decimal::from_str(&cumulative).map_err(corrupt)?,
                );
            }
            let page =
                accrue_page(&customers, &balances_now, &moved_since, &positions, &mut accrue)?;
            write_accruals(&mut transaction, day, &page).await?;
            recorded.wallets += page.accruals.len() as u64;
            recorded.accrued +=
                page.accruals.iter().map(|accrual| accrual.accrued).sum::<Decimal>();
        }
        drop(snapshot);
        sqlx::query("UPDATE yield_days SET wallets = $1 WHERE day = $2")
            .bind(i64::try_from(recorded.wallets).unwrap_or(i64::MAX))
            .bind(day)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(Some(recorded))
    }

    async fn yield_postings_due(
        &self,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Result<PostingsDue, StoreError> {
        let rows = sqlx::query(
            "SELECT customer_id, cumulative, posted FROM yield_positions WHERE customer_id > $1 \
             ORDER BY customer_id LIMIT $2",
        )
        .bind(after.map(|customer| customer.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut due = Vec::new();
        let mut last = None;
        for row in &rows {
            let customer_id = parse_customer(row.try_get::<&str, _>("customer_id")?)?;
            last = Some(customer_id);
            let cumulative =
                Decimal::from_str(row.try_get::<&str, _>("cumulative")?).map_err(corrupt)?;
            let posted: i64 = row.try_get("posted")?;
            let cumulative_floor = i64::try_from(cumulative.floor()).map_err(corrupt)?;
            if cumulative_floor > posted {
                due.push(PostingDue { customer_id, cumulative_floor, posted });
            }
        }
        let full = u32::try_from(rows.len()).is_ok_and(|read| read == limit);
        Ok(PostingsDue { due, next: if full { last } else { None } })
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

/// One page's accrual rows, and its running totals set to what they now add up to.
async fn write_accruals(
    transaction: &mut sqlx::PgConnection,
    day: &str,
    page: &PageAccruals,
) -> Result<(), StoreError> {
    for chunk in page.accruals.chunks(ROWS_PER_STATEMENT) {
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
    }
    for chunk in page.cumulative.chunks(ROWS_PER_STATEMENT) {
        let mut query =
            QueryBuilder::<Postgres>::new("INSERT INTO yield_positions (customer_id, cumulative) ");
        query.push_values(chunk, |mut row, (customer_id, cumulative)| {
            row.push_bind(customer_id.to_string()).push_bind(cumulative.to_string());
        });
        query.push(" ON CONFLICT (customer_id) DO UPDATE SET cumulative = excluded.cumulative");
        query.build().execute(&mut *transaction).await?;
    }
    Ok(())
}
