//! The customer-facing window: the payment QR code and the result, turned towards the
//! customer on a second screen. The cashier's window says what to show; this keeps the
//! latest state so a window opened (or reloaded) later shows it at once.

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, State, WebviewUrl, WebviewWindowBuilder};

use super::CommandError;
use crate::events::CUSTOMER_DISPLAY_CHANGED;
use crate::state::AppState;
use counter_core::error_code::CounterCode;

pub const CUSTOMER_WINDOW: &str = "customer";

/// What the customer sees. Texts arrive formatted by the cashier's window, which knows
/// the currency and the language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CustomerDisplay {
    /// The store's welcome between customers.
    #[default]
    Welcome,
    /// An open payment: the amount and the QR code (a PNG data URL) to scan, and whether
    /// the counter is playing it as sound (the customer may listen instead).
    Payment {
        amount: String,
        qr_png: String,
        expires_at_ms: i64,
        #[serde(default)]
        sound_playing: bool,
    },
    Paid {
        amount: String,
    },
    /// A cash top-up being recorded: who, how much, and the bonus.
    TopUp {
        customer_name: String,
        amount: String,
        bonus: String,
    },
}

/// The longest QR data URL accepted (a payment QR PNG is a few kilobytes).
const QR_DATA_URL_MAX: usize = 256 * 1024;

#[tauri::command]
pub async fn customer_display(state: State<'_, AppState>) -> Result<CustomerDisplay, CommandError> {
    Ok(state.customer_display.lock().map(|display| display.clone()).unwrap_or_default())
}

#[tauri::command]
pub async fn show_customer(
    app: AppHandle,
    state: State<'_, AppState>,
    display: CustomerDisplay,
) -> Result<(), CommandError> {
    if let CustomerDisplay::Payment { qr_png, .. } = &display
        && (qr_png.len() > QR_DATA_URL_MAX || !qr_png.starts_with("data:image/png;base64,"))
    {
        return Err(CommandError::counter(
            CounterCode::DisplayInvalid,
            "The customer display takes a PNG QR code only.".to_owned(),
        ));
    }
    if let Ok(mut current) = state.customer_display.lock() {
        current.clone_from(&display);
    }
    app.emit_to(CUSTOMER_WINDOW, CUSTOMER_DISPLAY_CHANGED, display)
        .map_err(|error| CommandError::counter(CounterCode::DisplayFailed, error.to_string()))
}

/// Opens the customer window, full screen on a second monitor when there is one,
/// otherwise as an ordinary window beside the counter's. Opening it twice focuses it.
#[tauri::command]
pub async fn open_customer_display(app: AppHandle) -> Result<(), CommandError> {
    let failed =
        |error: tauri::Error| CommandError::counter(CounterCode::DisplayFailed, error.to_string());
    if let Some(window) = app.get_webview_window(CUSTOMER_WINDOW) {
        return window.set_focus().map_err(failed);
    }
    let primary = app.primary_monitor().ok().flatten();
    let second = app.available_monitors().unwrap_or_default().into_iter().find(|monitor| {
        primary.as_ref().is_none_or(|primary| primary.position() != monitor.position())
    });
    let builder =
        WebviewWindowBuilder::new(&app, CUSTOMER_WINDOW, WebviewUrl::App("customer.html".into()))
            .title("Tillfund — customer")
            .inner_size(600.0, 700.0);
    let window = builder.build().map_err(failed)?;
    crate::webview::prepare(&window);
    if let Some(monitor) = second {
        window.set_position(*monitor.position()).map_err(failed)?;
        window.set_fullscreen(true).map_err(failed)?;
    }
    Ok(())
}
