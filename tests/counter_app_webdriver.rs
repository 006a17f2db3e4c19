//! The real counter app, built by the Tauri CLI, driven through WebDriver (tauri-driver +
//! WebKitWebDriver) under a display, against the real fund-server binary.
//!
//! Ignored by a plain `cargo test` because it needs the built app, tauri-driver and a
//! display; `make test` builds the app and runs it under Xvfb with `--ignored`.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tillfund_e2e::process::{FundServer, terminate, wait_with_timeout};
use tillfund_e2e::webdriver::WebDriverSession;
use tillfund_e2e::{free_port, target_dir, workspace_root};

/// The brief for the counter: a lost server shows as offline within a few seconds.
const OFFLINE_NOTICED_WITHIN: Duration = Duration::from_secs(5);

struct TauriDriver {
    child: Child,
    url: String,
}

impl TauriDriver {
    fn start(server_url: &str, counter_db: &std::path::Path) -> anyhow::Result<TauriDriver> {
        let port = free_port();
        let native_port = free_port();
        let binary = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".to_owned());
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            // The app reads this at start; WebKitWebDriver passes the environment through.
            .env("TILLFUND_SERVER_URL", server_url)
            .env("TILLFUND_COUNTER_DB", counter_db)
            .env("LANG", "en_US.UTF-8")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("spawn {binary} (install it with `make deps`)"))?;
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(TauriDriver { child, url });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        anyhow::bail!("tauri-driver did not listen on port {port}")
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        // SIGTERM, never SIGKILL: tauri-driver must take WebKitWebDriver down with it.
        terminate(&self.child);
        let _ = wait_with_timeout(&mut self.child, Duration::from_secs(10));
    }
}

fn save_screenshot(png: &[u8], name: &str) -> anyhow::Result<()> {
    let directory = workspace_root().join("docs").join("screenshots");
    std::fs::create_dir_all(&directory)?;
    std::fs::write(directory.join(name), png)?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the app built by `tauri build --debug --no-bundle`, tauri-driver and a display; run by `make test`"]
async fn counter_shows_online_then_offline_when_the_server_stops_then_online_again() {
    let application = target_dir().join("debug").join("tillfund-counter");
    assert!(application.exists(), "{} is missing: build it with `make app`", application.display());
    let data_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start(data_dir.path(), &listen).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let driver =
        TauriDriver::start(&server.url, &counter_dir.path().join("counter.sqlite")).unwrap();
    let session =
        WebDriverSession::start_tauri(&driver.url, application.to_str().unwrap()).await.unwrap();

    let (state, _) = session
        .wait_for_text("#connection-state", Duration::from_secs(30), |text| text == "Online")
        .await
        .unwrap();
    assert_eq!(state, "Online");
    let version = session.text_of("#server-version").await.unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert_eq!(session.text_of("#server-url").await.unwrap(), server.url);
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-online.png").unwrap();

    assert!(server.stop().unwrap().success());
    let (_, took) = session
        .wait_for_text("#connection-state", OFFLINE_NOTICED_WITHIN, |text| text == "Offline")
        .await
        .unwrap();
    eprintln!("offline noticed after {took:?}");
    let problem = session.text_of("#connection-problem").await.unwrap();
    assert_eq!(problem, "The server cannot be reached.");
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-offline.png").unwrap();

    let restarted = FundServer::start(data_dir.path(), &listen).unwrap();
    let (_, took) = session
        .wait_for_text("#connection-state", OFFLINE_NOTICED_WITHIN, |text| text == "Online")
        .await
        .unwrap();
    eprintln!("online again after {took:?}");
    assert_eq!(session.text_of("#connection-problem").await.unwrap(), "");

    // The cashier's commands, called as the screens will call them.
    let profile = session.invoke("counter_profile", json!({})).await.unwrap();
    assert_eq!(profile, json!({"ok": null}), "not enrolled yet");
    let code = tillfund_e2e::demo::activation_code(data_dir.path());
    let enrolled = session
        .invoke(
            "enrol",
            json!({"serverUrl": restarted.url, "activationCode": code, "label": "WebDriver"}),
        )
        .await
        .unwrap();
    assert_eq!(enrolled["ok"]["merchant_name"], "Demo Store 示范店", "{enrolled}");
    let bad = session.invoke("create_order", json!({"amount": "12.345"})).await.unwrap();
    assert_eq!(bad["error"]["code"], "amount_too_many_decimals", "{bad}");
    let order = session.invoke("create_order", json!({"amount": "12.50"})).await.unwrap();
    assert!(
        order["ok"]["qr_png"].as_str().unwrap().starts_with("data:image/png;base64,"),
        "{order}"
    );
    assert_eq!(order["ok"]["status"], "created");
    // The sync worker fills the customer cache within a few seconds of enrolment.
    let mut preview = Value::Null;
    for _ in 0..50 {
        preview = session
            .invoke(
                "preview_top_up",
                json!({"customer": tillfund_e2e::demo::MEMBER_CODE, "amount": "500.00"}),
            )
            .await
            .unwrap();
        if preview.get("ok").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(preview["ok"]["bonus"], 5_000, "{preview}");
    let recorded = session
        .invoke(
            "record_top_up",
            json!({"customer": tillfund_e2e::demo::MEMBER_CODE, "amount": "500.00"}),
        )
        .await
        .unwrap();
    assert_eq!(recorded["ok"]["status"], "pending", "{recorded}");
    let mut pending = -1;
    for _ in 0..50 {
        let status = session.invoke("sync_status", json!({})).await.unwrap();
        pending = status["ok"]["pending"].as_i64().unwrap_or(-1);
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(pending, 0, "the worker pushed the top-up");

    session.close().await.unwrap();
    drop(driver);
    assert!(restarted.stop().unwrap().success());
}
