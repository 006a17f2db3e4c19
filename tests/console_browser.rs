//! The operators' console in a real browser (headless Chromium through chromedriver)
//! against the real fund-server binary: an operator proposes a bonus rule, an approver
//! approves it, a real counter core picks it up and its next top-up gets the new bonus; a
//! viewer can change nothing; the trail shows every step.
//!
//! Ignored by a plain `cargo test` (it needs Chromium and chromedriver, which `make deps`
//! installs); `make e2e` runs it with `--ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use counter_core::counter::Counter;
use counter_core::sync::sync_round;
use fund_server::operators::totp::{TotpSecret, step_at};
use serde_json::json;
use tillfund_e2e::accessibility::assert_accessible;
use tillfund_e2e::chromedriver::ChromeDriver;
use tillfund_e2e::demo::{MEMBER_CODE, MERCHANT_ID, activation_code, fund_server_cli_with_input};
use tillfund_e2e::process::FundServer;
use tillfund_e2e::webdriver::WebDriverSession;
use tillfund_e2e::{free_port, save_screenshot};

const PASSWORD: &str = "correct horse battery";

/// Makes an account on the command line, as the platform's first administrator is made,
/// and returns its second factor.
fn add_operator(data_dir: &Path, name: &str, role: &str) -> TotpSecret {
    let arguments = ["operator", "add", "--name", name, "--role", role];
    let (ok, stdout, stderr) =
        fund_server_cli_with_input(data_dir, &[], &arguments, &format!("{PASSWORD}\n"));
    assert!(ok, "{stderr}");
    let secret = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("secret: "))
        .expect("the secret is printed once");
    TotpSecret::from_base32(secret).unwrap()
}

/// Signs in through the form, with the code the operator's phone shows now. Each code is
/// accepted once, so a second sign-in of the same operator within 30 seconds waits for the
/// next code.
async fn sign_in(session: &WebDriverSession, url: &str, name: &str, secret: &TotpSecret) {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64;
    session.goto(&format!("{url}/console/signin")).await.unwrap();
    session.type_into("input[name=name]", name).await.unwrap();
    session.type_into("input[name=password]", PASSWORD).await.unwrap();
    session
        .type_into("input[name=one_time_code]", &secret.code_at_step(step_at(now_ms)))
        .await
        .unwrap();
    session.click("button.primary").await.unwrap();
    session
        .wait_for_text("header nav strong", Duration::from_secs(10), |text| text == name)
        .await
        .unwrap();
}

async fn sign_out(session: &WebDriverSession) {
    session.click("header form button.link").await.unwrap();
    session.wait_for_text("h1", Duration::from_secs(10), |text| text == "Sign in").await.unwrap();
}

async fn count(session: &WebDriverSession, css: &str) -> u64 {
    let found = session
        .execute("return document.querySelectorAll(arguments[0]).length;", json!([css]))
        .await
        .unwrap();
    found.as_u64().unwrap()
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver (`make deps`); run by `make e2e`"]
async fn a_bonus_rule_goes_through_four_eyes_in_the_console_and_reaches_a_counter() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(data_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &activation_code(data_dir.path()), "Console counter").await.unwrap();
    sync_round(counter.store()).await;
    let before = counter.preview_top_up(MEMBER_CODE, "500.00").await.unwrap();
    assert_ne!(before.bonus.minor_units(), 8_800, "the demo rules give another bonus");

    let wang = add_operator(data_dir.path(), "wang", "operator");
    let li_wei = add_operator(data_dir.path(), "li.wei", "approver");
    let zhao = add_operator(data_dir.path(), "zhao", "viewer");
    let admin = add_operator(data_dir.path(), "admin", "administrator");
    let driver = ChromeDriver::start();
    let session = WebDriverSession::start_chromium(&driver.url).await.unwrap();
    session.set_window_size(1280, 900).await.unwrap();

    // The operator proposes a rule set: 88.00 on a top-up of 500.00 or more, everywhere.
    session.goto(&format!("{}/console/signin", server.url)).await.unwrap();
    assert_accessible(&session, "console sign-in").await;
    sign_in(&session, &server.url, "wang", &wang).await;
    assert_accessible(&session, "console dashboard").await;
    assert!(session.text_of("[data-figure=reserve]").await.unwrap().ends_with("CNY"));
    save_screenshot(&session.screenshot_png().await.unwrap(), "console-dashboard.png");
    // Day-to-day: a code for a second counter of the demo store, shown once, enrols it;
    // the store's page then shows it with its app version.
    session.goto(&format!("{}/console/merchants", server.url)).await.unwrap();
    assert_accessible(&session, "console stores").await;
    session
        .click(&format!("section[data-merchant='{MERCHANT_ID}'] button[data-action=issue-code]"))
        .await
        .unwrap();
    let (code, _) = session
        .wait_for_text("[data-activation-code]", Duration::from_secs(10), |text| text.len() == 14)
        .await
        .unwrap();
    let second_dir = tempfile::tempdir().unwrap();
    let second = Counter::open(&second_dir.path().join("counter.sqlite")).await.unwrap();
    second.enrol(&server.url, &code, "Second till").await.unwrap();
    sync_round(second.store()).await;
    session.goto(&format!("{}/console/merchants", server.url)).await.unwrap();
    let counters =
        session.text_of(&format!("section[data-merchant='{MERCHANT_ID}'] table")).await.unwrap();
    assert!(
        counters.contains("Second till") && counters.contains(env!("CARGO_PKG_VERSION")),
        "{counters}"
    );

    session.goto(&format!("{}/console/proposals/new", server.url)).await.unwrap();
    assert_accessible(&session, "console new proposal").await;
    let rules = json!([{"merchant_id": null, "valid_from_ms": 0, "valid_until_ms": null,
        "formula": {"type": "tiers", "tiers": [{"minimum": 50_000, "bonus": 8_800}]}}]);
    session
        .type_into("form[data-kind=publish_bonus_rules] textarea[name=rules]", &rules.to_string())
        .await
        .unwrap();
    session
        .type_into("form[data-kind=publish_bonus_rules] input[name=note]", "spring campaign")
        .await
        .unwrap();
    session.click("form[data-kind=publish_bonus_rules] button.primary").await.unwrap();
    session
        .wait_for_text("[data-status]", Duration::from_secs(10), |text| text == "pending")
        .await
        .unwrap();
    assert_eq!(count(&session, "button[data-action=approve]").await, 0, "not by the proposer");
    assert_eq!(count(&session, "button[data-action=withdraw]").await, 1);
    sign_out(&session).await;

    // A viewer sees it and can change nothing.
    sign_in(&session, &server.url, "zhao", &zhao).await;
    session.goto(&format!("{}/console/proposals", server.url)).await.unwrap();
    assert_eq!(count(&session, "article[data-proposal]").await, 1);
    assert_eq!(count(&session, "form[method=post][action^='/console/proposals/']").await, 0);
    session.goto(&format!("{}/console/proposals/new", server.url)).await.unwrap();
    assert_eq!(count(&session, "form[action='/console/proposals']").await, 0);
    assert!(session.text_of(".problem").await.unwrap().contains("reads only"));
    session.goto(&format!("{}/console/rules", server.url)).await.unwrap();
    assert!(session.text_of("#bonus").await.unwrap().contains("version 1"));
    assert_accessible(&session, "console rules").await;
    session.goto(&format!("{}/console/audit", server.url)).await.unwrap();
    assert_eq!(count(&session, "button[data-action=audit]").await, 0, "a viewer runs no audit");
    sign_out(&session).await;

    // The approver reads what changes, then approves: applied at once.
    sign_in(&session, &server.url, "li.wei", &li_wei).await;
    session.goto(&format!("{}/console/proposals", server.url)).await.unwrap();
    let changes = session.text_of("article[data-proposal] table").await.unwrap();
    assert!(changes.contains("bonus on a top-up of 500.00 CNY at any store"), "{changes}");
    assert!(changes.contains("88.00"), "{changes}");
    assert_accessible(&session, "console proposals").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "console-proposal.png");
    session.click("button[data-action=approve]").await.unwrap();
    session
        .wait_for_text("[data-status]", Duration::from_secs(10), |text| text == "applied")
        .await
        .unwrap();
    session.goto(&format!("{}/console/audit", server.url)).await.unwrap();
    session.click("button[data-action=audit-full]").await.unwrap();
    session
        .wait_for_text("h2[data-audit]", Duration::from_secs(20), |text| {
            text.starts_with("Audit passed")
        })
        .await
        .unwrap();
    assert_accessible(&session, "console audit").await;
    sign_out(&session).await;

    // The counter picks the rule up; its next top-up gets the new bonus.
    sync_round(counter.store()).await;
    let after = counter.preview_top_up(MEMBER_CODE, "500.00").await.unwrap();
    assert_eq!(after.bonus.minor_units(), 8_800);
    counter.record_top_up(None, &after).await.unwrap();
    sync_round(counter.store()).await;
    assert_eq!(counter.store().pending_summary().await.unwrap().0, 0, "the top-up was applied");

    // The administrator reads the trail: every step.
    sign_in(&session, &server.url, "admin", &admin).await;
    session.goto(&format!("{}/console/trail", server.url)).await.unwrap();
    for action in
        ["operator_added", "sign_in", "proposal_made", "proposal_approved", "audit_run", "sign_out"]
    {
        assert!(count(&session, &format!("tr[data-action={action}]")).await > 0, "{action}");
    }
    assert_accessible(&session, "console trail").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "console-trail.png");

    // The store's day: the top-up is in today's figures, and the CSV is one click away.
    let today =
        jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date();
    // The manager counts the drawer ¥1.00 short and closes: the count is on the page.
    let manager = counter_core::staff::StaffSession {
        staff_id: tillfund_core::StaffId::generate(),
        name: "Mia".to_owned(),
        role: counter_core::staff::Role::Manager,
        signed_in_at_ms: 0,
    };
    let expected = counter.day_report(today).await.unwrap().counter.drawer_cash();
    let counted = tillfund_core::Amount::from_minor_units(expected - 100).unwrap();
    counter
        .count_cash(today, counter_core::cash_desk::Counted::Total(counted), None, &manager)
        .await
        .unwrap();
    counter.close_day(None, today).await.unwrap();
    session.goto(&format!("{}/console/settlements?day={today}", server.url)).await.unwrap();
    let row = session.text_of(&format!("tr[data-merchant='{MERCHANT_ID}']")).await.unwrap();
    assert!(row.contains("500.00") && row.contains("88.00"), "{row}");
    let terminal = counter.profile().await.unwrap().terminal_id;
    let drawer_count =
        session.text_of(&format!("#drawer-counts tr[data-terminal='{terminal}']")).await.unwrap();
    assert!(drawer_count.contains("Mia") && drawer_count.contains("-1.00"), "{drawer_count}");
    assert!(drawer_count.contains("Console counter"), "the counter's label: {drawer_count}");
    assert_accessible(&session, "console settlements").await;
    save_screenshot(&session.screenshot_png().await.unwrap(), "console-settlements.png");

    // Accounts: the administrator adds one (its second factor shown once) and disables it.
    session.goto(&format!("{}/console/operators", server.url)).await.unwrap();
    assert_eq!(count(&session, "tr[data-operator]").await, 4);
    assert_accessible(&session, "console accounts").await;
    session.type_into("form[action='/console/operators'] input[name=name]", "chen").await.unwrap();
    session
        .click("form[action='/console/operators'] select[name=role] option[value=viewer]")
        .await
        .unwrap();
    session
        .type_into("form[action='/console/operators'] input[name=password]", PASSWORD)
        .await
        .unwrap();
    session.click("form[action='/console/operators'] button.primary").await.unwrap();
    let (secret, _) = session
        .wait_for_text("[data-secret]", Duration::from_secs(10), |text| text.len() == 32)
        .await
        .unwrap();
    assert!(TotpSecret::from_base32(&secret).is_some());
    assert_accessible(&session, "console second factor").await;
    session.goto(&format!("{}/console/operators", server.url)).await.unwrap();
    session.click("tr[data-operator=chen] button[data-action=disable]").await.unwrap();
    session
        .wait_for_text("tr[data-operator=chen] td:nth-child(3)", Duration::from_secs(10), |text| {
            text == "disabled"
        })
        .await
        .unwrap();

    // A customer on the phone: found by member code, the wallet shows the top-up's bonus.
    session.goto(&format!("{}/console/customers?q={MEMBER_CODE}", server.url)).await.unwrap();
    assert_accessible(&session, "console customer search").await;
    session.click("table a").await.unwrap();
    session
        .wait_for_text("[data-figure=total]", Duration::from_secs(10), |text| text.ends_with("CNY"))
        .await
        .unwrap();
    assert!(session.text_of("#history + div table").await.unwrap().contains("88.00"));
    assert_accessible(&session, "console customer").await;
    session.goto(&format!("{}/console/trail?action=customer_read", server.url)).await.unwrap();
    assert_eq!(count(&session, "tr[data-action=customer_read]").await, 1, "the look is recorded");

    // 中文.
    session.click("header nav a[lang=zh]").await.unwrap();
    session.wait_for_text("h1", Duration::from_secs(10), |text| text == "审计记录").await.unwrap();
    assert_accessible(&session, "console trail in Chinese").await;

    // The audit can fail: an image without a text alternative is a critical violation.
    session.goto("data:text/html,<!doctype html><html lang=en><title>t</title><main><img src=x.png></main></html>").await.unwrap();
    let found = tillfund_e2e::accessibility::serious_violations(&session).await.unwrap();
    assert!(found.iter().any(|line| line.starts_with("image-alt")), "{found:?}");

    session.close().await.unwrap();
    drop(driver);
    assert!(server.stop().unwrap().success());
}
