//! The cashier's and the manager's actions. Each command parses nothing itself: it hands
//! the UI's text to `counter-core`, which checks it, and maps the error.

use base64::Engine;
use counter_core::counter::TopUpPreview;
use counter_core::orders::{PaymentOrder, qr_png};
use counter_core::settlement::{CounterFigures, DayReport};
use counter_core::z_report::ReportLanguage;
use serde::Serialize;
use tauri::State;
use tillfund_core::OrderId;

use counter_core::orders::OrderSummary;
use counter_core::staff::{Cashier, Role};

use super::CommandError;
use super::staff::signed_in;
use crate::state::AppState;
use counter_core::error_code::CounterCode;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ProfileView {
    pub server_url: String,
    pub terminal_id: String,
    pub receipt_prefix: String,
    pub merchant_name: String,
    pub currency: String,
    /// IANA zone of the store's business day: "today" is the store's today, not the
    /// machine's (a counter whose clock is set to UTC closes the right day in Shanghai).
    pub time_zone: String,
}

impl From<counter_core::store::CounterProfile> for ProfileView {
    fn from(profile: counter_core::store::CounterProfile) -> ProfileView {
        ProfileView {
            server_url: profile.server_url,
            terminal_id: profile.terminal_id.to_string(),
            receipt_prefix: profile.receipt_prefix,
            merchant_name: profile.merchant_name,
            currency: profile.currency,
            time_zone: profile.time_zone,
        }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
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

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TopUpView {
    pub entry_id: String,
    pub receipt_number: String,
    pub amount: i64,
    pub bonus: i64,
    /// Always "pending" when recorded; the Sync screen follows it.
    pub status: String,
    /// The cash drawer did not open (it opens on a cash top-up once a printer is set):
    /// the top-up is recorded all the same; the cashier opens the drawer with its key.
    pub drawer_problem: Option<super::CommandError>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
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
    /// Once paid: the code the customer's wallet shows, for the cashier to compare.
    pub confirmation_code: Option<String>,
}

fn order_view(
    order: &PaymentOrder,
    confirmation_code: Option<String>,
) -> Result<OrderView, CommandError> {
    let png = qr_png(&order.pay_url).map_err(CommandError::from)?;
    Ok(OrderView {
        order_id: order.order_id.to_string(),
        receipt_number: order.receipt_number.clone(),
        amount: order.amount.amount().minor_units(),
        pay_url: order.pay_url.clone(),
        expires_at_ms: order.expires_at_ms,
        status: order.status.as_str().to_owned(),
        qr_png: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ),
        confirmation_code,
    })
}

pub(crate) fn parse_order_id(text: &str) -> Result<OrderId, CommandError> {
    text.parse().map_err(|error: tillfund_core::InvalidId| {
        CommandError::counter(CounterCode::OrderIdInvalid, error.to_string())
    })
}

pub(super) fn parse_entry_id(text: &str) -> Result<tillfund_core::OutboxEntryId, CommandError> {
    text.parse().map_err(|error: tillfund_core::InvalidId| {
        CommandError::counter(CounterCode::EntryIdInvalid, error.to_string())
    })
}

pub(super) fn parse_day(text: &str) -> Result<jiff::civil::Date, CommandError> {
    text.parse().map_err(|_| {
        CommandError::counter(
            CounterCode::DayInvalid,
            format!("'{text}' is not a day (YYYY-MM-DD)."),
        )
    })
}

#[tauri::command]
pub async fn counter_profile(
    state: State<'_, AppState>,
) -> Result<Option<ProfileView>, CommandError> {
    let profile = state.counter.store().profile().await.map_err(CommandError::local)?;
    Ok(profile.map(ProfileView::from))
}

#[tauri::command]
pub async fn enrol(
    state: State<'_, AppState>,
    server_url: String,
    activation_code: String,
    label: String,
) -> Result<ProfileView, CommandError> {
    let profile = state.counter.enrol(&server_url, &activation_code, &label).await?;
    state.server_target.send_replace(profile.server_url.clone());
    Ok(ProfileView::from(profile))
}

#[tauri::command]
pub async fn preview_top_up(
    state: State<'_, AppState>,
    customer: String,
    amount: String,
) -> Result<TopUpPreviewView, CommandError> {
    signed_in(&state, Role::Cashier)?;
    Ok(TopUpPreviewView::from(&state.counter.preview_top_up(&customer, &amount).await?))
}

/// Checks again (offline) and records: the bonus is the one the cached rules give now.
#[tauri::command]
pub async fn record_top_up(
    state: State<'_, AppState>,
    customer: String,
    amount: String,
) -> Result<TopUpView, CommandError> {
    let by = signed_in(&state, Role::Cashier)?;
    let preview = state.counter.preview_top_up(&customer, &amount).await?;
    let record = state.counter.record_top_up(Some(&Cashier::from(&by)), &preview).await?;
    // Recorded first: the drawer's fate never undoes or blocks the top-up.
    let drawer_problem = super::drawer_kick::drawer_after_top_up(&state).await;
    Ok(TopUpView {
        entry_id: record.entry_id.to_string(),
        receipt_number: record.receipt_number,
        amount: record.amount.amount().minor_units(),
        bonus: record.bonus_shown.minor_units(),
        status: "pending".to_owned(),
        drawer_problem,
    })
}

#[tauri::command]
pub async fn create_order(
    state: State<'_, AppState>,
    amount: String,
) -> Result<OrderView, CommandError> {
    let by = signed_in(&state, Role::Cashier)?;
    order_view(&state.counter.create_order(Some(&Cashier::from(&by)), &amount).await?, None)
}

#[tauri::command]
pub async fn order(
    state: State<'_, AppState>,
    order_id: String,
) -> Result<OrderView, CommandError> {
    let order = state.counter.order(parse_order_id(&order_id)?).await?.ok_or_else(|| {
        CommandError::counter(
            CounterCode::OrderNotFound,
            "There is no such order at this counter.".to_owned(),
        )
    })?;
    let code = state.counter.paid_confirmation_code(&order).await?;
    order_view(&order, code)
}

#[tauri::command]
pub async fn confirm_by_code(
    state: State<'_, AppState>,
    order_id: String,
    code: String,
) -> Result<(), CommandError> {
    signed_in(&state, Role::Cashier)?;
    Ok(state.counter.confirm_by_code(parse_order_id(&order_id)?, &code).await?)
}

#[tauri::command]
pub async fn cancel_order(
    state: State<'_, AppState>,
    order_id: String,
) -> Result<(), CommandError> {
    signed_in(&state, Role::Cashier)?;
    Ok(state.counter.cancel_order(parse_order_id(&order_id)?).await?)
}

/// A manager's refund; returns the order's refunded total in minor units.
#[tauri::command]
pub async fn refund(
    state: State<'_, AppState>,
    order_id: String,
    amount: String,
) -> Result<i64, CommandError> {
    let by = Cashier::from(&signed_in(&state, Role::Manager)?);
    Ok(state.counter.refund(Some(&by), parse_order_id(&order_id)?, &amount).await?)
}

/// A day's report with its Z-report text (in the counter's language) and CSV, as the Day
/// screen shows them.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DayReportView {
    pub report: DayReport,
    pub z_report: String,
    pub csv: String,
    /// The day is open and its drawer not counted yet: the screen asks for the blind count
    /// and shows neither the Z-report nor the chart (they give the expected cash away).
    pub count_needed: bool,
}

impl DayReportView {
    /// The view of `report` for a UI in `language` ("en", "zh"…).
    pub async fn new(
        state: &AppState,
        report: DayReport,
        language: Option<&str>,
    ) -> Result<DayReportView, CommandError> {
        let zone = state
            .counter
            .profile()
            .await
            .ok()
            .and_then(|profile| jiff::tz::TimeZone::get(&profile.time_zone).ok());
        let language = ReportLanguage::from_tag(language);
        if count_needed(&report) {
            // Blind: nothing that tells what the drawer should hold leaves the Rust side.
            let unsynced = report.counter.unsynced;
            let rejected = report.counter.rejected;
            let report = DayReport {
                counter: CounterFigures { unsynced, rejected, ..CounterFigures::default() },
                server: None,
                hours: Vec::new(),
                cashiers: Vec::new(),
                ..report
            };
            return Ok(DayReportView {
                z_report: String::new(),
                csv: String::new(),
                count_needed: true,
                report,
            });
        }
        Ok(DayReportView {
            z_report: report.z_report_text_in(language, zone.as_ref()),
            csv: report.csv(),
            count_needed: false,
            report,
        })
    }
}

/// An open day whose drawer is not counted yet shows, prints and exports no figures.
fn count_needed(report: &DayReport) -> bool {
    !report.closed && report.cash_count.is_none()
}

fn refuse_before_count(report: &DayReport) -> Result<(), CommandError> {
    if count_needed(report) {
        return Err(CommandError::counter(
            CounterCode::DrawerCountNeeded,
            "Count the drawer first: the day's figures are shown, printed and exported after the blind count.",
        ));
    }
    Ok(())
}

#[tauri::command]
pub async fn day_report(
    state: State<'_, AppState>,
    day: String,
    language: Option<String>,
) -> Result<DayReportView, CommandError> {
    signed_in(&state, Role::Cashier)?;
    let report = state.counter.day_report(parse_day(&day)?).await?;
    DayReportView::new(&state, report, language.as_deref()).await
}

#[tauri::command]
pub async fn close_day(
    state: State<'_, AppState>,
    day: String,
    language: Option<String>,
) -> Result<DayReportView, CommandError> {
    let by = Cashier::from(&signed_in(&state, Role::Manager)?);
    let report = state.counter.close_day(Some(&by), parse_day(&day)?).await?;
    DayReportView::new(&state, report, language.as_deref()).await
}

/// Where a recorded top-up stands: "pending", "confirmed" or "rejected" (with why).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
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
    let entry_id = parse_entry_id(&entry_id)?;
    let record =
        state.counter.store().top_up(entry_id).await.map_err(CommandError::local)?.ok_or_else(
            || {
                CommandError::counter(
                    CounterCode::TopUpNotFound,
                    "There is no such top-up at this counter.".to_owned(),
                )
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
    signed_in(&state, Role::Manager)?;
    let printer = counter_core::receipt::Printer::parse(&setting)?;
    state.counter.set_printer(&printer).await?;
    Ok(printer.setting())
}

/// Customers bound to this store (and recently unbound ones), from the local cache.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CustomerView {
    pub display_name: String,
    pub phone: String,
    pub member_code: String,
    pub bound: bool,
}

/// The most customers one search shows; the cashier narrows the search for more.
const CUSTOMERS_SHOWN: i64 = 100;

#[tauri::command]
pub async fn customers(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<CustomerView>, CommandError> {
    signed_in(&state, Role::Cashier)?;
    let found = state
        .counter
        .store()
        .search_customers(&query, CUSTOMERS_SHOWN)
        .await
        .map_err(CommandError::local)?;
    Ok(found
        .into_iter()
        .map(|customer| CustomerView {
            display_name: customer.display_name,
            phone: customer.phone,
            member_code: customer.member_code,
            bound: customer.bound,
        })
        .collect())
}

#[tauri::command]
pub async fn recent_orders(
    state: State<'_, AppState>,
    limit: i64,
) -> Result<Vec<OrderSummary>, CommandError> {
    signed_in(&state, Role::Cashier)?;
    Ok(state.counter.recent_orders(limit).await?)
}

pub(super) async fn configured_printer(
    state: &AppState,
) -> Result<counter_core::receipt::Printer, CommandError> {
    state.counter.printer().await?.ok_or_else(|| {
        CommandError::counter(
            CounterCode::PrinterNotSet,
            "No receipt printer is set: a manager sets one in Settings (F5).".to_owned(),
        )
    })
}

/// Prints an order's slip (with its QR code while unpaid); returns the print job id.
#[tauri::command]
pub async fn print_order(
    state: State<'_, AppState>,
    order_id: String,
) -> Result<i64, CommandError> {
    signed_in(&state, Role::Cashier)?;
    let printer = configured_printer(&state).await?;
    let receipt = state.counter.order_receipt(parse_order_id(&order_id)?).await?;
    Ok(state.counter.print(&printer, &receipt).await?)
}

#[tauri::command]
pub async fn print_top_up(
    state: State<'_, AppState>,
    entry_id: String,
) -> Result<i64, CommandError> {
    signed_in(&state, Role::Cashier)?;
    let printer = configured_printer(&state).await?;
    let receipt = state.counter.top_up_receipt(parse_entry_id(&entry_id)?).await?;
    Ok(state.counter.print(&printer, &receipt).await?)
}

/// Prints the day's report: the Z-report once closed, marked OPEN before.
#[tauri::command]
pub async fn print_day_report(
    state: State<'_, AppState>,
    day: String,
    language: Option<String>,
) -> Result<i64, CommandError> {
    signed_in(&state, Role::Manager)?;
    let printer = configured_printer(&state).await?;
    let report = state.counter.day_report(parse_day(&day)?).await?;
    refuse_before_count(&report)?;
    let profile = state.counter.profile().await?;
    let zone = jiff::tz::TimeZone::get(&profile.time_zone).ok();
    let receipt = report.receipt_in(ReportLanguage::from_tag(language.as_deref()), zone.as_ref());
    Ok(state.counter.print(&printer, &receipt).await?)
}

/// Where exports go: `TILLFUND_EXPORT_DIR` when set, otherwise the user's documents.
fn export_directory(app: &tauri::AppHandle) -> Result<std::path::PathBuf, CommandError> {
    use tauri::Manager;
    if let Some(directory) = std::env::var_os("TILLFUND_EXPORT_DIR") {
        return Ok(directory.into());
    }
    app.path()
        .document_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|error| CommandError::counter(CounterCode::ExportFailed, error.to_string()))
}

/// Saves the day's CSV as a file and returns its path. Written to a temporary name and
/// renamed, so a half-written file never carries the real name.
#[tauri::command]
pub async fn export_day_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    day: String,
) -> Result<String, CommandError> {
    signed_in(&state, Role::Manager)?;
    let day = parse_day(&day)?;
    let report = state.counter.day_report(day).await?;
    refuse_before_count(&report)?;
    let profile = state.counter.profile().await?;
    let directory = export_directory(&app)?;
    let failed = |error: std::io::Error| {
        CommandError::counter(
            CounterCode::ExportFailed,
            format!("Could not write the CSV file in {}: {error}", directory.display()),
        )
    };
    std::fs::create_dir_all(&directory).map_err(failed)?;
    let path = directory.join(format!("tillfund-{}-{day}.csv", profile.receipt_prefix));
    let partial = path.with_extension("csv.partial");
    std::fs::write(&partial, report.csv()).map_err(failed)?;
    std::fs::rename(&partial, &path).map_err(failed)?;
    Ok(path.display().to_string())
}
