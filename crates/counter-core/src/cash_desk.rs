//! The drawer through a business day: the opening float, cash drops to the bank, and the
//! blind count at the close. The count is entered before the expected figure is shown
//! (the day screen hides the drawer's figures until then), recorded once with who counted,
//! and sent to the server with the day's close (`close_day`), which keeps it per counter.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use sqlx::Row;
use tillfund_core::cash_count::{
    CASH_DROPS_PER_DAY_MAX, CashCount, CashCountProblem, DRAWER_AMOUNT_MAX, DenominationCount,
    denominations_total,
};
use tillfund_core::{Amount, Currency, StaffId};

use crate::counter::{Counter, CounterError};
use crate::error_code::CounterCode;
use crate::settlement::day_bounds_ms;
use crate::staff::{Role, StaffSession};
use crate::store::LocalStoreError;

/// Cash taken out of the drawer to the bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CashDrop {
    pub amount: i64,
    pub dropped_by: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub dropped_at_ms: i64,
}

/// The drawer's day as the manager works it: float, drops, and the count once made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DrawerDay {
    pub day: String,
    /// `None` before anyone set it (counted as zero).
    pub opening_float: Option<i64>,
    pub float_set_by: Option<String>,
    pub drops: Vec<CashDrop>,
    pub count: Option<CashCount>,
}

impl DrawerDay {
    pub fn cash_dropped(&self) -> i64 {
        self.drops.iter().map(|drop| drop.amount).sum()
    }
}

/// What the manager counted: note and coin by value, or one total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted {
    Denominations(Vec<DenominationCount>),
    Total(Amount),
}

fn read(error: sqlx::Error) -> CounterError {
    CounterError::Local(LocalStoreError::from(error))
}

fn invalid(code: CounterCode, message: impl Into<String>) -> CounterError {
    CounterError::Invalid { code, message: message.into() }
}

/// An amount keyed for the drawer: zero or more, in the counter's currency.
fn drawer_amount(text: &str, currency: &str) -> Result<Amount, CounterError> {
    let currency = Currency::from_code(currency)
        .map_err(|error| invalid(CounterCode::CurrencyUnsupported, error.to_string()))?;
    let amount = Amount::parse(text, currency)
        .map_err(|error| CounterError::Field { code: error.code(), message: error.to_string() })?;
    if !(0..=DRAWER_AMOUNT_MAX).contains(&amount.minor_units()) {
        return Err(invalid(
            CounterCode::DrawerAmountInvalid,
            format!(
                "a drawer amount is from 0 to {}",
                crate::settlement::money(DRAWER_AMOUNT_MAX, currency.code())
            ),
        ));
    }
    Ok(amount)
}

impl Counter {
    /// The store's zone, as enrolled.
    pub(crate) fn zone(&self, time_zone: &str) -> Result<TimeZone, CounterError> {
        TimeZone::get(time_zone)
            .map_err(|error| invalid(CounterCode::TimeZoneInvalid, error.to_string()))
    }

    /// The store's business day now.
    pub async fn store_today(&self) -> Result<Date, CounterError> {
        let profile = self.profile().await?;
        let now = jiff::Timestamp::from_millisecond(self.store().now_ms())
            .map_err(|error| invalid(CounterCode::DayInvalid, error.to_string()))?;
        Ok(now.to_zoned(self.zone(&profile.time_zone)?).date())
    }

    /// The drawer's float, drops and count for `day`.
    pub async fn drawer_day(&self, day: Date) -> Result<DrawerDay, CounterError> {
        let profile = self.profile().await?;
        let (start_ms, end_ms) = day_bounds_ms(&self.zone(&profile.time_zone)?, day)?;
        let pool = self.store().pool();
        let day_text = day.to_string();
        let float = sqlx::query("SELECT amount, set_by FROM opening_floats WHERE day = ?")
            .bind(&day_text)
            .fetch_optional(pool)
            .await
            .map_err(read)?;
        let drops = sqlx::query(
            "SELECT amount, dropped_by, dropped_at_ms FROM cash_drops \
             WHERE dropped_at_ms >= ? AND dropped_at_ms < ? ORDER BY dropped_at_ms, drop_id LIMIT ?",
        )
        .bind(start_ms)
        .bind(end_ms)
        .bind(CASH_DROPS_PER_DAY_MAX)
        .fetch_all(pool)
        .await
        .map_err(read)?;
        let count: Option<String> =
            sqlx::query_scalar("SELECT count FROM cash_counts WHERE day = ?")
                .bind(&day_text)
                .fetch_optional(pool)
                .await
                .map_err(read)?;
        Ok(DrawerDay {
            day: day_text,
            opening_float: float
                .as_ref()
                .map(|row| row.try_get("amount"))
                .transpose()
                .map_err(read)?,
            float_set_by: float
                .as_ref()
                .map(|row| row.try_get("set_by"))
                .transpose()
                .map_err(read)?,
            drops: drops
                .iter()
                .map(|row| {
                    Ok(CashDrop {
                        amount: row.try_get("amount")?,
                        dropped_by: row.try_get("dropped_by")?,
                        dropped_at_ms: row.try_get("dropped_at_ms")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(read)?,
            count: count
                .map(|json| {
                    serde_json::from_str(&json).map_err(|error| {
                        CounterError::Local(LocalStoreError::Corrupt(error.to_string()))
                    })
                })
                .transpose()?,
        })
    }

    /// A day whose drawer is counted takes no more float or drops (nor does a closed day or
    /// one not begun, `refuse_unless_day_open`).
    async fn drawer_open(&self, day: Date) -> Result<DrawerDay, CounterError> {
        self.refuse_unless_day_open(day).await?;
        let drawer = self.drawer_day(day).await?;
        if drawer.count.is_some() {
            return Err(invalid(
                CounterCode::DrawerCounted,
                format!("the drawer of {day} is counted already: its figures do not change"),
            ));
        }
        Ok(drawer)
    }

    /// Sets the float put in the drawer for today (again, until the count).
    pub async fn set_opening_float(
        &self,
        amount_text: &str,
        by: &StaffSession,
    ) -> Result<DrawerDay, CounterError> {
        let profile = self.profile().await?;
        let amount = drawer_amount(amount_text, &profile.currency)?;
        let today = self.store_today().await?;
        let drawer = self.drawer_open(today).await?;
        // Whoever opens the counter puts the float in; changing it takes a manager (a lower
        // float would hide cash taken from the drawer).
        if drawer.opening_float.is_some() && by.role != Role::Manager {
            return Err(CounterError::ManagerRequired);
        }
        // Not once the day is counted, also when the count lands between the check and here.
        sqlx::query(
            "INSERT INTO opening_floats (day, amount, set_by, set_at_ms) \
             SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM cash_counts WHERE day = ?1) \
             ON CONFLICT (day) DO UPDATE SET amount = excluded.amount, set_by = excluded.set_by, \
             set_at_ms = excluded.set_at_ms",
        )
        .bind(today.to_string())
        .bind(amount.minor_units())
        .bind(&by.name)
        .bind(self.store().now_ms())
        .execute(self.store().pool())
        .await
        .map_err(read)?;
        self.drawer_day(today).await
    }

    /// Records cash taken out of the drawer to the bank now. Not checked against what the
    /// drawer should hold: a refusal would tell the expected cash before the blind count
    /// (try amounts until one is refused); a wrong drop shows as over/short at the count.
    pub async fn record_cash_drop(
        &self,
        amount_text: &str,
        by: &StaffSession,
    ) -> Result<DrawerDay, CounterError> {
        let profile = self.profile().await?;
        let amount = drawer_amount(amount_text, &profile.currency)?;
        if amount.minor_units() == 0 {
            return Err(invalid(CounterCode::DrawerAmountInvalid, "a cash drop is more than zero"));
        }
        let today = self.store_today().await?;
        let drawer = self.drawer_open(today).await?;
        if i64::try_from(drawer.drops.len()).unwrap_or(i64::MAX) >= CASH_DROPS_PER_DAY_MAX {
            return Err(invalid(
                CounterCode::DrawerAmountInvalid,
                format!("at most {CASH_DROPS_PER_DAY_MAX} cash drops a day"),
            ));
        }
        sqlx::query(
            "INSERT INTO cash_drops (drop_id, amount, dropped_by, dropped_at_ms) \
             SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM cash_counts WHERE day = ?)",
        )
        .bind(StaffId::generate().to_string())
        .bind(amount.minor_units())
        .bind(&by.name)
        .bind(self.store().now_ms())
        .bind(today.to_string())
        .execute(self.store().pool())
        .await
        .map_err(read)?;
        self.drawer_day(today).await
    }

    async fn day_figures(
        &self,
        day: Date,
    ) -> Result<crate::settlement::CounterFigures, CounterError> {
        let profile = self.profile().await?;
        let (start_ms, end_ms) = day_bounds_ms(&self.zone(&profile.time_zone)?, day)?;
        self.counter_figures(start_ms, end_ms).await
    }

    /// The blind count of `day`'s drawer; the answer is the first time the expected figure
    /// and the over/short are shown. Beyond the limit a note is needed. Counted once: again
    /// only when cash moved since (the count is stale, and the close would refuse it).
    pub async fn count_cash(
        &self,
        day: Date,
        counted: Counted,
        note: Option<String>,
        by: &StaffSession,
    ) -> Result<CashCount, CounterError> {
        self.refuse_unless_day_open(day).await?;
        let drawer = self.drawer_day(day).await?;
        let figures = self.day_figures(day).await?;
        if let Some(kept) = &drawer.count
            && kept.drawer_cash == figures.drawer_cash()
        {
            return Err(invalid(
                CounterCode::DrawerCounted,
                format!("the drawer of {day} is counted already: its figures do not change"),
            ));
        }
        let (counted, denominations) = match counted {
            Counted::Denominations(denominations) => {
                let total = denominations_total(&denominations).map_err(|problem| {
                    invalid(CounterCode::CashCountInvalid, problem.to_string())
                })?;
                let counted: Vec<_> =
                    denominations.into_iter().filter(|value| value.pieces > 0).collect();
                (total, counted)
            }
            Counted::Total(amount) => (amount.minor_units(), Vec::new()),
        };
        let opening_float = drawer.opening_float.unwrap_or(0);
        let expected =
            CashCount::expected_from(opening_float, figures.drawer_cash(), drawer.cash_dropped());
        let count = CashCount {
            opening_float,
            drawer_cash: figures.drawer_cash(),
            cash_dropped: drawer.cash_dropped(),
            cash_drop_count: i64::try_from(drawer.drops.len()).unwrap_or(i64::MAX),
            expected,
            counted,
            over_short: counted - expected,
            denominations,
            counted_by: by.name.clone(),
            counted_at_ms: self.store().now_ms(),
            note: note.map(|note| note.trim().to_owned()).filter(|note| !note.is_empty()),
        };
        count.check().map_err(|problem| match problem {
            CashCountProblem::NoteNeeded { .. } => {
                invalid(CounterCode::CashCountNoteNeeded, problem.to_string())
            }
            CashCountProblem::Invalid(message) => invalid(CounterCode::CashCountInvalid, message),
        })?;
        let json = serde_json::to_string(&count)
            .map_err(|error| CounterError::Local(LocalStoreError::Corrupt(error.to_string())))?;
        // One statement decides: written only while the float and the drops are what the
        // count was made from (a drop pressed while the count was on its way would be
        // missing from it), and replacing only the count it was made against (none, or the
        // stale one): a count that landed meanwhile stands.
        let profile = self.profile().await?;
        let (start_ms, end_ms) = day_bounds_ms(&self.zone(&profile.time_zone)?, day)?;
        let previous = drawer.count.as_ref().map(|kept| kept.counted_at_ms);
        let written = sqlx::query(
            "INSERT INTO cash_counts (day, count, counted_at_ms) SELECT ?1, ?2, ?3 \
             WHERE coalesce((SELECT amount FROM opening_floats WHERE day = ?1), 0) = ?5 \
               AND (SELECT coalesce(sum(amount), 0) FROM cash_drops \
                    WHERE dropped_at_ms >= ?6 AND dropped_at_ms < ?7) = ?8 \
             ON CONFLICT (day) DO UPDATE SET count = excluded.count, \
             counted_at_ms = excluded.counted_at_ms WHERE cash_counts.counted_at_ms IS ?4",
        )
        .bind(day.to_string())
        .bind(json)
        .bind(count.counted_at_ms)
        .bind(previous)
        .bind(count.opening_float)
        .bind(start_ms)
        .bind(end_ms)
        .bind(count.cash_dropped)
        .execute(self.store().pool())
        .await
        .map_err(read)?;
        if written.rows_affected() == 0 {
            return Err(invalid(
                CounterCode::DrawerCounted,
                format!(
                    "the drawer of {day} was counted, or its float or drops changed, a moment \
                     ago: look at the day again"
                ),
            ));
        }
        Ok(count)
    }

    /// A day's drawer changes only once the day has begun (a count kept for tomorrow would
    /// be refused by the server at tomorrow's close, made before the day began, for good)
    /// and until its Z-report is kept.
    async fn refuse_unless_day_open(&self, day: Date) -> Result<(), CounterError> {
        let today = self.store_today().await?;
        if day > today {
            return Err(invalid(
                CounterCode::DayInvalid,
                format!("{day} has not begun at this store (today is {today})"),
            ));
        }
        let closed: Option<i64> = sqlx::query_scalar("SELECT 1 FROM closed_days WHERE day = ?")
            .bind(day.to_string())
            .fetch_optional(self.store().pool())
            .await
            .map_err(read)?;
        if closed.is_some() {
            return Err(invalid(
                CounterCode::DrawerCounted,
                format!("{day} is closed: its drawer's figures do not change"),
            ));
        }
        Ok(())
    }

    /// The count of `day`, if made: what the close sends.
    pub(crate) async fn cash_count(&self, day: Date) -> Result<Option<CashCount>, CounterError> {
        Ok(self.drawer_day(day).await?.count)
    }

    /// Refuses a close whose count no longer holds: cash moved after it (a top-up taken or
    /// reversed since), so what it says the drawer should hold is not what it should.
    pub(crate) fn check_count_current(
        count: Option<&CashCount>,
        figures: &crate::settlement::CounterFigures,
    ) -> Result<(), CounterError> {
        match count {
            Some(count) if count.drawer_cash != figures.drawer_cash() => Err(invalid(
                CounterCode::DrawerCountStale,
                "cash was taken or given back after the drawer was counted: count it again, then close",
            )),
            _ => Ok(()),
        }
    }
}
