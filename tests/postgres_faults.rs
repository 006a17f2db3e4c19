//! Every kind of write the platform takes, through three fund-server processes on one
//! PostgreSQL database, with one process killed by SIGKILL in the middle and restarted on
//! its port, as a crash behind a load balancer looks: cash top-ups, payments, refunds and
//! top-up reversals from three counters and many customers, the reserve monitor refilling
//! as top-ups draw the reserve down, then the day's yield accrued by several `accrue` runs
//! at once, the first of them killed half-way.
//!
//! Each write is sent until a process acknowledges it, always with the same outbox entry
//! id or idempotency key, as the counter app and a phone do. At the end every write is
//! applied exactly once (each wallet holds exactly what its script adds up to), the refills
//! follow the monitor's rule entry by entry, each wallet got one yield posting, and the
//! audit passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;
use tillfund_core::signing::new_nonce;
use tillfund_core::{OrderId, OutboxEntryId};
use tillfund_e2e::demo;
use tillfund_e2e::postgres::ThrowawayDatabase;
use tillfund_e2e::process::{FundServer, fund_server_binary};
use tillfund_e2e::raw_counter::{Till, enrol_till, now_ms, register_customer};

const PROCESSES: usize = 3;
const CUSTOMERS: usize = 24;
/// Each customer's script: a top-up, three payments, a second top-up, a refund of the first
/// payment and a reversal of part of the first top-up.
const WRITES_PER_CUSTOMER: usize = 7;
const TOP_UP: i64 = 10_000;
const PAYMENT: i64 = 1_000;
const REFUND: i64 = 400;
const REVERSAL: i64 = 3_000;
/// What each wallet holds once its script is applied exactly once.
const WALLET_AFTER_SCRIPT: i64 = 2 * TOP_UP - 3 * PAYMENT + REFUND - REVERSAL;
/// The demo store's reserve starts at 100,000.00; top-ups draw it under this within the
/// first dozen, so most top-ups after that make the monitor refill from the service account.
const RESERVE_THRESHOLD: &str = "99000.00";
const RESERVE_THRESHOLD_MINOR_UNITS: i64 = 9_900_000;
const RESERVE_REFILL: i64 = 100;
/// How long one write may take to be acknowledged, restarts included.
const WRITE_DEADLINE: Duration = Duration::from_secs(60);
/// The ledger's advisory lock (`store/postgres/mod.rs`), which every batch takes.
const LEDGER_LOCK: i64 = 0x7469_6c6c_6675_0001;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_kind_of_write_through_three_processes_survives_a_sigkill_and_applies_once() {
    let database = ThrowawayDatabase::create().await.unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let environment = [
        ("DATABASE_URL", database.url.as_str()),
        ("TILLFUND_RATE_LIMIT_FACTOR", "1000"),
        ("TILLFUND_RESERVE_THRESHOLD", RESERVE_THRESHOLD),
        ("TILLFUND_RESERVE_REFILL", "1.00"),
    ];
    let addresses: Vec<String> =
        (0..PROCESSES).map(|_| format!("127.0.0.1:{}", tillfund_e2e::free_port())).collect();
    let start =
        |address: &str| FundServer::start_with_env(data_dir.path(), address, &environment).unwrap();
    let mut servers: Vec<Option<FundServer>> =
        addresses.iter().map(|address| Some(start(address))).collect();
    let urls: Arc<Vec<String>> =
        Arc::new(servers.iter().flatten().map(|server| server.url.clone()).collect());

    // Three counters of the demo store, each enrolled at a different process; every
    // request of theirs may then reach any process, as behind a load balancer.
    let http = reqwest::Client::new();
    let mut tills = Vec::with_capacity(PROCESSES);
    for url in urls.iter() {
        let code = demo::activation_code_with_env(data_dir.path(), &environment);
        tills.push(enrol_till(&http, url, &code, demo::MERCHANT_ID).await);
    }
    let mut customers = Vec::with_capacity(CUSTOMERS);
    for index in 0..CUSTOMERS {
        let phone = format!("139{:08}", 10_000 + index);
        let url = &urls[index % PROCESSES];
        customers.push(register_customer(&http, url, &phone, &[demo::MERCHANT_ID]).await);
    }

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let scripts: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(index, (customer_id, session))| {
            let script = CustomerScript {
                index,
                customer_id: customer_id.clone(),
                session: session.clone(),
                tills: tills.clone(),
                urls: urls.clone(),
                http: http.clone(),
                acknowledged: acknowledged.clone(),
            };
            tokio::spawn(script.run())
        })
        .collect();

    // The third process dies with a third of the writes acknowledged, the rest in flight,
    // and comes back on its port half a second later.
    let total_writes = CUSTOMERS * WRITES_PER_CUSTOMER;
    let deadline = Instant::now() + WRITE_DEADLINE;
    while acknowledged.load(Ordering::SeqCst) < total_writes / 3 {
        assert!(Instant::now() < deadline, "the writes did not get under way");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    servers[2].take().unwrap().kill();
    eprintln!(
        "killed with {} of {total_writes} writes acknowledged",
        acknowledged.load(Ordering::SeqCst)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    servers[2] = Some(start(&addresses[2]));
    for script in scripts {
        script.await.unwrap();
    }
    assert_eq!(acknowledged.load(Ordering::SeqCst), total_writes);

    // Each write applied exactly once: every wallet holds what its script adds up to.
    for (customer_id, session) in &customers {
        let wallet = customer_wallet(&http, &urls[0], session).await;
        assert_eq!(wallet["total"], WALLET_AFTER_SCRIPT, "wallet of {customer_id}: {wallet}");
    }
    let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
    let entries_of = |code: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM journal_entries WHERE code = $1")
                .bind(code)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let customers_count = i64::try_from(CUSTOMERS).unwrap();
    assert_eq!(entries_of("top_up").await, 2 * customers_count);
    assert_eq!(entries_of("payment").await, 3 * customers_count);
    assert_eq!(entries_of("refund").await, customers_count);
    assert_eq!(entries_of("top_up_reversal").await, customers_count);
    let refills = check_refills_follow_the_monitor(&pool).await;
    assert!(refills > 0, "the workload was meant to make the monitor refill");
    eprintln!("{refills} refills, each where the monitor's rule puts one");

    accrue_today_with_one_run_killed(&data_dir, &environment, &pool).await;
    let yields: Vec<(String, i64)> = sqlx::query(
        "SELECT customer_id, count(*) AS postings FROM journal_entries WHERE code = 'yield' \
         GROUP BY customer_id, business_day",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.get("customer_id"), row.get("postings")))
    .collect();
    assert!(
        yields.iter().all(|(_, postings)| *postings == 1),
        "one per wallet and day: {yields:?}"
    );
    let days: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT business_day) FROM journal_entries WHERE code = 'yield'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    if days == 1 {
        assert_eq!(yields.len(), CUSTOMERS, "one posting per wallet: {yields:?}");
        // 144.00 at 3.65 % a year earns 1.44 fen a day: one whole fen is posted.
        for (customer_id, session) in &customers {
            let wallet = customer_wallet(&http, &urls[1], session).await;
            let expected = WALLET_AFTER_SCRIPT + 1;
            assert_eq!(wallet["total"], expected, "wallet of {customer_id}: {wallet}");
        }
    } else {
        // The workload crossed midnight in Shanghai: two days, a fen carried between them.
        eprintln!("the workload spanned {days} days: balances after yield not compared");
    }
    check_refills_follow_the_monitor(&pool).await;
    pool.close().await;

    for server in servers.into_iter().flatten() {
        assert!(server.stop().unwrap().success());
    }
    let (ok, stdout, stderr) =
        demo::fund_server_cli_with_env(data_dir.path(), &environment, &["audit"]);
    assert!(ok && stdout.contains("audit passed"), "{stdout}{stderr}");
}

/// One customer's writes, in the order they depend on each other, each sent until
/// acknowledged. Concurrent with every other customer's.
struct CustomerScript {
    index: usize,
    customer_id: String,
    session: String,
    tills: Vec<Till>,
    urls: Arc<Vec<String>>,
    http: reqwest::Client,
    acknowledged: Arc<AtomicUsize>,
}

impl CustomerScript {
    async fn run(self) {
        let first_till = &self.tills[self.index % PROCESSES];
        let second_till = &self.tills[(self.index + 1) % PROCESSES];
        let first_top_up = OutboxEntryId::generate();
        self.top_up(first_till, first_top_up).await;
        let mut orders = Vec::new();
        for payment in 0..3 {
            let till = &self.tills[(self.index + payment) % PROCESSES];
            let order_id = OrderId::generate();
            self.pay(till, order_id, payment).await;
            orders.push((till, order_id));
        }
        // After the payments, which fill the service account the refills are paid from.
        self.top_up(second_till, OutboxEntryId::generate()).await;
        let (refunding_till, refunded_order) = orders[0];
        let body = json!({"order_id": refunded_order.to_string(), "amount": REFUND});
        let answer =
            self.signed_until_acknowledged(refunding_till, "/v1/terminal/refunds", &body).await;
        assert_eq!(answer["amount"], REFUND, "{answer}");
        let body = json!({"top_up_entry_id": first_top_up.to_string(), "amount": REVERSAL});
        let answer = self
            .signed_until_acknowledged(first_till, "/v1/terminal/top-up-reversals", &body)
            .await;
        assert_eq!(answer["amount"], REVERSAL, "{answer}");
    }

    async fn top_up(&self, till: &Till, entry_id: OutboxEntryId) {
        let body = json!({"entries": [{
            "id": entry_id, "sequence": 1, "recorded_at_ms": now_ms(),
            "action": {"type": "cash_top_up", "customer_id": self.customer_id, "amount": TOP_UP,
                       "bonus_shown": 0, "bonus_rule_version": null}
        }]});
        let answer = self.signed_until_acknowledged(till, "/v1/sync/push", &body).await;
        let outcome = answer["results"][0]["outcome"].as_str();
        // `already_applied` when an earlier attempt was applied but its answer lost.
        assert!(matches!(outcome, Some("applied" | "already_applied")), "{answer}");
    }

    async fn pay(&self, till: &Till, order_id: OrderId, payment: usize) {
        let token = till.payment_token(order_id, PAYMENT);
        let key = format!("pay-{}-{payment}", self.index);
        let answer = until_acknowledged(&self.urls, self.index + payment, |url| {
            self.http
                .post(format!("{url}/v1/payments"))
                .bearer_auth(&self.session)
                .header("idempotency-key", &key)
                .json(&json!({"token": token, "pin": demo::PIN}))
                .send()
        })
        .await;
        assert_eq!(answer["amount"], PAYMENT, "{answer}");
        self.acknowledged.fetch_add(1, Ordering::SeqCst);
    }

    /// A terminal's signed write, re-signed for every attempt (a fresh timestamp and nonce)
    /// under one idempotency key, as the counter app retries.
    async fn signed_until_acknowledged(&self, till: &Till, path: &str, body: &Value) -> Value {
        let key = new_nonce();
        let mut attempt = self.index;
        let deadline = Instant::now() + WRITE_DEADLINE;
        loop {
            let till = till.at(&self.urls[attempt % PROCESSES]);
            let captured = till.sign(Method::POST, path, body, &key);
            match till.try_send(&captured).await {
                Ok((StatusCode::OK, answer)) if !answer.is_null() => {
                    self.acknowledged.fetch_add(1, Ordering::SeqCst);
                    return answer;
                }
                Ok((status, answer)) => assert_retryable(status, &answer),
                Err(_) => {}
            }
            assert!(Instant::now() < deadline, "{path} was never acknowledged");
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Sends a write until a process acknowledges it, starting with process `first` and
/// moving to the next after each failure.
async fn until_acknowledged<F, Fut>(urls: &[String], first: usize, send: F) -> Value
where
    F: Fn(&str) -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let deadline = Instant::now() + WRITE_DEADLINE;
    let mut attempt = first;
    loop {
        if let Ok(response) = send(&urls[attempt % urls.len()]).await {
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            if status == StatusCode::OK && !answer.is_null() {
                return answer;
            }
            assert_retryable(status, &answer);
        }
        assert!(Instant::now() < deadline, "a write was never acknowledged");
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A process that died answers nothing, or a cut answer; a live one must not refuse a
/// write that is right, nor fail it.
fn assert_retryable(status: StatusCode, answer: &Value) {
    assert!(
        status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
        "a live process refused or failed a valid write: {status} {answer}"
    );
}

async fn customer_wallet(http: &reqwest::Client, url: &str, session: &str) -> Value {
    let response = http.get(format!("{url}/v1/wallet")).bearer_auth(session).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Replays the journal and checks each refill against the monitor's rule: a refill comes
/// right before a draw the reserve could not cover, or right after a draw that left the
/// reserve under the threshold; and after every such draw one comes, unless the service
/// account could not pay it. So no dip is refilled twice, none missed. Returns the refills.
async fn check_refills_follow_the_monitor(pool: &sqlx::PgPool) -> usize {
    let threshold = RESERVE_THRESHOLD_MINOR_UNITS;
    let rows = sqlx::query(
        "SELECT e.sequence, e.code, t.from_account, t.to_account, t.amount \
         FROM journal_entries e JOIN transfers t ON t.entry_sequence = e.sequence \
         ORDER BY e.sequence, t.position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    // (code, reserve change, service change) per entry, in journal order.
    let mut entries: Vec<(String, i64, i64)> = Vec::new();
    let mut last_sequence = 0_i64;
    for row in rows {
        let sequence: i64 = row.get("sequence");
        if sequence != last_sequence {
            entries.push((row.get("code"), 0, 0));
            last_sequence = sequence;
        }
        let (from, to, amount): (String, String, i64) =
            (row.get("from_account"), row.get("to_account"), row.get("amount"));
        let entry = entries.last_mut().unwrap();
        for (account, sign) in [(from, -1), (to, 1)] {
            match account.as_str() {
                "reserve" => entry.1 += sign * amount,
                "service" => entry.2 += sign * amount,
                _ => {}
            }
        }
    }
    let (mut reserve, mut service, mut refills) = (0_i64, 0_i64, 0);
    for (position, (code, reserve_change, service_change)) in entries.iter().enumerate() {
        let draws = matches!(code.as_str(), "top_up" | "yield");
        if code == "refill" {
            refills += 1;
            assert_eq!(*reserve_change, RESERVE_REFILL);
            assert_eq!(*service_change, -RESERVE_REFILL, "a refill is paid by the service account");
            let next_draw_uncovered = entries.get(position + 1).is_some_and(|(next, change, _)| {
                matches!(next.as_str(), "top_up" | "yield") && reserve < -change
            });
            let after_a_dip = position > 0
                && matches!(entries[position - 1].0.as_str(), "top_up" | "yield")
                && reserve < threshold;
            assert!(
                next_draw_uncovered || after_a_dip,
                "journal entry {} refills the reserve at {reserve} for no draw",
                position + 1
            );
        } else if draws && reserve + reserve_change < threshold && service >= RESERVE_REFILL {
            let next = entries.get(position + 1).map(|(next, _, _)| next.as_str());
            assert!(
                next == Some("refill"),
                "journal entry {} left the reserve under the threshold with no refill after it",
                position + 1
            );
        }
        reserve += reserve_change;
        service += service_change;
    }
    refills
}

/// Accrues the day the workload ran as if it were tomorrow (`faketime`: the day must be over
/// to be accrued): one run is killed as soon as it has recorded the day, then three run at
/// once; each process must take the day's lock, find the day accrued, and finish postings.
async fn accrue_today_with_one_run_killed(
    data_dir: &tempfile::TempDir,
    environment: &[(&str, &str)],
    pool: &sqlx::PgPool,
) {
    let (ok, _, stderr) = demo::fund_server_cli_with_env(
        data_dir.path(),
        environment,
        &["yield", "rate", "--from", "2026-01-01", "--annual", "3.65"],
    );
    assert!(ok, "{stderr}");
    // The day of the workload's last entry: a workload that crossed midnight in Shanghai
    // has its first day accrued too, and the checks count postings per (wallet, day).
    let last_applied_ms: i64 = sqlx::query_scalar("SELECT max(applied_at_ms) FROM journal_entries")
        .fetch_one(pool)
        .await
        .unwrap();
    let today = jiff::Timestamp::from_millisecond(last_applied_ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date()
        .to_string();
    let accrue = || {
        let mut command = std::process::Command::new("faketime");
        command
            .args(["-f", "+1d"])
            .arg(fund_server_binary())
            .args(["accrue", "--through", &today])
            .env_remove("DATABASE_URL")
            .envs(environment.iter().copied())
            .env("TILLFUND_DATA_DIR", data_dir.path())
            // Sleeps and timeouts keep real time; only the calendar moves.
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command.spawn().expect("faketime runs fund-server (install-deps installs it)")
    };
    // The ledger's advisory lock, held here: the first run records the day (under the yield
    // lock) and then waits to post, so the kill lands between the two, every time.
    let mut holder = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(LEDGER_LOCK)
        .execute(&mut *holder)
        .await
        .unwrap();
    let mut first = accrue();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let days: i64 =
            sqlx::query_scalar("SELECT count(*) FROM yield_days").fetch_one(pool).await.unwrap();
        if days > 0 {
            break;
        }
        assert!(first.try_wait().unwrap().is_none(), "the first run ended before its day");
        assert!(Instant::now() < deadline, "the first accrual run never recorded its day");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(first.try_wait().unwrap().is_none(), "the first run posted past the held lock");
    let _ = first.kill();
    let _ = first.wait();
    let posted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM journal_entries WHERE code = 'yield'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(posted, 0, "killed after recording the day, before posting");
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LEDGER_LOCK)
        .execute(&mut *holder)
        .await
        .unwrap();
    drop(holder);
    let runs: Vec<_> = (0..PROCESSES).map(|_| accrue()).collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
