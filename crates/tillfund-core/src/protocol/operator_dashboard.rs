//! The operators' dashboard (`GET /v1/operator/dashboard`). Amounts are minor units.

use serde::{Deserialize, Serialize};

use super::LedgerStatusBody;
use crate::TerminalId;

/// One kind of transfer today: how many entries had one, and their sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowBody {
    /// `cash`, `bonus`, `payment`, `refund`, `yield`, `refill`, `settlement`, …
    pub code: String,
    pub entries: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayBalanceBody {
    pub day: String,
    pub reserve: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilentCounterBody {
    pub merchant: String,
    pub label: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub terminal_id: TerminalId,
    pub last_seen_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardBody {
    pub status: LedgerStatusBody,
    /// The platform's day (its time zone).
    pub today: String,
    pub today_flows: Vec<FlowBody>,
    /// The reserve at the end of each of the last 30 days, oldest first; today as it
    /// stands now.
    pub reserve_by_day: Vec<DayBalanceBody>,
    /// Counters not heard from for more than a day.
    pub silent_counters: Vec<SilentCounterBody>,
    /// Counters whose entries the server refused in the last day: they wait in the
    /// counter's "needs attention" list for the manager.
    #[serde(default)]
    pub refused_entries: Vec<RefusedEntriesBody>,
    /// The newest ledger audit run by anyone, if any ran.
    #[serde(default)]
    pub last_audit: Option<LastAuditBody>,
    pub pending_proposals: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusedEntriesBody {
    pub merchant: String,
    pub label: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub terminal_id: TerminalId,
    pub refused: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastAuditBody {
    pub at_ms: i64,
    /// Who ran it (`cli` for the command line).
    pub by: String,
    /// `ok`, or `audit_problems_found`.
    pub outcome: String,
    /// What it checked and found, as the trail keeps it.
    pub detail: String,
}

/// Which audit to run (`POST /v1/operator/audits`): incremental by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRunRequest {
    /// Replay the journal from its first entry instead of resuming at the checkpoint.
    #[serde(default)]
    pub full: bool,
}

/// What an audit checked and found, and where the journal's chain now ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditBody {
    pub passed: bool,
    pub entries_checked: u64,
    pub accounts_checked: u64,
    pub trail_records_checked: u64,
    pub problems_found: u64,
    /// The first problems, each one sentence naming what is wrong and where.
    pub problems: Vec<String>,
    /// The entry an incremental audit resumed after; absent for a full audit.
    pub resumed_after_sequence: Option<i64>,
    /// The checkpoint's entry and hash (hex) after a passing audit.
    pub chain_head_sequence: Option<i64>,
    pub chain_head_hash: Option<String>,
}
