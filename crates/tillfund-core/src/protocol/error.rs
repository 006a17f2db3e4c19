//! The one shape of every refusal.

use serde::{Deserialize, Serialize};

/// Every refusal of the API: a stable `code` that clients match on, and a `message` for
/// people. Each operation lists its codes under each status in the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable, machine-readable; never changes meaning once published.
    pub code: String,
    /// Human-readable explanation; may change wording.
    pub message: String,
}
