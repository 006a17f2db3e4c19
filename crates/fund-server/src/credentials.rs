//! Secrets the server makes or checks: PIN hashes and terminal keys.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use rand_core::{OsRng, RngCore};
use tillfund_core::PaymentPin;

#[derive(Debug, thiserror::Error)]
#[error("could not hash the PIN: {0}")]
pub struct HashError(String);

/// The cost of hashing a PIN. Verification reads the cost from the stored hash, so a
/// change applies to PINs set from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinHashCost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl PinHashCost {
    /// OWASP's argon2id recommendation (19 MiB, 2 passes): slow enough that a stolen table
    /// of six-digit PINs is not read back in seconds.
    pub const RECOMMENDED: PinHashCost = PinHashCost { memory_kib: 19 * 1024, passes: 2 };
    /// The smallest cost argon2 allows; for benchmarks that measure the ledger, never for
    /// real PINs.
    pub const MINIMAL: PinHashCost = PinHashCost { memory_kib: 8, passes: 1 };
}

impl Default for PinHashCost {
    fn default() -> PinHashCost {
        PinHashCost::RECOMMENDED
    }
}

pub fn hash_pin(pin: &PaymentPin) -> Result<String, HashError> {
    hash_pin_with(pin, PinHashCost::RECOMMENDED)
}

pub fn hash_pin_with(pin: &PaymentPin, cost: PinHashCost) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let params = argon2::Params::new(cost.memory_kib, cost.passes, 1, None)
        .map_err(|error| HashError(error.to_string()))?;
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
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
