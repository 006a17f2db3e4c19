//! Secure randomness from the operating system, for nonces and key agreement.

use ring::rand::{SecureRandom, SystemRandom};

/// Fills `bytes` from the operating system's secure random source.
///
/// # Panics
/// When the operating system has no working random source (getrandom fails). Nothing
/// secure can be made then, and carrying on with predictable bytes would be worse than
/// stopping; no supported platform fails here.
pub fn fill(bytes: &mut [u8]) {
    if SystemRandom::new().fill(bytes).is_err() {
        panic!("the operating system's random source failed");
    }
}
