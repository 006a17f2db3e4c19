//! Redemption codes: what a customer confirmed on the phone (a store and an amount), kept
//! as a hash until a counter of that store uses the code or it expires.

use std::future::Future;

use tillfund_core::{CustomerId, MerchantId};

use super::Stored;

/// A code as issued: `code_hash` is the only trace of the digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedemptionCodeRecord {
    /// Also the ledger's idempotency key of the redemption: a code moves money once.
    pub id: String,
    pub customer_id: CustomerId,
    pub merchant_id: MerchantId,
    pub code_hash: String,
    pub amount: i64,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
    /// Paying it out closes the wallet (it is for everything payable).
    pub closes_wallet: bool,
}

/// A code as kept, with when a counter used it and which attempt holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRedemptionCode {
    pub record: RedemptionCodeRecord,
    pub used_at_ms: Option<i64>,
    pub claimed_by: Option<String>,
}

/// What asking for a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    Issued,
    /// The customer's codes of the last 24 hours (used or still live) with this one would
    /// pass `daily_max`; `issued` is what they came to without it.
    DailyLimitReached {
        issued: i64,
    },
    /// The customer holds `live_max` unused live codes already.
    TooManyLive,
}

pub trait RedemptionCodeStore {
    /// Keeps `record` unless the customer's codes of the 24 hours before `issued_at_ms`
    /// that were used or are still live add up with it to more than `daily_max`, or the
    /// customer holds `live_max` live codes. Decided under a lock per customer, so two
    /// phones at once cannot both pass.
    fn issue_redemption_code(
        &self,
        record: &RedemptionCodeRecord,
        daily_max: i64,
        live_max: i64,
    ) -> impl Future<Output = Stored<IssueOutcome>> + Send;

    /// The customer's codes for the store that are live at `now_ms`, the one `attempt`
    /// holds however old (a counter back after days still learns what its attempt did),
    /// and those used in the last day (another press is told the code was used), newest
    /// first, at most `limit`.
    fn redemption_codes(
        &self,
        customer_id: CustomerId,
        merchant_id: MerchantId,
        now_ms: i64,
        attempt: &str,
        limit: i64,
    ) -> impl Future<Output = Stored<Vec<StoredRedemptionCode>>> + Send;

    /// Gives the code to `attempt` unless another attempt holds it; whether it did.
    fn claim_redemption_code(
        &self,
        id: &str,
        attempt: &str,
    ) -> impl Future<Output = Stored<bool>> + Send;

    /// Frees the code from `attempt` (the ledger refused it) unless it was used.
    fn release_redemption_code(
        &self,
        id: &str,
        attempt: &str,
    ) -> impl Future<Output = Stored<()>> + Send;

    /// Marks the wallet closed (the first time only) and ends its sessions.
    fn close_wallet(
        &self,
        customer_id: CustomerId,
        now_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;

    /// Whether the wallet was closed.
    fn wallet_closed(&self, customer_id: CustomerId) -> impl Future<Output = Stored<bool>> + Send;

    /// Marks the code used (the first time only).
    fn mark_redemption_code_used(
        &self,
        id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;
}
