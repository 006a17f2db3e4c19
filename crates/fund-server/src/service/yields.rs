//! Daily yield: accrue every wallet's end-of-day balance, then post whole minor units from
//! the reserve through the ledger writer. See `ledger::yield_math` for the formulas.
//!
//! Idempotent and catching up: each day is accrued once (its row and its accruals commit
//! together); each posting has the key `yield/<customer>/<day>` and an amount computed from
//! immutable accruals, so a run that stopped half-way is simply run again.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use tillfund_core::{Amount, PositiveAmount};

use super::{FundService, ServiceError, end_of_day_ms, fingerprint, internal};
use crate::ledger::yield_math::{DayCount, PostingInterval, RateSchedule, daily_accrual};
use crate::ledger::{Command, CommandKind, IdempotencyKey, Outcome};
use crate::ledger_writer::BATCH_COMMANDS_MAX;
use crate::service::ErrorCode;
use crate::store::{PostingDue, Storage};

/// Running totals read per page when posting: what bounds the posting's memory.
const POSTINGS_PER_PAGE: u32 = 10_000;

/// Most days one run accrues, so a wrong date cannot start years of work by mistake.
pub const CATCH_UP_DAYS_MAX: i32 = 400;

#[derive(Debug, Clone)]
pub struct YieldPolicy {
    /// Days are calendar days in this zone.
    pub time_zone: TimeZone,
    pub day_count: DayCount,
    pub posting: PostingInterval,
    /// A wallet whose end-of-day balance is under this earns nothing that day.
    pub minimum_balance: Amount,
}

impl Default for YieldPolicy {
    fn default() -> YieldPolicy {
        YieldPolicy {
            time_zone: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC),
            day_count: DayCount::Act365,
            posting: PostingInterval::Daily,
            minimum_balance: Amount::ZERO,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayAccrual {
    pub day: Date,
    pub wallets: usize,
    /// Sum of the day's accruals, in minor units (fractional).
    pub accrued: Decimal,
    /// Whole minor units posted after this day (0 on days without a posting).
    pub posted: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccrualReport {
    pub days: Vec<DayAccrual>,
}

fn invalid(code: ErrorCode, message: String) -> ServiceError {
    ServiceError::new(code, message)
}

impl<S: Storage> FundService<S> {
    /// Today in the platform's time zone.
    pub fn business_today(&self) -> Date {
        let now = jiff::Timestamp::from_millisecond(self.store.clock().now_ms())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        now.to_zoned(self.config.yield_policy.time_zone.clone()).date()
    }

    /// The platform's time zone: business days, and the times operators type and read.
    pub fn platform_zone(&self) -> &jiff::tz::TimeZone {
        &self.config.yield_policy.time_zone
    }

    /// Accrues through yesterday; what `serve` runs every hour so that missed days after a
    /// stop are caught up without an operator.
    pub async fn accrue_through_yesterday(&self) -> Result<AccrualReport, ServiceError> {
        let today = self.business_today();
        let yesterday = today.yesterday().map_err(|error| internal(error.to_string()))?;
        self.accrue_through(yesterday, today).await
    }

    pub async fn set_yield_rate(
        &self,
        effective_from: Date,
        annual_rate: Decimal,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store
            .set_yield_rate(&effective_from.to_string(), annual_rate, self.store.clock().now_ms())
            .await?)
    }

    /// The rate schedule: each annual rate with the day it applies from, oldest first.
    pub async fn yield_rates(&self) -> Result<Vec<(String, Decimal)>, ServiceError> {
        Ok(self.store.yield_rates().await?)
    }

    fn day_end_ms(&self, day: Date) -> Result<i64, ServiceError> {
        end_of_day_ms(&self.config.yield_policy.time_zone, day)
    }

    /// Accrues every day not yet accrued up to `through` (which must be over: before
    /// `today`), posting as the interval says, and finishes postings an earlier run left.
    pub async fn accrue_through(
        &self,
        through: Date,
        today: Date,
    ) -> Result<AccrualReport, ServiceError> {
        if through >= today {
            return Err(invalid(
                ErrorCode::DayNotOver,
                format!(
                    "{through} is not over yet in the platform's time zone; accrue through {} at most.",
                    today.yesterday().unwrap_or(today)
                ),
            ));
        }
        let mut report = AccrualReport::default();
        report.days.extend(self.finish_unposted_days().await?);
        let Some(first_day) = self.first_day_to_accrue().await? else {
            return Ok(report);
        };
        if first_day > through {
            return Ok(report);
        }
        let span = (through - first_day).get_days();
        if span >= CATCH_UP_DAYS_MAX {
            return Err(invalid(
                ErrorCode::CatchUpTooLong,
                format!(
                    "{first_day} to {through} is more than {CATCH_UP_DAYS_MAX} days; accrue in steps."
                ),
            ));
        }
        let rates = self
            .store
            .yield_rates()
            .await?
            .into_iter()
            .map(|(day, rate)| day.parse::<Date>().map(|day| (day, rate)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| internal(error.to_string()))?;
        let schedule = RateSchedule::new(rates);
        let mut day = first_day;
        while day <= through {
            report.days.push(self.accrue_day(day, &schedule).await?);
            day = day.tomorrow().map_err(|error| internal(error.to_string()))?;
        }
        Ok(report)
    }

    /// Postings an interrupted run did not finish, in day order.
    async fn finish_unposted_days(&self) -> Result<Vec<DayAccrual>, ServiceError> {
        let mut finished = Vec::new();
        for day in self.store.unposted_days().await? {
            let date: Date =
                day.parse().map_err(|error: jiff::Error| internal(error.to_string()))?;
            if self.config.yield_policy.posting.posts_after(date) {
                let posted = self.post_yield(&day).await?;
                finished.push(DayAccrual { day: date, wallets: 0, accrued: Decimal::ZERO, posted });
            } else {
                self.store.mark_yield_day_posted(&day, self.store.clock().now_ms()).await?;
            }
        }
        Ok(finished)
    }

    /// The day after the last one accrued, or the day of the first journal entry; `None`
    /// when the journal is empty.
    async fn first_day_to_accrue(&self) -> Result<Option<Date>, ServiceError> {
        let day = match self.store.last_accrued_day().await? {
            Some(day) => day
                .parse::<Date>()
                .map_err(|error| internal(error.to_string()))?
                .tomorrow()
                .map_err(|error| internal(error.to_string()))?,
            None => match self.store.first_applied_at_ms().await? {
                Some(first_ms) => jiff::Timestamp::from_millisecond(first_ms)
                    .map_err(|error| internal(error.to_string()))?
                    .to_zoned(self.config.yield_policy.time_zone.clone())
                    .date(),
                None => return Ok(None),
            },
        };
        Ok(Some(day))
    }

    async fn accrue_day(
        &self,
        day: Date,
        schedule: &RateSchedule,
    ) -> Result<DayAccrual, ServiceError> {
        let policy = &self.config.yield_policy;
        let rate = schedule.rate_on(day);
        let through_sequence = self.store.sequence_before(self.day_end_ms(day)?).await?;
        let minimum = policy.minimum_balance.minor_units();
        let day_count = policy.day_count;
        let accrue = move |balance: i64| {
            (balance > 0 && balance >= minimum)
                .then(|| daily_accrual(balance, rate, day_count))
                .filter(|accrued| *accrued > Decimal::ZERO)
        };
        let day_text = day.to_string();
        let started = std::time::Instant::now();
        // `None`: another process accrued this day first; the postings below are due
        // either way and are applied once.
        let recorded = self
            .store
            .record_accrual_day(
                &day_text,
                through_sequence,
                rate,
                accrue,
                self.store.clock().now_ms(),
            )
            .await?
            .unwrap_or_default();
        let accrued_in = started.elapsed();
        let posted = if policy.posting.posts_after(day) {
            self.post_yield(&day_text).await?
        } else {
            self.store.mark_yield_day_posted(&day_text, self.store.clock().now_ms()).await?;
            0
        };
        let (wallets, accrued) = (recorded.wallets, recorded.accrued);
        tracing::info!(
            %day,
            wallets,
            %accrued,
            posted,
            accrual_ms = accrued_in.as_millis(),
            posting_ms = (started.elapsed() - accrued_in).as_millis(),
            "yield accrued"
        );
        Ok(DayAccrual {
            day,
            wallets: usize::try_from(wallets).unwrap_or(usize::MAX),
            accrued,
            posted,
        })
    }

    /// Posts every whole minor unit accrued and not yet posted, as of `day`.
    async fn post_yield(&self, day: &str) -> Result<i64, ServiceError> {
        let mut posted_total = 0_i64;
        let mut after = None;
        loop {
            let page = self.store.yield_postings_due(after, POSTINGS_PER_PAGE).await?;
            for chunk in page.due.chunks(BATCH_COMMANDS_MAX) {
                posted_total += self.post_chunk(day, chunk).await?;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        self.store.mark_yield_day_posted(day, self.store.clock().now_ms()).await?;
        Ok(posted_total)
    }

    /// Posts one chunk of what is due through the ledger writer and records what it
    /// applied; the first failure stops the run (what was applied stays recorded).
    async fn post_chunk(&self, day: &str, chunk: &[PostingDue]) -> Result<i64, ServiceError> {
        let mut commands = Vec::with_capacity(chunk.len());
        for position in chunk {
            let amount = PositiveAmount::try_from(position.cumulative_floor - position.posted)
                .map_err(|error| internal(error.to_string()))?;
            commands.push(Command {
                idempotency: IdempotencyKey {
                    key: format!("yield/{}/{day}", position.customer_id),
                    fingerprint: fingerprint(&[
                        b"yield",
                        position.customer_id.to_string().as_bytes(),
                        day.as_bytes(),
                        &amount.amount().minor_units().to_be_bytes(),
                    ]),
                },
                recorded_at_ms: self.store.clock().now_ms(),
                kind: CommandKind::PostYield {
                    customer_id: position.customer_id,
                    amount,
                    day: day.to_owned(),
                },
            });
        }
        let mut posted = 0_i64;
        let mut applied = Vec::with_capacity(chunk.len());
        let mut failure = None;
        for (position, result) in chunk.iter().zip(self.writer.submit_all(commands).await) {
            match result {
                Ok(decided) => match decided.outcome {
                    Outcome::YieldPosted { amount, .. } => {
                        posted += amount.minor_units();
                        applied.push((position.customer_id, position.cumulative_floor));
                    }
                    other => failure = Some(internal(format!("yield posting answered {other:?}"))),
                },
                Err(error) => failure = Some(ServiceError::from(error)),
            }
        }
        self.store.record_yield_posted(&applied).await?;
        if let Some(error) = failure {
            tracing::error!(%day, code = %error.code, "yield posting stopped: {}", error.message);
            return Err(error);
        }
        Ok(posted)
    }
}
