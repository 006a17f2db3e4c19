//! Four eyes on money and its rules: a change proposed by one operator takes effect only
//! when a different approver approves it (`/v1/operator/proposals`).

use serde::{Deserialize, Serialize};

use crate::ProposalId;
use crate::bonus::BonusRule;

/// What a proposal would change. Amounts are minor units; ids and dates stay text, checked
/// by the server with their own codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProposedChange {
    /// A new bonus rule set, superseding the one in force.
    PublishBonusRules {
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
        rules: Vec<BonusRule>,
        /// A scheduled start (ms since the epoch, in the future, within a year): the rules
        /// in force stay until then and these apply from then on, in one set published
        /// now. Absent: these supersede the rules in force as soon as it is approved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        starts_at_ms: Option<i64>,
    },
    /// The annual yield rate from a day on (replacing a rate set for that day).
    SetYieldRate {
        /// `YYYY-MM-DD`, in the platform's time zone.
        effective_from: String,
        /// Percent, e.g. `"2.5"` for 2.5 % a year.
        annual_percent: String,
    },
    /// Money moved from the bank into the reserve.
    FundReserve { amount: i64 },
    /// Money moved from the reserve back to the bank; never under the reserve's threshold.
    DefundReserve { amount: i64 },
    /// The most a wallet may hold, and the reserve's threshold and refill (minor units),
    /// all three at once: what is not to change is sent as it stands.
    SetMoneyLimits { wallet_cap: i64, reserve_threshold: i64, reserve_refill: i64 },
    /// A store's name, time zone and settlement account, all three at once (the unchanged
    /// ones as they stand). The account is where its net is paid: never changed by one
    /// person alone.
    EditMerchant {
        merchant_id: String,
        name: String,
        time_zone: String,
        settlement_account: String,
    },
    /// A counter's requests refused from now on.
    RevokeTerminal { terminal_id: String },
    /// A wallet locked by wrong PINs opened again before its lock runs out.
    UnlockCustomer { customer_id: String },
}

impl ProposedChange {
    /// The kind, as the trail and the lists name it.
    pub fn kind(&self) -> &'static str {
        match self {
            ProposedChange::PublishBonusRules { .. } => "publish_bonus_rules",
            ProposedChange::SetYieldRate { .. } => "set_yield_rate",
            ProposedChange::FundReserve { .. } => "fund_reserve",
            ProposedChange::DefundReserve { .. } => "defund_reserve",
            ProposedChange::SetMoneyLimits { .. } => "set_money_limits",
            ProposedChange::EditMerchant { .. } => "edit_merchant",
            ProposedChange::RevokeTerminal { .. } => "revoke_terminal",
            ProposedChange::UnlockCustomer { .. } => "unlock_customer",
        }
    }
}

/// Where a proposal stands. `Expired`: pending past its time, never approvable again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Pending,
    /// Approved, and being applied (or cut off while being applied: applying it again is
    /// safe, each change is idempotent).
    Approved,
    Applied,
    /// Approved, but the change was refused when applied (`outcome` says why).
    Failed,
    Rejected,
    Withdrawn,
    Expired,
}

/// One line of what a proposal changes: `what` goes from `before` to `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeLineBody {
    pub what: String,
    pub before: String,
    pub after: String,
}

/// `POST /v1/operator/proposals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewProposalRequest {
    pub change: ProposedChange,
    /// Why, for the approver (at most 500 characters).
    #[serde(default)]
    pub note: String,
}

/// An approval, rejection or withdrawal, with an optional note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRequest {
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: ProposalId,
    pub change: ProposedChange,
    pub note: String,
    pub proposed_by: String,
    pub proposed_at_ms: i64,
    /// Not approvable from then on.
    pub expires_at_ms: i64,
    pub status: ProposalStatus,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub decision_note: Option<String>,
    /// `ok` once applied, or the code that refused the change.
    pub outcome: Option<String>,
    /// What the change does: as of now while pending, as of the approval once decided.
    pub changes: Vec<ChangeLineBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalsBody {
    pub proposals: Vec<ProposalBody>,
}
