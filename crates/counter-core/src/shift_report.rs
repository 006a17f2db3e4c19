//! The day per cashier (the shift report): what each member of staff took for top-ups,
//! was paid for orders they made, refunded, gave back and paid out, counted the way the day's
//! figures count (`settlement.rs`), so the lines add up to the counter's figures.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::counter::{Counter, CounterError};
use crate::staff::MAX_STAFF;
use crate::store::LocalStoreError;

/// One cashier's part of the day, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CashierShift {
    /// The name as it was when they did it; `None` for what was done with nobody signed
    /// in (before staff were on record, or by a tool).
    pub name: Option<String>,
    pub top_up_count: i64,
    /// Cash taken for top-ups, and the bonus shown on them.
    pub cash: i64,
    pub bonus: i64,
    /// Orders they made that were paid in the day.
    pub payment_count: i64,
    pub payments: i64,
    pub refund_count: i64,
    pub refunds: i64,
    pub reversal_count: i64,
    pub reversed_cash: i64,
    /// Wallets they paid out in cash, and the cash.
    #[serde(default)]
    pub redemption_count: i64,
    #[serde(default)]
    pub redeemed_cash: i64,
    /// Their first and last action of the day, by the counter's clock: the shift's span.
    pub first_at_ms: i64,
    pub last_at_ms: i64,
}

impl CashierShift {
    /// Cash they leave in the drawer: taken less given back and paid out.
    pub fn drawer_cash(&self) -> i64 {
        self.cash - self.reversed_cash - self.redeemed_cash
    }
}

impl Counter {
    /// The day between `start_ms` and `end_ms` per cashier, most cash handled first. Each
    /// record counts on the day the day's figures count it in.
    pub(crate) async fn cashier_shifts(
        &self,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<CashierShift>, CounterError> {
        let rows = sqlx::query(&format!(
            "SELECT max(cashier_name) AS name, sum(top_ups) AS top_up_count, sum(cash) AS cash, \
                    sum(bonus) AS bonus, sum(payment) AS payment_count, \
                    sum(paid) AS payments, sum(refund) AS refund_count, \
                    sum(refunded) AS refunds, sum(reversal) AS reversal_count, \
                    sum(reversed) AS reversed_cash, sum(redemption) AS redemption_count, \
                    sum(redeemed) AS redeemed_cash, min(at) AS first_at_ms, max(at) AS last_at_ms \
             FROM ( \
               SELECT cashier_id, cashier_name, 1 AS top_ups, amount AS cash, bonus_shown AS bonus, \
                      0 AS payment, 0 AS paid, 0 AS refund, 0 AS refunded, 0 AS reversal, \
                      0 AS reversed, 0 AS redemption, 0 AS redeemed, recorded_at_ms AS at \
               FROM top_ups WHERE status <> 'rejected' AND recorded_at_ms >= ?1 AND recorded_at_ms < ?2 \
               UNION ALL \
               SELECT cashier_id, cashier_name, 0, 0, 0, 1, amount, 0, 0, 0, 0, 0, 0, paid_at_ms \
               FROM orders WHERE status = 'paid' AND paid_at_ms >= ?1 AND paid_at_ms < ?2 \
               UNION ALL \
               SELECT cashier_id, cashier_name, 0, 0, 0, 0, 0, 1, amount, 0, 0, 0, 0, refunded_at_ms \
               FROM refunds WHERE refunded_at_ms >= ?1 AND refunded_at_ms < ?2 \
               UNION ALL \
               SELECT cashier_id, cashier_name, 0, 0, 0, 0, 0, 0, 0, 1, amount, 0, 0, reversed_at_ms \
               FROM top_up_reversals WHERE reversed_at_ms >= ?1 AND reversed_at_ms < ?2 \
               UNION ALL \
               SELECT cashier_id, cashier_name, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, cash, redeemed_at_ms \
               FROM redemptions WHERE redeemed_at_ms >= ?1 AND redeemed_at_ms < ?2 \
             ) GROUP BY cashier_id \
             ORDER BY sum(cash) + sum(paid) DESC, max(cashier_name) LIMIT {}",
            // Members come and go over the years; a day's shifts stay far below this.
            MAX_STAFF * 2
        ))
        .bind(start_ms)
        .bind(end_ms)
        .fetch_all(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        rows.iter()
            .map(|row| {
                Ok(CashierShift {
                    name: row.try_get("name")?,
                    top_up_count: row.try_get("top_up_count")?,
                    cash: row.try_get("cash")?,
                    bonus: row.try_get("bonus")?,
                    payment_count: row.try_get("payment_count")?,
                    payments: row.try_get("payments")?,
                    refund_count: row.try_get("refund_count")?,
                    refunds: row.try_get("refunds")?,
                    reversal_count: row.try_get("reversal_count")?,
                    reversed_cash: row.try_get("reversed_cash")?,
                    redemption_count: row.try_get("redemption_count")?,
                    redeemed_cash: row.try_get("redeemed_cash")?,
                    first_at_ms: row.try_get("first_at_ms")?,
                    last_at_ms: row.try_get("last_at_ms")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|error| CounterError::Local(LocalStoreError::from(error)))
    }
}
