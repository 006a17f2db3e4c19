//! Yield arithmetic: daily accrual on the end-of-day balance, posting of whole minor units.
//!
//! # Formulas
//!
//! For each wallet and each calendar day D (in the platform's time zone):
//!
//! ```text
//! balance(D)  = principal + bonus + yield held at the end of D (minor units)
//! accrual(D)  = balance(D) × annual_rate(D) / divisor      (0 if balance(D) < minimum)
//! divisor     = 365 for ACT/365 (the default), 360 for ACT/360
//! cumulative  = Σ accrual over every day accrued so far     (exact decimal, minor units)
//! posted      = ⌊cumulative⌋ at each posting                (whole minor units)
//! ```
//!
//! `annual_rate(D)` is the rate of the latest rate change effective on or before D. Each
//! day's accrual is kept to 12 decimal places of the minor unit (rounded toward zero), and
//! what is not yet a whole minor unit is carried in `cumulative`: a posting pays
//! `⌊cumulative⌋ − posted so far`, so fractions are never dropped, only paid later.
//!
//! Worked example: 10,000.00 CNY (1,000,000 fen) held 31 days at 3.65 %, ACT/365:
//! `accrual = 1,000,000 × 0.0365 / 365 = 100 fen` a day; after 31 days
//! `cumulative = 3,100 fen`, so the month-end posting pays 31.00 CNY.
//! With 1,234.56 CNY at 3.65 %: `123,456 × 0.0365 / 365 = 12.3456 fen` a day; a daily
//! posting pays 12 fen and carries 0.3456; on the third day the carry passes one fen and
//! that day pays 13 (cumulative 37.0368 → ⌊37.0368⌋ − 24 = 13).

use jiff::civil::Date;
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of the minor unit kept for each day's accrual.
pub const ACCRUAL_SCALE: u32 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCount {
    /// Actual days, 365-day year: a day earns rate / 365.
    Act365,
    /// Actual days, 360-day year: a day earns rate / 360.
    Act360,
}

impl DayCount {
    pub fn divisor(self) -> Decimal {
        match self {
            DayCount::Act365 => Decimal::from(365),
            DayCount::Act360 => Decimal::from(360),
        }
    }

    pub fn parse(text: &str) -> Option<DayCount> {
        match text.to_ascii_lowercase().as_str() {
            "act365" | "act/365" | "365" => Some(DayCount::Act365),
            "act360" | "act/360" | "360" => Some(DayCount::Act360),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostingInterval {
    /// Post after every accrued day.
    Daily,
    /// Post after the last day of each month.
    Monthly,
}

impl PostingInterval {
    pub fn parse(text: &str) -> Option<PostingInterval> {
        match text.to_ascii_lowercase().as_str() {
            "daily" => Some(PostingInterval::Daily),
            "monthly" => Some(PostingInterval::Monthly),
            _ => None,
        }
    }

    pub fn posts_after(self, day: Date) -> bool {
        match self {
            PostingInterval::Daily => true,
            PostingInterval::Monthly => day == day.last_of_month(),
        }
    }
}

/// Annual rates with the day each takes effect, e.g. 0.0365 from 2026-01-01.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateSchedule {
    /// Sorted by day, one rate per day.
    changes: Vec<(Date, Decimal)>,
}

impl RateSchedule {
    pub fn new(mut changes: Vec<(Date, Decimal)>) -> RateSchedule {
        changes.sort_by_key(|(day, _)| *day);
        changes.dedup_by_key(|(day, _)| *day);
        RateSchedule { changes }
    }

    /// The rate in force on `day`; zero before the first change.
    pub fn rate_on(&self, day: Date) -> Decimal {
        self.changes
            .iter()
            .rev()
            .find(|(from, _)| *from <= day)
            .map_or(Decimal::ZERO, |(_, rate)| *rate)
    }
}

/// One day's accrual, in minor units, to [`ACCRUAL_SCALE`] places, rounded toward zero.
pub fn daily_accrual(
    balance_minor_units: i64,
    annual_rate: Decimal,
    day_count: DayCount,
) -> Decimal {
    if balance_minor_units <= 0 || annual_rate <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    // Multiply first, divide last: the only rounding is the final one.
    let numerator =
        Decimal::from(balance_minor_units).checked_mul(annual_rate).unwrap_or(Decimal::ZERO);
    numerator
        .checked_div(day_count.divisor())
        .unwrap_or(Decimal::ZERO)
        .round_dp_with_strategy(ACCRUAL_SCALE, RoundingStrategy::ToZero)
}

/// What a posting pays: whole minor units accrued but not yet posted.
pub fn posting_due(cumulative: Decimal, posted_minor_units: i64) -> i64 {
    let whole = cumulative.floor();
    i64::try_from(whole).unwrap_or(i64::MAX).saturating_sub(posted_minor_units).max(0)
}

/// Parses a percentage such as "3.65" or "3.65%" into a rate (0.0365); at most 100 %.
pub fn parse_annual_percentage(text: &str) -> Option<Decimal> {
    let trimmed = text.trim().trim_end_matches('%').trim();
    let percent: Decimal = trimmed.parse().ok()?;
    if percent < Decimal::ZERO || percent > Decimal::from(100) || percent.scale() > 6 {
        return None;
    }
    percent.checked_div(Decimal::from(100))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn rate(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn the_brief_s_check_ten_thousand_for_31_days_at_3_65_percent_is_31_00() {
        let daily = daily_accrual(1_000_000, rate("0.0365"), DayCount::Act365);
        assert_eq!(daily, Decimal::from(100));
        let cumulative: Decimal = (0..31).map(|_| daily).sum();
        assert_eq!(posting_due(cumulative, 0), 3_100);
    }

    #[test]
    fn fractions_are_carried_not_dropped() {
        let daily = daily_accrual(123_456, rate("0.0365"), DayCount::Act365);
        assert_eq!(daily, rate("12.3456"));
        let mut cumulative = Decimal::ZERO;
        let mut posted = 0;
        let mut payments = Vec::new();
        for _ in 0..3 {
            cumulative += daily;
            let due = posting_due(cumulative, posted);
            posted += due;
            payments.push(due);
        }
        assert_eq!(payments, vec![12, 12, 13]);
        // Over a year nothing is lost: what is posted is the floor of the exact total.
        for _ in 3..365 {
            cumulative += daily;
            posted += posting_due(cumulative, posted);
        }
        assert_eq!(posted, 4_506);
        assert_eq!(cumulative, rate("4506.144"));
    }

    #[test]
    fn act360_pays_more_per_day_than_act365() {
        let act365 = daily_accrual(3_600_000, rate("0.0365"), DayCount::Act365);
        let act360 = daily_accrual(3_600_000, rate("0.0365"), DayCount::Act360);
        assert_eq!(act360, Decimal::from(365));
        assert_eq!(act365, Decimal::from(360));
    }

    #[test]
    fn tiny_balances_accrue_tiny_amounts_exactly_to_twelve_places() {
        let daily = daily_accrual(1, rate("0.0365"), DayCount::Act365);
        assert_eq!(daily, rate("0.0001"));
        let odd = daily_accrual(7, rate("0.03"), DayCount::Act365);
        assert_eq!(odd, rate("0.000575342465"));
        assert_eq!(daily_accrual(0, rate("0.05"), DayCount::Act365), Decimal::ZERO);
        assert_eq!(daily_accrual(-5, rate("0.05"), DayCount::Act365), Decimal::ZERO);
    }

    #[test]
    fn rates_change_on_their_effective_day() {
        let schedule = RateSchedule::new(vec![
            (jiff::civil::date(2026, 3, 1), rate("0.04")),
            (jiff::civil::date(2026, 1, 1), rate("0.0365")),
        ]);
        assert_eq!(schedule.rate_on(jiff::civil::date(2025, 12, 31)), Decimal::ZERO);
        assert_eq!(schedule.rate_on(jiff::civil::date(2026, 2, 28)), rate("0.0365"));
        assert_eq!(schedule.rate_on(jiff::civil::date(2026, 3, 1)), rate("0.04"));
    }

    #[test]
    fn monthly_posting_is_after_the_last_day_of_the_month() {
        assert!(PostingInterval::Monthly.posts_after(jiff::civil::date(2026, 2, 28)));
        assert!(!PostingInterval::Monthly.posts_after(jiff::civil::date(2028, 2, 28)));
        assert!(PostingInterval::Monthly.posts_after(jiff::civil::date(2028, 2, 29)));
        assert!(PostingInterval::Daily.posts_after(jiff::civil::date(2026, 2, 3)));
    }

    #[test]
    fn percentages_parse_strictly() {
        assert_eq!(parse_annual_percentage("3.65"), Some(rate("0.0365")));
        assert_eq!(parse_annual_percentage("3.65%"), Some(rate("0.0365")));
        assert_eq!(parse_annual_percentage("-1"), None);
        assert_eq!(parse_annual_percentage("101"), None);
        assert_eq!(parse_annual_percentage("abc"), None);
    }
}
