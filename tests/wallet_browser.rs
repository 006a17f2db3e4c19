//! The customer wallet pages in a real browser (headless Chromium through chromedriver)
//! against the real fund-server binary, paying a QR code made by a real counter core.
//!
//! Ignored by a plain `cargo test` (it needs Chromium and chromedriver, which `make deps`
//! installs); `make e2e` runs it with `--ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use counter_core::counter::Counter;
use counter_core::sync::{RoundOutcome, sync_round};
use tillfund_e2e::accessibility::assert_accessible;
use tillfund_e2e::chromedriver::ChromeDriver;
use tillfund_e2e::demo::{MERCHANT_ID, activation_code};
use tillfund_e2e::process::FundServer;
use tillfund_e2e::webdriver::WebDriverSession;
use tillfund_e2e::{free_port, save_screenshot};

#[tokio::test]
#[ignore = "needs Chromium and chromedriver (`make deps`); run by `make e2e`"]
async fn a_customer_signs_up_and_pays_a_counter_qr_in_a_real_browser() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(data_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &activation_code(data_dir.path()), "Browser counter").await.unwrap();
    let driver = ChromeDriver::start();
    let session = WebDriverSession::start_chromium(&driver.url).await.unwrap();

    // Sign up on the phone, choosing the demo store.
    session.goto(&format!("{}/", server.url)).await.unwrap();
    assert_accessible(&session, "start page").await;
    session.goto(&format!("{}/signin", server.url)).await.unwrap();
    assert_accessible(&session, "sign-in page").await;
    session.goto(&format!("{}/signup", server.url)).await.unwrap();
    assert_accessible(&session, "sign-up page").await;
    session.type_into("input[name=phone]", "13912345678").await.unwrap();
    session.type_into("input[name=name]", "Mei").await.unwrap();
    session.type_into("input[name=pin]", "246810").await.unwrap();
    session.type_into("input[name=pin_again]", "246810").await.unwrap();
    session.click(&format!("input[name=store][value='{MERCHANT_ID}']")).await.unwrap();
    session.click("button.primary").await.unwrap();
    session
        .wait_for_text("#total", Duration::from_secs(10), |text| text == "0.00 CNY")
        .await
        .unwrap();
    assert!(session.text_of("#stores").await.unwrap().contains("Demo Store"));
    let member_code: String = session
        .text_of("#member-code")
        .await
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(member_code.len(), 12);
    assert_accessible(&session, "wallet page").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "wallet.png");

    // Cash at the counter with the member code from the wallet page.
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(&member_code, "100.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    session.goto(&format!("{}/wallet", server.url)).await.unwrap();
    session
        .wait_for_text("#total", Duration::from_secs(10), |text| text == "100.00 CNY")
        .await
        .unwrap();

    // The counter's QR code opens the pay page; the PIN pays; the code shown checks out
    // at the counter offline.
    let order = counter.create_order(None, "23.45").await.unwrap();
    session.goto(&order.pay_url).await.unwrap();
    session
        .wait_for_text("#amount", Duration::from_secs(10), |text| text == "23.45 CNY")
        .await
        .unwrap();
    assert!(session.text_of("#store").await.unwrap().contains("Demo Store"));
    assert_accessible(&session, "pay page").await;
    session.type_into("input[name=pin]", "246810").await.unwrap();
    session.click("button.primary").await.unwrap();
    let (code, _) = session
        .wait_for_text("#confirmation-code", Duration::from_secs(10), |text| text.len() == 6)
        .await
        .unwrap();
    assert_eq!(session.text_of("#new-balance").await.unwrap(), "76.55 CNY");
    counter.confirm_by_code(order.order_id, &code).await.unwrap();
    assert_accessible(&session, "paid page").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "wallet-paid.png");

    // Cash back at the store: the wallet gives a code for 20.00 after the PIN; the
    // counter's manager pays it out against the code.
    session.goto(&format!("{}/wallet", server.url)).await.unwrap();
    session.click("#cash-out").await.unwrap();
    session
        .wait_for_text("#payable", Duration::from_secs(10), |text| text == "76.55 CNY")
        .await
        .unwrap();
    assert_accessible(&session, "cash-out page").await;
    session.type_into("input[name=amount]", "20.00").await.unwrap();
    session.type_into("input[name=pin]", "246810").await.unwrap();
    session.click("button.primary").await.unwrap();
    let (code, _) = session
        .wait_for_text("#cash-out-code", Duration::from_secs(10), |text| text.len() == 8)
        .await
        .unwrap();
    assert_eq!(session.text_of("#cash-out-amount").await.unwrap(), "20.00 CNY");
    assert!(session.text_of("#cash-out-store").await.unwrap().contains("Demo Store"));
    assert_accessible(&session, "cash-out code").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "wallet-cash-out.png");
    let done = counter.redeem(None, &member_code, &code, "20.00").await.unwrap();
    assert_eq!((done.cash, done.bonus_clawed_back), (2_000, 0));
    session.goto(&format!("{}/wallet", server.url)).await.unwrap();
    session
        .wait_for_text("#total", Duration::from_secs(10), |text| text == "56.55 CNY")
        .await
        .unwrap();
    let page =
        session.execute("return document.body.textContent;", serde_json::json!([])).await.unwrap();
    assert!(page.as_str().unwrap().contains("Paid out in cash"), "{page}");

    // Five wrong PINs lock the wallet; the page says so.
    let order = counter.create_order(None, "1.00").await.unwrap();
    session.goto(&order.pay_url).await.unwrap();
    for attempt in 1..=5 {
        session.type_into("input[name=pin]", "000000").await.unwrap();
        session.click("button.primary").await.unwrap();
        // The exact count, not just "tries left": the page of the previous attempt says
        // "tries left" too, and typing into it while the next one loads finds a stale field.
        let wanted = match 5 - attempt {
            0 => "locked".to_owned(),
            1 => "1 try left".to_owned(),
            left => format!("{left} tries left"),
        };
        session
            .wait_for_text(".problem", Duration::from_secs(10), |text| text.contains(&wanted))
            .await
            .unwrap();
    }
    assert_accessible(&session, "pay page, locked").await;
    session.goto(&format!("{}/wallet", server.url)).await.unwrap();
    assert_eq!(session.text_of("#total").await.unwrap(), "56.55 CNY");

    // Another customer closes an empty wallet on the phone: it is gone, and says so at
    // the next sign-in.
    session.click("form[action='/signout'] button").await.unwrap();
    session.goto(&format!("{}/signup", server.url)).await.unwrap();
    session.type_into("input[name=phone]", "13912345679").await.unwrap();
    session.type_into("input[name=name]", "Lin").await.unwrap();
    session.type_into("input[name=pin]", "135790").await.unwrap();
    session.type_into("input[name=pin_again]", "135790").await.unwrap();
    session.click(&format!("input[name=store][value='{MERCHANT_ID}']")).await.unwrap();
    session.click("button.primary").await.unwrap();
    session
        .wait_for_text("#total", Duration::from_secs(10), |text| text == "0.00 CNY")
        .await
        .unwrap();
    session.click("#cash-out").await.unwrap();
    session
        .wait_for_text("#payable", Duration::from_secs(10), |text| text == "0.00 CNY")
        .await
        .unwrap();
    session.type_into("#close-wallet input[name=pin]", "135790").await.unwrap();
    session.click("#close-wallet input[name=understood]").await.unwrap();
    session.click("#close-wallet button[type=submit]").await.unwrap();
    session
        .wait_for_text("#wallet-closed", Duration::from_secs(10), |text| {
            text == "Your wallet is closed."
        })
        .await
        .unwrap();
    assert_accessible(&session, "wallet closed").await;
    session.goto(&format!("{}/signin", server.url)).await.unwrap();
    session.type_into("input[name=phone]", "13912345679").await.unwrap();
    session.type_into("input[name=pin]", "135790").await.unwrap();
    session.click("button.primary").await.unwrap();
    session
        .wait_for_text(".problem", Duration::from_secs(10), |text| text.contains("closed"))
        .await
        .unwrap();

    session.close().await.unwrap();
    drop(driver);
    assert!(server.stop().unwrap().success());
}
