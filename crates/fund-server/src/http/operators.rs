//! The operators' JSON API: sign-in and sessions, accounts, the trail. Every request but
//! sign-in carries `Authorization: Bearer tfo_…` from a session; what the role allows is
//! decided by the service, which also records each action in the trail.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tillfund_core::OperatorId;
use tillfund_core::protocol::{
    NewOperatorRequest, OperatorAccountBody, OperatorAccountsBody, OperatorAction, OperatorBody,
    OperatorSessionBody, OperatorSignInRequest, PasswordChangeRequest, SecondFactorBody,
    SessionsEndedBody, TrailPageBody, TrailRecordBody,
};
use tillfund_core::signing::encode_hex;

use super::extract::{ApiJson, ApiQuery, ClientAddress, too_many_attempts};
use super::{ApiError, AppState, ErrorBody};
use crate::operators::TrailRecord;
use crate::service::{
    Caller, ErrorCode, RequestSource, SecondFactorEnrolment, SignedInOperator, TRAIL_PAGE_MAX,
    TrailQuery,
};

/// The signed-in operator behind `Authorization: Bearer tfo_…`, with the token (to end
/// the session) and where the request came from (for the trail).
pub struct OperatorCall {
    pub operator: SignedInOperator,
    pub token: String,
    pub source: RequestSource,
}

impl OperatorCall {
    pub fn caller(&self) -> Caller {
        Caller::Operator(self.operator.clone())
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
}

impl FromRequestParts<AppState> for OperatorCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let source = RequestSource(super::web::security::client_ip(&parts.extensions).to_string());
        let token = bearer(parts).ok_or_else(|| {
            ApiError::new(
                ErrorCode::OperatorSessionInvalid,
                "Sign in first: send the session token as 'Authorization: Bearer <token>'.",
            )
        })?;
        let operator = state.service().signed_in_operator(token).await?;
        Ok(OperatorCall { operator, token: token.to_owned(), source })
    }
}

fn operator_body(operator: &SignedInOperator) -> OperatorBody {
    OperatorBody { id: operator.id, name: operator.name.clone(), role: operator.role }
}

fn second_factor_body(enrolment: SecondFactorEnrolment) -> SecondFactorBody {
    SecondFactorBody {
        operator: operator_body(&enrolment.operator),
        totp_secret: enrolment.totp_secret,
        provisioning_uri: enrolment.provisioning_uri,
    }
}

/// Signs an operator in. Failures are counted per address (the limit shared with the
/// monitoring token) and per account (the lock), and recorded in the trail.
#[utoipa::path(
    post, path = "/v1/operator/sessions", tag = "operator",
    request_body = OperatorSignInRequest,
    responses(
        (status = 201, body = OperatorSessionBody),
        (status = 401, description = "operator_sign_in_failed", body = ErrorBody),
        (status = 423, description = "operator_locked", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<OperatorSignInRequest>,
) -> Result<Response, ApiError> {
    let failures = &state.web_limits().operator_failures_by_address;
    let address = address.to_string();
    if state.service().attempts_exhausted(failures, &address).await? {
        return Err(too_many_attempts());
    }
    let source = RequestSource(address.clone());
    let result = state
        .service()
        .operator_sign_in(&request.name, &request.password, &request.one_time_code, &source)
        .await;
    let session = match result {
        Ok(session) => session,
        Err(error) => {
            if matches!(error.code, ErrorCode::OperatorSignInFailed | ErrorCode::OperatorLocked) {
                state.service().allow_attempt(failures, &address).await?;
            }
            return Err(error.into());
        }
    };
    let body = OperatorSessionBody {
        token: session.token,
        expires_at_ms: session.expires_at_ms,
        idle_timeout_ms: state.service().config().operator_policy.sessions.idle_ms,
        operator: operator_body(&session.operator),
    };
    Ok((axum::http::StatusCode::CREATED, Json(body)).into_response())
}

/// Who this session belongs to.
#[utoipa::path(
    get, path = "/v1/operator/me", tag = "operator",
    responses(
        (status = 200, body = OperatorBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn me(call: OperatorCall) -> Json<OperatorBody> {
    Json(operator_body(&call.operator))
}

/// Ends this session.
#[utoipa::path(
    delete, path = "/v1/operator/sessions/current", tag = "operator",
    responses(
        (status = 200, body = SessionsEndedBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn sign_out(
    State(state): State<AppState>,
    call: OperatorCall,
) -> Result<Json<SessionsEndedBody>, ApiError> {
    state.service().operator_sign_out(&call.operator, &call.token, &call.source).await?;
    Ok(Json(SessionsEndedBody { sessions_ended: 1 }))
}

/// Ends every session of this operator, on every device.
#[utoipa::path(
    delete, path = "/v1/operator/sessions", tag = "operator",
    responses(
        (status = 200, body = SessionsEndedBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    call: OperatorCall,
) -> Result<Json<SessionsEndedBody>, ApiError> {
    let ended = state.service().operator_sign_out_everywhere(&call.operator, &call.source).await?;
    Ok(Json(SessionsEndedBody { sessions_ended: ended }))
}

/// Changes this operator's own password; every session ends, this one too.
#[utoipa::path(
    post, path = "/v1/operator/password", tag = "operator",
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Changed; sign in again"),
        (status = 401, description = "operator_session_invalid, operator_sign_in_failed", body = ErrorBody),
        (status = 422, description = "operator_password_weak", body = ErrorBody),
        (status = 423, description = "operator_locked", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiJson(request): ApiJson<PasswordChangeRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .service()
        .change_operator_password(
            &call.operator,
            &call.source,
            &request.current_password,
            &request.new_password,
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Every account (administrators).
#[utoipa::path(
    get, path = "/v1/operator/operators", tag = "operator",
    responses(
        (status = 200, body = OperatorAccountsBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn list_operators(
    State(state): State<AppState>,
    call: OperatorCall,
) -> Result<Json<OperatorAccountsBody>, ApiError> {
    let operators = state.service().operators(&call.caller(), &call.source).await?;
    Ok(Json(OperatorAccountsBody {
        operators: operators
            .into_iter()
            .map(|summary| OperatorAccountBody {
                id: summary.id,
                name: summary.name,
                role: summary.role,
                disabled: summary.disabled,
                locked_until_ms: summary.locked_until_ms,
                created_at_ms: summary.created_at_ms,
            })
            .collect(),
    }))
}

/// Adds an account (administrators); its second factor is shown this once.
#[utoipa::path(
    post, path = "/v1/operator/operators", tag = "operator",
    request_body = NewOperatorRequest,
    responses(
        (status = 201, body = SecondFactorBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 409, description = "operator_name_taken", body = ErrorBody),
        (status = 422, description = "operator_name_invalid, operator_password_weak", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn add_operator(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiJson(request): ApiJson<NewOperatorRequest>,
) -> Result<Response, ApiError> {
    let enrolment = state
        .service()
        .add_operator(&call.caller(), &call.source, &request.name, request.role, &request.password)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(second_factor_body(enrolment))).into_response())
}

fn operator_id(text: &str) -> Result<OperatorId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::new(ErrorCode::OperatorUnknown, "There is no such operator."))
}

/// Disables an account: its sessions end at once (administrators).
#[utoipa::path(
    post, path = "/v1/operator/operators/{operator_id}/disable", tag = "operator",
    params(("operator_id" = String, Path)),
    responses(
        (status = 204, description = "Disabled"),
        (status = 401, description = "operator_session_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "operator_unknown", body = ErrorBody),
        (status = 409, description = "operator_self_disable", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn disable_operator(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let id = operator_id(&id)?;
    state.service().set_operator_disabled(&call.caller(), &call.source, id, true).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Enables a disabled account again (administrators).
#[utoipa::path(
    post, path = "/v1/operator/operators/{operator_id}/enable", tag = "operator",
    params(("operator_id" = String, Path)),
    responses(
        (status = 204, description = "Enabled"),
        (status = 401, description = "operator_session_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "operator_unknown", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn enable_operator(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let id = operator_id(&id)?;
    state.service().set_operator_disabled(&call.caller(), &call.source, id, false).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A new second factor for an operator who lost theirs; shown this once, every session of
/// the account ends (administrators).
#[utoipa::path(
    post, path = "/v1/operator/operators/{operator_id}/second-factor", tag = "operator",
    params(("operator_id" = String, Path)),
    responses(
        (status = 201, body = SecondFactorBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "operator_unknown", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let enrolment =
        state.service().reset_operator_second_factor(&call.caller(), &call.source, id).await?;
    Ok((axum::http::StatusCode::CREATED, Json(second_factor_body(enrolment))).into_response())
}

/// Which records of the trail: all filters optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrailParams {
    /// Records before this sequence (the `next_before` of the page before).
    pub before: Option<i64>,
    /// One operator's records.
    pub operator_id: Option<String>,
    pub action: Option<String>,
    /// From this time (ms since the epoch, inclusive) …
    pub from_ms: Option<i64>,
    /// … until this time (exclusive).
    pub until_ms: Option<i64>,
    /// At most this many (1 to 500, default 100).
    pub limit: Option<u32>,
}

impl TrailParams {
    pub(super) fn query(&self, limit: u32) -> Result<TrailQuery, ApiError> {
        let invalid =
            |what: &str| ApiError::new(ErrorCode::QueryInvalid, format!("{what} is not valid."));
        Ok(TrailQuery {
            before_sequence: self.before,
            operator_id: self
                .operator_id
                .as_deref()
                .map(|text| text.parse().map_err(|_| invalid("operator_id")))
                .transpose()?,
            action: self
                .action
                .as_deref()
                .map(|text| text.parse::<OperatorAction>().map_err(|_| invalid("action")))
                .transpose()?,
            from_ms: self.from_ms,
            until_ms: self.until_ms,
            limit,
        })
    }
}

pub(super) fn trail_record_body(record: TrailRecord) -> TrailRecordBody {
    TrailRecordBody {
        sequence: record.sequence,
        at_ms: record.record.at_ms,
        operator_id: record.record.actor.operator_id,
        operator_name: record.record.actor.name,
        source: record.record.source,
        action: record.record.action,
        subject: record.record.subject,
        detail: record.record.detail,
        outcome: record.record.outcome,
        hash: encode_hex(&record.hash),
    }
}

/// The operators' trail, newest first (approvers and administrators).
#[utoipa::path(
    get, path = "/v1/operator/trail", tag = "operator",
    params(TrailParams),
    responses(
        (status = 200, body = TrailPageBody),
        (status = 400, description = "query_invalid", body = ErrorBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn trail(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiQuery(params): ApiQuery<TrailParams>,
) -> Result<Json<TrailPageBody>, ApiError> {
    let limit = params.limit.unwrap_or(100).clamp(1, TRAIL_PAGE_MAX);
    let records =
        state.service().operator_trail(&call.caller(), &call.source, params.query(limit)?).await?;
    let next_before = (records.len() == limit as usize)
        .then(|| records.last().map(|record| record.sequence))
        .flatten();
    Ok(Json(TrailPageBody {
        records: records.into_iter().map(trail_record_body).collect(),
        next_before,
    }))
}
