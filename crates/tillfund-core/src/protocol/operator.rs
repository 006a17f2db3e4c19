//! The operator's view of the reserve.

use serde::{Deserialize, Serialize};

/// The reserve monitor and yield state (`GET /v1/operator/status`). Amounts are minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerStatusBody {
    pub currency: String,
    pub reserve: i64,
    pub service: i64,
    pub reserve_threshold: i64,
    pub reserve_refill: i64,
    /// Set while the reserve is under its threshold and the service account cannot refill
    /// it: the operator must fund the reserve.
    pub reserve_alert: Option<String>,
    pub last_yield_day: Option<String>,
}
