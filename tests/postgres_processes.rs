//! Three fund-server processes on one PostgreSQL database, as an operator runs them behind a
//! load balancer: a counter enrolled at one, its customer paying through all three at once.
//! The database serialises what must be serial (every batch takes the ledger's advisory
//! lock), so the 200-payments race on a wallet that covers 10 pays exactly 10, whichever
//! process each payment reached; and a payment made through one process reaches the
//! counter whose long poll another process holds (LISTEN/NOTIFY).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use counter_core::counter::Counter;
use counter_core::orders::OrderStatus;
use counter_core::sync::{RoundOutcome, sync_round};
use tillfund_e2e::demo::{self, DemoCustomer};
use tillfund_e2e::postgres::ThrowawayDatabase;
use tillfund_e2e::process::FundServer;

const PROCESSES: usize = 3;
const PAYMENTS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_on_one_database_pay_a_ten_payment_wallet_exactly_ten_times() {
    let database = ThrowawayDatabase::create().await.unwrap();
    // One data directory: every process must hold the same secrets key (terminal keys are
    // sealed with it), as an operator gives each the same key file.
    let data_dir = tempfile::tempdir().unwrap();
    let environment = [
        ("DATABASE_URL", database.url.as_str()),
        // One customer pays 200 times within seconds: the limiter is not under test here.
        ("TILLFUND_RATE_LIMIT_FACTOR", "1000"),
    ];
    // Started one after another: the first seeds the demo store, the others find it.
    let servers: Vec<FundServer> = (0..PROCESSES)
        .map(|_| FundServer::start_with_env(data_dir.path(), "127.0.0.1:0", &environment).unwrap())
        .collect();

    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    let code = demo::activation_code_with_env(data_dir.path(), &environment);
    counter.enrol(&servers[0].url, &code, "Counter 1").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty, "customers cached");
    let preview = counter.preview_top_up(demo::MEMBER_CODE, "100.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let mut orders = Vec::with_capacity(PAYMENTS);
    for _ in 0..PAYMENTS {
        orders.push(counter.create_order(None, "10.00").await.unwrap());
    }
    // The counter's long poll is held by the first process only.
    let listener = tokio::spawn(counter_core::sync::run_payment_listener(counter.store().clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut customers = Vec::with_capacity(PROCESSES);
    for server in &servers {
        customers.push(std::sync::Arc::new(DemoCustomer::sign_in(&server.url).await));
    }
    let payments: Vec<_> = orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let customer = customers[index % PROCESSES].clone();
            let token = order.token.clone();
            tokio::spawn(async move {
                customer.pay(&token, &format!("race-{index}")).await.status().as_u16()
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for payment in payments {
        *statuses.entry(payment.await.unwrap()).or_default() += 1;
    }
    assert_eq!(statuses.get(&200), Some(&10), "{statuses:?}");
    assert_eq!(statuses.get(&422), Some(&190), "the rest: insufficient funds; {statuses:?}");
    assert_eq!(customers[1].wallet().await["total"], 0);

    // The counter heard of every paid order through the first process, though two in three
    // were paid through the others.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut paid = 0;
        for order in &orders {
            let status = counter.order(order.order_id).await.unwrap().unwrap().status;
            paid += usize::from(status == OrderStatus::Paid);
        }
        if paid == 10 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the counter heard of {paid} of 10");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // One more, paid through the second process alone while the first holds the poll with
    // nothing of its own to commit: only the second's notification can wake it in time.
    let preview = counter.preview_top_up(demo::MEMBER_CODE, "10.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let last = counter.create_order(None, "10.00").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut announcements = counter.store().paid_orders();
    let paid_at = std::time::Instant::now();
    assert_eq!(customers[1].pay(&last.token, "last").await.status().as_u16(), 200);
    let heard = tokio::time::timeout(Duration::from_secs(2), announcements.recv())
        .await
        .expect("the first process's long poll did not hear of the second's commit")
        .unwrap();
    assert_eq!(heard, last.order_id);
    eprintln!("heard across processes {:?} after the payment", paid_at.elapsed());
    listener.abort();

    for server in servers {
        assert!(server.stop().unwrap().success());
    }
    let (ok, stdout, stderr) =
        demo::fund_server_cli_with_env(data_dir.path(), &environment, &["audit"]);
    assert!(ok, "{stdout}{stderr}");
}

/// A process killed with SIGKILL in the middle of payments, then restarted: every payment
/// retried with its key is applied once, nothing acknowledged is lost, the audit passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_process_killed_mid_batches_loses_nothing_and_applies_nothing_twice() {
    const ORDERS: usize = 60;
    let database = ThrowawayDatabase::create().await.unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let environment =
        [("DATABASE_URL", database.url.as_str()), ("TILLFUND_RATE_LIMIT_FACTOR", "1000")];
    let mut servers: Vec<Option<FundServer>> = (0..PROCESSES)
        .map(|_| {
            Some(FundServer::start_with_env(data_dir.path(), "127.0.0.1:0", &environment).unwrap())
        })
        .collect();
    let urls: Vec<String> = servers.iter().flatten().map(|server| server.url.clone()).collect();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    let code = demo::activation_code_with_env(data_dir.path(), &environment);
    counter.enrol(&urls[0], &code, "Counter 1").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(demo::MEMBER_CODE, "100.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let mut orders = Vec::with_capacity(ORDERS);
    for _ in 0..ORDERS {
        orders.push(counter.create_order(None, "1.00").await.unwrap());
    }
    let mut customers = Vec::with_capacity(PROCESSES);
    for url in &urls {
        customers.push(std::sync::Arc::new(DemoCustomer::sign_in(url).await));
    }

    let payments: Vec<_> = orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let customer = customers[index % PROCESSES].clone();
            let token = order.token.clone();
            tokio::spawn(async move {
                let answer = customer.try_pay(&token, &format!("fault-{index}")).await;
                answer.map(|response| response.status().as_u16()).unwrap_or(0)
            })
        })
        .collect();
    // The third process dies while the payments are under way.
    tokio::time::sleep(Duration::from_millis(40)).await;
    servers[2].take().unwrap().kill();
    let mut answered = Vec::with_capacity(ORDERS);
    for payment in payments {
        answered.push(payment.await.unwrap());
    }
    let acknowledged = answered.iter().filter(|status| **status == 200).count();
    eprintln!("{acknowledged} of {ORDERS} acknowledged before the retries");
    servers[2] =
        Some(FundServer::start_with_env(data_dir.path(), "127.0.0.1:0", &environment).unwrap());

    // Every payment not acknowledged is sent again, with its key, through a live process.
    for (index, status) in answered.iter().enumerate() {
        if *status != 200 {
            let retry = customers[0].pay(&orders[index].token, &format!("fault-{index}")).await;
            assert_eq!(retry.status().as_u16(), 200, "retry of payment {index}");
        }
    }
    // Each key was applied once: 60 orders of 1.00 from 100.00.
    let wallet = customers[1].wallet().await;
    assert_eq!(wallet["total"], 4_000, "{wallet}");
    for server in servers.into_iter().flatten() {
        assert!(server.stop().unwrap().success());
    }
    let (ok, stdout, stderr) =
        demo::fund_server_cli_with_env(data_dir.path(), &environment, &["audit"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("audited 62 journal entries"), "{stdout}");
}

/// The rate limits and the PIN lock-out are counted in the database, so a client that
/// spreads its attempts over every process behind the load balancer gets no more than it
/// would from one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limits_and_the_pin_lockout_hold_across_processes() {
    const ENROL_PER_MINUTE: usize = 10;
    const PIN_ATTEMPTS_MAX: usize = 5;
    const SIGN_IN_PER_PHONE_PER_MINUTE: usize = 8;
    let database = ThrowawayDatabase::create().await.unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let environment = [("DATABASE_URL", database.url.as_str())];
    let servers: Vec<FundServer> = (0..PROCESSES)
        .map(|_| FundServer::start_with_env(data_dir.path(), "127.0.0.1:0", &environment).unwrap())
        .collect();
    let http = reqwest::Client::new();
    let post = |attempt: usize, path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", servers[attempt % PROCESSES].url)).json(&body).send()
    };

    // Activation codes guessed from one address, round robin over the three processes:
    // ten a minute get an answer, the rest are refused before the code is looked at.
    let mut refused_by_limit = 0;
    for attempt in 0..3 * ENROL_PER_MINUTE {
        let guess = serde_json::json!({
            "activation_code": format!("GUESS-{attempt:04}"), "label": "Till",
            "public_key": "00".repeat(32)
        });
        let answer = post(attempt, "/v1/terminals/enrol", guess).await.unwrap();
        let status = answer.status().as_u16();
        let body: serde_json::Value = answer.json().await.unwrap();
        if status == 429 {
            assert_eq!(body["code"], "too_many_attempts");
            refused_by_limit += 1;
        } else {
            assert!(attempt < ENROL_PER_MINUTE, "attempt {attempt} got {status} {body}");
        }
    }
    assert_eq!(refused_by_limit, 2 * ENROL_PER_MINUTE);

    // Wrong PINs for one phone, round robin: the fifth locks the wallet for every process,
    // and past eight a minute the phone is refused before its PIN is checked.
    let mut codes = Vec::new();
    for attempt in 0..SIGN_IN_PER_PHONE_PER_MINUTE + 2 {
        let wrong = serde_json::json!({"phone": demo::PHONE, "pin": "654321"});
        let answer = post(attempt, "/v1/sessions", wrong).await.unwrap();
        let body: serde_json::Value = answer.json().await.unwrap();
        codes.push(body["code"].as_str().unwrap_or("").to_owned());
    }
    let expected: Vec<&str> = std::iter::repeat_n("sign_in_failed", PIN_ATTEMPTS_MAX - 1)
        .chain(["wallet_locked"; SIGN_IN_PER_PHONE_PER_MINUTE - PIN_ATTEMPTS_MAX + 1])
        .chain(["too_many_attempts"; 2])
        .collect();
    assert_eq!(codes, expected);
    for server in servers {
        assert!(server.stop().unwrap().success());
    }
}
