//! What operators see of a merchant's counters and activation codes: each counter's last
//! contact and app version, each code's state, and cancelling a code not yet used.

use std::future::Future;

use tillfund_core::{MerchantId, TerminalId};

use super::Stored;

/// A counter as operators see it (never its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalSummary {
    pub id: TerminalId,
    pub label: String,
    pub receipt_prefix: String,
    pub enrolled_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    pub app_version: Option<String>,
}

/// An activation code as operators see it: its hash (the code itself is never kept) and
/// what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationCodeRecord {
    pub code_hash: Vec<u8>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
    pub terminal_id: Option<TerminalId>,
    pub cancelled_at_ms: Option<i64>,
}

pub trait TerminalDirectory {
    /// Notes that a counter was heard from at `now_ms`, running `app_version`; written only
    /// when the last note is older than `resolution_ms` or the version changed.
    fn mark_terminal_seen(
        &self,
        terminal_id: TerminalId,
        now_ms: i64,
        app_version: Option<&str>,
        resolution_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// A merchant's counters, oldest first, at most `limit`.
    fn terminals_of(
        &self,
        merchant_id: MerchantId,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<TerminalSummary>>> + Send;
    /// A merchant's activation codes, newest first, at most `limit`.
    fn activation_codes_of(
        &self,
        merchant_id: MerchantId,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<ActivationCodeRecord>>> + Send;
    /// Cancels a merchant's code that is neither used, expired nor cancelled; false
    /// (nothing written) otherwise.
    fn cancel_activation_code(
        &self,
        merchant_id: MerchantId,
        code_hash: &[u8],
        now_ms: i64,
    ) -> impl Future<Output = Stored<bool>> + Send;
}
