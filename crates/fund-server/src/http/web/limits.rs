//! The rate limits of the wallet pages and the JSON API: which requests count under which
//! limit. The attempts are counted in the database (`service::AttemptLimit`), so every
//! process of a deployment shares the same windows.

use super::*;
use crate::service::AttemptLimit;

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

/// The limits of the wallet pages and the JSON API.
#[derive(Debug, Clone)]
pub struct WebLimits {
    pub(crate) sign_in_by_address: AttemptLimit,
    pub(crate) sign_in_by_phone: AttemptLimit,
    pub(crate) pay_by_wallet: AttemptLimit,
    /// Enrolment attempts (activation codes tried) per address.
    pub(crate) enrol_by_address: AttemptLimit,
    /// Wrong operator tokens per address.
    pub(crate) operator_failures_by_address: AttemptLimit,
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
        let limit = |scope: &'static str, per_minute: u32| {
            AttemptLimit::new(scope, per_minute.saturating_mul(factor.max(1)), minute)
        };
        WebLimits {
            sign_in_by_address: limit("sign-in-by-address", SIGN_IN_PER_MINUTE),
            sign_in_by_phone: limit("sign-in-by-phone", SIGN_IN_PER_PHONE_PER_MINUTE),
            pay_by_wallet: limit("pay-by-wallet", PAY_PER_MINUTE),
            enrol_by_address: limit("enrol-by-address", ENROL_PER_MINUTE),
            operator_failures_by_address: limit(
                "operator-failures-by-address",
                OPERATOR_FAILURES_PER_MINUTE,
            ),
        }
    }
}

impl Default for WebLimits {
    fn default() -> WebLimits {
        WebLimits::scaled(1)
    }
}
