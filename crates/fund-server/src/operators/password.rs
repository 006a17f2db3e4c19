//! Operator passwords: what a new one must be. They are kept as argon2id hashes, checked
//! by the same bounded checker as customers' PINs.

/// Shortest password, in characters (NIST SP 800-63B asks for at least 8; staff who move
/// money get more).
pub const PASSWORD_CHARS_MIN: usize = 12;
/// Longest: argon2 takes any length, but a bounded input bounds the work a request causes.
pub const PASSWORD_CHARS_MAX: usize = 128;

/// A password that met the rules. `Debug` never shows it.
#[derive(Clone)]
pub struct OperatorPassword(String);

impl std::fmt::Debug for OperatorPassword {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("OperatorPassword(…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    #[error("A password is {PASSWORD_CHARS_MIN} to {PASSWORD_CHARS_MAX} characters.")]
    Length,
    #[error("A password may not contain the operator's name.")]
    ContainsName,
    #[error("A password needs more than one distinct character.")]
    OneCharacter,
}

impl OperatorPassword {
    /// Checks a new password for the operator `name`.
    pub fn new(text: &str, name: &str) -> Result<OperatorPassword, PasswordRejected> {
        let chars = text.chars().count();
        if !(PASSWORD_CHARS_MIN..=PASSWORD_CHARS_MAX).contains(&chars) {
            return Err(PasswordRejected::Length);
        }
        let name = name.trim().to_lowercase();
        if !name.is_empty() && text.to_lowercase().contains(&name) {
            return Err(PasswordRejected::ContainsName);
        }
        let mut distinct = text.chars();
        let first = distinct.next();
        if distinct.all(|char| Some(char) == first) {
            return Err(PasswordRejected::OneCharacter);
        }
        Ok(OperatorPassword(text.to_owned()))
    }

    /// A password typed at sign-in, not checked against the rules (the rules may have
    /// changed since it was set) but bounded in length.
    pub fn typed(text: &str) -> Option<OperatorPassword> {
        (text.chars().count() <= PASSWORD_CHARS_MAX).then(|| OperatorPassword(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_is_long_distinct_and_not_the_name() {
        assert!(OperatorPassword::new("correct horse battery", "li.wei").is_ok());
        assert_eq!(OperatorPassword::new("short", "li.wei").unwrap_err(), PasswordRejected::Length);
        assert_eq!(
            OperatorPassword::new(&"ab".repeat(65), "li.wei").unwrap_err(),
            PasswordRejected::Length
        );
        assert_eq!(
            OperatorPassword::new("my name is LI.WEI ok", "li.wei").unwrap_err(),
            PasswordRejected::ContainsName
        );
        assert_eq!(
            OperatorPassword::new("aaaaaaaaaaaaaa", "li.wei").unwrap_err(),
            PasswordRejected::OneCharacter
        );
        // Characters, not bytes: twelve Chinese characters are long enough.
        assert!(OperatorPassword::new("春眠不觉晓处处闻啼鸟夜来", "li.wei").is_ok());
        assert!(OperatorPassword::typed(&"x".repeat(129)).is_none());
        assert_eq!(
            format!("{:?}", OperatorPassword::typed("secret").unwrap()),
            "OperatorPassword(…)"
        );
    }
}
