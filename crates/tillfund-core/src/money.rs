//! Money: an exact integer count of the deployment currency's minor unit.
//!
//! A deployment has one currency, so an [`Amount`] does not carry it; the [`Currency`] is
//! needed only to read and write amounts as text ("38.50"). No floating point ever touches
//! an amount: text is parsed with `rust_decimal` and anything that would need rounding is
//! rejected, never silently rounded.

use std::fmt;
use std::str::FromStr;

use crate::protocol::ErrorCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why a piece of text or a computation is not a valid amount.
///
/// Each variant has a stable [`MoneyError::code`] so that callers across a network or in a
/// UI can react without matching on the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{text}' is not an amount: write digits with an optional decimal point, like 38.50")]
    Malformed { text: String },
    #[error("{currency} amounts have at most {allowed} decimal places")]
    TooManyDecimals { currency: &'static str, allowed: u32 },
    #[error("the amount must be greater than zero")]
    NotPositive,
    #[error("the amount is outside the supported range")]
    OutOfRange,
}

impl MoneyError {
    pub fn code(&self) -> ErrorCode {
        match self {
            MoneyError::Malformed { .. } => ErrorCode::AmountMalformed,
            MoneyError::TooManyDecimals { .. } => ErrorCode::AmountTooManyDecimals,
            MoneyError::NotPositive => ErrorCode::AmountNotPositive,
            MoneyError::OutOfRange => ErrorCode::AmountOutOfRange,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{code}' is not a supported currency (supported: {supported})")]
pub struct UnsupportedCurrency {
    pub code: String,
    pub supported: String,
}

/// An ISO 4217 currency with its number of decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    decimal_places: u32,
}

impl Currency {
    pub const CNY: Currency = Currency { code: "CNY", decimal_places: 2 };

    /// The currencies a deployment may choose. A short, explicit list: adding one is a
    /// deliberate act, because its decimal places decide how every amount is read.
    const SUPPORTED: [Currency; 9] = [
        Currency::CNY,
        Currency { code: "HKD", decimal_places: 2 },
        Currency { code: "MOP", decimal_places: 2 },
        Currency { code: "TWD", decimal_places: 2 },
        Currency { code: "SGD", decimal_places: 2 },
        Currency { code: "USD", decimal_places: 2 },
        Currency { code: "EUR", decimal_places: 2 },
        Currency { code: "JPY", decimal_places: 0 },
        Currency { code: "KRW", decimal_places: 0 },
    ];

    pub fn from_code(code: &str) -> Result<Currency, UnsupportedCurrency> {
        Currency::SUPPORTED.iter().copied().find(|currency| currency.code == code).ok_or_else(
            || UnsupportedCurrency {
                code: code.chars().take(8).collect(),
                supported: Currency::SUPPORTED.map(|currency| currency.code).join(", "),
            },
        )
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn decimal_places(self) -> u32 {
        self.decimal_places
    }
}

impl Default for Currency {
    fn default() -> Currency {
        Currency::CNY
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.code)
    }
}

/// A signed amount of money in minor units (fen for CNY).
///
/// The magnitude is limited to [`Amount::MAX_MINOR_UNITS`], the largest integer a
/// JavaScript number holds exactly, so an amount survives every JSON client unchanged; that
/// is still 90 trillion yuan. On the wire an amount is that integer.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount {
    minor_units: i64,
}

impl Amount {
    pub const ZERO: Amount = Amount { minor_units: 0 };
    pub const MAX_MINOR_UNITS: i64 = (1 << 53) - 1;
    /// Longest text [`Amount::parse`] reads; longer input is malformed, not truncated.
    const TEXT_LENGTH_MAX: usize = 32;

    pub fn from_minor_units(minor_units: i64) -> Result<Amount, MoneyError> {
        if minor_units.unsigned_abs() > Amount::MAX_MINOR_UNITS.unsigned_abs() {
            return Err(MoneyError::OutOfRange);
        }
        Ok(Amount { minor_units })
    }

    pub fn minor_units(self) -> i64 {
        self.minor_units
    }

    pub fn is_positive(self) -> bool {
        self.minor_units > 0
    }

    pub fn is_negative(self) -> bool {
        self.minor_units < 0
    }

    pub fn checked_add(self, other: Amount) -> Result<Amount, MoneyError> {
        let sum = self.minor_units.checked_add(other.minor_units).ok_or(MoneyError::OutOfRange)?;
        Amount::from_minor_units(sum)
    }

    pub fn checked_sub(self, other: Amount) -> Result<Amount, MoneyError> {
        let difference =
            self.minor_units.checked_sub(other.minor_units).ok_or(MoneyError::OutOfRange)?;
        Amount::from_minor_units(difference)
    }

    /// Reads an amount written as plain digits with an optional leading minus and an
    /// optional decimal point: "38.50", "-2", "0.05". Thousands separators, exponents,
    /// and more decimal places than the currency has are rejected, so "38.505" is an
    /// error rather than 38.50 or 38.51.
    pub fn parse(text: &str, currency: Currency) -> Result<Amount, MoneyError> {
        let malformed = || MoneyError::Malformed { text: text.chars().take(40).collect() };
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.len() > Amount::TEXT_LENGTH_MAX {
            return Err(malformed());
        }
        let unsigned = trimmed.strip_prefix('-').unwrap_or(trimmed);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|fraction| !all_digits(fraction)) {
            return Err(malformed());
        }
        let decimal_places = fraction.map_or(0, str::len);
        if decimal_places > currency.decimal_places() as usize {
            return Err(MoneyError::TooManyDecimals {
                currency: currency.code(),
                allowed: currency.decimal_places(),
            });
        }
        let decimal = Decimal::from_str(trimmed).map_err(|_| MoneyError::OutOfRange)?;
        Amount::from_decimal_exact(decimal, currency)
    }

    /// Converts a decimal in major units (yuan) to an amount, refusing to round.
    pub fn from_decimal_exact(decimal: Decimal, currency: Currency) -> Result<Amount, MoneyError> {
        let scaled = decimal
            .checked_mul(Decimal::from(10_i64.pow(currency.decimal_places())))
            .ok_or(MoneyError::OutOfRange)?;
        if !scaled.fract().is_zero() {
            return Err(MoneyError::TooManyDecimals {
                currency: currency.code(),
                allowed: currency.decimal_places(),
            });
        }
        let minor_units = i64::try_from(scaled).map_err(|_| MoneyError::OutOfRange)?;
        Amount::from_minor_units(minor_units)
    }

    /// The amount in major units, exact.
    pub fn to_decimal(self, currency: Currency) -> Decimal {
        Decimal::new(self.minor_units, currency.decimal_places())
    }

    /// Writes the amount with exactly the currency's decimal places: "38.50", "-0.05".
    pub fn format(self, currency: Currency) -> String {
        self.to_decimal(currency).to_string()
    }
}

impl TryFrom<i64> for Amount {
    type Error = MoneyError;

    fn try_from(minor_units: i64) -> Result<Amount, MoneyError> {
        Amount::from_minor_units(minor_units)
    }
}

impl From<Amount> for i64 {
    fn from(amount: Amount) -> i64 {
        amount.minor_units
    }
}

/// An amount that is greater than zero: what a top-up, a payment or a refund moves.
/// Holding one means the check has been done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct PositiveAmount(Amount);

impl PositiveAmount {
    pub fn new(amount: Amount) -> Result<PositiveAmount, MoneyError> {
        if !amount.is_positive() {
            return Err(MoneyError::NotPositive);
        }
        Ok(PositiveAmount(amount))
    }

    pub fn parse(text: &str, currency: Currency) -> Result<PositiveAmount, MoneyError> {
        PositiveAmount::new(Amount::parse(text, currency)?)
    }

    pub fn amount(self) -> Amount {
        self.0
    }
}

impl TryFrom<i64> for PositiveAmount {
    type Error = MoneyError;

    fn try_from(minor_units: i64) -> Result<PositiveAmount, MoneyError> {
        PositiveAmount::new(Amount::from_minor_units(minor_units)?)
    }
}

impl From<PositiveAmount> for i64 {
    fn from(amount: PositiveAmount) -> i64 {
        amount.0.minor_units
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(text: &str) -> Result<Amount, MoneyError> {
        Amount::parse(text, Currency::CNY)
    }

    #[test]
    fn parses_and_formats_round_trip() {
        for (text, minor_units, formatted) in [
            ("38.50", 3850, "38.50"),
            ("38.5", 3850, "38.50"),
            ("38", 3800, "38.00"),
            ("0.05", 5, "0.05"),
            ("-1.05", -105, "-1.05"),
            (" 12.00 ", 1200, "12.00"),
            ("5000.00", 500_000, "5000.00"),
        ] {
            let amount = cny(text).unwrap();
            assert_eq!(amount.minor_units(), minor_units, "{text}");
            assert_eq!(amount.format(Currency::CNY), formatted, "{text}");
        }
    }

    #[test]
    fn rejects_more_decimals_than_the_currency_has() {
        assert_eq!(cny("38.505"), Err(MoneyError::TooManyDecimals { currency: "CNY", allowed: 2 }));
        assert_eq!(cny("38.500").unwrap_err().code(), ErrorCode::AmountTooManyDecimals);
        let yen = Currency::from_code("JPY").unwrap();
        assert_eq!(Amount::parse("100", yen).unwrap().minor_units(), 100);
        assert_eq!(
            Amount::parse("100.5", yen).unwrap_err().code(),
            ErrorCode::AmountTooManyDecimals
        );
        assert_eq!(Amount::parse("100", yen).unwrap().format(yen), "100");
    }

    #[test]
    fn rejects_malformed_text() {
        for text in
            ["", " ", "-", ".", "1.", ".5", "1,000.00", "1e3", "+1", "--1", "1.2.3", "abc", "１２"]
        {
            assert_eq!(cny(text).unwrap_err().code(), ErrorCode::AmountMalformed, "{text:?}");
        }
        assert_eq!(cny(&"9".repeat(33)).unwrap_err().code(), ErrorCode::AmountMalformed);
    }

    #[test]
    fn rejects_out_of_range() {
        assert_eq!(cny("90071992547409.91").unwrap().minor_units(), Amount::MAX_MINOR_UNITS);
        assert_eq!(cny("90071992547409.92"), Err(MoneyError::OutOfRange));
        assert_eq!(cny("99999999999999999999999"), Err(MoneyError::OutOfRange));
        assert_eq!(Amount::from_minor_units(i64::MIN), Err(MoneyError::OutOfRange));
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        let max = Amount::from_minor_units(Amount::MAX_MINOR_UNITS).unwrap();
        let one = Amount::from_minor_units(1).unwrap();
        assert_eq!(max.checked_add(one), Err(MoneyError::OutOfRange));
        assert_eq!(max.checked_sub(one).unwrap().minor_units(), Amount::MAX_MINOR_UNITS - 1);
        let min = Amount::from_minor_units(-Amount::MAX_MINOR_UNITS).unwrap();
        assert_eq!(min.checked_sub(one), Err(MoneyError::OutOfRange));
    }

    #[test]
    fn positive_amount_refuses_zero_and_negative() {
        assert_eq!(PositiveAmount::parse("0.00", Currency::CNY), Err(MoneyError::NotPositive));
        assert_eq!(PositiveAmount::parse("-3", Currency::CNY), Err(MoneyError::NotPositive));
        assert_eq!(PositiveAmount::parse("0.01", Currency::CNY).unwrap().amount().minor_units(), 1);
    }

    #[test]
    fn serializes_as_minor_units_and_validates_on_the_way_in() {
        let amount = cny("38.50").unwrap();
        assert_eq!(serde_json::to_string(&amount).unwrap(), "3850");
        assert_eq!(serde_json::from_str::<Amount>("-3850").unwrap().minor_units(), -3850);
        assert!(serde_json::from_str::<Amount>("9007199254740992").is_err());
        assert!(serde_json::from_str::<PositiveAmount>("0").is_err());
        assert!(serde_json::from_str::<Amount>("1.5").is_err());
    }

    #[test]
    fn decimal_conversion_is_exact() {
        let decimal = Decimal::from_str("31.00").unwrap();
        assert_eq!(Amount::from_decimal_exact(decimal, Currency::CNY).unwrap().minor_units(), 3100);
        let fractional = Decimal::from_str("0.001").unwrap();
        assert_eq!(
            Amount::from_decimal_exact(fractional, Currency::CNY).unwrap_err().code(),
            ErrorCode::AmountTooManyDecimals
        );
        assert_eq!(cny("12.34").unwrap().to_decimal(Currency::CNY).to_string(), "12.34");
    }

    #[test]
    fn unknown_currency_is_named_in_the_error() {
        let error = Currency::from_code("XYZ").unwrap_err();
        assert!(error.to_string().contains("XYZ"));
        assert!(error.to_string().contains("CNY"));
        assert_eq!(Currency::from_code("CNY").unwrap(), Currency::CNY);
    }
}
