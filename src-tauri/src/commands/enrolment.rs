//! Enrolling the counter again from Settings: a manager's act, refused while anything
//! waits for the server (`counter_core::re_enrolment` says why and what is kept).

use serde::Serialize;
use tauri::State;

use super::CommandError;
use super::counter::ProfileView;
use super::staff::signed_in;
use crate::state::AppState;
use counter_core::staff::Role;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReEnrolmentView {
    pub profile: ProfileView,
    pub previous_terminal_id: String,
    /// The code was for another store: the customer list is the new store's from now on.
    pub store_changed: bool,
}

#[tauri::command]
pub async fn re_enrol(
    state: State<'_, AppState>,
    server_url: String,
    activation_code: String,
    label: String,
) -> Result<ReEnrolmentView, CommandError> {
    let by = signed_in(&state, Role::Manager)?;
    let done = state.counter.re_enrol(&by, &server_url, &activation_code, &label).await?;
    state.server_target.send_replace(done.profile.server_url.clone());
    Ok(ReEnrolmentView {
        profile: ProfileView::from(done.profile),
        previous_terminal_id: done.previous_terminal_id.to_string(),
        store_changed: done.store_changed,
    })
}
