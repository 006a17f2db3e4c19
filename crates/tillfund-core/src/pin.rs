//! The customer's payment PIN: exactly six ASCII digits.

use crate::protocol::ErrorCode;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the payment PIN must be exactly 6 digits")]
pub struct InvalidPin;

impl InvalidPin {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::PinInvalid
    }
}

/// A well-formed PIN, held only long enough to hash or verify it. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentPin(String);

impl PaymentPin {
    pub const LENGTH: usize = 6;

    pub fn parse(text: &str) -> Result<PaymentPin, InvalidPin> {
        if text.len() != PaymentPin::LENGTH || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(InvalidPin);
        }
        Ok(PaymentPin(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PaymentPin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("PaymentPin(******)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_six_digits_only() {
        assert_eq!(PaymentPin::parse("012345").unwrap().expose(), "012345");
        for text in ["", "12345", "1234567", "12345a", "１２３４５６", " 12345"] {
            assert_eq!(PaymentPin::parse(text), Err(InvalidPin), "{text:?}");
        }
    }

    #[test]
    fn debug_hides_the_digits() {
        let pin = PaymentPin::parse("123456").unwrap();
        assert!(!format!("{pin:?}").contains("123456"));
    }
}
