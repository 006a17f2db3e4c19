//! The cashier's and the manager's actions. Each command parses nothing itself: it hands
//! the UI's text to `counter-core`, which checks it, and maps the error.

use base64::Engine;
use counter_core::counter::TopUpPreview;
use counter_core::orders::{OrderStatus, PaymentOrder, qr_png};
use counter_core::settlement::DayReport;
use serde::Serialize;
use tauri::State;
use tillfund_core::OrderId;

use super::CommandError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    pub server_url: String,
    pub terminal_id: String,
    pub receipt_prefix: String,
    pub merchant_name: String,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopUpPreviewView {
    pub customer_name: String,
    pub member_code: String,
    /// Minor units.
    pub amount: i64,
    pub bonus: i64,
    pub rule_version: u32,
}

impl From<&TopUpPreview> for TopUpPreviewView {
    fn from(preview: &TopUpPreview) -> TopUpPreviewView {
        TopUpPreviewView {
            customer_name: preview.customer.display_name.clone(),
            member_code: preview.customer.member_code.clone(),
            amount: preview.amount.amount().minor_units(),
            bonus: preview.bonus.minor_units(),
            rule_version: preview.rule_version,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TopUpView {
    pub entry_id: String,
    pub receipt_number: String,
    pub amount: i64,
    pub bonus: i64,
    /// Always "pending" when recorded; the Sync screen follows it.
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order_id: String,
    pub receipt_number: String,
    pub amount: i64,
    pub pay_url: String,
    pub expires_at_ms: i64,
    /// "created", "paid", "cancelled" or "expired".
    pub status: String,
    /// The QR code as a data URL, ready for an `<img>`.
    pub qr_png: String,
}

fn status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Created => "created",
        OrderStatus::Paid => "paid",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Expired => "expired",
    }
}

fn order_view(order: &PaymentOrder) -> Result<OrderView, CommandError> {
    let png = qr_png(&order.pay_url).map_err(CommandError::from)?;
    Ok(OrderView {
        order_id: order.order_id.to_string(),
        receipt_number: order.receipt_number.clone(),
        amount: order.amount.amount().minor_units(),
        pay_url: order.pay_url.clone(),
        expires_at_ms: order.expires_at_ms,
        status: status_text(order.status).to_owned(),
        qr_png: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ),
    })
}

fn parse_order_id(text: &str) -> Result<OrderId, CommandError> {
    text.parse().map_err(|error: tillfund_core::InvalidId| CommandError {
        code: "order_id_invalid".to_owned(),
        message: error.to_string(),
    })
}

fn parse_day(text: &str) -> Result<jiff::civil::Date, CommandError> {
    text.parse().map_err(|_| CommandError {
        code: "day_invalid".to_owned(),
        message: format!("'{text}' is not a day (YYYY-MM-DD)."),
    })
}

#[tauri::command]
pub async fn counter_profile(
    state: State<'_, AppState>,
) -> Result<Option<ProfileView>, CommandError> {
    let profile = state.counter.store().profile().await.map_err(CommandError::local)?;
    Ok(profile.map(|profile| ProfileView {
        server_url: profile.server_url,
        terminal_id: profile.terminal_id.to_string(),
        receipt_prefix: profile.receipt_prefix,
        merchant_name: profile.merchant_name,
        currency: profile.currency,
    }))
}

#[tauri::command]
pub async fn enrol(
    state: State<'_, AppState>,
    server_url: String,
    activation_code: String,
    label: String,
) -> Result<ProfileView, CommandError> {
    let profile = state.counter.enrol(&server_url, &activation_code, &label).await?;
    Ok(ProfileView {
        server_url: profile.server_url,
        terminal_id: profile.terminal_id.to_string(),
        receipt_prefix: profile.receipt_prefix,
        merchant_name: profile.merchant_name,
        currency: profile.currency,
    })
}

#[tauri::command]
pub async fn preview_top_up(
    state: State<'_, AppState>,
    customer: String,
    amount: String,
) -> Result<TopUpPreviewView, CommandError> {
    Ok(TopUpPreviewView::from(&state.counter.preview_top_up(&customer, &amount).await?))
}

/// Checks again (offline) and records: the bonus is the one the cached rules give now.
#[tauri::command]
pub async fn record_top_up(
    state: State<'_, AppState>,
    customer: String,
    amount: String,
) -> Result<TopUpView, CommandError> {
    let preview = state.counter.preview_top_up(&customer, &amount).await?;
    let record = state.counter.record_top_up(&preview).await?;
    Ok(TopUpView {
        entry_id: record.entry_id.to_string(),
        receipt_number: record.receipt_number,
        amount: record.amount.amount().minor_units(),
        bonus: record.bonus_shown.minor_units(),
        status: "pending".to_owned(),
    })
}

#[tauri::command]
pub async fn create_order(
    state: State<'_, AppState>,
    amount: String,
) -> Result<OrderView, CommandError> {
    order_view(&state.counter.create_order(&amount).await?)
}

#[tauri::command]
pub async fn order(
    state: State<'_, AppState>,
    order_id: String,
) -> Result<OrderView, CommandError> {
    let order =
        state.counter.order(parse_order_id(&order_id)?).await?.ok_or_else(|| CommandError {
            code: "order_not_found".to_owned(),
            message: "There is no such order at this counter.".to_owned(),
        })?;
    order_view(&order)
}

#[tauri::command]
pub async fn confirm_by_code(
    state: State<'_, AppState>,
    order_id: String,
    code: String,
) -> Result<(), CommandError> {
    Ok(state.counter.confirm_by_code(parse_order_id(&order_id)?, &code).await?)
}

#[tauri::command]
pub async fn cancel_order(
    state: State<'_, AppState>,
    order_id: String,
) -> Result<(), CommandError> {
    Ok(state.counter.cancel_order(parse_order_id(&order_id)?).await?)
}

/// A manager's refund; returns the order's refunded total in minor units.
#[tauri::command]
pub async fn refund(
    state: State<'_, AppState>,
    order_id: String,
    amount: String,
) -> Result<i64, CommandError> {
    Ok(state.counter.refund(parse_order_id(&order_id)?, &amount).await?)
}

/// A day's report with its Z-report text and CSV, as the Settlement screen shows them.
#[derive(Debug, Clone, Serialize)]
pub struct DayReportView {
    pub report: DayReport,
    pub z_report: String,
    pub csv: String,
}

impl From<DayReport> for DayReportView {
    fn from(report: DayReport) -> DayReportView {
        DayReportView { z_report: report.z_report_text(), csv: report.csv(), report }
    }
}

#[tauri::command]
pub async fn day_report(
    state: State<'_, AppState>,
    day: String,
) -> Result<DayReportView, CommandError> {
    Ok(state.counter.day_report(parse_day(&day)?).await?.into())
}

#[tauri::command]
pub async fn close_day(
    state: State<'_, AppState>,
    day: String,
) -> Result<DayReportView, CommandError> {
    Ok(state.counter.close_day(parse_day(&day)?).await?.into())
}

/// Where a recorded top-up stands: "pending", "confirmed" or "rejected" (with why).
#[derive(Debug, Clone, Serialize)]
pub struct TopUpStatusView {
    pub status: String,
    pub code: Option<String>,
    pub message: Option<String>,
}

#[tauri::command]
pub async fn top_up_status(
    state: State<'_, AppState>,
    entry_id: String,
) -> Result<TopUpStatusView, CommandError> {
    let entry_id: tillfund_core::OutboxEntryId =
        entry_id.parse().map_err(|error: tillfund_core::InvalidId| CommandError {
            code: "entry_id_invalid".to_owned(),
            message: error.to_string(),
        })?;
    let record =
        state.counter.store().top_up(entry_id).await.map_err(CommandError::local)?.ok_or_else(
            || CommandError {
                code: "top_up_not_found".to_owned(),
                message: "There is no such top-up at this counter.".to_owned(),
            },
        )?;
    let status = match record.status {
        counter_core::store::TopUpStatus::Pending => "pending",
        counter_core::store::TopUpStatus::Confirmed => "confirmed",
        counter_core::store::TopUpStatus::Rejected => "rejected",
    };
    Ok(TopUpStatusView {
        status: status.to_owned(),
        code: record.status_code,
        message: record.status_message,
    })
}

/// The configured printer as its setting text (`tcp:HOST:PORT` or `device:PATH`).
#[tauri::command]
pub async fn printer(state: State<'_, AppState>) -> Result<Option<String>, CommandError> {
    Ok(state.counter.printer().await?.map(|printer| printer.setting()))
}

#[tauri::command]
pub async fn set_printer(
    state: State<'_, AppState>,
    setting: String,
) -> Result<String, CommandError> {
    let printer = counter_core::receipt::Printer::parse(&setting)?;
    state.counter.set_printer(&printer).await?;
    Ok(printer.setting())
}
