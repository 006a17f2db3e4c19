use serde::Serialize;
use tauri::State;

use super::CommandError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct NeedsAttentionItem {
    pub sequence: i64,
    pub code: String,
    pub message: String,
}

/// What the Sync screen shows: what waits for the server, and what needs a person.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SyncStatus {
    pub pending: i64,
    pub oldest_pending_ms: Option<i64>,
    /// When a round last finished with nothing left to push.
    pub last_synced_ms: Option<i64>,
    pub needs_attention: Vec<NeedsAttentionItem>,
}

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus, CommandError> {
    let store = state.counter.store();
    let (pending, oldest_pending_ms) =
        store.pending_summary().await.map_err(CommandError::local)?;
    let needs_attention = store
        .needs_attention()
        .await
        .map_err(CommandError::local)?
        .into_iter()
        .map(|item| NeedsAttentionItem {
            sequence: item.sequence,
            code: item.code,
            message: item.message,
        })
        .collect();
    let last_synced_ms = store
        .setting("last_synced_ms")
        .await
        .map_err(CommandError::local)?
        .and_then(|text| text.parse().ok());
    Ok(SyncStatus { pending, oldest_pending_ms, last_synced_ms, needs_attention })
}
