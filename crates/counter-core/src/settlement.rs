//! The manager's day settlement at the counter: this counter's figures for a business day
//! (in the store's time zone), matched against the server's, then the close with its
//! Z-report and CSV export.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tillfund_core::{Amount, Currency};

use tillfund_core::protocol::SettlementBody;

use crate::counter::{Counter, CounterError};
use crate::error_code::CounterCode;
use crate::staff::Cashier;
use crate::store::LocalStoreError;

/// This counter's figures for a day, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CounterFigures {
    pub top_up_count: i64,
    /// Cash taken for top-ups (the drawer holds this less `reversed_cash`).
    pub cash: i64,
    /// Bonus shown to customers on those top-ups.
    pub bonus: i64,
    pub payment_count: i64,
    pub payments: i64,
    pub refund_count: i64,
    pub refunds: i64,
    /// Top-ups reversed in the day (by the server's clock) and the cash given back. Absent
    /// from Z-reports kept before reversals were made at the counter.
    #[serde(default)]
    pub reversal_count: i64,
    #[serde(default)]
    pub reversed_cash: i64,
    /// Wallets paid out in cash in the day (by the server's clock), and the cash.
    #[serde(default)]
    pub redemption_count: i64,
    #[serde(default)]
    pub redeemed_cash: i64,
    /// Top-ups of the day still waiting for the server.
    pub unsynced: i64,
    /// Top-ups of the day the server refused (needs attention).
    pub rejected: i64,
}

impl CounterFigures {
    /// Cash that must be in the drawer: taken for top-ups less given back for reversals
    /// and paid out for redemptions.
    pub fn drawer_cash(&self) -> i64 {
        self.cash - self.reversed_cash - self.redeemed_cash
    }

    /// Whether these records equal the server's figures for this counter's day.
    pub fn matches(&self, server: &SettlementBody) -> bool {
        // A server from before `this_terminal_in_day` counts only what a close settles.
        let theirs = server.this_terminal_in_day.as_ref().unwrap_or(&server.this_terminal);
        theirs.drawer_cash() == self.drawer_cash()
            && theirs.top_up_count == self.top_up_count
            && theirs.reversal_count == self.reversal_count
            && theirs.redemption_count == self.redemption_count
            && theirs.payments == self.payments
            && theirs.payment_count == self.payment_count
            && theirs.refunds == self.refunds
            && theirs.refund_count == self.refund_count
    }
}

/// A day as the manager sees it before and after closing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayReport {
    pub day: String,
    pub store: String,
    pub currency: String,
    pub counter: CounterFigures,
    /// `None` when the server could not be reached.
    pub server: Option<SettlementBody>,
    /// Whether this counter's records equal the server's figures for this counter.
    pub matches: Option<bool>,
    pub closed: bool,
    /// Takings hour by hour (local clock), for the manager's chart. Absent in reports
    /// closed before it existed.
    #[serde(default)]
    pub hours: Vec<HourTakings>,
    /// The drawer's blind count, once made (absent before, and from reports kept before
    /// counts were made).
    #[serde(default)]
    pub cash_count: Option<tillfund_core::cash_count::CashCount>,
    /// The manager who closed the day, once closed.
    #[serde(default)]
    pub closed_by: Option<String>,
    /// The day per cashier (the shift report), busiest first.
    #[serde(default)]
    pub cashiers: Vec<crate::shift_report::CashierShift>,
}

/// One hour of the day: cash taken for top-ups and payments received, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HourTakings {
    /// The local time the hour starts, "09:00"; a day with a clock change has 23 or 25.
    pub starts: String,
    pub cash: i64,
    pub payments: i64,
}

const HOUR_MS: i64 = 60 * 60 * 1000;

pub(crate) fn day_bounds_ms(zone: &TimeZone, day: Date) -> Result<(i64, i64), CounterError> {
    let invalid = |error: jiff::Error| CounterError::Invalid {
        code: CounterCode::DayInvalid,
        message: error.to_string(),
    };
    let start = day.to_zoned(zone.clone()).map_err(invalid)?.timestamp().as_millisecond();
    let end = day
        .tomorrow()
        .map_err(invalid)?
        .to_zoned(zone.clone())
        .map_err(invalid)?
        .timestamp()
        .as_millisecond();
    Ok((start, end))
}

impl Counter {
    pub(crate) async fn counter_figures(
        &self,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<CounterFigures, CounterError> {
        let pool = self.store().pool();
        let read = |error: sqlx::Error| CounterError::Local(LocalStoreError::from(error));
        let top_ups = sqlx::query(
            "SELECT count(*) FILTER (WHERE status <> 'rejected') AS counted, \
                    coalesce(sum(amount) FILTER (WHERE status <> 'rejected'), 0) AS cash, \
                    coalesce(sum(bonus_shown) FILTER (WHERE status <> 'rejected'), 0) AS bonus, \
                    count(*) FILTER (WHERE status = 'pending') AS unsynced, \
                    count(*) FILTER (WHERE status = 'rejected') AS rejected \
             FROM top_ups WHERE recorded_at_ms >= ? AND recorded_at_ms < ?",
        )
        .bind(start_ms)
        .bind(end_ms)
        .fetch_one(pool)
        .await
        .map_err(read)?;
        // Each kind of record: how many in the day and what they came to.
        let count_and_total = |sql: &'static str| async move {
            sqlx::query_as::<_, (i64, i64)>(sql)
                .bind(start_ms)
                .bind(end_ms)
                .fetch_one(pool)
                .await
                .map_err(read)
        };
        let (payment_count, payments) = count_and_total(
            "SELECT count(*), coalesce(sum(amount), 0) FROM orders \
             WHERE status = 'paid' AND paid_at_ms >= ? AND paid_at_ms < ?",
        )
        .await?;
        let (refund_count, refunds) = count_and_total(
            "SELECT count(*), coalesce(sum(amount), 0) FROM refunds \
             WHERE refunded_at_ms >= ? AND refunded_at_ms < ?",
        )
        .await?;
        let (reversal_count, reversed_cash) = count_and_total(
            "SELECT count(*), coalesce(sum(amount), 0) FROM top_up_reversals \
             WHERE reversed_at_ms >= ? AND reversed_at_ms < ?",
        )
        .await?;
        let (redemption_count, redeemed_cash) = count_and_total(
            "SELECT count(*), coalesce(sum(cash), 0) FROM redemptions \
             WHERE redeemed_at_ms >= ? AND redeemed_at_ms < ?",
        )
        .await?;
        Ok(CounterFigures {
            redemption_count,
            redeemed_cash,
            reversal_count,
            reversed_cash,
            refund_count,
            refunds,
            top_up_count: top_ups.try_get("counted").map_err(read)?,
            cash: top_ups.try_get("cash").map_err(read)?,
            bonus: top_ups.try_get("bonus").map_err(read)?,
            payment_count,
            payments,
            unsynced: top_ups.try_get("unsynced").map_err(read)?,
            rejected: top_ups.try_get("rejected").map_err(read)?,
        })
    }

    /// Takings per elapsed hour since the day's start, labelled with the local clock so
    /// that clock changes come out right.
    async fn hours(
        &self,
        zone: &TimeZone,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<HourTakings>, CounterError> {
        let read = |error: sqlx::Error| CounterError::Local(LocalStoreError::from(error));
        let slots = usize::try_from((end_ms - start_ms + HOUR_MS - 1) / HOUR_MS).unwrap_or(0);
        let mut hours = Vec::with_capacity(slots);
        for slot in 0..slots {
            let starts_ms = start_ms + i64::try_from(slot).unwrap_or(0) * HOUR_MS;
            let starts = jiff::Timestamp::from_millisecond(starts_ms)
                .map(|timestamp| timestamp.to_zoned(zone.clone()).strftime("%H:%M").to_string())
                .unwrap_or_default();
            hours.push(HourTakings { starts, cash: 0, payments: 0 });
        }
        let cash = sqlx::query(
            "SELECT (recorded_at_ms - ?1) / ?3 AS slot, sum(amount) AS total FROM top_ups \
             WHERE status <> 'rejected' AND recorded_at_ms >= ?1 AND recorded_at_ms < ?2 GROUP BY slot",
        );
        let payments = sqlx::query(
            "SELECT (paid_at_ms - ?1) / ?3 AS slot, sum(amount) AS total FROM orders \
             WHERE status = 'paid' AND paid_at_ms >= ?1 AND paid_at_ms < ?2 GROUP BY slot",
        );
        for (is_cash, query) in [(true, cash), (false, payments)] {
            let rows = query
                .bind(start_ms)
                .bind(end_ms)
                .bind(HOUR_MS)
                .fetch_all(self.store().pool())
                .await
                .map_err(read)?;
            for row in rows {
                let slot: i64 = row.try_get("slot").map_err(read)?;
                let total: i64 = row.try_get("total").map_err(read)?;
                let Some(hour) = usize::try_from(slot).ok().and_then(|slot| hours.get_mut(slot))
                else {
                    continue;
                };
                if is_cash {
                    hour.cash = total;
                } else {
                    hour.payments = total;
                }
            }
        }
        Ok(hours)
    }

    /// The day's figures, here and (when reachable) on the server. The server's are the
    /// store's; with one counter per store they must match to the cent.
    pub async fn day_report(&self, day: Date) -> Result<DayReport, CounterError> {
        if let Some(closed) = self.closed_day(day).await? {
            return Ok(closed);
        }
        let profile = self.profile().await?;
        let zone = self.zone(&profile.time_zone)?;
        let (start_ms, end_ms) = day_bounds_ms(&zone, day)?;
        let counter = self.counter_figures(start_ms, end_ms).await?;
        let hours = self.hours(&zone, start_ms, end_ms).await?;
        let cashiers = self.cashier_shifts(start_ms, end_ms).await?;
        let client = self.store().server_client(&profile.server_url)?;
        let server = client.settlement(&profile.credentials()?, &day.to_string()).await.ok();
        let matches = server.as_ref().map(|server| counter.matches(server));
        Ok(DayReport {
            day: day.to_string(),
            store: profile.merchant_name,
            currency: profile.currency,
            counter,
            server,
            matches,
            closed: false,
            hours,
            cash_count: self.cash_count(day).await?,
            closed_by: None,
            cashiers,
        })
    }

    async fn closed_day(&self, day: Date) -> Result<Option<DayReport>, CounterError> {
        let report: Option<String> =
            sqlx::query_scalar("SELECT report FROM closed_days WHERE day = ?")
                .bind(day.to_string())
                .fetch_optional(self.store().pool())
                .await
                .map_err(LocalStoreError::from)?;
        report
            .map(|json| {
                serde_json::from_str(&json).map_err(|error| {
                    CounterError::Local(LocalStoreError::Corrupt(error.to_string()))
                })
            })
            .transpose()
    }

    /// Closes the day on the server and keeps the Z-report. Refused while top-ups of the
    /// day wait for the server: the close must count them.
    pub async fn close_day(
        &self,
        by: Option<&Cashier>,
        day: Date,
    ) -> Result<DayReport, CounterError> {
        if let Some(closed) = self.closed_day(day).await? {
            return Ok(closed);
        }
        let report = self.day_report(day).await?;
        if report.counter.unsynced > 0 {
            return Err(CounterError::Invalid {
                code: CounterCode::DayHasUnsyncedEntries,
                message: format!(
                    "{} top-ups of {} have not reached the server yet; connect and wait for them to sync, then close.",
                    report.counter.unsynced, report.day
                ),
            });
        }
        let profile = self.profile().await?;
        let client = self.store().server_client(&profile.server_url)?;
        let credentials = profile.credentials()?;
        // A refund whose answer was lost is on the server's side of the day: finish it so
        // that both sides count it. One the server still defers is in neither side's
        // figures: the close goes on. Without an answer, the close waits: the Z-report
        // would not match.
        let resent =
            match crate::refunds::resend_unanswered_refunds(self.store(), &client, &credentials)
                .await
            {
                Ok(resent) => resent,
                Err(error) if crate::refunds::deferred_by_server(&error) => 0,
                Err(error) => return Err(error.into()),
            };
        // And for a payout whose answer was lost: the cash left the drawer.
        let redeemed = match crate::redemptions::resend_unanswered_redemptions(
            self.store(),
            &client,
            &credentials,
        )
        .await
        {
            Ok(resent) => resent,
            Err(error) => return Err(error.into()),
        };
        // The same holds for a reversal whose answer was lost.
        let reversed = match crate::reversals::resend_unanswered_reversals(
            self.store(),
            &client,
            &credentials,
        )
        .await
        {
            Ok(resent) => resent,
            Err(error) if crate::refunds::deferred_by_server(&error) => 0,
            Err(error) => return Err(error.into()),
        };
        // So are payments the payment listener has not brought yet.
        let fetched =
            crate::sync::catch_up_paid_orders(self.store(), &client, &credentials).await?;
        let report = if resent > 0 || reversed > 0 || redeemed > 0 || fetched > 0 {
            self.day_report(day).await?
        } else {
            report
        };
        Counter::check_count_current(report.cash_count.as_ref(), &report.counter)?;
        let closed_by = by.map(|manager| manager.staff_id);
        let server = client
            .close_day(&credentials, &report.day, report.cash_count.clone(), closed_by)
            .await?;
        // The close's answer is the server's last word on the day: the Z-report is matched
        // against it, not against the read before (which may have been lost).
        let matches = Some(report.counter.matches(&server));
        let closed = DayReport {
            server: Some(server),
            matches,
            closed: true,
            closed_by: by.map(|manager| manager.name.clone()),
            ..report
        };
        let json = serde_json::to_string(&closed)
            .map_err(|error| CounterError::Local(LocalStoreError::Corrupt(error.to_string())))?;
        sqlx::query(
            "INSERT INTO closed_days (day, report, closed_at_ms, closed_by_id, closed_by_name) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (day) DO NOTHING",
        )
        .bind(&closed.day)
        .bind(json)
        .bind(self.store().now_ms())
        .bind(by.map(|manager| manager.staff_id.to_string()))
        .bind(by.map(|manager| manager.name.clone()))
        .execute(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        Ok(closed)
    }
}

pub(crate) fn money(minor_units: i64, currency: &str) -> String {
    let currency = Currency::from_code(currency).unwrap_or_default();
    Amount::from_minor_units(minor_units)
        .map_or_else(|_| minor_units.to_string(), |amount| amount.format(currency))
}

impl DayReport {
    /// One header row and one row of figures, in major units.
    pub fn csv(&self) -> String {
        let counter = &self.counter;
        let server = self.server.as_ref();
        format!(
            "day,store,currency,top_ups,cash,bonus,payments_count,payments,refunds,net_owed_to_store,closed,reversals,reversed_cash,\
             redemptions,redeemed_cash,opening_float,cash_dropped,expected_in_drawer,counted,over_short,counted_by\n\
             {},\"{}\",{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            self.day,
            self.store.replace('"', "\"\""),
            self.currency,
            counter.top_up_count,
            money(counter.cash, &self.currency),
            money(counter.bonus, &self.currency),
            counter.payment_count,
            money(counter.payments, &self.currency),
            money(counter.refunds, &self.currency),
            money(server.map_or(0, |server| server.net_owed_to_store), &self.currency),
            self.closed,
            counter.reversal_count,
            money(counter.reversed_cash, &self.currency),
            counter.redemption_count,
            money(counter.redeemed_cash, &self.currency),
            self.count_csv(),
        )
    }

    /// The count's columns: empty before the drawer is counted.
    fn count_csv(&self) -> String {
        let Some(count) = &self.cash_count else {
            return ",,,,,".to_owned();
        };
        let amount = |minor: i64| money(minor, &self.currency);
        format!(
            "{},{},{},{},{},\"{}\"",
            amount(count.opening_float),
            amount(count.cash_dropped),
            amount(count.expected),
            amount(count.counted),
            amount(count.over_short),
            count.counted_by.replace('"', "\"\""),
        )
    }
}
