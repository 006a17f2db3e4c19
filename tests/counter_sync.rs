//! The counter's core, headless, against the real fund-server binary on a temporary SQLite
//! file: enrolment, the customer cache, offline top-ups that sync exactly once when the
//! server is back, and a stale cache that sends an entry to "needs attention" without
//! blocking the ones behind it.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use counter_core::counter::{Counter, CounterError};
use counter_core::store::TopUpStatus;
use counter_core::sync::{RoundOutcome, sync_round};
use serde_json::{Value, json};
use tillfund_e2e::free_port;
use tillfund_e2e::process::FundServer;

use tillfund_e2e::demo::{self, MEMBER_CODE as DEMO_MEMBER_CODE, MERCHANT_ID as DEMO_MERCHANT_ID};

fn activation_code(data_dir: &std::path::Path) -> String {
    demo::activation_code(data_dir)
}

#[tokio::test]
async fn offline_top_ups_sync_exactly_once_when_the_server_returns() {
    let server_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start(server_dir.path(), &listen).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();

    assert_eq!(
        counter.preview_top_up(DEMO_MEMBER_CODE, "10.00").await.unwrap_err().code(),
        "not_enrolled"
    );
    let code = activation_code(server_dir.path());
    let profile = counter.enrol(&server.url, &code, "Counter 2").await.unwrap();
    assert_eq!(profile.merchant_name, "Demo Store 示范店");
    // The database holds the terminal key: readable by its owner only.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(counter_dir.path().join("counter.sqlite")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");

    // The first round fills the cache: the demo customer and the demo bonus tiers.
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(DEMO_MEMBER_CODE, "500.00").await.unwrap();
    assert_eq!(preview.customer.display_name, "Demo Customer");
    assert_eq!(preview.bonus.minor_units(), 5_000);
    let by_phone = counter.preview_top_up("138 0013 8000", "10.00").await.unwrap();
    assert_eq!(by_phone.customer.customer_id, preview.customer.customer_id);
    assert_eq!(
        counter.preview_top_up("800000000012", "10.00").await.unwrap_err().code(),
        "member_code_invalid"
    );
    assert_eq!(
        counter.preview_top_up(DEMO_MEMBER_CODE, "10.001").await.unwrap_err().code(),
        "amount_too_many_decimals"
    );

    let first = counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(first.status, TopUpStatus::Pending);

    // The server goes away; the cashier keeps recording.
    assert!(server.stop().unwrap().success());
    let mut offline = Vec::new();
    for amount in ["20.00", "30.00", "40.00"] {
        let preview = counter.preview_top_up(DEMO_MEMBER_CODE, amount).await.unwrap();
        offline.push(counter.record_top_up(None, &preview).await.unwrap());
    }
    assert!(matches!(sync_round(counter.store()).await, RoundOutcome::Failed(_)));
    assert_eq!(counter.store().pending_summary().await.unwrap().0, 4);
    let receipts: Vec<&str> = offline.iter().map(|record| record.receipt_number.as_str()).collect();
    assert!(
        receipts.iter().all(|receipt| receipt.starts_with(&profile.receipt_prefix)),
        "{receipts:?}"
    );

    // Back online: everything syncs, once.
    let server = FundServer::start(server_dir.path(), &listen).unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 4 });
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    for record in offline.iter().chain([&first]) {
        let stored = counter.store().top_up(record.entry_id).await.unwrap().unwrap();
        assert_eq!(stored.status, TopUpStatus::Confirmed);
    }
    let wallet = demo::wallet(&server.url).await;
    assert_eq!(wallet["principal"], 59_000, "{wallet}");
    assert_eq!(wallet["bonus"], 5_000, "{wallet}");
    assert!(server.stop().unwrap().success());
}

#[tokio::test]
async fn a_customer_unbound_while_the_counter_was_offline_lands_in_needs_attention() {
    let server_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start(server_dir.path(), &listen).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &activation_code(server_dir.path()), "Counter 3").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);

    // The customer leaves the store in the wallet; the counter does not know yet.
    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!("{}/v1/sessions", server.url))
        .json(&json!({"phone": "13800138000", "pin": "123456"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unbind = http
        .delete(format!("{}/v1/wallet/stores/{DEMO_MERCHANT_ID}", server.url))
        .bearer_auth(session["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(unbind.status(), 204);
    let preview = counter.preview_top_up(DEMO_MEMBER_CODE, "25.00").await.unwrap();
    let stale = counter.record_top_up(None, &preview).await.unwrap();

    // The push refuses it for good; the round also refreshes the cache.
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let stored = counter.store().top_up(stale.entry_id).await.unwrap().unwrap();
    assert_eq!(stored.status, TopUpStatus::Rejected);
    assert_eq!(stored.status_code.as_deref(), Some("customer_not_bound"));
    let attention = counter.store().needs_attention().await.unwrap();
    assert_eq!(attention.len(), 1);
    assert_eq!(attention[0].code, "customer_not_bound");
    match counter.preview_top_up(DEMO_MEMBER_CODE, "25.00").await.unwrap_err() {
        CounterError::CustomerNotBound { .. } => {}
        other => panic!("expected not bound, got {other:?}"),
    }
    assert_eq!(counter.store().pending_summary().await.unwrap().0, 0);

    // Re-enrolled with a new code (a replaced machine): a new terminal, the cache refilled,
    // and nothing owed to the server lost.
    let before = counter.profile().await.unwrap();
    let now = counter_core::counter::now_ms();
    let manager = counter
        .add_staff(None, "Mia", counter_core::staff::Role::Manager, "2468", now)
        .await
        .unwrap();
    let manager = counter.sign_in(manager.staff_id, "2468", now).await.unwrap();
    let again = counter
        .re_enrol(&manager, &server.url, &activation_code(server_dir.path()), "Counter 3b")
        .await
        .unwrap()
        .profile;
    assert_ne!(again.terminal_id, before.terminal_id);
    assert_eq!(
        counter.preview_top_up(DEMO_MEMBER_CODE, "1.00").await.unwrap_err().code(),
        "customer_not_found"
    );
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    assert_eq!(counter.store().needs_attention().await.unwrap().len(), 1);

    // The operator revokes this counter: syncing says so in words the manager can act on.
    let terminal_id = counter.profile().await.unwrap().terminal_id.to_string();
    let (revoked, _, stderr) =
        demo::fund_server_cli(server_dir.path(), &["terminal", "revoke", &terminal_id]);
    assert!(revoked, "{stderr}");
    match sync_round(counter.store()).await {
        RoundOutcome::Failed(reason) => assert!(reason.contains("revoked"), "{reason}"),
        other => panic!("a revoked counter must not sync: {other:?}"),
    }
    assert!(server.stop().unwrap().success());
}

#[tokio::test]
async fn a_payment_qr_made_offline_is_paid_and_the_counter_hears_within_a_second() {
    use counter_core::orders::{OrderStatus, qr_png};
    use tillfund_core::payment_token::{UnverifiedToken, confirmation_code};
    use tillfund_core::signing::TerminalKey;

    let server_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start(server_dir.path(), &listen).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    let profile =
        counter.enrol(&server.url, &activation_code(server_dir.path()), "Counter 4").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(DEMO_MEMBER_CODE, "100.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });

    // The order and its QR code need no network.
    let server_url = server.url.clone();
    assert!(server.stop().unwrap().success());
    let started = std::time::Instant::now();
    let order = counter.create_order(None, "38.50").await.unwrap();
    let png = qr_png(&order.pay_url).unwrap();
    let made_in = started.elapsed();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(order.pay_url.starts_with(&format!("{server_url}/pay?t=")));
    assert!(order.receipt_number.starts_with(&format!("{}-P", profile.receipt_prefix)));
    let key = TerminalKey::from_hex(&profile.terminal_key).unwrap();
    let claims = UnverifiedToken::parse(&order.token)
        .unwrap()
        .verify(&key, counter_core::counter::now_ms())
        .unwrap();
    assert_eq!(claims.amount.amount().minor_units(), 3_850);
    eprintln!("order and QR PNG made offline in {made_in:?}");

    // Back online, the listener is waiting when the customer pays.
    let server = FundServer::start(server_dir.path(), &listen).unwrap();
    let mut announcements = counter.store().paid_orders();
    let listener = tokio::spawn(counter_core::sync::run_payment_listener(counter.store().clone()));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let customer = demo::DemoCustomer::sign_in(&server.url).await;
    let paid_at = std::time::Instant::now();
    let paid: Value = customer.pay(&order.token, "pay-once").await.json().await.unwrap();
    assert_eq!(
        paid["confirmation_code"],
        confirmation_code(&key, order.order_id, order.amount),
        "{paid}"
    );
    // The UI waits on this announcement instead of reading the order again and again.
    let announced = tokio::time::timeout(std::time::Duration::from_secs(1), announcements.recv())
        .await
        .expect("the counter did not hear of the payment in 1 s")
        .unwrap();
    assert_eq!(announced, order.order_id);
    eprintln!("payment announced {:?} after it was made", paid_at.elapsed());
    let status = counter.order(order.order_id).await.unwrap().unwrap().status;
    assert_eq!(status, OrderStatus::Paid, "announced once the row says paid");
    eprintln!("the counter heard of the payment after {:?}", paid_at.elapsed());
    listener.abort();

    // Offline, the customer's code proves payment; a wrong code does not.
    let offline_order = counter.create_order(None, "12.00").await.unwrap();
    let wrong = counter.confirm_by_code(offline_order.order_id, "000000").await;
    let right = confirmation_code(&key, offline_order.order_id, offline_order.amount);
    if right != "000000" {
        assert_eq!(wrong.unwrap_err().code(), "confirmation_code_wrong");
    }
    counter.confirm_by_code(offline_order.order_id, &right).await.unwrap();
    assert_eq!(
        counter.order(offline_order.order_id).await.unwrap().unwrap().status,
        OrderStatus::Paid
    );
    let unpaid = counter.create_order(None, "1.00").await.unwrap();
    counter.cancel_order(unpaid.order_id).await.unwrap();
    assert_eq!(
        counter.order(unpaid.order_id).await.unwrap().unwrap().status,
        OrderStatus::Cancelled
    );
    assert_eq!(
        counter.cancel_order(offline_order.order_id).await.unwrap_err().code(),
        "order_not_cancellable"
    );
    assert!(server.stop().unwrap().success());
}

async fn register_and_sign_in(http: &reqwest::Client, server_url: &str, phone: &str) -> String {
    let registered = http
        .post(format!("{server_url}/v1/customers"))
        .header("idempotency-key", format!("register-{phone}"))
        .json(&json!({"phone": phone, "display_name": "Regular", "pin": "123456", "merchant_ids": [DEMO_MERCHANT_ID]}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let session: Value = http
        .post(format!("{server_url}/v1/sessions"))
        .json(&json!({"phone": phone, "pin": "123456"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_store_day_closes_with_the_counter_s_figures_equal_to_the_server_s() {
    let server_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start_with_env(
        server_dir.path(),
        &listen,
        // One address and five wallets make 200 payments in seconds: a day, not a minute.
        &[("TILLFUND_RATE_LIMIT_FACTOR", "100")],
    )
    .unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    let profile =
        counter.enrol(&server.url, &activation_code(server_dir.path()), "Counter 5").await.unwrap();
    let http = reqwest::Client::new();
    let mut phones = Vec::new();
    let mut sessions = Vec::new();
    for index in 0..5 {
        let phone = format!("1390000000{index}");
        sessions.push(register_and_sign_in(&http, &server.url, &phone).await);
        phones.push(phone);
    }
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);

    // 100 cash top-ups across the five customers.
    let mut cash = 0;
    let mut top_up_ids = Vec::new();
    for index in 0..100_i64 {
        let amount = 20 + (index * 37) % 300;
        cash += amount * 100;
        let preview = counter
            .preview_top_up(&phones[(index % 5) as usize], &format!("{amount}.00"))
            .await
            .unwrap();
        top_up_ids.push(counter.record_top_up(None, &preview).await.unwrap().entry_id);
    }
    let slip = counter.top_up_receipt(top_up_ids[0]).await.unwrap();
    assert_eq!(slip.footer, "Credited when the counter syncs");
    assert!(slip.lines.contains(&("Cash".to_owned(), "20.00".to_owned())), "{slip:?}");
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get(&profile.time_zone).unwrap())
        .date();
    let refused = counter.close_day(None, today).await.unwrap_err();
    assert_eq!(refused.code(), "day_has_unsynced_entries");
    assert!(refused.to_string().starts_with("100 top-ups"), "{refused}");
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 100 });

    // 200 payments made through the customer API on the counter's QR codes.
    let mut payments = 0;
    let mut order_ids = Vec::new();
    for index in 0..200_i64 {
        let amount = 100 + (index * 53) % 1_900;
        payments += amount;
        let order = counter
            .create_order(None, &format!("{}.{:02}", amount / 100, amount % 100))
            .await
            .unwrap();
        let answer = http
            .post(format!("{}/v1/payments", server.url))
            .bearer_auth(&sessions[(index % 5) as usize])
            .header("idempotency-key", format!("pay-{index}"))
            .json(&json!({"token": order.token, "pin": "123456"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
        order_ids.push(order.order_id);
    }
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);

    // A manager refunds 1.00 on ten orders; too much on another is refused.
    for order_id in &order_ids[..10] {
        counter.refund(None, *order_id, "1.00").await.unwrap();
    }
    let too_much = counter.refund(None, order_ids[10], "1000.00").await.unwrap_err();
    assert_eq!(too_much.code(), "refund_exceeds_paid");

    // A second counter of the same store takes some cash too: the store's figures hold
    // both, each counter matches its own part.
    let second_dir = tempfile::tempdir().unwrap();
    let second = Counter::open(&second_dir.path().join("counter.sqlite")).await.unwrap();
    second.enrol(&server.url, &activation_code(server_dir.path()), "Counter 6").await.unwrap();
    assert_eq!(sync_round(second.store()).await, RoundOutcome::Empty);
    for _ in 0..3 {
        let preview = second.preview_top_up(&phones[0], "10.00").await.unwrap();
        second.record_top_up(None, &preview).await.unwrap();
    }
    assert_eq!(sync_round(second.store()).await, RoundOutcome::Done { pushed: 3 });
    let second_report = second.day_report(today).await.unwrap();
    assert_eq!(second_report.counter.cash, 3_000);
    assert_eq!(second_report.matches, Some(true));

    let report = counter.day_report(today).await.unwrap();
    assert_eq!(report.counter.top_up_count, 100);
    assert_eq!(report.counter.cash, cash);
    assert_eq!(report.counter.payment_count, 200);
    assert_eq!(report.counter.payments, payments);
    assert_eq!((report.counter.refund_count, report.counter.refunds), (10, 1_000));
    let server_figures = report.server.clone().unwrap();
    assert_eq!(
        (server_figures.figures.cash, server_figures.figures.payments),
        (cash + 3_000, payments)
    );
    assert_eq!(
        (server_figures.this_terminal.cash, server_figures.this_terminal.payments),
        (cash, payments)
    );
    assert_eq!(report.matches, Some(true));
    // The hour-by-hour chart adds up to the day's figures.
    assert!((23..=25).contains(&report.hours.len()), "{:?}", report.hours);
    assert_eq!(report.hours[0].starts, "00:00");
    assert_eq!(report.hours.iter().map(|hour| hour.cash).sum::<i64>(), cash);
    assert_eq!(report.hours.iter().map(|hour| hour.payments).sum::<i64>(), payments);

    // The sales list: newest first, with what was refunded; receipts for an order and a
    // top-up; the customer search over the cache.
    let recent = counter.recent_orders(50).await.unwrap();
    assert_eq!(recent.len(), 50);
    assert_eq!(recent[0].order_id, order_ids[199]);
    assert!(recent.iter().all(|order| order.status == "paid"));
    let all = counter.recent_orders(1_000).await.unwrap();
    assert_eq!(all.len(), 200);
    assert_eq!(all.iter().map(|order| order.refunded).sum::<i64>(), 1_000);
    let slip = counter.order_receipt(order_ids[0]).await.unwrap();
    assert_eq!((slip.title.as_str(), slip.qr.as_deref()), ("PAID", None));
    let fresh = counter.create_order(None, "9.99").await.unwrap();
    let slip = counter.order_receipt(fresh.order_id).await.unwrap();
    assert_eq!(slip.qr.as_deref(), Some(fresh.pay_url.as_str()));
    counter.cancel_order(fresh.order_id).await.unwrap();
    let slip = counter.top_up_receipt(top_up_ids[0]).await.unwrap();
    assert_eq!(slip.footer, "Credited to your wallet");
    let found = counter.store().search_customers("1390000000", 100).await.unwrap();
    assert_eq!(found.len(), 5);
    let found = counter.store().search_customers(&phones[3], 100).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].bound);
    assert!(counter.store().search_customers("%", 100).await.unwrap().is_empty());

    let closed = counter.close_day(None, today).await.unwrap();
    assert!(closed.closed && closed.server.as_ref().unwrap().closed);
    let z_report = closed.z_report_text();
    assert!(z_report.contains("CLOSED, matches server"), "{z_report}");
    assert!(
        z_report.contains(&format!("Cash in drawer{:>18}", format!("{}.00", cash / 100))),
        "{z_report}"
    );
    let csv = closed.csv();
    assert!(csv.starts_with("day,store,currency,top_ups,cash"), "{csv}");
    assert!(csv.contains(&format!("{today},\"Demo Store 示范店\",CNY,100,")), "{csv}");
    // Reprint: the same report again, from the counter's own records, printed as COPY.
    assert_eq!(counter.close_day(None, today).await.unwrap(), closed);
    let printer = counter_dir.path().join("printer");
    let printer = counter_core::receipt::Printer::Device(printer);
    let job = counter.print(&printer, &closed.receipt()).await.unwrap();
    counter.reprint(&printer, job).await.unwrap();
    let printed = std::fs::read(counter_dir.path().join("printer")).unwrap();
    assert!(printed.windows(10).any(|window| window == b"** COPY **"));
    assert!(printed.windows(8).any(|window| window == b"Z-REPORT"));
    assert!(server.stop().unwrap().success());
}

/// A day nobody closed is settled by the next close, so the server's figures of a close
/// hold two days; each day still matches the counter's records of it (found by the
/// simulator, seed 8). And a payment the counter has not heard of yet is fetched by the
/// close, so the Z-report matches (seed 60).
#[tokio::test]
async fn a_day_left_open_and_a_payment_not_yet_heard_still_match_the_server() {
    use counter_core::transport::CounterEnv;
    use tillfund_core::clock::Clock;

    const DAY_MS: i64 = 24 * 60 * 60 * 1_000;
    let server_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(server_dir.path(), "127.0.0.1:0").unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let clock = Clock::system();
    let env = CounterEnv { clock: clock.clone(), ..CounterEnv::system() };
    let counter =
        Counter::open_with(&counter_dir.path().join("counter.sqlite"), env).await.unwrap();
    let code = activation_code(server_dir.path());
    let profile = counter.enrol(&server.url, &code, "Counter of two days").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);

    // Yesterday, offline: 10.00. Today: 20.00. Yesterday is never closed.
    clock.advance(-DAY_MS);
    let preview = counter.preview_top_up(DEMO_MEMBER_CODE, "10.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    clock.advance(DAY_MS);
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let preview = counter.preview_top_up(DEMO_MEMBER_CODE, "20.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let zone = jiff::tz::TimeZone::get(&profile.time_zone).unwrap();
    let today = jiff::Timestamp::now().to_zoned(zone).date();
    let yesterday = today.yesterday().unwrap();

    let report = counter.day_report(today).await.unwrap();
    let server_day = report.server.clone().unwrap();
    assert_eq!(report.counter.cash, 2_000);
    assert_eq!(server_day.this_terminal.cash, 3_000, "a close now settles both days");
    assert_eq!(server_day.this_terminal_in_day.unwrap().cash, 2_000);
    assert_eq!(report.matches, Some(true), "{report:?}");
    let report = counter.day_report(yesterday).await.unwrap();
    assert_eq!((report.counter.cash, report.matches), (1_000, Some(true)), "{report:?}");

    // A customer pays; the counter has not synced since.
    let customer = demo::DemoCustomer::sign_in(&server.url).await;
    let order = counter.create_order(None, "5.00").await.unwrap();
    assert_eq!(customer.pay(&order.token, "pay-unheard").await.status(), 200);
    let closed = counter.close_day(None, today).await.unwrap();
    assert_eq!((closed.counter.payment_count, closed.counter.payments), (1, 500));
    assert_eq!(closed.matches, Some(true), "{closed:?}");
    let close = closed.server.clone().unwrap();
    assert_eq!((close.this_terminal.cash, close.this_terminal.payments), (3_000, 500));
    assert!(closed.z_report_text().contains("CLOSED, matches server"));

    // Yesterday, settled by today's close, still matches its records.
    let report = counter.day_report(yesterday).await.unwrap();
    let server_day = report.server.clone().unwrap();
    assert!(!server_day.closed);
    assert_eq!(server_day.this_terminal.cash, 0, "nothing left for a close of yesterday");
    assert_eq!((report.counter.cash, report.matches), (1_000, Some(true)), "{report:?}");
    assert!(server.stop().unwrap().success());
    demo::assert_audit_passes(server_dir.path());
}
