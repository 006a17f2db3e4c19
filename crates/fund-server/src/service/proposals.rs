//! Four eyes on money and its rules, after Fineract's maker-checker: an operator proposes a
//! change, a different approver approves it (it is applied at once, exactly once) or
//! rejects it, the proposer may withdraw it, and a proposal nobody decided expires. Every
//! step, refusals included, goes into the operators' trail.

use tillfund_core::ProposalId;
use tillfund_core::protocol::{ChangeLineBody, OperatorAction, ProposalStatus, ProposedChange};

use super::operators::{RequestSource, SignedInOperator};
use super::*;
use crate::operators::Permission;
use crate::store::{Decision, ProposalRecord};

/// How long a proposal waits for a decision.
pub const PROPOSAL_TTL_MS: i64 = 48 * 60 * 60 * 1000;
/// Proposals one list shows at most.
pub const PROPOSALS_LISTED_MAX: u32 = 200;
/// An approval not marked applied this long after it was made was cut off (a request
/// lasts 15 seconds at most), and approving it again finishes it. Sooner, another
/// approver's request is still applying it.
pub const APPROVAL_STALE_MS: i64 = 60_000;
/// The longest note, in characters.
pub const NOTE_CHARS_MAX: usize = 500;

/// A proposal as it stands now: its status with expiry read from the clock, and what it
/// does (as of now while pending, as of its decision once decided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalView {
    pub record: ProposalRecord,
    pub status: ProposalStatus,
    pub changes: Vec<ChangeLineBody>,
}

fn subject(id: ProposalId) -> String {
    format!("proposal:{id}")
}

fn unknown() -> ServiceError {
    ServiceError::new(ErrorCode::ProposalUnknown, "There is no such proposal.")
}

fn check_note(note: &str) -> Result<String, ServiceError> {
    if note.chars().count() > NOTE_CHARS_MAX {
        return Err(ServiceError::new(
            ErrorCode::ProposalNoteTooLong,
            format!("A note is at most {NOTE_CHARS_MAX} characters."),
        ));
    }
    Ok(note.trim().to_owned())
}

impl<S: Storage> FundService<S> {
    /// Proposes a change (operators and approvers). It is checked now and described for
    /// the approver; nothing changes until another approver approves it.
    pub async fn propose(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        change: ProposedChange,
        note: &str,
    ) -> Result<ProposalView, ServiceError> {
        let caller = super::Caller::Operator(by.clone());
        let action = OperatorAction::ProposalMade;
        self.require_permission(&caller, source, Permission::Propose, action, change.kind())
            .await?;
        let id = ProposalId::generate_from(&self.config.ids);
        let result = self.propose_unrecorded(by, id, change.clone(), note).await;
        let detail = match &result {
            Ok(view) => describe_for_trail(change.kind(), &view.changes),
            Err(_) => change.kind().to_owned(),
        };
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject(id),
            &detail,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    async fn propose_unrecorded(
        &self,
        by: &SignedInOperator,
        id: ProposalId,
        change: ProposedChange,
        note: &str,
    ) -> Result<ProposalView, ServiceError> {
        let note = check_note(note)?;
        let checked = self.check_change(&change).await?;
        self.check_changes_something(&checked).await?;
        let changes = self.describe_change(&checked).await?;
        let now = self.store.clock().now_ms();
        let record = ProposalRecord {
            id,
            change,
            note,
            proposer: by.actor(),
            proposed_at_ms: now,
            expires_at_ms: now + PROPOSAL_TTL_MS,
            status: ProposalStatus::Pending,
            decider: None,
            decided_at_ms: None,
            decision_note: None,
            outcome: None,
            changes: changes.clone(),
        };
        self.store.add_proposal(&record).await?;
        Ok(ProposalView { record, status: ProposalStatus::Pending, changes })
    }

    /// Proposals, newest first, optionally only those with `status` (everyone reads).
    pub async fn proposals(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        status: Option<ProposalStatus>,
    ) -> Result<Vec<ProposalView>, ServiceError> {
        let caller = super::Caller::Operator(by.clone());
        self.require_permission(
            &caller,
            source,
            Permission::Read,
            OperatorAction::ProposalMade,
            "proposals",
        )
        .await?;
        let now = self.store.clock().now_ms();
        // Expired proposals are stored as pending: ask for those and sort them out here.
        let stored = match status {
            Some(ProposalStatus::Expired) => Some(ProposalStatus::Pending),
            other => other,
        };
        let mut views = Vec::new();
        for record in self.store.proposals(stored, PROPOSALS_LISTED_MAX).await? {
            let view = self.view(record, now).await?;
            if status.is_none_or(|wanted| wanted == view.status) {
                views.push(view);
            }
        }
        Ok(views)
    }

    /// One proposal (everyone reads).
    pub async fn proposal(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        id: ProposalId,
    ) -> Result<ProposalView, ServiceError> {
        let caller = super::Caller::Operator(by.clone());
        self.require_permission(
            &caller,
            source,
            Permission::Read,
            OperatorAction::ProposalMade,
            &subject(id),
        )
        .await?;
        let record = self.store.proposal(id).await?.ok_or_else(unknown)?;
        self.view(record, self.store.clock().now_ms()).await
    }

    async fn view(
        &self,
        record: ProposalRecord,
        now_ms: i64,
    ) -> Result<ProposalView, ServiceError> {
        let status = match record.status {
            ProposalStatus::Pending if record.expires_at_ms <= now_ms => ProposalStatus::Expired,
            other => other,
        };
        // A pending proposal is described as it would apply now; a change that no longer
        // checks (its counter gone) keeps the description it was made with.
        let changes = if status == ProposalStatus::Pending {
            match self.check_change(&record.change).await {
                Ok(checked) => self.describe_change(&checked).await?,
                Err(_) => record.changes.clone(),
            }
        } else {
            record.changes.clone()
        };
        Ok(ProposalView { record, status, changes })
    }

    /// Approves another operator's pending proposal and applies it at once. Of approvals
    /// made at the same time, by any process, one wins; the others are `proposal_not_pending`.
    pub async fn approve_proposal(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        id: ProposalId,
        note: &str,
    ) -> Result<ProposalView, ServiceError> {
        let caller = super::Caller::Operator(by.clone());
        let action = OperatorAction::ProposalApproved;
        self.require_permission(&caller, source, Permission::Approve, action, &subject(id)).await?;
        let result = self.approve_unrecorded(by, id, note).await;
        let detail = match &result {
            Ok(view) => format!(
                "{}: {}",
                view.record.change.kind(),
                view.record.outcome.as_deref().unwrap_or("not applied")
            ),
            Err(_) => String::new(),
        };
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject(id),
            &detail,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    async fn approve_unrecorded(
        &self,
        by: &SignedInOperator,
        id: ProposalId,
        note: &str,
    ) -> Result<ProposalView, ServiceError> {
        let note = check_note(note)?;
        let record = self.store.proposal(id).await?.ok_or_else(unknown)?;
        if record.proposer.operator_id == Some(by.id) {
            return Err(ServiceError::new(
                ErrorCode::ProposalOwnApproval,
                "Four eyes: someone else must approve what you proposed.",
            ));
        }
        let now = self.store.clock().now_ms();
        let stale = record.decided_at_ms.is_some_and(|at| now - at >= APPROVAL_STALE_MS);
        if record.status == ProposalStatus::Approved && stale {
            // Approved a while ago and never marked applied: the server stopped on the way.
            // Applying it again is safe (each change is idempotent), and finishes it.
            let checked = self.check_change_to_finish(&record.change).await?;
            return self.apply_and_finish(id, checked).await;
        }
        self.refuse_unless_pending(&record, now)?;
        let checked = self.check_change(&record.change).await?;
        let changes = self.describe_change(&checked).await?;
        // A store's fields and the money limits are proposed whole, from the values of the
        // moment: approved after another change to them, this one would quietly undo it.
        let whole_record = matches!(
            record.change,
            ProposedChange::EditMerchant { .. } | ProposedChange::SetMoneyLimits { .. }
        );
        if whole_record && changes != record.changes {
            return Err(ServiceError::new(
                ErrorCode::ProposalOutdated,
                "What this proposal changes has changed since it was proposed; propose it again.",
            ));
        }
        let decision = Decision {
            to: ProposalStatus::Approved,
            decider: &by.actor(),
            note: &note,
            changes: &changes,
            now_ms: now,
        };
        if !self.store.decide_proposal(id, decision).await? {
            // Decided by someone else meanwhile, or expired on the way.
            let record = self.store.proposal(id).await?.ok_or_else(unknown)?;
            self.refuse_unless_pending(&record, self.store.clock().now_ms())?;
            return Err(not_pending());
        }
        self.apply_and_finish(id, checked).await
    }

    async fn apply_and_finish(
        &self,
        id: ProposalId,
        checked: super::proposed_changes::CheckedChange,
    ) -> Result<ProposalView, ServiceError> {
        let (to, outcome) = match self.apply_change(id, checked).await {
            Ok(()) => (ProposalStatus::Applied, "ok".to_owned()),
            // A change refused when applied (the reserve's amount out of range, …): the
            // approval stands, the change did not happen, and the proposal says why.
            Err(error) if !error.is_internal() && error.code != ErrorCode::StorageUnavailable => {
                (ProposalStatus::Failed, error.code.as_str().to_owned())
            }
            // The server could not finish: the proposal stays approved, and applying it
            // again is safe (see `proposed_changes.rs`).
            Err(error) => return Err(error),
        };
        self.store.finish_proposal(id, to, &outcome).await?;
        let record = self.store.proposal(id).await?.ok_or_else(unknown)?;
        let status = record.status;
        Ok(ProposalView { changes: record.changes.clone(), record, status })
    }

    fn refuse_unless_pending(
        &self,
        record: &ProposalRecord,
        now_ms: i64,
    ) -> Result<(), ServiceError> {
        if record.status != ProposalStatus::Pending {
            return Err(not_pending());
        }
        if record.expires_at_ms <= now_ms {
            return Err(ServiceError::new(
                ErrorCode::ProposalExpired,
                "This proposal has expired; propose it again.",
            ));
        }
        Ok(())
    }

    /// Rejects another operator's pending proposal (approvers).
    pub async fn reject_proposal(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        id: ProposalId,
        note: &str,
    ) -> Result<ProposalView, ServiceError> {
        let caller = super::Caller::Operator(by.clone());
        let action = OperatorAction::ProposalRejected;
        self.require_permission(&caller, source, Permission::Approve, action, &subject(id)).await?;
        let result = self.close_unrecorded(by, id, note, ProposalStatus::Rejected).await;
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject(id),
            note,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    /// Withdraws one's own pending proposal.
    pub async fn withdraw_proposal(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        id: ProposalId,
        note: &str,
    ) -> Result<ProposalView, ServiceError> {
        let action = OperatorAction::ProposalWithdrawn;
        let result = self.close_unrecorded(by, id, note, ProposalStatus::Withdrawn).await;
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject(id),
            note,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    async fn close_unrecorded(
        &self,
        by: &SignedInOperator,
        id: ProposalId,
        note: &str,
        to: ProposalStatus,
    ) -> Result<ProposalView, ServiceError> {
        let note = check_note(note)?;
        let record = self.store.proposal(id).await?.ok_or_else(unknown)?;
        let own = record.proposer.operator_id == Some(by.id);
        if to == ProposalStatus::Withdrawn && !own {
            return Err(ServiceError::new(
                ErrorCode::OperatorForbidden,
                "Only the operator who proposed it may withdraw a proposal.",
            ));
        }
        if to == ProposalStatus::Rejected && own {
            return Err(ServiceError::new(
                ErrorCode::ProposalOwnApproval,
                "Withdraw your own proposal rather than rejecting it.",
            ));
        }
        let now = self.store.clock().now_ms();
        self.refuse_unless_pending(&record, now)?;
        let decision = Decision {
            to,
            decider: &by.actor(),
            note: &note,
            changes: &record.changes,
            now_ms: now,
        };
        if !self.store.decide_proposal(id, decision).await? {
            let record = self.store.proposal(id).await?.ok_or_else(unknown)?;
            self.refuse_unless_pending(&record, self.store.clock().now_ms())?;
            return Err(not_pending());
        }
        let record = self.store.proposal(id).await?.ok_or_else(unknown)?;
        let status = record.status;
        Ok(ProposalView { changes: record.changes.clone(), record, status })
    }
}

fn not_pending() -> ServiceError {
    ServiceError::new(ErrorCode::ProposalNotPending, "This proposal has been decided already.")
}

/// The trail's detail of a proposal: its kind and what it changes, one line each.
fn describe_for_trail(kind: &str, changes: &[ChangeLineBody]) -> String {
    let mut detail = kind.to_owned();
    for change in changes {
        detail.push_str(&format!("\n{}: {} -> {}", change.what, change.before, change.after));
    }
    detail
}
