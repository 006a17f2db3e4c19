//! What the service needs of the database for the platform's staff: operator accounts,
//! their sign-in attempts and second-factor steps, sessions, and the append-only trail.

use std::future::Future;

use tillfund_core::OperatorId;
use tillfund_core::protocol::{OperatorAction, OperatorRole};

use super::{PinAttempt, Stored};
use crate::operators::{NewTrailRecord, TrailRecord};

/// An operator account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub id: OperatorId,
    /// The normalized sign-in name.
    pub name: String,
    pub role: OperatorRole,
    pub password_hash: String,
    pub totp_secret_sealed: String,
    pub totp_last_step: Option<i64>,
    pub disabled: bool,
    pub locked_until_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// How long operator sessions live and how many one account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session not used for this long ends.
    pub idle_ms: i64,
    pub per_operator_max: i64,
}

/// Which records of the trail to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailQuery {
    /// Only records before this sequence (the next page).
    pub before_sequence: Option<i64>,
    pub operator_id: Option<OperatorId>,
    pub action: Option<OperatorAction>,
    /// Only records at or after this time.
    pub from_ms: Option<i64>,
    /// Only records before this time.
    pub until_ms: Option<i64>,
    pub limit: u32,
}

pub trait OperatorStore {
    /// Adds an account; false (and nothing written) when the name is taken.
    fn add_operator(&self, operator: &OperatorRecord) -> impl Future<Output = Stored<bool>> + Send;
    fn operator(
        &self,
        id: OperatorId,
    ) -> impl Future<Output = Stored<Option<OperatorRecord>>> + Send;
    fn operator_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Stored<Option<OperatorRecord>>> + Send;
    /// Every account by name, at most `limit`.
    fn list_operators(
        &self,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<OperatorRecord>>> + Send;
    /// Takes one sign-in attempt before the password is checked, atomically, exactly as
    /// `PartyStore::take_pin_attempt` does for a wallet: parallel guesses all count.
    fn take_sign_in_attempt(
        &self,
        id: OperatorId,
        limit: i64,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> impl Future<Output = Stored<PinAttempt>> + Send;
    /// A sign-in that succeeded starts the count again and lifts a lock.
    fn reset_sign_in_failures(&self, id: OperatorId) -> impl Future<Output = Stored<()>> + Send;
    /// Marks `step` of the second factor used, if it is later than the last used one;
    /// false when it is not (the code was used already, maybe by a parallel request).
    fn use_totp_step(&self, id: OperatorId, step: i64)
    -> impl Future<Output = Stored<bool>> + Send;
    /// Disables or enables an account; disabling ends its sessions in the same
    /// transaction. False when there is no such account.
    fn set_operator_disabled(
        &self,
        id: OperatorId,
        disabled: bool,
    ) -> impl Future<Output = Stored<bool>> + Send;
    /// Replaces the password hash and ends every session of the account.
    fn set_operator_password(
        &self,
        id: OperatorId,
        password_hash: &str,
    ) -> impl Future<Output = Stored<bool>> + Send;
    /// Replaces the second factor's secret (a lost phone) and ends every session.
    fn set_operator_totp(
        &self,
        id: OperatorId,
        totp_secret_sealed: &str,
    ) -> impl Future<Output = Stored<bool>> + Send;
    /// Stores a session under the hash of `token`. The account's sessions that expired or
    /// idled out go, and the least recently seen beyond `limits.per_operator_max`.
    fn add_operator_session(
        &self,
        token: &str,
        id: OperatorId,
        now_ms: i64,
        expires_at_ms: i64,
        limits: SessionLimits,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// The operator a live session belongs to: not past `expires_at_ms`, seen within
    /// `idle_ms`, its account not disabled. Marks it seen at `now_ms`.
    fn operator_session(
        &self,
        token: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> impl Future<Output = Stored<Option<OperatorId>>> + Send;
    fn end_operator_session(&self, token: &str) -> impl Future<Output = Stored<()>> + Send;
    /// Ends every session of an account (sign-out everywhere); how many there were.
    fn end_operator_sessions(&self, id: OperatorId) -> impl Future<Output = Stored<u64>> + Send;
    /// Appends a record to the trail, after the last one, chained to it.
    fn append_trail(
        &self,
        record: &NewTrailRecord,
    ) -> impl Future<Output = Stored<TrailRecord>> + Send;
    /// Records matching `query`, newest first.
    fn trail(&self, query: &TrailQuery) -> impl Future<Output = Stored<Vec<TrailRecord>>> + Send;
    /// Records after `after_sequence`, oldest first, at most `limit` (the audit).
    fn trail_after(
        &self,
        after_sequence: i64,
        limit: i64,
    ) -> impl Future<Output = Stored<Vec<TrailRecord>>> + Send;
}
