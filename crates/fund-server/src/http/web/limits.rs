//! The rate limits of the wallet pages and the JSON API, kept in memory per process.

use super::*;

/// Sign-in and sign-up attempts per address per minute, and per phone number.
pub(super) const SIGN_IN_PER_MINUTE: u32 = 20;

pub(super) const SIGN_IN_PER_PHONE_PER_MINUTE: u32 = 8;

/// Payment attempts (PIN entries) per wallet per minute.
pub(super) const PAY_PER_MINUTE: u32 = 10;

pub(super) const ENROL_PER_MINUTE: u32 = 10;

pub(super) const OPERATOR_FAILURES_PER_MINUTE: u32 = 10;

/// The key a phone number is rate-limited under: its normalised form when it parses, so
/// `+86 138…`, `138-…` and `138…` share one count; its digits otherwise.
pub(crate) fn phone_limit_key(text: &str) -> String {
    match tillfund_core::PhoneNumber::parse(text) {
        Ok(phone) => phone.as_str().to_owned(),
        Err(_) => text.chars().filter(char::is_ascii_digit).take(32).collect(),
    }
}

/// The limits of the wallet pages and the JSON API, kept for the life of the process.
#[derive(Debug)]
pub struct WebLimits {
    pub(crate) sign_in_by_address: RateLimiter,
    pub(crate) sign_in_by_phone: RateLimiter,
    pub(crate) pay_by_wallet: RateLimiter,
    /// Enrolment attempts (activation codes tried) per address.
    pub(crate) enrol_by_address: RateLimiter,
    /// Wrong operator tokens per address.
    pub(crate) operator_failures_by_address: RateLimiter,
}

impl WebLimits {
    /// No limit at all: for load tests and benchmarks that measure the ledger, never for a
    /// server that faces the network.
    pub fn unlimited() -> WebLimits {
        WebLimits::scaled(u32::MAX)
    }

    /// Every per-minute limit multiplied by `factor` (at least 1): for many customers
    /// behind one address (a shop's Wi-Fi, a carrier's NAT), or a load test. The stored
    /// PIN lock-out is not affected.
    pub fn scaled(factor: u32) -> WebLimits {
        let minute = Duration::from_secs(60);
        let limit =
            |per_minute: u32| RateLimiter::new(per_minute.saturating_mul(factor.max(1)), minute);
        WebLimits {
            sign_in_by_address: limit(SIGN_IN_PER_MINUTE),
            sign_in_by_phone: limit(SIGN_IN_PER_PHONE_PER_MINUTE),
            pay_by_wallet: limit(PAY_PER_MINUTE),
            enrol_by_address: limit(ENROL_PER_MINUTE),
            operator_failures_by_address: limit(OPERATOR_FAILURES_PER_MINUTE),
        }
    }
}

impl Default for WebLimits {
    fn default() -> WebLimits {
        WebLimits::scaled(1)
    }
}
