//! The counter app's wiring: state, background tasks, commands. Logic lives in
//! `counter-core`; this crate only connects it to Tauri.

mod commands;
mod events;
mod state;
pub mod ui_types;
mod webview;

use std::path::PathBuf;

use counter_core::connection::{
    ConnectionStatus, PROBE_INTERVAL, run_connection_monitor_following,
};
use counter_core::counter::Counter;
use tauri::Manager;
use tokio::sync::watch;

use crate::state::AppState;

/// Where the fund server is for a counter that is not enrolled yet (the demo set-up).
const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8700";

/// The local database: `TILLFUND_COUNTER_DB` when set (tests, several counters on one
/// machine), otherwise `counter.sqlite` in the app's data directory.
fn database_path(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("TILLFUND_COUNTER_DB") {
        return Ok(PathBuf::from(path));
    }
    Ok(app.path().app_data_dir()?.join("counter.sqlite"))
}

/// Opens the counter's database, starts the connection monitor, the sync worker and the
/// payment listener with their events to the UI, and hands the state to the commands.
fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(window) = app.get_webview_window("main") {
        webview::prepare(&window);
    }
    let path = database_path(app)?;
    let counter = tauri::async_runtime::block_on(Counter::open(&path))?;
    let profile = tauri::async_runtime::block_on(counter.store().profile())?;
    // An enrolled counter talks to the server it enrolled with.
    let server_url = match &profile {
        Some(profile) => profile.server_url.clone(),
        None => {
            std::env::var("TILLFUND_SERVER_URL").unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned())
        }
    };
    let (sender, receiver) = watch::channel(ConnectionStatus::checking(&server_url));
    // Enrolment may name another server: the monitor follows `server_target`.
    let (server_target, target) = watch::channel(server_url);
    tauri::async_runtime::spawn(run_connection_monitor_following(target, sender, PROBE_INTERVAL));
    tauri::async_runtime::spawn(events::forward_connection_changes(
        app.handle().clone(),
        receiver.clone(),
    ));
    tauri::async_runtime::spawn(counter_core::sync::run_sync_worker(counter.store().clone()));
    tauri::async_runtime::spawn(counter_core::sync::run_payment_listener(counter.store().clone()));
    tauri::async_runtime::spawn(events::forward_paid_orders(
        app.handle().clone(),
        counter.store().paid_orders(),
    ));
    app.manage(AppState {
        connection: receiver,
        server_target,
        counter,
        shift: Default::default(),
        customer_display: Default::default(),
    });
    Ok(())
}

pub fn run() {
    commands::connection::STARTED.get_or_init(std::time::Instant::now);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = tauri::Builder::default()
        .setup(setup)
        .invoke_handler(tauri::generate_handler![
            commands::connection::connection_status,
            commands::connection::ui_ready,
            commands::sync::sync_status,
            commands::counter::counter_profile,
            commands::counter::enrol,
            commands::counter::preview_top_up,
            commands::counter::record_top_up,
            commands::counter::top_up_status,
            commands::counter::create_order,
            commands::counter::order,
            commands::counter::confirm_by_code,
            commands::counter::cancel_order,
            commands::counter::refund,
            commands::counter::day_report,
            commands::counter::close_day,
            commands::counter::printer,
            commands::counter::set_printer,
            commands::counter::customers,
            commands::counter::recent_orders,
            commands::counter::print_order,
            commands::counter::print_top_up,
            commands::counter::print_day_report,
            commands::counter::export_day_csv,
            commands::drawer::drawer_day,
            commands::drawer::set_opening_float,
            commands::drawer::record_cash_drop,
            commands::drawer::count_cash,
            commands::staff::staff_state,
            commands::staff::add_staff,
            commands::staff::sign_in,
            commands::staff::sign_out,
            commands::staff::set_staff_active,
            commands::staff::reset_staff_pin,
            commands::drawer_kick::drawer_settings,
            commands::drawer_kick::set_drawer_on_cash_top_up,
            commands::drawer_kick::open_drawer,
            commands::reversal::recent_top_ups,
            commands::reversal::reverse_top_up,
            commands::redemption::redeem,
            commands::redemption::print_redemption,
            commands::sound::payment_sound,
            commands::sound::sound_settings,
            commands::sound::set_sound_on_new_order,
            commands::enrolment::re_enrol,
            commands::display::customer_display,
            commands::display::show_customer,
            commands::display::open_customer_display,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("tillfund-counter: {error}");
        std::process::exit(1);
    }
}
