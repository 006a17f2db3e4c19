//! The connection monitor against a real fund server (in process, real SQLite file) and
//! against addresses that misbehave.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use counter_core::connection::{
    ConnectionState, ConnectionStatus, ServerProbe, run_connection_monitor,
    run_connection_monitor_following,
};
use fund_server::config::ServerConfig;
use fund_server::http::{AppState, app};
use fund_server::ledger::LedgerPolicy;
use fund_server::service::{FundService, ServiceConfig};
use fund_server::store::Backend as Store;
use fund_server::store::prelude::*;
use tillfund_core::Currency;
use tokio::net::TcpListener;
use tokio::sync::watch;

struct RunningServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
    _data_dir: tempfile::TempDir,
}

async fn start_fund_server() -> RunningServer {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = ServerConfig::database_url_in(data_dir.path());
    let store = Store::connect(&database_url).await.unwrap();
    store.migrate().await.unwrap();
    let service =
        FundService::start(store, ServiceConfig::new(LedgerPolicy::default_for(Currency::CNY)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(service));
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    RunningServer { url, task, _data_dir: data_dir }
}

#[tokio::test]
async fn probe_reports_online_with_the_server_version() {
    let server = start_fund_server().await;
    let result = ServerProbe::new(&server.url).unwrap().probe().await;
    assert_eq!(result.state, ConnectionState::Online);
    assert_eq!(result.server_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(result.problem, None);
    server.task.abort();
}

#[tokio::test]
async fn probe_reports_offline_when_nothing_listens() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let result = ServerProbe::new(&url).unwrap().probe().await;
    assert_eq!(result.state, ConnectionState::Offline);
    assert_eq!(result.problem.as_deref(), Some("The server cannot be reached."));
}

#[tokio::test]
async fn probe_reports_offline_when_the_server_never_answers() {
    // Accepts connections but never writes a byte.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            held.push(socket);
        }
    });
    let result = ServerProbe::new(&url).unwrap().probe().await;
    assert_eq!(result.state, ConnectionState::Offline);
    assert!(result.problem.unwrap().contains("did not answer"));
    silent.abort();
}

#[tokio::test]
async fn probe_reports_offline_for_something_that_is_not_a_fund_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/healthz", axum::routing::get(|| async { "hello" }));
    let other = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let result = ServerProbe::new(&url).unwrap().probe().await;
    assert_eq!(result.state, ConnectionState::Offline);
    assert_eq!(
        result.problem.as_deref(),
        Some("The address does not answer like a Tillfund server.")
    );
    other.abort();
}

async fn wait_for_state(
    receiver: &mut watch::Receiver<ConnectionStatus>,
    wanted: ConnectionState,
) -> ConnectionStatus {
    let found = tokio::time::timeout(
        Duration::from_secs(10),
        receiver.wait_for(|status| status.state == wanted),
    )
    .await
    .unwrap_or_else(|_| panic!("state {wanted:?} not reached in 10 s"));
    found.unwrap().clone()
}

#[tokio::test]
async fn monitor_publishes_online_then_offline_when_the_server_stops() {
    let server = start_fund_server().await;
    let (sender, mut receiver) = watch::channel(ConnectionStatus::checking(&server.url));
    let probe = ServerProbe::new(&server.url).unwrap();
    let monitor = tokio::spawn(run_connection_monitor(probe, sender, Duration::from_millis(100)));

    let online = wait_for_state(&mut receiver, ConnectionState::Online).await;
    assert_eq!(online.server_url, server.url);
    server.task.abort();
    let offline = wait_for_state(&mut receiver, ConnectionState::Offline).await;
    assert!(offline.since_ms >= online.since_ms);
    assert!(offline.problem.is_some());
    monitor.abort();
}

#[tokio::test]
async fn monitor_stops_when_nobody_listens() {
    let (sender, receiver) = watch::channel(ConnectionStatus::checking("http://127.0.0.1:9"));
    drop(receiver);
    let probe = ServerProbe::new("http://127.0.0.1:9").unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        run_connection_monitor(probe, sender, Duration::from_millis(10)),
    )
    .await
    .expect("the monitor should return once its receivers are gone");
}

#[tokio::test]
async fn monitor_follows_the_server_the_counter_enrols_with() {
    let server = start_fund_server().await;
    let (target_sender, target) = watch::channel("http://127.0.0.1:9".to_owned());
    let (sender, mut receiver) = watch::channel(ConnectionStatus::checking("http://127.0.0.1:9"));
    let monitor =
        tokio::spawn(run_connection_monitor_following(target, sender, Duration::from_secs(30)));
    let offline = wait_for_state(&mut receiver, ConnectionState::Offline).await;
    assert_eq!(offline.server_url, "http://127.0.0.1:9");
    // The interval is long: the change of target wakes the monitor at once.
    target_sender.send(format!("{}/", server.url)).unwrap();
    let online = wait_for_state(&mut receiver, ConnectionState::Online).await;
    assert_eq!(online.server_url, server.url);
    monitor.abort();
}
