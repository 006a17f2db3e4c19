//! How customers are identified at the counter: phone number and member code.

use std::fmt;

use crate::protocol::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerFieldError {
    #[error(
        "'{0}' is not a phone number: use an 11-digit mainland mobile number (13800138000) \
         or an international number with its country code (+85291234567)"
    )]
    Phone(String),
    #[error("'{0}' is not a member code: it is 12 digits, as shown on the wallet page")]
    MemberCode(String),
    #[error("a display name is 1 to 40 characters, without control or invisible characters")]
    DisplayName,
}

impl CustomerFieldError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CustomerFieldError::Phone(_) => ErrorCode::PhoneInvalid,
            CustomerFieldError::MemberCode(_) => ErrorCode::MemberCodeInvalid,
            CustomerFieldError::DisplayName => ErrorCode::DisplayNameInvalid,
        }
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A phone number in one canonical form: 11 digits for a mainland mobile number (with or
/// without +86), otherwise `+` and 8 to 15 digits (E.164). Spaces and dashes are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<PhoneNumber, CustomerFieldError> {
        let invalid = || CustomerFieldError::Phone(shorten(text));
        if text.len() > 32 {
            return Err(invalid());
        }
        let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let (international, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid());
        }
        let mainland = |number: &str| {
            number.len() == 11
                && number.starts_with('1')
                && (b'3'..=b'9').contains(&number.as_bytes()[1])
        };
        if !international {
            return if mainland(digits) {
                Ok(PhoneNumber(digits.to_owned()))
            } else {
                Err(invalid())
            };
        }
        if let Some(national) = digits.strip_prefix("86") {
            return if mainland(national) {
                Ok(PhoneNumber(national.to_owned()))
            } else {
                Err(invalid())
            };
        }
        if (8..=15).contains(&digits.len()) && !digits.starts_with('0') {
            return Ok(PhoneNumber(format!("+{digits}")));
        }
        Err(invalid())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = CustomerFieldError;

    fn try_from(text: String) -> Result<PhoneNumber, CustomerFieldError> {
        PhoneNumber::parse(&text)
    }
}

impl std::str::FromStr for PhoneNumber {
    type Err = CustomerFieldError;

    fn from_str(text: &str) -> Result<PhoneNumber, CustomerFieldError> {
        PhoneNumber::parse(text)
    }
}

impl From<PhoneNumber> for String {
    fn from(phone: PhoneNumber) -> String {
        phone.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The number the cashier scans or types: 11 digits and a Luhn check digit, so a mistyped
/// or misread digit is caught at the counter, offline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberCode(String);

impl MemberCode {
    pub const LENGTH: usize = 12;

    /// Makes a member code from 11 digits of randomness by appending the check digit.
    pub fn from_body(body: u64) -> MemberCode {
        let body = format!("{:011}", body % 100_000_000_000);
        let check = luhn_check_digit(&body);
        MemberCode(format!("{body}{check}"))
    }

    pub fn parse(text: &str) -> Result<MemberCode, CustomerFieldError> {
        let invalid = || CustomerFieldError::MemberCode(shorten(text));
        let compact: String = text.chars().filter(|c| *c != ' ').collect();
        if compact.len() != MemberCode::LENGTH || !compact.bytes().all(|byte| byte.is_ascii_digit())
        {
            return Err(invalid());
        }
        let (body, check) = compact.split_at(MemberCode::LENGTH - 1);
        if !check.starts_with(luhn_check_digit(body)) {
            return Err(invalid());
        }
        Ok(MemberCode(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MemberCode {
    type Error = CustomerFieldError;

    fn try_from(text: String) -> Result<MemberCode, CustomerFieldError> {
        MemberCode::parse(&text)
    }
}

impl std::str::FromStr for MemberCode {
    type Err = CustomerFieldError;

    fn from_str(text: &str) -> Result<MemberCode, CustomerFieldError> {
        MemberCode::parse(text)
    }
}

impl From<MemberCode> for String {
    fn from(code: MemberCode) -> String {
        code.0
    }
}

impl fmt::Display for MemberCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

fn luhn_check_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    char::from(b'0' + u8::try_from((10 - sum % 10) % 10).unwrap_or(0))
}

/// A customer's display name: trimmed, 1 to 40 characters, no control characters and no
/// invisible or direction-changing ones (a name shown at a counter must read as it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// The sign-up form's limit; the database allows 50 for names stored before.
    pub const LENGTH_MAX: usize = 40;

    pub fn parse(text: &str) -> Result<DisplayName, CustomerFieldError> {
        let trimmed = text.trim();
        let length = trimmed.chars().count();
        if length == 0 || length > DisplayName::LENGTH_MAX || trimmed.chars().any(is_hidden) {
            return Err(CustomerFieldError::DisplayName);
        }
        Ok(DisplayName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that do not show as themselves: controls, the bidirectional overrides and
/// isolates that reorder what follows, zero-width and other invisible format characters.
fn is_hidden(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

impl TryFrom<String> for DisplayName {
    type Error = CustomerFieldError;

    fn try_from(text: String) -> Result<DisplayName, CustomerFieldError> {
        DisplayName::parse(&text)
    }
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> String {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_take_one_canonical_form() {
        for (text, canonical) in [
            ("13800138000", "13800138000"),
            ("138 0013 8000", "13800138000"),
            ("+86 138-0013-8000", "13800138000"),
            ("+85291234567", "+85291234567"),
            ("+1 415 555 0100", "+14155550100"),
        ] {
            assert_eq!(PhoneNumber::parse(text).unwrap().as_str(), canonical, "{text}");
        }
        for text in [
            "",
            "12800138000",
            "1380013800",
            "138001380001",
            "+86123",
            "+0123456789",
            "abc",
            "+",
            "+861380013800a",
        ] {
            assert_eq!(
                PhoneNumber::parse(text).unwrap_err().code(),
                ErrorCode::PhoneInvalid,
                "{text}"
            );
        }
    }

    #[test]
    fn member_codes_carry_a_check_digit() {
        let code = MemberCode::from_body(80_000_000_001);
        assert_eq!(code.as_str(), "800000000011");
        assert_eq!(MemberCode::parse("8000 0000 0011").unwrap(), code);
        assert!(MemberCode::parse("800000000018").is_err(), "wrong check digit");
        assert!(MemberCode::parse("080000000011").is_err(), "swapped digits");
        assert!(MemberCode::parse("80000000001").is_err());
        assert!(MemberCode::parse("80000000001a").is_err());
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        let code = MemberCode::from_body(12_345_678_901);
        let digits: Vec<u8> = code.as_str().bytes().collect();
        for position in 0..digits.len() {
            for replacement in b'0'..=b'9' {
                if replacement == digits[position] {
                    continue;
                }
                let mut changed = digits.clone();
                changed[position] = replacement;
                let text = String::from_utf8(changed).unwrap();
                assert!(MemberCode::parse(&text).is_err(), "{text}");
            }
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  王小明 ").unwrap().as_str(), "王小明");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"名".repeat(51)).is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err());
        assert_eq!(DisplayName::parse(&"名".repeat(40)).unwrap().as_str().chars().count(), 40);
        assert!(DisplayName::parse(&"名".repeat(41)).is_err());
        for hidden in
            ["Ann\u{202E}gnp.exe", "A\u{200B}nn", "\u{2066}Bob", "Zoë\u{FEFF}", "a\u{E0041}"]
        {
            assert_eq!(
                DisplayName::parse(hidden),
                Err(CustomerFieldError::DisplayName),
                "{hidden:?}"
            );
        }
    }
}
