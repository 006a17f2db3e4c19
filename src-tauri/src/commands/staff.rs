//! Sign-in and staff management. The shift lives in `AppState`; every other command asks
//! it (through `signed_in`) before acting, so the roles hold whatever the UI shows.

use counter_core::counter::now_ms;
use counter_core::staff::{Role, StaffMember, StaffSession};
use serde::Serialize;
use tauri::State;
use tillfund_core::StaffId;

use super::CommandError;
use crate::state::AppState;
use counter_core::error_code::CounterCode;

/// The signed-in member if their role allows `needed`; the action keeps the shift awake.
pub fn signed_in(state: &AppState, needed: Role) -> Result<StaffSession, CommandError> {
    Ok(state.shift.require(needed, now_ms())?)
}

/// What the sign-in screen needs: who works here and who is signed in.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct StaffState {
    pub members: Vec<StaffMember>,
    pub current: Option<StaffSession>,
}

fn parse_staff_id(text: &str) -> Result<StaffId, CommandError> {
    text.parse().map_err(|error: tillfund_core::InvalidId| {
        CommandError::counter(CounterCode::StaffIdInvalid, error.to_string())
    })
}

#[tauri::command]
pub async fn staff_state(state: State<'_, AppState>) -> Result<StaffState, CommandError> {
    Ok(StaffState { members: state.counter.staff().await?, current: state.shift.current(now_ms()) })
}

/// Adds a member. On a counter with no staff yet this makes the first manager, who is
/// then signed in.
#[tauri::command]
pub async fn add_staff(
    state: State<'_, AppState>,
    name: String,
    role: String,
    pin: String,
) -> Result<StaffMember, CommandError> {
    let role = Role::parse(&role)?;
    let by = state.shift.current(now_ms());
    let first = state.counter.staff().await?.is_empty();
    let member = state.counter.add_staff(by.as_ref(), &name, role, &pin, now_ms()).await?;
    if first {
        let session = state.counter.sign_in(member.staff_id, &pin, now_ms()).await?;
        state.shift.begin(session, now_ms());
    }
    Ok(member)
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    staff_id: String,
    pin: String,
) -> Result<StaffSession, CommandError> {
    let session = state.counter.sign_in(parse_staff_id(&staff_id)?, &pin, now_ms()).await?;
    state.shift.begin(session.clone(), now_ms());
    Ok(session)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.shift.end();
    Ok(())
}

#[tauri::command]
pub async fn set_staff_active(
    state: State<'_, AppState>,
    staff_id: String,
    active: bool,
) -> Result<StaffMember, CommandError> {
    let by = signed_in(&state, Role::Manager)?;
    Ok(state.counter.set_staff_active(&by, parse_staff_id(&staff_id)?, active).await?)
}

#[tauri::command]
pub async fn reset_staff_pin(
    state: State<'_, AppState>,
    staff_id: String,
    pin: String,
) -> Result<StaffMember, CommandError> {
    let by = signed_in(&state, Role::Manager)?;
    Ok(state.counter.reset_staff_pin(&by, parse_staff_id(&staff_id)?, &pin).await?)
}
