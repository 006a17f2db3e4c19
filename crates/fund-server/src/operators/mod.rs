//! The platform's staff: who they are, what their roles allow, how they prove it (a
//! password and a time-based one-time code) and the trail of what they did. Pure rules;
//! the service (`service/operators.rs`) applies them over the store.

pub mod audit_trail;
pub mod password;
pub mod role;
pub mod totp;

pub use audit_trail::{Actor, NewTrailRecord, TRAIL_GENESIS_HASH, TrailRecord, check_trail};
pub use password::{OperatorPassword, PasswordRejected};
pub use role::{Permission, allows};
pub use totp::TotpSecret;

/// Shortest and longest operator name (sign-in name), in characters.
pub const NAME_CHARS_MIN: usize = 2;
pub const NAME_CHARS_MAX: usize = 32;

/// An operator's sign-in name in its one spelling: lower case ASCII letters, digits, `.`,
/// `-` and `_`, starting with a letter. Names are compared in this form, so `Li.Wei` and
/// `li.wei` are the same person.
pub fn normalize_name(text: &str) -> Option<String> {
    let name = text.trim().to_ascii_lowercase();
    let length_fits = (NAME_CHARS_MIN..=NAME_CHARS_MAX).contains(&name.len());
    let starts_with_letter = name.bytes().next().is_some_and(|byte| byte.is_ascii_lowercase());
    let allowed = name
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b".-_".contains(&byte));
    (length_fits && starts_with_letter && allowed).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::normalize_name;

    #[test]
    fn names_have_one_spelling() {
        assert_eq!(normalize_name(" Li.Wei ").as_deref(), Some("li.wei"));
        assert_eq!(normalize_name("ops_2").as_deref(), Some("ops_2"));
        for bad in ["", "a", "2fast", "li wei", "李伟", "x@y", &"a".repeat(33)] {
            assert_eq!(normalize_name(bad), None, "{bad:?}");
        }
    }
}
