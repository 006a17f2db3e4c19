//! The server's records of the parties, independent of how they are stored.

use tillfund_core::{CustomerId, MemberCode, MerchantId, PhoneNumber, TerminalId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub id: MerchantId,
    pub name: String,
    /// IANA zone name, e.g. "Asia/Shanghai".
    pub time_zone: String,
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

/// The server's clock. The system clock, plus an offset that only tests move (to reach
/// the end of a day or a month without waiting for it).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, milliseconds: i64) {
        self.offset_ms.fetch_add(milliseconds, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The system clock, for places with no `Clock` at hand (the CLI's messages).
pub fn now_ms() -> i64 {
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
