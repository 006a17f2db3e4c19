//! Merchants, their counters and activation codes as the platform's staff manage them
//! (`/v1/operator/merchants`).

use serde::{Deserialize, Serialize};

use crate::{MerchantId, TerminalId};

/// A counter as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CounterBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub terminal_id: TerminalId,
    pub label: String,
    pub receipt_prefix: String,
    pub enrolled_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// When it was last heard from (to the minute).
    pub last_seen_ms: Option<i64>,
    /// The app version it says it runs.
    pub app_version: Option<String>,
}

/// What became of an activation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActivationCodeState {
    Waiting,
    Used,
    Expired,
    Cancelled,
}

/// An activation code as operators see it: never the code, which is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivationCodeBody {
    /// Names the code for cancelling it: hex of its hash.
    pub code_id: String,
    pub state: ActivationCodeState,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub terminal_id: Option<TerminalId>,
}

/// A merchant with its counters and recent activation codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantDetailBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub merchant_id: MerchantId,
    pub name: String,
    pub time_zone: String,
    /// Where the platform pays the store its net; empty until set (by proposal).
    #[serde(default)]
    pub settlement_account: String,
    pub counters: Vec<CounterBody>,
    pub activation_codes: Vec<ActivationCodeBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantsBody {
    pub merchants: Vec<MerchantDetailBody>,
}

/// A new partner store (`POST /v1/operator/merchants`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMerchantRequest {
    pub name: String,
    /// IANA time zone of its business day, e.g. `Asia/Shanghai`.
    pub time_zone: String,
}

/// A new activation code, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedActivationCodeBody {
    pub activation_code: String,
    pub code_id: String,
    pub expires_at_ms: i64,
}
