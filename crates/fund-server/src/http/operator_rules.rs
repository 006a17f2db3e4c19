//! The money rules in force for the operators' API, as the console's Rules screen shows them.

use axum::Json;
use axum::extract::State;
use rust_decimal::Decimal;
use tillfund_core::protocol::{RuleSetVersionBody, RulesBody, YieldRateBody};

use super::operators::OperatorCall;
use super::{ApiError, AppState};

/// The bonus rule set in force with its earlier versions, the yield rate schedule, the
/// wallet cap and the reserve's threshold and refill (everyone signed in reads them).
#[utoipa::path(
    get, path = "/v1/operator/rules", tag = "operator",
    responses((status = 200, body = RulesBody)),
    security(("operator_session" = []))
)]
pub async fn rules(
    State(state): State<AppState>,
    call: OperatorCall,
) -> Result<Json<RulesBody>, ApiError> {
    let overview = state.service().rules_overview(&call.operator, &call.source).await?;
    Ok(Json(RulesBody {
        currency: state.currency().code().to_owned(),
        bonus_rules_version: overview.bonus_rules.version(),
        bonus_rules: overview.bonus_rules.rules().to_vec(),
        bonus_rule_versions: overview
            .versions
            .into_iter()
            .map(|version| RuleSetVersionBody {
                version: version.version,
                published_at_ms: version.published_at_ms,
                superseded_at_ms: version.superseded_at_ms,
                rules: version.rules as u64,
            })
            .collect(),
        yield_rates: overview
            .yield_rates
            .into_iter()
            .map(|(effective_from, rate)| YieldRateBody {
                effective_from,
                annual_percent: (rate * Decimal::from(100)).normalize().to_string(),
            })
            .collect(),
        wallet_cap: overview.limits.wallet_balance_cap.minor_units(),
        reserve_threshold: overview.limits.reserve_threshold.minor_units(),
        reserve_refill: overview.limits.reserve_refill.minor_units(),
        limits_version: overview.limits_version,
    }))
}
