//! Redemption: a customer takes principal and yield back as cash at a counter of a store
//! the wallet is bound to. The customer confirms on the phone: after the PIN the wallet
//! issues a one-time code for that store and amount (`/v1/wallet/redemption-codes`), which
//! the manager keys in at the counter (`/v1/terminal/redemptions`, online only).

use serde::{Deserialize, Serialize};

use crate::StaffId;

/// Digits of a redemption code: read aloud or shown across the counter.
pub const REDEMPTION_CODE_DIGITS: usize = 8;
/// How long a code can be used: the customer is at the counter when they ask for it.
pub const REDEMPTION_CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// Codes a customer may hold unused at once.
pub const REDEMPTION_CODES_LIVE_MAX: i64 = 3;

/// The customer asks to take `amount` out as cash at a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedemptionCodeRequest {
    pub merchant_id: String,
    /// Minor units; at most the wallet's principal and yield (bonus is never cash).
    pub amount: i64,
    /// The payment PIN: the code moves money out of the wallet.
    pub pin: String,
    /// Close the wallet: `amount` must be everything payable now; paying the code out
    /// closes the wallet (unbound everywhere, signed out, no more sign-in). A wallet with
    /// nothing payable closes at once, without a code.
    #[serde(default)]
    pub close_wallet: bool,
}

/// The code to show the store's manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedemptionCodeBody {
    /// Eight digits, shown once: the server keeps only a hash.
    pub code: String,
    pub merchant_name: String,
    /// The store's IANA time zone, to show until when the code is good in its local time.
    #[serde(default)]
    pub merchant_time_zone: String,
    pub amount: i64,
    pub expires_at_ms: i64,
    /// Paying this code out closes the wallet.
    #[serde(default)]
    pub closes_wallet: bool,
}

/// The manager pays a customer out against their code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedemptionRequest {
    pub customer_id: String,
    pub code: String,
    /// Minor units: the amount the code was issued for.
    pub amount: i64,
    /// The manager signed in at the counter who paid it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cashier: Option<StaffId>,
    /// The counter's id for this press of Pay out (1 to 64 letters, digits or `-`): sent
    /// again unchanged when the answer was lost, it is answered with the same payout.
    pub attempt_id: String,
    /// Only tell whether this attempt was paid out, never pay it now (the counter's
    /// background resend after a lost answer: the customer may have left without the
    /// cash). An attempt not made is then closed for good.
    #[serde(default)]
    pub only_if_made: bool,
}

/// What the drawer pays out and what the wallet gave up. Minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedemptionBody {
    /// Cash to hand over: `principal` and `yield_paid` together.
    pub cash: i64,
    pub principal: i64,
    pub yield_paid: i64,
    /// Bonus taken back with the principal (never paid out).
    pub bonus_clawed_back: i64,
    pub wallet_balance: i64,
    pub entry_sequence: i64,
    /// When the server applied it, by its clock: the day it counts in.
    pub redeemed_at_ms: i64,
    /// The payout closed the wallet.
    #[serde(default)]
    pub wallet_closed: bool,
}
