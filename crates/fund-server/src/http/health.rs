use axum::Json;
use axum::extract::State;
use tillfund_core::protocol::{HealthReport, HealthStatus, PROTOCOL_VERSION};

use tillfund_core::protocol::LedgerStatusBody;

use super::extract::{ClientAddress, too_many_attempts};
use super::{ApiError, AppState, ErrorBody};
use crate::operators::Permission;
use crate::service::{Caller, ErrorCode, RequestSource};
use tillfund_core::protocol::OperatorAction;

/// The reserve monitor and yield state: for any signed-in operator (a session token), and
/// for monitoring (the machine credential `TILLFUND_OPERATOR_TOKEN`).
#[utoipa::path(
    get, path = "/v1/operator/status", tag = "system",
    responses(
        (status = 200, body = LedgerStatusBody),
        (status = 401, description = "operator_token_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "operator_api_disabled", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    ),
    security(("operator_session" = []), ("monitoring_token" = []))
)]
pub async fn operator_status(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: axum::http::HeaderMap,
) -> Result<Json<LedgerStatusBody>, ApiError> {
    // Wrong tokens are counted per address; past the limit even the right one waits, so
    // the token cannot be guessed at the speed of the network.
    let failures = &state.web_limits().operator_failures_by_address;
    let address = address.to_string();
    if state.service().attempts_exhausted(failures, &address).await? {
        return Err(too_many_attempts());
    }
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim();
    if token.starts_with("tfo_") {
        let operator = state.service().signed_in_operator(token).await?;
        state
            .service()
            .require_permission(
                &Caller::Operator(operator),
                &RequestSource(address),
                Permission::Read,
                OperatorAction::StatusRead,
                "status",
            )
            .await?;
    } else if let Err(error) = state.service().authenticate_operator(token.trim()) {
        if error.code == ErrorCode::OperatorTokenInvalid {
            state.service().allow_attempt(failures, &address).await?;
        }
        return Err(error.into());
    }
    let status = state.service().ledger_status().await?;
    Ok(Json(status_body(state.currency(), status)))
}

pub(super) fn status_body(
    currency: tillfund_core::Currency,
    status: crate::service::LedgerStatus,
) -> LedgerStatusBody {
    LedgerStatusBody {
        currency: currency.code().to_owned(),
        reserve: status.reserve.minor_units(),
        service: status.service.minor_units(),
        reserve_threshold: status.reserve_threshold.minor_units(),
        reserve_refill: status.reserve_refill.minor_units(),
        wallet_cap: status.wallet_balance_cap.minor_units(),
        limits_version: status.limits_version,
        reserve_alert: status.reserve_alert,
        last_yield_day: status.last_yield_day,
    }
}

/// Liveness and version. Answers even when the database does not, with status `degraded`,
/// so a counter can tell "server down" from "server up, database down".
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses((status = 200, description = "The server is up", body = HealthReport))
)]
pub async fn healthz(State(state): State<AppState>) -> Json<HealthReport> {
    let status = if state.service().database_answers().await {
        HealthStatus::Ok
    } else {
        HealthStatus::Degraded
    };
    Json(HealthReport {
        status,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: PROTOCOL_VERSION,
        currency: state.currency().code().to_owned(),
    })
}
