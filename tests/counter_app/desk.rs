//! The cash desk's edges in the real app: the drawer kick reaching the printer, a manager
//! reversing a top-up, enrolling the counter again, and the accessibility audit of each
//! screen. Called from `a_counter_day_through_the_real_app` at its places in the day.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tillfund_e2e::accessibility::assert_accessible;
use tillfund_e2e::webdriver::WebDriverSession;

use super::{save_screenshot, wait_displayed};

/// ESC p 0 25 250, as `counter_core::drawer::DRAWER_KICK` sends it.
const DRAWER_KICK: [u8; 5] = [0x1B, 0x70, 0x00, 0x19, 0xFA];

/// How many drawer kicks the printer has been sent.
pub fn kicks_in(printer_file: &Path) -> usize {
    let bytes = std::fs::read(printer_file).unwrap_or_default();
    bytes.windows(DRAWER_KICK.len()).filter(|window| *window == DRAWER_KICK).count()
}

/// No serious or critical axe-core violation on what the window shows now.
pub async fn audit(session: &WebDriverSession, screen: &str) {
    let started = std::time::Instant::now();
    assert_accessible(session, &format!("counter: {screen}")).await;
    eprintln!("accessibility audit of {screen}: {:?}", started.elapsed());
}

/// Settings, as the manager who just set the printer: the drawer opens on cash top-ups by
/// default, and the test button kicks it.
pub async fn drawer_test_button(session: &WebDriverSession, printer_file: &Path) {
    wait_displayed(session, "#drawer-test", true).await;
    for _ in 0..50 {
        let ready = session
            .execute(
                "const box = document.getElementById('drawer-on-top-up');\
                 return box.checked && !box.disabled;",
                json!([]),
            )
            .await
            .unwrap();
        if ready == json!(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let on = session
        .execute("return document.getElementById('drawer-on-top-up').checked;", json!([]))
        .await
        .unwrap();
    assert_eq!(on, json!(true), "on by default once a printer is set");
    assert_eq!(kicks_in(printer_file), 0);
    session.click("#drawer-test").await.unwrap();
    session
        .wait_for_text("#drawer-kick-result", Duration::from_secs(5), |text| {
            text == "The drawer was sent the open command"
        })
        .await
        .unwrap();
    assert_eq!(kicks_in(printer_file), 1, "the test button kicks the drawer once");
}

/// The manager records a top-up (the drawer opens), reverses part of it with the
/// confirmation step, and is refused more than a top-up holds, with the server's reason.
pub async fn reverse_a_top_up(session: &WebDriverSession, printer_file: &Path) {
    let kicks_before = kicks_in(printer_file);
    session.click("#nav button[data-screen=topup]").await.unwrap();
    wait_displayed(session, "#screen-topup", true).await;
    session.type_into("#topup-customer", tillfund_e2e::demo::MEMBER_CODE).await.unwrap();
    session.type_into("#topup-amount", "500.00\u{E007}").await.unwrap();
    wait_displayed(session, "#topup-confirm", true).await;
    session.click("#topup-record").await.unwrap();
    session
        .wait_for_text("#topup-result", Duration::from_secs(10), |text| {
            text.contains("Confirmed by the server")
        })
        .await
        .unwrap();
    assert_eq!(kicks_in(printer_file), kicks_before + 1, "a cash top-up opens the drawer");
    assert!(!session.is_displayed("#topup-drawer").await.unwrap(), "the drawer opened");
    session
        .wait_for_text("#topups-list", Duration::from_secs(5), |text| {
            text.matches("Confirmed by the server").count() == 2
        })
        .await
        .unwrap();

    // The newest top-up is the first row: give back 40.00 of its 500.00 (and 4.00 of its
    // 50.00 bonus).
    session.click("#topups-list tr:first-child .reversal-open").await.unwrap();
    wait_displayed(session, "#reversal-form", true).await;
    session.type_into("#reversal-amount", "40.00\u{E007}").await.unwrap();
    wait_displayed(session, "#reversal-confirm", true).await;
    let question = session.text_of("#reversal-question").await.unwrap();
    assert!(question.contains("40.00 CNY"), "{question}");
    audit(session, "top-up reversal, confirming").await;
    session.click("#reversal-yes").await.unwrap();
    let (result, _) = session
        .wait_for_text("#reversal-result", Duration::from_secs(10), |text| {
            text.starts_with("Give back in cash 40.00 CNY")
        })
        .await
        .unwrap();
    assert!(result.contains("bonus taken back 4.00 CNY"), "{result}");
    session
        .wait_for_text("#topups-list tr:first-child", Duration::from_secs(5), |text| {
            text.contains("reversed 40.00")
        })
        .await
        .unwrap();
    let fits = session
        .execute(
            "const side = document.querySelector('#screen-topup .side');\
             return side.scrollWidth <= side.clientWidth;",
            json!([]),
        )
        .await
        .unwrap();
    assert_eq!(fits, json!(true), "the recent top-ups scroll sideways");
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-top-up-reversal.png")
        .unwrap();

    // More than the older top-up held: the server refuses, the message says why.
    session.click("#topups-list tr:nth-child(2) .reversal-open").await.unwrap();
    session.type_into("#reversal-amount", "600.00\u{E007}").await.unwrap();
    wait_displayed(session, "#reversal-confirm", true).await;
    session.click("#reversal-yes").await.unwrap();
    wait_displayed(session, "#reversal-error", true).await;
    let refusal = session.text_of("#reversal-error").await.unwrap();
    assert!(!refusal.is_empty());
    eprintln!("reversal of more than the top-up refused: {refusal}");
    audit(session, "top-up with a refused reversal").await;
}

/// Settings: a manager enrols the counter again with a new code. Refused while a payment
/// code is open (it names the old terminal); once it is cancelled, a new terminal, the
/// staff kept.
pub async fn enrol_again(session: &WebDriverSession, activation_code: &str) {
    session.click("#nav button[data-screen=sale]").await.unwrap();
    session.type_into("#sale-amount", "1.00\u{E007}").await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| {
            text.starts_with("Waiting for payment")
        })
        .await
        .unwrap();
    session.click("#nav button[data-screen=settings]").await.unwrap();
    let before = session.text_of("#enrolment-terminal").await.unwrap();
    assert_eq!(before.len(), 36, "a terminal id: {before}");
    session.type_into("#re-enrol-code", activation_code).await.unwrap();
    session.click("#re-enrol-submit").await.unwrap();
    wait_displayed(session, "#re-enrol-confirm", true).await;
    let question = session.text_of("#re-enrol-question").await.unwrap();
    assert!(question.contains(&before), "{question}");
    audit(session, "settings, enrolling again").await;
    session.click("#re-enrol-yes").await.unwrap();
    session
        .wait_for_text("#re-enrol-error", Duration::from_secs(10), |text| {
            text.starts_with("1 open payment code still waits for the server")
        })
        .await
        .unwrap();

    session.click("#nav button[data-screen=sale]").await.unwrap();
    session.click("#sale-cancel").await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| text == "Cancelled")
        .await
        .unwrap();
    session.click("#sale-new").await.unwrap();
    session.click("#nav button[data-screen=settings]").await.unwrap();
    session.click("#re-enrol-submit").await.unwrap();
    wait_displayed(session, "#re-enrol-confirm", true).await;
    session.click("#re-enrol-yes").await.unwrap();
    let (result, _) = session
        .wait_for_text("#re-enrol-result", Duration::from_secs(10), |text| {
            text.starts_with("Enrolled again as terminal")
        })
        .await
        .unwrap();
    assert!(result.contains(&format!("was {before}")), "{result}");
    let after = session.text_of("#enrolment-terminal").await.unwrap();
    assert_ne!(after, before);
    assert!(result.contains(&after), "{result}");
    assert!(!session.is_displayed("#re-enrol-error").await.unwrap());
    let staff = session.text_of("#staff-list").await.unwrap();
    assert!(staff.contains("Ben · Cashier") && staff.contains("Mia · Manager"), "{staff}");
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-re-enrol.png").unwrap();
}

/// The Top-up screen's cash out: the customer's wallet gives a code for 60.00 (as the
/// phone would, after the PIN); the manager keys it in and the drawer pays it out.
pub async fn cash_out(session: &WebDriverSession, server_url: &str) {
    let customer = tillfund_e2e::demo::DemoCustomer::sign_in(server_url).await;
    let (status, issued) = customer.redemption_code(6_000).await;
    assert_eq!(status, 200, "{issued}");
    let code = issued["code"].as_str().unwrap();
    wait_displayed(session, "#screen-topup", true).await;
    // A code the wallet did not give pays nothing, and says so.
    session.type_into("#cashout-customer", tillfund_e2e::demo::MEMBER_CODE).await.unwrap();
    session.type_into("#cashout-amount", "60.00").await.unwrap();
    let wrong = if code.starts_with('9') { "10000000" } else { "99999999" };
    // Clicked, not Enter: WebDriver types faster than any person, and eight digits and an
    // Enter that fast are what the app takes for a barcode scanner.
    session.type_into("#cashout-code", wrong).await.unwrap();
    session.click("#cashout-submit").await.unwrap();
    session
        .wait_for_text("#cashout-error", Duration::from_secs(10), |text| {
            text.contains("does not match")
        })
        .await
        .unwrap();
    session.type_into("#cashout-code", code).await.unwrap();
    session.click("#cashout-submit").await.unwrap();
    let (result, _) = session
        .wait_for_text("#cashout-result", Duration::from_secs(10), |text| {
            text.starts_with("Pay out 60.00 CNY to Demo Customer")
        })
        .await
        .unwrap();
    assert!(result.contains("bonus taken back"), "{result}");
    assert!(!session.is_displayed("#cashout-error").await.unwrap());
    session.click("#cashout-print").await.unwrap();
    session
        .wait_for_text("#cashout-result", Duration::from_secs(5), |text| {
            text == "Sent to the printer"
        })
        .await
        .unwrap();
    session
        .execute("document.getElementById('cashout').scrollIntoView();", json!([]))
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-cash-out.png").unwrap();
    audit(session, "cash out").await;
}
