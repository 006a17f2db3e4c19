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

#[path = "counter_app/desk.rs"]
mod desk;
#[path = "counter_app/sound.rs"]
mod sound;

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
            .env("TILLFUND_EXPORT_DIR", counter_db.with_file_name("exports"))
            .env("TILLFUND_SOUND_CAPTURE_DIR", counter_db.with_file_name("sound"))
            .env("LANG", "en_US.UTF-8")
            // Screenshots stall without WebKit's compositing (which the app turns off to
            // save memory); the screens behave the same either way.
            .env("TILLFUND_WEBVIEW_GPU", "1")
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

/// Waits until `css` is shown (or hidden, with `shown` false).
pub(crate) async fn wait_displayed(session: &WebDriverSession, css: &str, shown: bool) {
    let mut last = String::new();
    for _ in 0..100 {
        match session.is_displayed(css).await {
            Ok(displayed) if displayed == shown => return,
            Ok(displayed) => last = format!("displayed: {displayed}"),
            // Said in the panic: an app that died reads differently from a slow screen.
            Err(error) => last = format!("error: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} did not become {}; last seen: {last}", if shown { "shown" } else { "hidden" });
}

/// Every screen fits the 1024×768 counter: nothing scrolls sideways.
async fn assert_fits_sideways(session: &WebDriverSession, screen: &str) {
    let fits = session
        .execute("return document.documentElement.scrollWidth <= window.innerWidth;", json!([]))
        .await
        .unwrap();
    assert_eq!(fits, json!(true), "the {screen} screen scrolls sideways");
}

pub(crate) fn save_screenshot(png: &[u8], name: &str) -> anyhow::Result<()> {
    let directory = workspace_root().join("docs").join("screenshots");
    std::fs::create_dir_all(&directory)?;
    std::fs::write(directory.join(name), png)?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the app built by `tauri build --debug --no-bundle`, tauri-driver and a display; run by `make test`"]
async fn a_counter_day_through_the_real_app() {
    let application = target_dir().join("debug").join("tillfund-counter");
    assert!(application.exists(), "{} is missing: build it with `make app`", application.display());
    let data_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start(data_dir.path(), &listen).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(counter_dir.path().join("sound")).unwrap();
    let driver =
        TauriDriver::start(&server.url, &counter_dir.path().join("counter.sqlite")).unwrap();
    let session =
        WebDriverSession::start_tauri(&driver.url, application.to_str().unwrap()).await.unwrap();
    let size = session
        .execute("return [window.innerWidth, window.innerHeight];", json!([]))
        .await
        .unwrap();
    eprintln!("window inner size {size}");

    let (state, _) = session
        .wait_for_text("#connection-state", Duration::from_secs(30), |text| text == "Online")
        .await
        .unwrap();
    assert_eq!(state, "Online");
    // A counter that is not enrolled opens on the enrolment screen.
    session
        .wait_for_text("#screen-enrol h1", Duration::from_secs(10), |text| {
            text == "Enrol this counter"
        })
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-enrol.png").unwrap();
    desk::audit(&session, "enrolment").await;

    // Enrol through the screen, as the store manager does on first run.
    let code = tillfund_e2e::demo::activation_code(data_dir.path());
    session.type_into("#enrol-server", &server.url).await.unwrap();
    session.type_into("#enrol-code", &code).await.unwrap();
    session.type_into("#enrol-label", "WebDriver counter").await.unwrap();
    session.click("#enrol-submit").await.unwrap();
    session
        .wait_for_text("#store-name", Duration::from_secs(10), |text| text.contains("Demo Store"))
        .await
        .unwrap();

    // No staff yet: the first member is a manager, who is signed in at once.
    session
        .wait_for_text("#first-manager h1", Duration::from_secs(5), |text| {
            text == "Who manages this counter?"
        })
        .await
        .unwrap();
    assert!(!session.is_displayed("#nav").await.unwrap(), "no screens before sign-in");
    desk::audit(&session, "first manager").await;
    session.type_into("#first-manager-name", "Mia").await.unwrap();
    session.type_into("#first-manager-pin", "2468").await.unwrap();
    session.type_into("#first-manager-pin-again", "2469\u{E007}").await.unwrap();
    session
        .wait_for_text("#signin-error", Duration::from_secs(5), |text| {
            text == "The two PINs differ."
        })
        .await
        .unwrap();
    session.type_into("#first-manager-pin-again", "2468\u{E007}").await.unwrap();
    session
        .wait_for_text("#staff-name", Duration::from_secs(5), |text| text == "Mia · Manager")
        .await
        .unwrap();
    wait_displayed(&session, "#screen-sale", true).await;

    // Settings: the server's facts; the manager adds a cashier and sets the printer (a
    // wrong one is refused with the reason).
    session.click("#nav button[data-screen=settings]").await.unwrap();
    assert_eq!(session.text_of("#server-version").await.unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(session.text_of("#server-url").await.unwrap(), server.url);
    session.type_into("#staff-name-input", "Ben").await.unwrap();
    session.type_into("#staff-pin", "1357\u{E007}").await.unwrap();
    session
        .wait_for_text("#staff-list", Duration::from_secs(5), |text| text.contains("Ben · Cashier"))
        .await
        .unwrap();
    session.type_into("#printer-setting", "lp0\u{E007}").await.unwrap();
    session
        .wait_for_text("#printer-result", Duration::from_secs(5), |text| {
            text.contains("is not a printer")
        })
        .await
        .unwrap();
    let printer_file = counter_dir.path().join("printer.bin");
    session
        .type_into("#printer-setting", &format!("device:{}\u{E007}", printer_file.display()))
        .await
        .unwrap();
    session
        .wait_for_text("#printer-result", Duration::from_secs(5), |text| text == "Saved")
        .await
        .unwrap();
    desk::drawer_test_button(&session, &printer_file).await;
    assert_fits_sideways(&session, "settings").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-settings.png").unwrap();
    desk::audit(&session, "settings").await;

    // The server stops: the banner says so and the counter keeps selling offline.
    assert!(server.stop().unwrap().success());
    let (_, took) = session
        .wait_for_text("#connection-state", OFFLINE_NOTICED_WITHIN, |text| text == "Offline")
        .await
        .unwrap();
    eprintln!("offline noticed after {took:?}");
    assert_eq!(
        session.text_of("#connection-problem").await.unwrap(),
        "The server cannot be reached."
    );
    wait_displayed(&session, "#offline-banner", true).await;
    session.click("#nav button[data-screen=sale]").await.unwrap();
    session.type_into("#sale-amount", "3.00\u{E007}").await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| {
            text.starts_with("Waiting for payment")
        })
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-offline.png").unwrap();
    session
        .execute(
            "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));",
            json!([]),
        )
        .await
        .unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| text == "Cancelled")
        .await
        .unwrap();
    session.click("#sale-new").await.unwrap();
    // The staff list is the store's, kept on the server: no change while it is away.
    session.click("#nav button[data-screen=settings]").await.unwrap();
    session.type_into("#staff-name-input", "Cy").await.unwrap();
    session.type_into("#staff-pin", "2580\u{E007}").await.unwrap();
    session
        .wait_for_text("#staff-result", Duration::from_secs(10), |text| {
            text.starts_with("Staff are kept on the server")
        })
        .await
        .unwrap();
    assert!(!session.text_of("#staff-list").await.unwrap().contains("Cy"));
    session.click("#nav button[data-screen=sale]").await.unwrap();

    let server = FundServer::start(data_dir.path(), &listen).unwrap();
    let (_, took) = session
        .wait_for_text("#connection-state", OFFLINE_NOTICED_WITHIN, |text| text == "Online")
        .await
        .unwrap();
    eprintln!("online again after {took:?}");
    wait_displayed(&session, "#offline-banner", false).await;

    // The cashier signs in: a wrong PIN says how many tries are left.
    session.click("#sign-out").await.unwrap();
    session
        .wait_for_text("#signin-staff", Duration::from_secs(5), |text| text.contains("Ben"))
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-sign-in.png").unwrap();
    desk::audit(&session, "sign-in").await;
    let ben = session
        .execute(
            "return [...document.querySelectorAll('#signin-staff .tile')].find((t) => t.textContent.includes('Ben')).dataset.staffId;",
            json!([]),
        )
        .await
        .unwrap();
    session
        .click(&format!("#signin-staff .tile[data-staff-id='{}']", ben.as_str().unwrap()))
        .await
        .unwrap();
    session.type_into("#signin-pin", "0000\u{E007}").await.unwrap();
    session
        .wait_for_text("#signin-error", Duration::from_secs(5), |text| {
            text == "wrong PIN: 4 more tries before this member is locked out"
        })
        .await
        .unwrap();
    session.type_into("#signin-pin", "1357\u{E007}").await.unwrap();
    session
        .wait_for_text("#staff-name", Duration::from_secs(5), |text| text == "Ben · Cashier")
        .await
        .unwrap();

    // A sale: key the amount, Enter, the QR code; the customer pays on the phone.
    wait_displayed(&session, "#screen-sale", true).await;
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
    desk::audit(&session, "sale with a QR").await;
    // The QR code full screen, for a customer across the counter; Esc closes it first.
    session.click("#sale-qr-button").await.unwrap();
    wait_displayed(&session, "#qr-overlay", true).await;
    desk::audit(&session, "QR overlay").await;
    session.click("#qr-overlay").await.unwrap();
    wait_displayed(&session, "#qr-overlay", false).await;

    // The customer-facing window shows the same code and amount.
    let opened = session.invoke("open_customer_display", json!({})).await.unwrap();
    assert!(opened.get("ok").is_some(), "{opened}");
    let display = session.invoke("customer_display", json!({})).await.unwrap();
    assert_eq!(display["ok"]["kind"], "payment", "{display}");
    assert_eq!(display["ok"]["amount"], "12.50 CNY");
    let main_window = session.window_handle().await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..50 {
        handles = session.window_handles().await.unwrap();
        if handles.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(handles.len(), 2, "the customer window did not open: {handles:?}");
    let customer_window = handles.iter().find(|handle| **handle != main_window).unwrap().clone();
    session.switch_to_window(&customer_window).await.unwrap();
    session
        .wait_for_text("#payment-amount", Duration::from_secs(5), |text| text == "12.50 CNY")
        .await
        .unwrap();
    // The DOM is updated; give the window a moment to paint it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-customer-display.png")
        .unwrap();
    session.switch_to_window(&main_window).await.unwrap();

    let pay_url = session.attribute("#sale-order", "data-pay-url").await.unwrap().unwrap();
    let token = pay_url.split("t=").nth(1).unwrap().to_owned();
    let customer = tillfund_e2e::demo::DemoCustomer::sign_in(&server.url).await;
    let paid = customer.pay(&token, "webdriver-sale").await;
    // The demo customer has no money yet: the payment is refused and the code stays open.
    assert_eq!(paid.status(), 422);

    // A top-up. Typed slowly, a member code is typing: Enter moves on to the amount. From
    // the scanner (the same keys within milliseconds) it is marked scanned.
    session.click("#nav button[data-screen=topup]").await.unwrap();
    session
        .type_slowly(
            "#topup-customer",
            &format!("{}\u{E007}", tillfund_e2e::demo::MEMBER_CODE),
            Duration::from_millis(80),
        )
        .await
        .unwrap();
    assert!(!session.is_displayed("#topup-scanned").await.unwrap(), "slow typing is not a scan");
    let focused = session.execute("return document.activeElement.id;", json!([])).await.unwrap();
    assert_eq!(focused, json!("topup-amount"), "Enter after a typed code moves to the amount");
    session.click("#nav button[data-screen=sale]").await.unwrap();
    // The scanner fires while the sale screen has the focus: the burst goes to a top-up,
    // not into the sale amount.
    session
        .execute(
            "const code = arguments[0]; const target = document.activeElement || document.body;\
             for (const key of [...code, 'Enter']) {\
               target.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));\
             }",
            json!([tillfund_e2e::demo::MEMBER_CODE]),
        )
        .await
        .unwrap();
    wait_displayed(&session, "#screen-topup", true).await;
    wait_displayed(&session, "#topup-scanned", true).await;
    assert_eq!(
        session
            .execute("return document.getElementById('topup-customer').value;", json!([]))
            .await
            .unwrap(),
        json!(tillfund_e2e::demo::MEMBER_CODE)
    );
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
    assert!(summary.contains("Demo Customer: 500.00 CNY + 50.00 bonus"), "{summary}");
    assert_eq!(session.text_of("#topup-binding").await.unwrap(), "Bound to this store");
    session.click("#topup-record").await.unwrap();
    let top_up_recorded = tokio::time::Instant::now();
    session
        .wait_for_text("#topup-result", Duration::from_secs(10), |text| {
            text.contains("Confirmed by the server")
        })
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-top-up.png").unwrap();
    assert_eq!(desk::kicks_in(&printer_file), 2, "the cash top-up opened the drawer");
    desk::audit(&session, "top-up").await;
    session.click("#topup-print").await.unwrap();
    session
        .wait_for_text("#topup-result", Duration::from_secs(5), |text| {
            text == "Sent to the printer"
        })
        .await
        .unwrap();

    // Now the same sale code can be paid; the counter shows it within moments, with the
    // confirmation code the customer's phone shows.
    session.click("#nav button[data-screen=sale]").await.unwrap();
    let paid = customer.pay(&token, "webdriver-sale-2").await;
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(3), |text| text == "Paid")
        .await
        .unwrap();
    let code_shown = session.text_of("#sale-paid-code").await.unwrap();
    assert!(
        code_shown.contains(paid["confirmation_code"].as_str().unwrap()),
        "{code_shown} vs {paid}"
    );
    // The top-up's customer display returns to the welcome 3 s after it was recorded,
    // unless something was shown since: the payment shown meanwhile stays.
    tokio::time::sleep_until(top_up_recorded + Duration::from_millis(3_500)).await;
    let display = session.invoke("customer_display", json!({})).await.unwrap();
    assert_eq!(display["ok"]["kind"], "paid", "{display}");
    // The cashier may not refund: the button says a manager must.
    session
        .wait_for_text("#sales-list", Duration::from_secs(5), |text| text.contains("12.50"))
        .await
        .unwrap();
    assert_eq!(
        session.attribute("#sales-list .refund-open", "disabled").await.unwrap().as_deref(),
        Some("true")
    );
    let refused =
        session.invoke("refund", json!({"orderId": "x", "amount": "1.00"})).await.unwrap();
    assert_eq!(refused["error"]["code"], "manager_required", "{refused}");
    assert_fits_sideways(&session, "sale").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-sale-paid.png").unwrap();

    // Customers: the search finds the demo customer, bound here.
    session.click("#nav button[data-screen=customers]").await.unwrap();
    session.type_into("#customers-query", "Demo").await.unwrap();
    session
        .wait_for_text("#customers-list", Duration::from_secs(5), |text| {
            text.contains("Demo Customer") && text.contains("Bound")
        })
        .await
        .unwrap();
    session.type_into("#customers-query", "nobody\u{E007}").await.unwrap();
    session
        .wait_for_text("#customers-empty", Duration::from_secs(5), |text| {
            text == "No customer matches “nobody”"
        })
        .await
        .unwrap();
    session.type_into("#customers-query", "\u{E007}").await.unwrap();
    session
        .wait_for_text("#customers-list", Duration::from_secs(5), |text| {
            text.contains("Demo Customer")
        })
        .await
        .unwrap();
    assert_fits_sideways(&session, "customers").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-customers.png").unwrap();
    desk::audit(&session, "customers").await;

    // Sync: nothing waits, nothing needs attention, and when the last sync was.
    session.click("#nav button[data-screen=sync]").await.unwrap();
    session
        .wait_for_text("#sync-pending", Duration::from_secs(5), |text| text == "0")
        .await
        .unwrap();
    assert_ne!(session.text_of("#sync-last").await.unwrap(), "—");
    assert_eq!(session.text_of("#sync-attention-empty").await.unwrap(), "Nothing needs attention.");
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-sync.png").unwrap();
    desk::audit(&session, "sync").await;

    // The cashier sees the day but cannot close it.
    session.click("#nav button[data-screen=settlement]").await.unwrap();
    session
        .wait_for_text("#settlement-match", Duration::from_secs(5), |text| {
            text == "Matches the server"
        })
        .await
        .unwrap();
    assert_eq!(
        session.attribute("#settlement-close", "disabled").await.unwrap().as_deref(),
        Some("true")
    );
    // Blind: before the drawer is counted, the day's cash is not on screen. The cashier
    // puts the float in the drawer; a cash drop is the manager's.
    assert!(!session.is_displayed("#settlement-z-report").await.unwrap());
    assert!(!session.is_displayed("#settlement-chart").await.unwrap());
    assert_eq!(
        session.text_of("#drawer-result").await.unwrap(),
        "Count the drawer first: the day's figures appear after the blind count."
    );
    session.type_into("#float-amount", "200\u{E007}").await.unwrap();
    session
        .wait_for_text("#drawer-result", Duration::from_secs(5), |text| text == "Float set")
        .await
        .unwrap();
    assert_eq!(
        session.attribute("#float-amount", "value").await.unwrap().as_deref(),
        Some("200.00")
    );
    assert_eq!(
        session.attribute("#count-submit", "disabled").await.unwrap().as_deref(),
        Some("true")
    );

    // The manager signs in (F12 signs out), refunds part of the sale and closes the day.
    session
        .execute("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'F12'}));", json!([]))
        .await
        .unwrap();
    wait_displayed(&session, "#signin-choose", true).await;
    let mia = session
        .execute(
            "return [...document.querySelectorAll('#signin-staff .tile')].find((t) => t.textContent.includes('Mia')).dataset.staffId;",
            json!([]),
        )
        .await
        .unwrap();
    session
        .click(&format!("#signin-staff .tile[data-staff-id='{}']", mia.as_str().unwrap()))
        .await
        .unwrap();
    for key in ["2", "4", "6", "8"] {
        session
            .click(&format!("#signin-keypad button:nth-child({})", keypad_position(key)))
            .await
            .unwrap();
    }
    session.click("#signin-submit").await.unwrap();
    session
        .wait_for_text("#staff-name", Duration::from_secs(5), |text| text == "Mia · Manager")
        .await
        .unwrap();
    session
        .wait_for_text("#sales-list", Duration::from_secs(5), |text| text.contains("12.50"))
        .await
        .unwrap();
    session.click("#sales-list .refund-open").await.unwrap();
    session.type_into("#refund-amount", "2.50\u{E007}").await.unwrap();
    session
        .wait_for_text("#sales-result", Duration::from_secs(5), |text| {
            text == "Refunded; total refunded on this order: 2.50 CNY"
        })
        .await
        .unwrap();

    session.click("#nav button[data-screen=settlement]").await.unwrap();
    session
        .wait_for_text("#settlement-match", Duration::from_secs(5), |text| {
            text == "Matches the server"
        })
        .await
        .unwrap();
    // ¥300 to the bank; then the blind count by note and coin: ¥399.50 where
    // 200 + 500 − 300 = ¥400 should be, 0.50 short. Printing waits for the count, also
    // when asked for directly.
    assert_eq!(
        session.attribute("#settlement-print", "disabled").await.unwrap().as_deref(),
        Some("true")
    );
    let today = session.attribute("#settlement-day", "value").await.unwrap().unwrap();
    let refused = session.invoke("print_day_report", json!({"day": today})).await.unwrap();
    assert_eq!(refused["error"]["code"], "drawer_count_needed", "{refused}");
    session.type_into("#drop-amount", "300\u{E007}").await.unwrap();
    session
        .wait_for_text("#drop-list", Duration::from_secs(5), |text| text.contains("300.00 CNY"))
        .await
        .unwrap();
    for (value, pieces) in
        [(10_000, "3"), (5_000, "1"), (2_000, "2"), (500, "1"), (100, "4"), (50, "1")]
    {
        session
            .type_into(&format!("#count-rows input[data-value='{value}']"), pieces)
            .await
            .unwrap();
    }
    session
        .wait_for_text("#count-sum", Duration::from_secs(5), |text| text == "399.50")
        .await
        .unwrap();
    assert!(!session.is_displayed("#settlement-z-report").await.unwrap(), "still blind");
    assert_fits_sideways(&session, "drawer count").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-drawer-count.png").unwrap();
    desk::audit(&session, "day, counting the drawer").await;
    session.click("#count-submit").await.unwrap();
    session
        .wait_for_text("#count-over-short", Duration::from_secs(5), |text| text == "0.50 CNY short")
        .await
        .unwrap();
    assert_eq!(session.text_of("#count-expected").await.unwrap(), "400.00 CNY");
    assert!(session.text_of("#count-by").await.unwrap().starts_with("Mia "));
    let z_report = session.text_of("#settlement-z-report").await.unwrap();
    assert!(z_report.contains(&format!("{:<20}{:>12}", "Counted", "399.50")), "{z_report}");
    let bars = session
        .execute("return document.querySelectorAll('#settlement-chart rect').length;", json!([]))
        .await
        .unwrap();
    assert_eq!(bars, json!(2), "one hour with cash and payments: two bars");
    session.click("#settlement-export").await.unwrap();
    let (exported, _) = session
        .wait_for_text("#settlement-result", Duration::from_secs(5), |text| {
            text.starts_with("Saved as")
        })
        .await
        .unwrap();
    let csv_path = exported.trim_start_matches("Saved as ").to_owned();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("day,store,currency,top_ups,cash"), "{csv}");
    assert!(csv.contains(",500.00,50.00,1,12.50,2.50,"), "{csv}");
    assert!(csv.contains(",200.00,300.00,400.00,399.50,-0.50,\"Mia\""), "{csv}");
    session.click("#settlement-close").await.unwrap();
    session
        .wait_for_text("#settlement-z-report", Duration::from_secs(5), |text| {
            text.contains("CLOSED, matches server")
        })
        .await
        .unwrap();
    let z_report = session.text_of("#settlement-z-report").await.unwrap();
    assert!(z_report.contains("Payments total"), "{z_report}");
    assert!(z_report.contains(&format!("{:<20}{:>12}", "Short", "0.50")), "{z_report}");
    session.click("#settlement-print").await.unwrap();
    session
        .wait_for_text("#settlement-result", Duration::from_secs(5), |text| {
            text == "Sent to the printer"
        })
        .await
        .unwrap();
    let printed = std::fs::read(&printer_file).unwrap();
    assert!(printed.windows(8).any(|window| window == b"Z-REPORT"));
    assert!(printed.windows(11).any(|window| window == b"CASH TOP-UP"));
    assert!(printed.windows(7).any(|window| window == b"Cashier"), "the receipt names the cashier");
    // The shift report: each cashier's part of the day, also on the Z-report.
    let shifts = session.text_of("#cashiers-list").await.unwrap();
    assert!(shifts.contains("Ben") && shifts.contains("Mia"), "{shifts}");
    assert!(z_report.contains("Closed by"), "{z_report}");
    assert_fits_sideways(&session, "settlement").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-settlement.png").unwrap();
    session
        .execute("document.getElementById('cashiers').scrollIntoView();", json!([]))
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-shift-report.png").unwrap();
    desk::audit(&session, "settlement").await;

    // 中文: the language switch reloads the window in Chinese; the shift stays signed in.
    session.click("#nav button[data-screen=settings]").await.unwrap();
    session
        .execute(
            "const select = document.getElementById('language-select'); select.value = 'zh';\
             select.dispatchEvent(new Event('change'));",
            json!([]),
        )
        .await
        .unwrap();
    session
        .wait_for_text("#nav button[data-screen=sale]", Duration::from_secs(10), |text| {
            text.starts_with("收款")
        })
        .await
        .unwrap();
    session
        .wait_for_text("#staff-name", Duration::from_secs(5), |text| text == "Mia · 店长")
        .await
        .unwrap();
    session.click("#nav button[data-screen=settlement]").await.unwrap();
    session
        .wait_for_text("#settlement-match", Duration::from_secs(5), |text| text.contains("已关账"))
        .await
        .unwrap();
    // The Z-report in the counter's language, as the printer prints it (GB18030).
    let z_report = session.text_of("#settlement-z-report").await.unwrap();
    assert!(z_report.contains("日结单") && z_report.contains("短款"), "{z_report}");
    let before = std::fs::read(&printer_file).unwrap().len();
    session.click("#settlement-print").await.unwrap();
    session
        .wait_for_text("#settlement-result", Duration::from_secs(5), |text| !text.is_empty())
        .await
        .unwrap();
    let printed = std::fs::read(&printer_file).unwrap();
    let (printed, _, _) = encoding_rs::GB18030.decode(&printed[before..]);
    assert!(printed.contains("日结单") && printed.contains("实点"), "{printed}");
    assert_fits_sideways(&session, "settlement (zh)").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-settlement-zh.png").unwrap();
    session.execute("localStorage.removeItem('language');", json!([])).await.unwrap();

    // Back in English for the cash desk's edges: a reversal, and enrolling again.
    session.execute("window.location.reload();", json!([])).await.unwrap();
    session
        .wait_for_text("#nav button[data-screen=sale]", Duration::from_secs(10), |text| {
            text.starts_with("Sale")
        })
        .await
        .unwrap();
    desk::reverse_a_top_up(&session, &printer_file).await;
    desk::cash_out(&session, &server.url).await;
    let sound_dir = counter_dir.path().join("sound");
    let server = sound::pay_by_sound(&session, server, data_dir.path(), &listen, &sound_dir).await;
    desk::enrol_again(&session, &tillfund_e2e::demo::activation_code(data_dir.path())).await;

    session.close().await.unwrap();
    drop(driver);
    assert!(server.stop().unwrap().success());
}

/// Where a digit sits on the PIN keypad (7 8 9 / 4 5 6 / 1 2 3 / C 0 ⌫).
fn keypad_position(key: &str) -> usize {
    match key {
        "7" => 1,
        "8" => 2,
        "9" => 3,
        "4" => 4,
        "5" => 5,
        "6" => 6,
        "1" => 7,
        "2" => 8,
        "3" => 9,
        "0" => 11,
        _ => panic!("no key {key}"),
    }
}
