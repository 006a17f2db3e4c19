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
    // A counter that is not enrolled opens on the enrolment screen; the server facts are
    // under Settings.
    session
        .wait_for_text("#screen-enrol h1", Duration::from_secs(10), |text| {
            text == "Enrol this counter"
        })
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-enrol.png").unwrap();
    session.click("#nav button[data-screen=settings]").await.unwrap();
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

    // Enrol through the screen, as the store manager does on first run.
    session.click("#nav button[data-screen=sale]").await.unwrap();
    let code = tillfund_e2e::demo::activation_code(data_dir.path());
    session.type_into("#enrol-server", &restarted.url).await.unwrap();
    session.type_into("#enrol-code", &code).await.unwrap();
    session.type_into("#enrol-label", "WebDriver counter").await.unwrap();
    session.click("#enrol-submit").await.unwrap();
    session
        .wait_for_text("#store-name", Duration::from_secs(10), |text| text.contains("Demo Store"))
        .await
        .unwrap();

    // A sale: key the amount, Enter, the QR code; the customer pays on the phone.
    session.type_into("#sale-amount", "12.5").await.unwrap();
    session.click("#sale-keypad button:nth-child(11)").await.unwrap(); // the 0 key
    session.type_into("#sale-amount", "12.345\u{E007}").await.unwrap();
    session
        .wait_for_text("#sale-error", Duration::from_secs(5), |text| {
            text.contains("at most 2 decimal places")
        })
        .await
        .unwrap();
    session.type_into("#sale-amount", "12.50\u{E007}").await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| {
            text.starts_with("Waiting for payment")
        })
        .await
        .unwrap();
    let qr = session.attribute("#sale-qr", "src").await.unwrap().unwrap_or_default();
    assert!(qr.starts_with("data:image/png;base64,"), "{}", &qr[..qr.len().min(40)]);
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-sale-qr.png").unwrap();
    let pay_url = session.attribute("#sale-order", "data-pay-url").await.unwrap().unwrap();
    let token = pay_url.split("t=").nth(1).unwrap().to_owned();
    let http = reqwest::Client::new();
    let session_token: Value = http
        .post(format!("{}/v1/sessions", restarted.url))
        .json(&json!({"phone": tillfund_e2e::demo::PHONE, "pin": tillfund_e2e::demo::PIN}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paid = http
        .post(format!("{}/v1/payments", restarted.url))
        .bearer_auth(session_token["token"].as_str().unwrap())
        .header("idempotency-key", "webdriver-sale")
        .json(&json!({"token": token, "pin": tillfund_e2e::demo::PIN}))
        .send()
        .await
        .unwrap();
    // The demo customer has no money yet: the payment is refused and the code stays open.
    assert_eq!(paid.status(), 422);

    // A top-up for the demo customer: preview the bonus, record, pending, then confirmed.
    session.click("#nav button[data-screen=topup]").await.unwrap();
    session.type_into("#topup-customer", tillfund_e2e::demo::MEMBER_CODE).await.unwrap();
    let mut summary = String::new();
    for _ in 0..50 {
        session.type_into("#topup-amount", "500.00\u{E007}").await.unwrap();
        summary = session.text_of("#topup-summary").await.unwrap_or_default();
        if summary.contains("50.00") {
            break;
        }
        // The sync worker fills the customer cache a moment after enrolment.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(summary.contains("Demo Customer: 500.00 + 50.00 bonus"), "{summary}");
    session.click("#topup-record").await.unwrap();
    session
        .wait_for_text("#topup-result", Duration::from_secs(10), |text| {
            text.contains("Confirmed by the server")
        })
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-top-up.png").unwrap();

    // Now the same sale code can be paid; the counter shows it within moments.
    session.click("#nav button[data-screen=sale]").await.unwrap();
    let paid = http
        .post(format!("{}/v1/payments", restarted.url))
        .bearer_auth(session_token["token"].as_str().unwrap())
        .header("idempotency-key", "webdriver-sale-2")
        .json(&json!({"token": token, "pin": tillfund_e2e::demo::PIN}))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    session
        .wait_for_text("#sale-status", Duration::from_secs(3), |text| text == "Paid")
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-sale-paid.png").unwrap();

    // The manager checks the day against the server and closes it.
    session.click("#nav button[data-screen=settlement]").await.unwrap();
    session
        .wait_for_text("#settlement-match", Duration::from_secs(5), |text| {
            text == "Matches the server"
        })
        .await
        .unwrap();
    session.click("#settlement-close").await.unwrap();
    session
        .wait_for_text("#settlement-z-report", Duration::from_secs(5), |text| {
            text.contains("CLOSED, matches server")
        })
        .await
        .unwrap();
    let z_report = session.text_of("#settlement-z-report").await.unwrap();
    assert!(z_report.contains("Payments total"), "{z_report}");
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-settlement.png").unwrap();

    // Settings: a wrong printer is refused with the reason, a right one kept.
    session.click("#nav button[data-screen=settings]").await.unwrap();
    session.type_into("#printer-setting", "lp0\u{E007}").await.unwrap();
    session
        .wait_for_text("#printer-result", Duration::from_secs(5), |text| {
            text.contains("is not a printer")
        })
        .await
        .unwrap();
    session.type_into("#printer-setting", "tcp:127.0.0.1:9100\u{E007}").await.unwrap();
    session
        .wait_for_text("#printer-result", Duration::from_secs(5), |text| text == "Saved")
        .await
        .unwrap();

    session.close().await.unwrap();
    drop(driver);
    assert!(restarted.stop().unwrap().success());
}
