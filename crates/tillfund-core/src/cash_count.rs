//! The drawer counted at a day's close: what the counter expected it to hold (opening
//! float, plus cash taken for top-ups, less cash given back and cash dropped to the bank),
//! what the manager counted, and the difference. Declared once here with its rules, so the
//! counter that records a count and the server that keeps it check the same things.
//!
//! Over/short is a record, not a movement of money: the store owes the platform the drawer
//! cash of its top-ups whatever the drawer holds, so a short drawer is the store's loss and
//! an over drawer its gain, settled between the store and its staff.

use serde::{Deserialize, Serialize};

/// Notes and coins of the yuan in fen, highest first: ¥100, ¥50, ¥20, ¥10, ¥5, ¥1, 5 角,
/// 1 角 (notes and coins of the same value are counted together).
pub const CNY_DENOMINATIONS: [i64; 8] = [10_000, 5_000, 2_000, 1_000, 500, 100, 50, 10];

/// Beyond this (either way) a count needs the manager's note saying why: ¥10.00.
pub const NOTE_REQUIRED_ABOVE: i64 = 1_000;

/// The most one drawer can be said to hold, float or count: ¥1,000,000. Far above any
/// counter's day; a bound so that sums of a day's counts cannot overflow.
pub const DRAWER_AMOUNT_MAX: i64 = 100_000_000;

/// The most pieces of one denomination in a count.
pub const PIECES_MAX: i64 = 100_000;

/// The most cash drops one counter records in a day.
pub const CASH_DROPS_PER_DAY_MAX: i64 = 100;

pub const NOTE_MAX_CHARS: usize = 500;
pub const COUNTED_BY_MAX_CHARS: usize = 40;

/// How many pieces of one note or coin value were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DenominationCount {
    /// The value of one piece in minor units (fen): one of [`CNY_DENOMINATIONS`].
    pub value: i64,
    pub pieces: i64,
}

/// A counter's drawer counted for a business day. Amounts are minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CashCount {
    /// Cash put in the drawer to give change with, before the first sale.
    pub opening_float: i64,
    /// Cash taken for top-ups less cash given back for reversals, by the counter's records.
    pub drawer_cash: i64,
    /// Cash taken out to the bank during the day, and how many times.
    pub cash_dropped: i64,
    pub cash_drop_count: i64,
    /// What the drawer should hold: float + drawer cash − dropped.
    pub expected: i64,
    /// What the manager counted.
    pub counted: i64,
    /// Counted − expected: positive, the drawer is over; negative, short.
    pub over_short: i64,
    /// The count by note and coin value; empty when the total was counted as one figure.
    pub denominations: Vec<DenominationCount>,
    /// Who counted: the staff member's name.
    pub counted_by: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub counted_at_ms: i64,
    /// Why the drawer is over or short; needed beyond [`NOTE_REQUIRED_ABOVE`].
    pub note: Option<String>,
}

/// Why a count cannot be what it says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashCountProblem {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "The drawer is {over_short} {direction} what it should hold: say why in a note (needed beyond {limit}).",
        over_short = minor_text(over_short.abs()),
        direction = if *over_short > 0 { "over" } else { "short of" },
        limit = minor_text(NOTE_REQUIRED_ABOVE)
    )]
    NoteNeeded { over_short: i64 },
}

/// Minor units as a plain major-unit figure, "12.30", "-0.50" (messages only; no
/// currency sign): the yuan's own formatting.
fn minor_text(minor: i64) -> String {
    crate::Amount::from_minor_units(minor)
        .map_or_else(|_| minor.to_string(), |amount| amount.format(crate::Currency::default()))
}

fn within(name: &str, value: i64, max: i64) -> Result<(), CashCountProblem> {
    if (0..=max).contains(&value) {
        Ok(())
    } else {
        Err(CashCountProblem::Invalid(format!("{name} must be between 0 and {}", minor_text(max))))
    }
}

/// Text people type: bounded, no control characters (it reaches receipts and pages).
fn check_text(name: &str, text: &str, max_chars: usize) -> Result<(), CashCountProblem> {
    if text.chars().count() > max_chars || text.chars().any(char::is_control) {
        return Err(CashCountProblem::Invalid(format!(
            "{name} must be at most {max_chars} characters, without control characters"
        )));
    }
    Ok(())
}

/// The total of a count by denomination, refusing values that are not notes or coins,
/// a value given twice, and piece counts out of range.
pub fn denominations_total(denominations: &[DenominationCount]) -> Result<i64, CashCountProblem> {
    let mut total = 0_i64;
    for (index, denomination) in denominations.iter().enumerate() {
        if !CNY_DENOMINATIONS.contains(&denomination.value) {
            return Err(CashCountProblem::Invalid(format!(
                "{} is not a note or coin value",
                minor_text(denomination.value)
            )));
        }
        if denominations[..index].iter().any(|earlier| earlier.value == denomination.value) {
            return Err(CashCountProblem::Invalid(format!(
                "{} is counted twice",
                minor_text(denomination.value)
            )));
        }
        if !(0..=PIECES_MAX).contains(&denomination.pieces) {
            return Err(CashCountProblem::Invalid(format!(
                "pieces of one value are from 0 to {PIECES_MAX}"
            )));
        }
        // Bounded: 8 distinct values, the largest 10,000 fen, at most 100,000 pieces each,
        // so the total is under 2·10^9 fen.
        total += denomination.value * denomination.pieces;
    }
    Ok(total)
}

impl CashCount {
    /// What the drawer should hold, from the float, the cash and the drops.
    pub fn expected_from(opening_float: i64, drawer_cash: i64, cash_dropped: i64) -> i64 {
        opening_float + drawer_cash - cash_dropped
    }

    /// Whether the count adds up and stays within its bounds; the note is needed when the
    /// drawer is over or short by more than [`NOTE_REQUIRED_ABOVE`].
    pub fn check(&self) -> Result<(), CashCountProblem> {
        within("the opening float", self.opening_float, DRAWER_AMOUNT_MAX)?;
        within("the cash dropped", self.cash_dropped, DRAWER_AMOUNT_MAX)?;
        within("the counted cash", self.counted, DRAWER_AMOUNT_MAX)?;
        if !(-DRAWER_AMOUNT_MAX..=DRAWER_AMOUNT_MAX).contains(&self.drawer_cash) {
            return Err(CashCountProblem::Invalid("the drawer cash is out of range".into()));
        }
        if !(0..=CASH_DROPS_PER_DAY_MAX).contains(&self.cash_drop_count)
            || (self.cash_drop_count == 0) != (self.cash_dropped == 0)
        {
            return Err(CashCountProblem::Invalid(format!(
                "cash drops are 0 to {CASH_DROPS_PER_DAY_MAX}, and none means nothing dropped"
            )));
        }
        if self.expected
            != Self::expected_from(self.opening_float, self.drawer_cash, self.cash_dropped)
        {
            return Err(CashCountProblem::Invalid(
                "the expected cash is not the float plus the drawer cash less the drops".into(),
            ));
        }
        if self.over_short != self.counted - self.expected {
            return Err(CashCountProblem::Invalid(
                "over/short is not the counted less the expected cash".into(),
            ));
        }
        if self.denominations.len() > CNY_DENOMINATIONS.len() {
            return Err(CashCountProblem::Invalid("too many note and coin values".into()));
        }
        if !self.denominations.is_empty()
            && denominations_total(&self.denominations)? != self.counted
        {
            return Err(CashCountProblem::Invalid(
                "the notes and coins do not add up to the counted cash".into(),
            ));
        }
        if self.counted_by.trim().is_empty() {
            return Err(CashCountProblem::Invalid("who counted is missing".into()));
        }
        check_text("who counted", &self.counted_by, COUNTED_BY_MAX_CHARS)?;
        // A note is kept as sent: trimmed and not empty, or absent.
        if let Some(note) = self.note.as_deref() {
            if note.trim() != note || note.is_empty() {
                return Err(CashCountProblem::Invalid(
                    "a note has no blanks at its ends and is not empty (leave it out)".into(),
                ));
            }
            check_text("the note", note, NOTE_MAX_CHARS)?;
        }
        if self.over_short.abs() > NOTE_REQUIRED_ABOVE && self.note.is_none() {
            return Err(CashCountProblem::NoteNeeded { over_short: self.over_short });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count() -> CashCount {
        CashCount {
            opening_float: 20_000,
            drawer_cash: 150_000,
            cash_dropped: 100_000,
            cash_drop_count: 1,
            expected: 70_000,
            counted: 69_700,
            over_short: -300,
            denominations: vec![
                DenominationCount { value: 10_000, pieces: 6 },
                DenominationCount { value: 5_000, pieces: 1 },
                DenominationCount { value: 2_000, pieces: 2 },
                DenominationCount { value: 500, pieces: 1 },
                DenominationCount { value: 100, pieces: 1 },
                DenominationCount { value: 50, pieces: 1 },
                DenominationCount { value: 10, pieces: 5 },
            ],
            counted_by: "Mia".into(),
            counted_at_ms: 1,
            note: None,
        }
    }

    #[test]
    fn a_count_that_adds_up_passes() {
        assert_eq!(denominations_total(&count().denominations), Ok(69_700));
        assert_eq!(count().check(), Ok(()));
        let as_total = CashCount { denominations: vec![], ..count() };
        assert_eq!(as_total.check(), Ok(()));
    }

    #[test]
    fn figures_that_do_not_add_up_are_refused() {
        let wrong = [
            CashCount { expected: 70_001, ..count() },
            CashCount { over_short: 0, ..count() },
            CashCount { counted: 69_710, over_short: -290, ..count() },
            CashCount { cash_drop_count: 0, ..count() },
            CashCount { opening_float: -1, expected: 49_999, over_short: 19_701, ..count() },
            CashCount {
                denominations: vec![DenominationCount { value: 3_000, pieces: 1 }],
                ..count()
            },
            CashCount { counted_by: " ".into(), ..count() },
            CashCount { counted_by: "Mia\u{7}".into(), ..count() },
            CashCount { note: Some("x".repeat(NOTE_MAX_CHARS + 1)), ..count() },
            CashCount { counted: DRAWER_AMOUNT_MAX + 1, ..count() },
        ];
        for count in wrong {
            assert!(matches!(count.check(), Err(CashCountProblem::Invalid(_))), "{count:?} passed");
        }
        let twice = [
            DenominationCount { value: 10, pieces: 1 },
            DenominationCount { value: 10, pieces: 1 },
        ];
        assert!(denominations_total(&twice).is_err());
        let too_many = [DenominationCount { value: 10, pieces: PIECES_MAX + 1 }];
        assert!(denominations_total(&too_many).is_err());
    }

    #[test]
    fn beyond_the_limit_a_note_is_needed() {
        let short =
            CashCount { counted: 68_900, over_short: -1_100, denominations: vec![], ..count() };
        let problem = short.check().unwrap_err();
        assert_eq!(problem, CashCountProblem::NoteNeeded { over_short: -1_100 });
        assert_eq!(
            problem.to_string(),
            "The drawer is 11.00 short of what it should hold: say why in a note (needed beyond 10.00)."
        );
        for unkept in ["  ", "", " why", "why\n", "why\u{85}"] {
            let count = CashCount { note: Some(unkept.into()), ..short.clone() };
            assert!(matches!(count.check(), Err(CashCountProblem::Invalid(_))), "{unkept:?}");
        }
        assert_eq!(minor_text(-50), "-0.50");
        let explained = CashCount { note: Some("change given twice".into()), ..short.clone() };
        assert_eq!(explained.check(), Ok(()));
        let at_limit = CashCount { counted: 69_000, over_short: -1_000, ..short };
        assert_eq!(at_limit.check(), Ok(()));
    }
}
