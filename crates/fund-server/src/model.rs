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
    /// The signing key shared with the counter, hex.
    pub secret: String,
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
    pub failed_pin_attempts: i64,
    pub locked_until_ms: Option<i64>,
}

pub fn now_ms() -> i64 {
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
