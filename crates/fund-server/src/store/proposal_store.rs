//! What the service needs of the database for four eyes: proposals, and their one-way
//! moves from pending to a decision and from approved to applied, each taken atomically.

use std::future::Future;

use tillfund_core::ProposalId;
use tillfund_core::protocol::{ChangeLineBody, ProposalStatus, ProposedChange};

use super::Stored;
use crate::operators::Actor;

/// A proposal as stored. `status` is never `Expired`: expiry is read from the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    pub id: ProposalId,
    pub change: ProposedChange,
    pub note: String,
    pub proposer: Actor,
    pub proposed_at_ms: i64,
    pub expires_at_ms: i64,
    pub status: ProposalStatus,
    pub decider: Option<Actor>,
    pub decided_at_ms: Option<i64>,
    pub decision_note: Option<String>,
    pub outcome: Option<String>,
    pub changes: Vec<ChangeLineBody>,
}

/// A decision on a pending proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    /// `Approved`, `Rejected` or `Withdrawn`.
    pub to: ProposalStatus,
    pub decider: &'a Actor,
    pub note: &'a str,
    /// What the change does as of the decision, kept with it.
    pub changes: &'a [ChangeLineBody],
    pub now_ms: i64,
}

pub trait ProposalStore {
    fn add_proposal(&self, proposal: &ProposalRecord) -> impl Future<Output = Stored<()>> + Send;
    fn proposal(
        &self,
        id: ProposalId,
    ) -> impl Future<Output = Stored<Option<ProposalRecord>>> + Send;
    /// Newest first, at most `limit`; with `status`, only those stored with it.
    fn proposals(
        &self,
        status: Option<ProposalStatus>,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<ProposalRecord>>> + Send;
    /// Moves a proposal from pending to the decision, if it is still pending and not
    /// expired at `now_ms`, and (for an approval) the decider is not the proposer; false,
    /// and nothing written, otherwise. One statement: of parallel decisions, one wins.
    fn decide_proposal(
        &self,
        id: ProposalId,
        decision: Decision<'_>,
    ) -> impl Future<Output = Stored<bool>> + Send;
    /// Moves an approved proposal to `Applied` or `Failed` with its outcome; false when it
    /// was not approved.
    fn finish_proposal(
        &self,
        id: ProposalId,
        to: ProposalStatus,
        outcome: &str,
    ) -> impl Future<Output = Stored<bool>> + Send;
}

/// The stored text of a status (never `Expired`).
pub(crate) fn status_text(status: ProposalStatus) -> &'static str {
    match status {
        ProposalStatus::Pending | ProposalStatus::Expired => "pending",
        ProposalStatus::Approved => "approved",
        ProposalStatus::Applied => "applied",
        ProposalStatus::Failed => "failed",
        ProposalStatus::Rejected => "rejected",
        ProposalStatus::Withdrawn => "withdrawn",
    }
}

pub(crate) fn status_from_text(text: &str) -> Result<ProposalStatus, String> {
    Ok(match text {
        "pending" => ProposalStatus::Pending,
        "approved" => ProposalStatus::Approved,
        "applied" => ProposalStatus::Applied,
        "failed" => ProposalStatus::Failed,
        "rejected" => ProposalStatus::Rejected,
        "withdrawn" => ProposalStatus::Withdrawn,
        other => return Err(format!("'{other}' is not a proposal status")),
    })
}
