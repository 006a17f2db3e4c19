//! Pay by sound (`counter_core::payment_sound`): the window asks for an open order's burst
//! and plays it through WebAudio; the setting that plays every new payment code at once.

use serde::Serialize;
use tauri::State;
use tauri::ipc::Response;

use super::CommandError;
use super::counter::parse_order_id;
use super::staff::signed_in;
use crate::state::AppState;
use counter_core::staff::Role;

/// Where each burst handed to the window is also written as `<order id>.wav`, when set: to
/// check a counter's sound without a speaker, and for the end-to-end test, which plays it to
/// a browser's microphone.
const CAPTURE_DIR_VARIABLE: &str = "TILLFUND_SOUND_CAPTURE_DIR";

/// The order's burst as a WAV file (16-bit mono, 48 kHz), binary to the window.
#[tauri::command]
pub async fn payment_sound(
    state: State<'_, AppState>,
    order_id: String,
) -> Result<Response, CommandError> {
    signed_in(&state, Role::Cashier)?;
    let order_id = parse_order_id(&order_id)?;
    let wav = state.counter.payment_sound(order_id).await?.to_wav();
    if let Some(directory) = std::env::var_os(CAPTURE_DIR_VARIABLE) {
        let path = std::path::Path::new(&directory).join(format!("{order_id}.wav"));
        // The capture is a copy: failing to write it never keeps the sound from playing.
        if let Err(error) = tokio::fs::write(&path, &wav).await {
            tracing::warn!(%error, path = %path.display(), "payment sound capture");
        }
    }
    Ok(Response::new(wav))
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SoundSettings {
    /// Every new payment code plays its sound at once, as if Play were pressed.
    pub play_on_new_order: bool,
}

#[tauri::command]
pub async fn sound_settings(state: State<'_, AppState>) -> Result<SoundSettings, CommandError> {
    Ok(SoundSettings { play_on_new_order: state.counter.sound_on_new_order().await? })
}

#[tauri::command]
pub async fn set_sound_on_new_order(
    state: State<'_, AppState>,
    play: bool,
) -> Result<(), CommandError> {
    signed_in(&state, Role::Manager)?;
    Ok(state.counter.set_sound_on_new_order(play).await?)
}
