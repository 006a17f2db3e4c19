//! The real `fund-server` binary on a real SQLite file: start, answer, stop, start again.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tillfund_core::protocol::{HealthReport, HealthStatus, PROTOCOL_VERSION};
use tillfund_e2e::process::{FundServer, fund_server_binary};

#[tokio::test]
async fn serves_health_openapi_and_wallet_page_and_restarts_on_the_same_data() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(data_dir.path(), "127.0.0.1:0").unwrap();
    assert!(
        server.startup_output.iter().any(|line| line.starts_with("demo store created")),
        "first start seeds the demo store: {:?}",
        server.startup_output
    );
    let http = reqwest::Client::new();

    let health: HealthReport =
        http.get(format!("{}/healthz", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.protocol_version, PROTOCOL_VERSION);
    assert_eq!(health.currency, "CNY");
    assert_eq!(health.server_version, env!("CARGO_PKG_VERSION"));

    let openapi: serde_json::Value = http
        .get(format!("{}/openapi.json", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    assert!(openapi["paths"]["/healthz"]["get"].is_object());

    let page =
        http.get(&server.url).header("Accept-Language", "zh-CN,zh;q=0.9").send().await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = page.text().await.unwrap();
    assert!(page.contains("<html lang=\"zh-CN\">"));
    assert!(page.contains("Demo Store 示范店"));

    let missing = http.get(format!("{}/no/such/page", server.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let missing: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(missing["code"], "not_found");

    let exit = server.stop().unwrap();
    assert!(exit.success(), "SIGTERM stops the server cleanly: {exit:?}");

    // Same data directory: the migrations and the demo seed are idempotent.
    let again = FundServer::start(data_dir.path(), "127.0.0.1:0").unwrap();
    assert!(
        again.startup_output.iter().any(|line| line.starts_with("demo store already present")),
        "{:?}",
        again.startup_output
    );
    let page = http.get(&again.url).send().await.unwrap().text().await.unwrap();
    assert_eq!(page.matches("<li>Demo Store 示范店</li>").count(), 1);
    assert!(again.stop().unwrap().success());
}

#[tokio::test]
async fn refuses_a_bad_configuration_with_a_readable_error() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(fund_server_binary())
        .args(["migrate", "--currency", "XYZ"])
        .env("TILLFUND_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'XYZ' is not a supported currency"), "{stderr}");

    let output = std::process::Command::new(fund_server_binary())
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a database URL this server supports"), "{stderr}");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = busy.local_addr().unwrap().to_string();
    let output = std::process::Command::new(fund_server_binary())
        .args(["serve", "--listen", &address])
        .env("TILLFUND_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("cannot listen on {address}")), "{stderr}");
    drop(busy);
}
