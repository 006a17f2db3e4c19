//! A store's staff for its counters: a member's whole record put by any counter of the
//! store, and the changes every counter of the store pulls (signed, like every counter
//! route; the store is always the signing counter's).

use axum::Json;
use axum::extract::{Path, State};
use tillfund_core::protocol::{
    StaffChangeRequest, StaffChangesBody, StaffChangesQuery, StoreStaffBody,
};

use super::extract::{ApiQuery, Signed};
use super::{ApiError, AppState, ErrorBody};
use crate::service::StoredStaff;

fn staff_body(stored: StoredStaff) -> StoreStaffBody {
    StoreStaffBody {
        staff_id: stored.staff_id,
        name: stored.name,
        role: stored.role,
        pin_hash: stored.pin_hash,
        active: stored.active,
        sequence: stored.sequence,
        changed_by: stored.changed_by,
        changed_at_ms: stored.changed_at_ms,
    }
}

/// Adds or changes a member of the counter's store (a manager's action at any of its
/// counters): the whole record, which replaces the one kept. Sending the same record again
/// changes nothing.
#[utoipa::path(
    put, path = "/v1/terminal/staff/{staff_id}", tag = "counter",
    params(("staff_id" = String, Path, description = "Made by the counter that added the member (UUIDv7)")),
    request_body = StaffChangeRequest,
    responses(
        (status = 200, body = StoreStaffBody),
        (status = 409, description = "staff_name_taken, staff_limit_reached, last_manager, store_has_staff", body = ErrorBody),
        (status = 422, description = "staff_id_invalid, staff_name_invalid, staff_role_invalid, staff_pin_hash_invalid", body = ErrorBody)
    ),
    security(("terminal_signature" = []))
)]
pub async fn put_staff(
    State(state): State<AppState>,
    Path(staff_id): Path<String>,
    request: Signed<StaffChangeRequest>,
) -> Result<Json<StoreStaffBody>, ApiError> {
    let stored = state.service().put_staff(&request.terminal, &staff_id, &request.body).await?;
    Ok(Json(staff_body(stored)))
}

/// The counter's store's members changed since a cursor, oldest change first, each as they
/// stand now (with the PIN's hash, for signing in offline).
#[utoipa::path(
    get, path = "/v1/sync/staff", tag = "counter",
    params(StaffChangesQuery),
    responses((status = 200, body = StaffChangesBody), (status = 401, body = ErrorBody)),
    security(("terminal_signature" = []))
)]
pub async fn staff_changes(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StaffChangesQuery>,
    request: Signed<()>,
) -> Result<Json<StaffChangesBody>, ApiError> {
    let after = query.after.max(0);
    let changes = state.service().staff_changes(&request.terminal, after).await?;
    let next_after = changes.last().map_or(after, |change| change.sequence);
    Ok(Json(StaffChangesBody {
        changes: changes.into_iter().map(staff_body).collect(),
        next_after,
    }))
}
