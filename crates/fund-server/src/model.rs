//! The server's records of the parties, independent of how they are stored.

use tillfund_core::{CustomerId, MemberCode, MerchantId, PhoneNumber, TerminalId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub id: MerchantId,
    pub name: String,
    /// IANA zone name, e.g. "Asia/Shanghai".
    pub time_zone: String,
    /// Where the platform pays the store its net (bank and account); empty until set.
    pub settlement_account: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    pub id: TerminalId,
    pub merchant_id: MerchantId,
    pub label: String,
    pub receipt_prefix: String,
    /// The signing key shared with the counter, sealed with the server's secrets key
    /// (`vault.rs`); only the service opens it, to check a signature.
    pub secret: String,
    /// The server's public half of the enrolment key agreement; `None` for terminals
    /// added without one (the demo seed, benchmarks).
    pub server_public_key: Option<String>,
    pub enrolled_at_ms: i64,
    pub revoked: bool,
    /// The terminal this one replaced when its counter enrolled again (which revoked it):
    /// the counter's records of a day can be under both.
    pub replaces: Option<TerminalId>,
    /// The terminal that replaced this one first (set once, with the revocation).
    pub replaced_by: Option<TerminalId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub phone: PhoneNumber,
    pub display_name: String,
    pub member_code: MemberCode,
    /// argon2id PHC string.
    pub pin_hash: String,
}

/// The server's clock: the system clock in production; tests move its offset to reach the
/// end of a day or a month, and the simulator runs it by hand.
pub use tillfund_core::clock::Clock;

/// The system clock, for places with no `Clock` at hand (the CLI's messages).
pub fn now_ms() -> i64 {
    tillfund_core::clock::system_now_ms()
}
