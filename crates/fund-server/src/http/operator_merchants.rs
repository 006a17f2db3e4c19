//! Merchants, counters and activation codes for the platform's staff.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use tillfund_core::MerchantId;
use tillfund_core::protocol::{
    ActivationCodeBody, ActivationCodeState, CounterBody, IssuedActivationCodeBody,
    MerchantDetailBody, MerchantsBody, NewMerchantRequest,
};
use tillfund_core::signing::encode_hex;

use super::extract::ApiJson;
use super::operators::OperatorCall;
use super::{ApiError, AppState, ErrorBody};
use crate::service::{ErrorCode, MerchantDetail, code_id};

/// What a code's record says at `now_ms`.
pub(super) fn code_state(
    used_at_ms: Option<i64>,
    cancelled_at_ms: Option<i64>,
    expires_at_ms: i64,
    now_ms: i64,
) -> ActivationCodeState {
    if used_at_ms.is_some() {
        ActivationCodeState::Used
    } else if cancelled_at_ms.is_some() {
        ActivationCodeState::Cancelled
    } else if expires_at_ms <= now_ms {
        ActivationCodeState::Expired
    } else {
        ActivationCodeState::Waiting
    }
}

pub(super) fn merchant_detail_body(detail: MerchantDetail, now_ms: i64) -> MerchantDetailBody {
    MerchantDetailBody {
        merchant_id: detail.merchant.id,
        name: detail.merchant.name,
        time_zone: detail.merchant.time_zone,
        settlement_account: detail.merchant.settlement_account,
        counters: detail
            .counters
            .into_iter()
            .map(|counter| CounterBody {
                terminal_id: counter.id,
                label: counter.label,
                receipt_prefix: counter.receipt_prefix,
                enrolled_at_ms: counter.enrolled_at_ms,
                revoked_at_ms: counter.revoked_at_ms,
                last_seen_ms: counter.last_seen_ms,
                app_version: counter.app_version,
            })
            .collect(),
        activation_codes: detail
            .activation_codes
            .into_iter()
            .map(|code| ActivationCodeBody {
                code_id: encode_hex(&code.code_hash),
                state: code_state(
                    code.used_at_ms,
                    code.cancelled_at_ms,
                    code.expires_at_ms,
                    now_ms,
                ),
                created_at_ms: code.created_at_ms,
                expires_at_ms: code.expires_at_ms,
                terminal_id: code.terminal_id,
            })
            .collect(),
    }
}

fn merchant_id(text: &str) -> Result<MerchantId, ApiError> {
    text.parse().map_err(|_| ApiError::new(ErrorCode::MerchantUnknown, "There is no such store."))
}

/// Every merchant with its counters (last contact, app version) and latest activation
/// codes (everyone reads).
#[utoipa::path(
    get, path = "/v1/operator/merchants", tag = "operator",
    responses((status = 200, body = MerchantsBody)),
    security(("operator_session" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    call: OperatorCall,
) -> Result<Json<MerchantsBody>, ApiError> {
    let details = state.service().merchant_details(&call.operator, &call.source).await?;
    let now = state.service().now_ms();
    Ok(Json(MerchantsBody {
        merchants: details.into_iter().map(|detail| merchant_detail_body(detail, now)).collect(),
    }))
}

/// Adds a partner store (operators and approvers).
#[utoipa::path(
    post, path = "/v1/operator/merchants", tag = "operator",
    request_body = NewMerchantRequest,
    responses(
        (status = 201, body = MerchantDetailBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 422, description = "merchant_name_invalid, time_zone_invalid", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn add(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiJson(request): ApiJson<NewMerchantRequest>,
) -> Result<Response, ApiError> {
    let merchant = state
        .service()
        .operator_add_merchant(&call.operator, &call.source, &request.name, &request.time_zone)
        .await?;
    let detail = MerchantDetail { merchant, counters: Vec::new(), activation_codes: Vec::new() };
    let body = merchant_detail_body(detail, state.service().now_ms());
    Ok((axum::http::StatusCode::CREATED, Json(body)).into_response())
}

/// Issues a one-time activation code for a new counter of the store (operators and
/// approvers); the code is shown this once.
#[utoipa::path(
    post, path = "/v1/operator/merchants/{merchant_id}/activation-codes", tag = "operator",
    params(("merchant_id" = String, Path)),
    responses(
        (status = 201, body = IssuedActivationCodeBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "merchant_unknown", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn issue_code(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = merchant_id(&id)?;
    let (code, expires_at_ms) =
        state.service().operator_issue_activation_code(&call.operator, &call.source, id).await?;
    let body =
        IssuedActivationCodeBody { code_id: code_id(&code), activation_code: code, expires_at_ms };
    Ok((axum::http::StatusCode::CREATED, Json(body)).into_response())
}

/// Cancels an activation code not yet used (operators and approvers).
#[utoipa::path(
    delete, path = "/v1/operator/merchants/{merchant_id}/activation-codes/{code_id}", tag = "operator",
    params(("merchant_id" = String, Path), ("code_id" = String, Path)),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "merchant_unknown", body = ErrorBody),
        (status = 409, description = "activation_code_not_waiting", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn cancel_code(
    State(state): State<AppState>,
    call: OperatorCall,
    Path((id, code)): Path<(String, String)>,
) -> Result<axum::http::StatusCode, ApiError> {
    let id = merchant_id(&id)?;
    state
        .service()
        .operator_cancel_activation_code(&call.operator, &call.source, id, &code)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
