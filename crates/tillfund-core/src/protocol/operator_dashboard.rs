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
    pub pending_proposals: u64,
}
