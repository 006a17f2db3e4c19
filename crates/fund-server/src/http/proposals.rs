//! Four eyes over HTTP: propose, list, read, approve, reject, withdraw.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tillfund_core::ProposalId;
use tillfund_core::protocol::{
    DecisionRequest, NewProposalRequest, ProposalBody, ProposalStatus, ProposalsBody,
};

use super::extract::{ApiJson, ApiJsonOrDefault, ApiQuery};
use super::operators::OperatorCall;
use super::{ApiError, AppState, ErrorBody};
use crate::service::{ErrorCode, ProposalView};

fn proposal_body(view: ProposalView) -> ProposalBody {
    let record = view.record;
    ProposalBody {
        id: record.id,
        change: record.change,
        note: record.note,
        proposed_by: record.proposer.name,
        proposed_at_ms: record.proposed_at_ms,
        expires_at_ms: record.expires_at_ms,
        status: view.status,
        decided_by: record.decider.map(|actor| actor.name),
        decided_at_ms: record.decided_at_ms,
        decision_note: record.decision_note,
        outcome: record.outcome,
        changes: view.changes,
    }
}

fn proposal_id(text: &str) -> Result<ProposalId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::new(ErrorCode::ProposalUnknown, "There is no such proposal."))
}

/// Proposes a change to money or its rules (operators and approvers); it waits for another
/// approver.
#[utoipa::path(
    post, path = "/v1/operator/proposals", tag = "operator",
    request_body = NewProposalRequest,
    responses(
        (status = 201, body = ProposalBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "proposal_target_unknown", body = ErrorBody),
        (status = 422, description = "proposal_note_too_long, bonus_rule_invalid, day_invalid, yield_rate_invalid, amount_not_positive", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn propose(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiJson(request): ApiJson<NewProposalRequest>,
) -> Result<Response, ApiError> {
    let view = state
        .service()
        .propose(&call.operator, &call.source, request.change, &request.note)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(proposal_body(view))).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalsParams {
    /// Only proposals in this state (`pending`, `expired`, `applied`, …).
    pub status: Option<ProposalStatus>,
}

/// Proposals, newest first (at most 200; everyone reads).
#[utoipa::path(
    get, path = "/v1/operator/proposals", tag = "operator",
    params(ProposalsParams),
    responses((status = 200, body = ProposalsBody)),
    security(("operator_session" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiQuery(params): ApiQuery<ProposalsParams>,
) -> Result<Json<ProposalsBody>, ApiError> {
    let views = state.service().proposals(&call.operator, &call.source, params.status).await?;
    Ok(Json(ProposalsBody { proposals: views.into_iter().map(proposal_body).collect() }))
}

/// One proposal, with what it changes (as of now while pending).
#[utoipa::path(
    get, path = "/v1/operator/proposals/{proposal_id}", tag = "operator",
    params(("proposal_id" = String, Path)),
    responses(
        (status = 200, body = ProposalBody),
        (status = 404, description = "proposal_unknown", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
) -> Result<Json<ProposalBody>, ApiError> {
    let id = proposal_id(&id)?;
    Ok(Json(proposal_body(state.service().proposal(&call.operator, &call.source, id).await?)))
}

/// Approves another operator's proposal and applies it at once (approvers). The answer
/// says `applied`, or `failed` with the code that refused the change.
#[utoipa::path(
    post, path = "/v1/operator/proposals/{proposal_id}/approve", tag = "operator",
    params(("proposal_id" = String, Path)),
    request_body(content = DecisionRequest, description = "Optional: a note on the decision"),
    responses(
        (status = 200, body = ProposalBody),
        (status = 403, description = "operator_forbidden, proposal_own_approval", body = ErrorBody),
        (status = 404, description = "proposal_unknown, proposal_target_unknown", body = ErrorBody),
        (status = 409, description = "proposal_not_pending, proposal_expired", body = ErrorBody),
        (status = 422, description = "proposal_note_too_long, bonus_rule_invalid, day_invalid, yield_rate_invalid, amount_not_positive", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn approve(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
    ApiJsonOrDefault(request): ApiJsonOrDefault<DecisionRequest>,
) -> Result<Json<ProposalBody>, ApiError> {
    let id = proposal_id(&id)?;
    let view =
        state.service().approve_proposal(&call.operator, &call.source, id, &request.note).await?;
    Ok(Json(proposal_body(view)))
}

/// Rejects another operator's proposal (approvers).
#[utoipa::path(
    post, path = "/v1/operator/proposals/{proposal_id}/reject", tag = "operator",
    params(("proposal_id" = String, Path)),
    request_body(content = DecisionRequest, description = "Optional: a note on the decision"),
    responses(
        (status = 200, body = ProposalBody),
        (status = 403, description = "operator_forbidden, proposal_own_approval", body = ErrorBody),
        (status = 404, description = "proposal_unknown", body = ErrorBody),
        (status = 409, description = "proposal_not_pending, proposal_expired", body = ErrorBody),
        (status = 422, description = "proposal_note_too_long", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn reject(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
    ApiJsonOrDefault(request): ApiJsonOrDefault<DecisionRequest>,
) -> Result<Json<ProposalBody>, ApiError> {
    let id = proposal_id(&id)?;
    let view =
        state.service().reject_proposal(&call.operator, &call.source, id, &request.note).await?;
    Ok(Json(proposal_body(view)))
}

/// Withdraws one's own pending proposal.
#[utoipa::path(
    post, path = "/v1/operator/proposals/{proposal_id}/withdraw", tag = "operator",
    params(("proposal_id" = String, Path)),
    request_body(content = DecisionRequest, description = "Optional: a note on the decision"),
    responses(
        (status = 200, body = ProposalBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody),
        (status = 404, description = "proposal_unknown", body = ErrorBody),
        (status = 409, description = "proposal_not_pending, proposal_expired", body = ErrorBody),
        (status = 422, description = "proposal_note_too_long", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn withdraw(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(id): Path<String>,
    ApiJsonOrDefault(request): ApiJsonOrDefault<DecisionRequest>,
) -> Result<Json<ProposalBody>, ApiError> {
    let id = proposal_id(&id)?;
    let view =
        state.service().withdraw_proposal(&call.operator, &call.source, id, &request.note).await?;
    Ok(Json(proposal_body(view)))
}
