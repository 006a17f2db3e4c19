//! The money rules in force (`GET /v1/operator/rules`): the bonus rule set and its earlier
//! versions, the yield rate schedule, the wallet cap and the reserve's threshold and refill.
//! Each changes only by proposal. Amounts are minor units.

use serde::{Deserialize, Serialize};

use crate::bonus::BonusRule;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleSetVersionBody {
    pub version: u32,
    pub published_at_ms: i64,
    /// When the next version replaced it; absent for the one in force.
    pub superseded_at_ms: Option<i64>,
    pub rules: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YieldRateBody {
    /// `YYYY-MM-DD`, in the platform's time zone.
    pub effective_from: String,
    /// Percent a year, e.g. `"2.5"`.
    pub annual_percent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RulesBody {
    pub currency: String,
    pub bonus_rules_version: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub bonus_rules: Vec<BonusRule>,
    /// Newest first, at most 50.
    pub bonus_rule_versions: Vec<RuleSetVersionBody>,
    pub yield_rates: Vec<YieldRateBody>,
    pub wallet_cap: i64,
    pub reserve_threshold: i64,
    pub reserve_refill: i64,
    /// The stored version of these limits; absent while the start flags apply.
    pub limits_version: Option<i64>,
}
