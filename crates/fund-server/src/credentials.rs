//! Secrets the server makes or checks: PIN hashes and terminal keys.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use rand_core::{OsRng, RngCore};
use tillfund_core::PaymentPin;

#[derive(Debug, thiserror::Error)]
#[error("could not hash the PIN: {0}")]
pub struct HashError(String);

/// argon2id with the crate's default cost (19 MiB, 2 passes): slow enough that a stolen
/// table of six-digit PINs is not read back in seconds.
pub fn hash_pin(pin: &PaymentPin) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

/// A new terminal signing key: 32 random bytes, hex encoded.
pub fn generate_terminal_secret() -> String {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn pin_hash_verifies_and_is_salted() {
        let pin = PaymentPin::parse("123456").unwrap();
        let first = hash_pin(&pin).unwrap();
        let second = hash_pin(&pin).unwrap();
        assert_ne!(first, second);
        assert!(first.starts_with("$argon2id$"));
        let parsed = PasswordHash::new(&first).unwrap();
        assert!(Argon2::default().verify_password(b"123456", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"654321", &parsed).is_err());
    }

    #[test]
    fn terminal_secrets_are_long_and_distinct() {
        let secret = generate_terminal_secret();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, generate_terminal_secret());
    }
}
