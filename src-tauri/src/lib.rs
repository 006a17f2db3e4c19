//! The counter app's wiring: state, background tasks, commands. Logic lives in
//! `counter-core`; this crate only connects it to Tauri.

mod commands;
mod events;
mod state;

use counter_core::connection::{
    ConnectionStatus, PROBE_INTERVAL, ServerProbe, run_connection_monitor,
};
use tauri::Manager;
use tokio::sync::watch;

use crate::state::AppState;

/// Where the fund server is until enrolment stores it in the local database.
const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8700";

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = tauri::Builder::default()
        .setup(|app| {
            let server_url = std::env::var("TILLFUND_SERVER_URL")
                .unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned());
            let probe = ServerProbe::new(&server_url)?;
            let (sender, receiver) = watch::channel(ConnectionStatus::checking(&server_url));
            tauri::async_runtime::spawn(run_connection_monitor(probe, sender, PROBE_INTERVAL));
            tauri::async_runtime::spawn(events::forward_connection_changes(
                app.handle().clone(),
                receiver.clone(),
            ));
            app.manage(AppState { connection: receiver });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::connection::connection_status])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("tillfund-counter: {error}");
        std::process::exit(1);
    }
}
