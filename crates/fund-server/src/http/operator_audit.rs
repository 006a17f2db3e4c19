//! Running the ledger audit from the operators' API, as the console's Audit screen does.

use axum::Json;
use axum::extract::State;
use tillfund_core::protocol::{AuditBody, AuditRunRequest};

use super::extract::ApiJsonOrDefault;
use super::operators::OperatorCall;
use super::{ApiError, AppState, ErrorBody};

/// Runs the audit (approvers and administrators); recorded in the trail with its result.
/// A failing audit is an answer, not an error: `passed` is false and `problems` says why.
#[utoipa::path(
    post, path = "/v1/operator/audits", tag = "operator",
    request_body = AuditRunRequest,
    responses(
        (status = 200, body = AuditBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn run(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiJsonOrDefault(request): ApiJsonOrDefault<AuditRunRequest>,
) -> Result<Json<AuditBody>, ApiError> {
    let (report, head) =
        state.service().operator_audit(&call.operator, &call.source, request.full).await?;
    Ok(Json(AuditBody {
        passed: report.passed(),
        entries_checked: report.entries_checked,
        accounts_checked: report.accounts_checked,
        trail_records_checked: report.trail_records_checked,
        problems_found: report.problems_found,
        problems: report.problems,
        resumed_after_sequence: report.resumed_after.map(|checkpoint| checkpoint.sequence),
        chain_head_sequence: head.map(|head| head.sequence),
        chain_head_hash: head.map(|head| tillfund_core::signing::encode_hex(&head.hash)),
    }))
}
