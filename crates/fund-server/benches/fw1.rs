//! Benchmark FW-1: 10,000 customers bound to 20 merchants and a funded reserve; a mix of
//! 30 % cash top-ups (10 × a, with the tier bonus), 62 % payments (a) and 8 % refunds (a / 2
//! of an earlier payment), a uniform in 1.00..50.99; 5 % of requests are exact replays of
//! earlier ones. Measured at the storage layer (the ledger writer, durable commits) and end
//! to end over HTTP, each beside a baseline from the same run on the same machine:
//!
//! - storage baseline: the same workload with one transaction (one fsync) per operation;
//! - HTTP baseline: `GET /healthz`, the HTTP stack alone, at the same concurrency.
//!
//! On PostgreSQL (`TILLFUND_TEST_DATABASE=postgres`) the HTTP workload also runs against
//! real `fund-server serve` processes on one database, 1 and then 3 of them taking requests
//! in turn, with the rate limits counted (in the database) but raised to refuse nothing.
//!
//! Every wallet is topped up before the measured run, so that payments and refunds apply;
//! each run prints applied and refused operations per second apart (a refusal is a
//! rejected outcome, a deferral or a 4xx), so a rate counts work the ledger did.
//!
//! After each run the audit must pass and every idempotency key must have been applied
//! once: the journal holds exactly one entry per first answer. Run with `make bench`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/test_database.rs"]
mod test_database;

use std::collections::HashMap;
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_database::TestDatabase;

use fund_server::credentials::{PinHashCost, hash_pin_with};
use fund_server::http::{AppState, WebLimits, app};
use fund_server::ledger::{
    CashTopUp, Command, CommandKind, IdempotencyKey, LedgerPolicy, Outcome, Payment, Refund,
};
use fund_server::ledger_writer::LedgerWriter;
use fund_server::model::{Customer, Merchant, Terminal};
use fund_server::service::{AuditScope, FundService, ServiceConfig, audit_store, fingerprint};
use fund_server::store::Backend as Store;
use fund_server::store::prelude::*;
use serde_json::{Value, json};
use tillfund_core::bonus::{BonusFormula, BonusRule, BonusTier};
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::signing::TerminalKey;
use tillfund_core::{
    Amount, Currency, CustomerId, MemberCode, MerchantId, OrderId, OutboxEntryId, PaymentPin,
    PhoneNumber, PositiveAmount, TerminalId,
};
use tokio::sync::Semaphore;

const CUSTOMERS: usize = 10_000;
const MERCHANTS: usize = 20;
/// Requests in flight at once: many counters and phones at the same moment.
fn in_flight() -> usize {
    std::env::var("FW1_IN_FLIGHT").ok().and_then(|text| text.parse().ok()).unwrap_or(256)
}

/// xorshift64*: deterministic, so every run draws the same workload.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// One operation of the workload, before it is turned into a request.
#[derive(Clone, Debug)]
enum Operation {
    TopUp {
        customer: usize,
        minor_units: i64,
    },
    Payment {
        customer: usize,
        minor_units: i64,
        order_id: OrderId,
    },
    /// Half of the payment made by operation `payment` (an index into the workload).
    Refund {
        payment: usize,
    },
    Replay {
        operation: usize,
    },
}

fn workload(operations: usize, seed: u64) -> Vec<Operation> {
    let mut random = Random(seed);
    let mut payments = Vec::new();
    let mut workload = Vec::with_capacity(operations);
    for index in 0..operations {
        // a in 1.00..50.99
        let a = 100 + i64::try_from(random.below(5_000)).unwrap();
        let customer = usize::try_from(random.below(CUSTOMERS as u64)).unwrap();
        let roll = random.below(1_000);
        let operation = if index > 100 && roll < 50 {
            Operation::Replay { operation: usize::try_from(random.below(index as u64)).unwrap() }
        } else if roll < 50 + 285 {
            Operation::TopUp { customer, minor_units: 10 * a }
        } else if roll < 50 + 285 + 589 || payments.is_empty() {
            payments.push(index);
            Operation::Payment { customer, minor_units: a, order_id: OrderId::generate() }
        } else {
            let payment = payments[usize::try_from(random.below(payments.len() as u64)).unwrap()];
            Operation::Refund { payment }
        };
        workload.push(operation);
    }
    workload
}

struct Fixture {
    store: Store,
    policy: LedgerPolicy,
    merchants: Vec<MerchantId>,
    terminals: Vec<(TerminalId, TerminalKey)>,
    customers: Vec<CustomerId>,
    session_tokens: Vec<String>,
    /// The counters' time for every top-up, fixed so that a replay resends the same entry:
    /// just after the terminals were enrolled.
    recorded_at_ms: i64,
    /// Top-ups made before the measured run (one per wallet), not part of the workload.
    funding_top_ups: i64,
    database: TestDatabase,
}

impl Fixture {
    fn merchant_of(&self, customer: usize) -> usize {
        customer % MERCHANTS
    }
}

async fn fixture() -> Fixture {
    // SQLite, or PostgreSQL with TILLFUND_TEST_DATABASE=postgres (a throwaway database).
    let database = TestDatabase::create().await;
    let store = database.store().await;
    let now = store.clock().now_ms();
    let mut merchants = Vec::new();
    let mut terminals = Vec::new();
    for index in 0..MERCHANTS {
        let merchant = Merchant {
            id: MerchantId::generate(),
            name: format!("Store {index}"),
            time_zone: "Asia/Shanghai".into(),
            settlement_account: String::new(),
        };
        store.add_merchant(&merchant, now).await.unwrap();
        let key = TerminalKey::from_bytes([u8::try_from(index).unwrap() + 1; 32]);
        let terminal = Terminal {
            id: TerminalId::generate(),
            merchant_id: merchant.id,
            label: "Counter".into(),
            receipt_prefix: format!("B{index:02}"),
            // Plain here; the HTTP run seals it with its secrets key before serving, as a
            // server started on a database of an earlier version does.
            secret: key.to_hex(),
            server_public_key: None,
            enrolled_at_ms: now,
            revoked: false,
            replaces: None,
            replaced_by: None,
        };
        store.add_terminal(&terminal, now).await.unwrap();
        merchants.push(merchant.id);
        terminals.push((terminal.id, key));
    }
    // A PIN hash at the lowest argon2 cost: FW-1 measures the ledger; the cost of a real PIN
    // check is reported apart.
    let pin_hash =
        hash_pin_with(&PaymentPin::parse("123456").unwrap(), PinHashCost::MINIMAL).unwrap();
    let mut customers = Vec::new();
    let mut session_tokens = Vec::new();
    for index in 0..CUSTOMERS {
        let customer = Customer {
            id: CustomerId::generate(),
            phone: PhoneNumber::parse(&format!("139{index:08}")).unwrap(),
            display_name: format!("Customer {index}"),
            member_code: MemberCode::from_body(index as u64),
            pin_hash: pin_hash.clone(),
        };
        let merchant = merchants[index % MERCHANTS];
        store
            .register_customer(
                &customer,
                &[merchant],
                || MemberCode::from_body(u64::MAX / 2),
                None,
                now,
            )
            .await
            .unwrap();
        let token = format!("{:064x}", index + 1);
        store.add_session(&token, customer.id, now, now + 86_400_000).await.unwrap();
        customers.push(customer.id);
        session_tokens.push(token);
    }
    let tier = |minimum: i64, bonus: i64| BonusTier {
        minimum: PositiveAmount::try_from(minimum).unwrap(),
        bonus: Amount::from_minor_units(bonus).unwrap(),
    };
    store
        .publish_bonus_rules(vec![BonusRule {
            merchant_id: None,
            valid_from_ms: 0,
            valid_until_ms: None,
            formula: BonusFormula::Tiers { tiers: vec![tier(10_000, 500), tier(30_000, 2_000)] },
        }])
        .await
        .unwrap();
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.wallet_balance_cap = Amount::from_minor_units(10_000_000).unwrap();
    fund_server::ledger_writer::apply_batch(
        &store,
        &policy,
        &[Command {
            idempotency: IdempotencyKey { key: "bench/fund".into(), fingerprint: [0; 32] },
            recorded_at_ms: now,
            kind: CommandKind::FundReserve {
                amount: PositiveAmount::try_from(100_000_000_000).unwrap(),
            },
        }],
    )
    .await
    .unwrap();
    let funding_top_ups =
        fund_every_wallet(&store, &policy, &merchants, &terminals, &customers, now).await;
    vacuum_if_autovacuum_is_off(&database).await;
    Fixture {
        store,
        policy,
        merchants,
        terminals,
        customers,
        session_tokens,
        recorded_at_ms: now + 1,
        funding_top_ups,
        database,
    }
}

/// Each wallet gets a top-up before the measured run, so that its payments and refunds
/// apply: a benchmark that counted refusals as work would measure the wrong thing.
const FUNDING_PER_WALLET_MINOR_UNITS: i64 = 300_000;

async fn fund_every_wallet(
    store: &Store,
    policy: &LedgerPolicy,
    merchants: &[MerchantId],
    terminals: &[(TerminalId, TerminalKey)],
    customers: &[CustomerId],
    now: i64,
) -> i64 {
    let commands: Vec<Command> = customers
        .iter()
        .enumerate()
        .map(|(index, customer_id)| Command {
            idempotency: IdempotencyKey {
                key: format!("bench/funding/{index}"),
                fingerprint: [0; 32],
            },
            recorded_at_ms: now,
            kind: CommandKind::CashTopUp(CashTopUp {
                merchant_id: merchants[index % MERCHANTS],
                terminal_id: terminals[index % MERCHANTS].0,
                outbox_entry_id: OutboxEntryId::generate(),
                customer_id: *customer_id,
                amount: PositiveAmount::try_from(FUNDING_PER_WALLET_MINOR_UNITS).unwrap(),
                bonus_shown: Amount::ZERO,
                rule_set_version: None,
            }),
        })
        .collect();
    for chunk in commands.chunks(fund_server::ledger_writer::BATCH_COMMANDS_MAX) {
        for result in fund_server::ledger_writer::apply_batch(store, policy, chunk).await.unwrap() {
            assert!(matches!(result.unwrap().outcome, Outcome::ToppedUp { .. }));
        }
    }
    i64::try_from(customers.len()).unwrap()
}

struct Figures {
    operations: usize,
    /// Of `operations`, those refused (a rejected outcome, a deferral, a 4xx): printed apart,
    /// so that a rate counts work the ledger did.
    refused: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Figures {
    fn print(&mut self, label: &str, bytes_per_op: Option<f64>) {
        self.latencies_us.sort_unstable();
        let percentile = |p: f64| {
            let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
            self.latencies_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
        };
        let seconds = self.elapsed.as_secs_f64();
        let applied = self.operations - self.refused;
        let bytes = bytes_per_op.map_or(String::from("-"), |bytes| format!("{bytes:.0}"));
        println!(
            "{label:<44} {:>8} applied {:>9.0} /s  {:>6} refused {:>7.0} /s  p50 {:>7.2} ms  \
             p99 {:>7.2} ms  {:>6} B/op",
            applied,
            applied as f64 / seconds,
            self.refused,
            self.refused as f64 / seconds,
            percentile(0.50),
            percentile(0.99),
            bytes
        );
    }
}

async fn database_bytes(fixture: &Fixture) -> u64 {
    fixture.database.bytes().await
}

/// The ledger command of operation `index`; its idempotency key is `{prefix}/{index}` (a
/// replay's that of its original), so workloads with different prefixes never share keys.
fn storage_command(
    fixture: &Fixture,
    workload: &[Operation],
    index: usize,
    now: i64,
    prefix: &str,
) -> Command {
    let key = |index: usize| IdempotencyKey {
        key: format!("{prefix}/{index}"),
        fingerprint: fingerprint(&[&index.to_be_bytes()]),
    };
    match &workload[index] {
        Operation::TopUp { customer, minor_units } => {
            let merchant = fixture.merchant_of(*customer);
            Command {
                idempotency: key(index),
                recorded_at_ms: now,
                kind: CommandKind::CashTopUp(CashTopUp {
                    merchant_id: fixture.merchants[merchant],
                    terminal_id: fixture.terminals[merchant].0,
                    outbox_entry_id: OutboxEntryId::generate(),
                    customer_id: fixture.customers[*customer],
                    amount: PositiveAmount::try_from(*minor_units).unwrap(),
                    bonus_shown: Amount::ZERO,
                    rule_set_version: None,
                }),
            }
        }
        Operation::Payment { customer, minor_units, order_id } => {
            let merchant = fixture.merchant_of(*customer);
            Command {
                idempotency: key(index),
                recorded_at_ms: now,
                kind: CommandKind::Payment(Payment {
                    claims: PaymentClaims {
                        merchant_id: fixture.merchants[merchant],
                        terminal_id: fixture.terminals[merchant].0,
                        order_id: *order_id,
                        amount: PositiveAmount::try_from(*minor_units).unwrap(),
                        currency: "CNY".into(),
                        expires_at_ms: i64::MAX,
                    },
                    customer_id: fixture.customers[*customer],
                    confirmation_code: "000000".into(),
                }),
            }
        }
        Operation::Refund { payment } => {
            let Operation::Payment { customer, minor_units, order_id } = &workload[*payment] else {
                unreachable!()
            };
            let merchant = fixture.merchant_of(*customer);
            Command {
                idempotency: key(index),
                recorded_at_ms: now,
                kind: CommandKind::Refund(Refund {
                    merchant_id: fixture.merchants[merchant],
                    terminal_id: fixture.terminals[merchant].0,
                    order_id: *order_id,
                    amount: PositiveAmount::try_from((minor_units / 2).max(1)).unwrap(),
                }),
            }
        }
        Operation::Replay { operation } => {
            storage_command(fixture, workload, *operation, now, prefix)
        }
    }
}

fn replayed_index(workload: &[Operation], index: usize) -> usize {
    match &workload[index] {
        Operation::Replay { operation } => replayed_index(workload, *operation),
        _ => index,
    }
}

/// Runs the workload through the ledger writer with `in_flight()` submitters; checks every
/// replay and the audit.
async fn storage_run(batch_limit: usize, operations: usize, label: &str) {
    let fixture = Arc::new(fixture().await);
    let workload = Arc::new(workload(operations, 7));
    let writer = LedgerWriter::start_with_batch_limit(
        fixture.store.clone(),
        fixture.policy.clone(),
        batch_limit,
    );
    fixture.store.checkpoint().await.unwrap();
    let bytes_before = database_bytes(&fixture).await;
    let (mut figures, answers) = storage_window(&fixture, &writer, &workload, "bench").await;
    fixture.store.checkpoint().await.unwrap();
    let bytes = (database_bytes(&fixture).await - bytes_before) as f64 / operations as f64;
    figures.print(label, Some(bytes));

    verify(&fixture, &answers).await;
    if batch_limit > 1 {
        yield_run(&fixture).await;
    }
}

/// Submits every operation of `workload` to `writer`, at most `in_flight()` at once, and
/// checks that each replay was answered as its original; returns the figures (not yet
/// printed) and each original's answer.
async fn storage_window(
    fixture: &Arc<Fixture>,
    writer: &LedgerWriter,
    workload: &Arc<Vec<Operation>>,
    prefix: &str,
) -> (Figures, HashMap<usize, Outcome>) {
    let operations = workload.len();
    let now = fixture.store.clock().now_ms();
    let semaphore = Arc::new(Semaphore::new(in_flight()));
    let answers: Arc<std::sync::Mutex<HashMap<usize, Outcome>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(operations);
    for index in 0..operations {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let (fixture, workload, writer, answers, prefix) =
            (fixture.clone(), workload.clone(), writer.clone(), answers.clone(), prefix.to_owned());
        tasks.push(tokio::spawn(async move {
            let command = storage_command(&fixture, &workload, index, now, &prefix);
            let sent = Instant::now();
            let decided = writer.submit(command).await;
            let latency = sent.elapsed();
            drop(permit);
            let refused = !matches!(&decided, Ok(decided) if !matches!(decided.outcome, Outcome::Rejected { .. }));
            let original = replayed_index(&workload, index);
            if let Ok(decided) = decided {
                let mut answers = answers.lock().unwrap();
                match answers.get(&original) {
                    Some(first) => {
                        assert_eq!(first, &decided.outcome, "a replay answered differently")
                    }
                    None => {
                        answers.insert(original, decided.outcome);
                    }
                }
            }
            (u64::try_from(latency.as_micros()).unwrap(), refused)
        }));
    }
    let mut latencies_us = Vec::with_capacity(operations);
    let mut refused = 0;
    for task in tasks {
        let (latency, was_refused) = task.await.unwrap();
        latencies_us.push(latency);
        refused += usize::from(was_refused);
    }
    let elapsed = started.elapsed();
    let answers = answers.lock().unwrap().clone();
    (Figures { operations, refused, elapsed, latencies_us }, answers)
}

/// Whether the database is PostgreSQL with autovacuum off, as the test service here runs.
async fn autovacuum_is_off(database: &TestDatabase) -> bool {
    if !database.is_postgres() {
        return false;
    }
    let pool = sqlx::PgPool::connect(&test_database::RawDatabase::url(database)).await.unwrap();
    let setting: String = sqlx::query_scalar("SHOW autovacuum").fetch_one(&pool).await.unwrap();
    pool.close().await;
    setting == "off"
}

/// What autovacuum would do after a bulk load or a long run of updates, where it is off:
/// otherwise the figures measure the missing vacuum (dead balance versions, no statistics).
async fn vacuum_if_autovacuum_is_off(database: &TestDatabase) {
    if autovacuum_is_off(database).await {
        database.execute_raw("VACUUM (ANALYZE)").await.unwrap();
    }
}

/// Throughput as the ledger grows: the storage workload measured in a window of
/// `GROWTH_WINDOW_OPERATIONS` when the journal holds each of `points` entries, the ledger
/// grown between them by the same workload, untimed. Then the audit of the whole journal,
/// timed. Every window's replays are checked; the audit must pass.
async fn growth_run(points: &[u64]) {
    const GROWTH_WINDOW_OPERATIONS: usize = 20_000;
    const GROWTH_STEP_OPERATIONS: u64 = 50_000;
    let fixture = Arc::new(fixture().await);
    let writer = LedgerWriter::start_with_batch_limit(
        fixture.store.clone(),
        fixture.policy.clone(),
        fund_server::ledger_writer::BATCH_COMMANDS_MAX,
    );
    let vacuum_by_hand = autovacuum_is_off(&fixture.database).await;
    if vacuum_by_hand {
        println!("PostgreSQL runs with autovacuum off: VACUUM (ANALYZE) after every growth step");
    }
    let mut entries: u64 =
        fixture.store.entry_counts().await.unwrap().values().map(|count| *count as u64).sum();
    let mut window = 0_u64;
    let applied_entries = |answers: &HashMap<usize, Outcome>| {
        answers
            .values()
            .filter(|outcome| {
                matches!(
                    outcome,
                    Outcome::ToppedUp { .. } | Outcome::Paid { .. } | Outcome::Refunded { .. }
                )
            })
            .count() as u64
    };
    for &point in points {
        while entries < point {
            window += 1;
            let operations = (point - entries).min(GROWTH_STEP_OPERATIONS) as usize;
            let workload = Arc::new(workload(operations.max(1), 1_000 + window));
            let prefix = format!("growth-{window}");
            let (_, answers) = storage_window(&fixture, &writer, &workload, &prefix).await;
            let applied = applied_entries(&answers);
            assert!(applied > 0, "a growth step applied nothing: the ledger cannot grow");
            entries += applied;
            if vacuum_by_hand {
                vacuum_if_autovacuum_is_off(&fixture.database).await;
            }
        }
        // Audited up to here, so the audit after the window is the window's alone.
        let report = audit_store(&fixture.store, AuditScope::SinceCheckpoint, 0).await.unwrap();
        assert!(report.passed(), "audit failed: {:?}", report.problems);
        window += 1;
        let workload = Arc::new(workload(GROWTH_WINDOW_OPERATIONS, 1_000 + window));
        let prefix = format!("growth-{window}");
        let (mut figures, answers) = storage_window(&fixture, &writer, &workload, &prefix).await;
        figures.print(&format!("FW-1 storage at {entries} journal entries"), None);
        entries += applied_entries(&answers);
        // The incremental audit checks what the window appended, however long the journal.
        let started = Instant::now();
        let report = audit_store(&fixture.store, AuditScope::SinceCheckpoint, 0).await.unwrap();
        assert!(report.passed(), "audit failed: {:?}", report.problems);
        println!(
            "{:<44} incremental audit of the window's {} entries in {:.2} s",
            "",
            report.entries_checked,
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let report = audit_store(&fixture.store, AuditScope::Full, 0).await.unwrap();
    assert!(report.passed(), "audit failed: {:?}", report.problems);
    println!(
        "{:<44} full audit of {} entries in {:.1} s; the database holds {:.0} MiB",
        "",
        report.entries_checked,
        started.elapsed().as_secs_f64(),
        database_bytes(&fixture).await as f64 / 1_048_576.0
    );
}

/// One day of yield over every wallet of the run: the set-based accrual, then the
/// postings through the ledger writer.
async fn yield_run(fixture: &Fixture) {
    let mut config = ServiceConfig::new(fixture.policy.clone());
    config.yield_policy.posting = fund_server::ledger::yield_math::PostingInterval::Daily;
    let service = FundService::start(fixture.store.clone(), config);
    let today = service.business_today();
    service.set_yield_rate(today, rust_decimal::Decimal::new(365, 4)).await.unwrap();
    fixture.store.clock().advance(24 * 60 * 60 * 1000);
    let started = Instant::now();
    let report = service.accrue_through_yesterday().await.unwrap();
    let elapsed = started.elapsed();
    let wallets: usize = report.days.iter().map(|day| day.wallets).sum();
    let posted = fixture.store.entry_counts().await.unwrap().get("yield").copied().unwrap_or(0);
    println!(
        "{:<44} {:>8} wallets accrued and {} postings in {:.0} ms ({:.0} wallets/s end to end)",
        "yield: one day, daily posting",
        wallets,
        posted,
        elapsed.as_secs_f64() * 1000.0,
        wallets as f64 / elapsed.as_secs_f64()
    );
    let report = audit_store(&fixture.store, AuditScope::Full, 0).await.unwrap();
    assert!(report.passed(), "audit after yield: {:?}", report.problems);
}

/// The audit passes and the journal has exactly one entry per applied operation.
async fn verify(fixture: &Fixture, answers: &HashMap<usize, Outcome>) {
    let report = audit_store(&fixture.store, AuditScope::Full, 0).await.unwrap();
    assert!(report.passed(), "audit failed: {:?}", report.problems);
    let mut applied: HashMap<&str, i64> = HashMap::new();
    for outcome in answers.values() {
        let code = match outcome {
            Outcome::ToppedUp { .. } => "top_up",
            Outcome::Paid { .. } => "payment",
            Outcome::Refunded { .. } => "refund",
            _ => continue,
        };
        *applied.entry(code).or_default() += 1;
    }
    let entries = fixture.store.entry_counts().await.unwrap();
    for code in ["top_up", "payment", "refund"] {
        let funding = if code == "top_up" { fixture.funding_top_ups } else { 0 };
        let in_journal = entries.get(code).copied().unwrap_or(0) - funding;
        let answered = applied.get(code).copied().unwrap_or(0);
        assert_eq!(in_journal, answered, "{code}: journal entries vs applied operations");
    }
    println!(
        "{:<44} audit passed over {} entries; top-ups {}, payments {}, refunds {} each applied once",
        "",
        report.entries_checked,
        applied.get("top_up").unwrap_or(&0),
        applied.get("payment").unwrap_or(&0),
        applied.get("refund").unwrap_or(&0)
    );
}

/// Where the HTTP runs send: one server, or several processes taken in turn (operation
/// `i` goes to `urls[i % len]`), as a load balancer spreads requests.
struct HttpTarget {
    urls: Vec<String>,
    http: reqwest::Client,
}

impl HttpTarget {
    async fn send(
        &self,
        fixture: &Fixture,
        workload: &[Operation],
        index: usize,
        clock_ms: i64,
    ) -> (u16, Value) {
        let key = format!("bench-{}", replayed_index(workload, index));
        let url = &self.urls[index % self.urls.len()];
        let signed = |method: &str, path: &str, body: &Value, terminal: usize| {
            let bytes = serde_json::to_vec(body).unwrap();
            let (terminal_id, terminal_key) = &fixture.terminals[terminal];
            let terminal_id = terminal_id.to_string();
            let headers =
                terminal_key.signed_headers(&terminal_id, method, path, clock_ms, &key, &bytes);
            let mut request = self.http.request(method.parse().unwrap(), format!("{url}{path}"));
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.header("content-type", "application/json").body(bytes)
        };
        let request = match &workload[replayed_index(workload, index)] {
            Operation::TopUp { customer, minor_units } => {
                let merchant = fixture.merchant_of(*customer);
                // The entry id is derived from the operation, so a replay resends it.
                let entry_id = uuid_from(replayed_index(workload, index));
                let body = json!({"entries": [{
                    "id": entry_id, "sequence": 1, "recorded_at_ms": fixture.recorded_at_ms,
                    "action": {"type": "cash_top_up", "customer_id": fixture.customers[*customer].to_string(),
                               "amount": minor_units, "bonus_shown": 0, "bonus_rule_version": null}
                }]});
                signed("POST", "/v1/sync/push", &body, merchant)
            }
            Operation::Payment { customer, minor_units, order_id } => {
                let merchant = fixture.merchant_of(*customer);
                let claims = PaymentClaims {
                    merchant_id: fixture.merchants[merchant],
                    terminal_id: fixture.terminals[merchant].0,
                    order_id: *order_id,
                    amount: PositiveAmount::try_from(*minor_units).unwrap(),
                    currency: "CNY".into(),
                    expires_at_ms: clock_ms + 120_000,
                };
                let token = claims.sign(&fixture.terminals[merchant].1);
                self.http
                    .post(format!("{url}/v1/payments"))
                    .bearer_auth(&fixture.session_tokens[*customer])
                    .header("idempotency-key", key.clone())
                    .json(&json!({"token": token, "pin": "123456"}))
            }
            Operation::Refund { payment } => {
                let Operation::Payment { customer, minor_units, order_id } = &workload[*payment]
                else {
                    unreachable!()
                };
                let body =
                    json!({"order_id": order_id.to_string(), "amount": (minor_units / 2).max(1)});
                signed("POST", "/v1/terminal/refunds", &body, fixture.merchant_of(*customer))
            }
            Operation::Replay { .. } => unreachable!("replays resolve to their original"),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let mut body: Value = response.json().await.unwrap_or(Value::Null);
        // A pushed entry's answer says "already_applied" on a replay; compare the rest.
        if let Some(result) = body.pointer_mut("/results/0/outcome") {
            if result == "already_applied" {
                *result = Value::from("applied");
            }
        }
        (status, body)
    }
}

fn uuid_from(index: usize) -> String {
    format!("01900000-0000-7000-8000-{index:012}")
}

async fn http_run(operations: usize) {
    let fixture = Arc::new(fixture().await);
    let workload = Arc::new(workload(operations, 11));
    let mut config = ServiceConfig::new(fixture.policy.clone());
    config.pin_hash_cost = PinHashCost::MINIMAL;
    // Below the five-attempt lock-out, as every server must be (see FundService::start).
    config.pin_checks_concurrent_max = 4;
    // The server gets its own runtime (its own threads), as a separate process would.
    let server_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let store = fixture.store.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    server_runtime.spawn(async move {
        let service = FundService::start(store, config);
        service.seal_stored_terminal_keys().await.unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        // FW-1 measures the ledger: the per-wallet payment limit would refuse most of it.
        let state = AppState::with_limits(service, WebLimits::unlimited());
        axum::serve(listener, app(state)).await.unwrap();
    });
    let target = Arc::new(HttpTarget {
        urls: vec![url],
        http: reqwest::Client::builder().pool_max_idle_per_host(in_flight()).build().unwrap(),
    });
    let semaphore = Arc::new(Semaphore::new(in_flight()));

    // Baseline: the HTTP stack alone.
    let baseline_operations = operations;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..baseline_operations {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response =
                target.http.get(format!("{}/healthz", target.urls[0])).send().await.unwrap();
            assert!(response.status().is_success());
            let _ = response.bytes().await;
            drop(permit);
            u64::try_from(sent.elapsed().as_micros()).unwrap()
        }));
    }
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.push(task.await.unwrap());
    }
    Figures {
        operations: baseline_operations,
        refused: 0,
        elapsed: started.elapsed(),
        latencies_us,
    }
    .print("HTTP baseline: GET /healthz", None);

    measure_http(&fixture, &workload, &target, "FW-1 over HTTP (PIN hash at minimal cost)").await;
    server_runtime.shutdown_background();
}

/// The measured HTTP run: every operation of `workload` through `target`, at most
/// `in_flight()` at once; prints the figures, then checks the audit and that every replay
/// was answered as its original.
async fn measure_http(
    fixture: &Arc<Fixture>,
    workload: &Arc<Vec<Operation>>,
    target: &Arc<HttpTarget>,
    label: &str,
) {
    let operations = workload.len();
    let semaphore = Arc::new(Semaphore::new(in_flight()));
    fixture.store.checkpoint().await.unwrap();
    let bytes_before = database_bytes(fixture).await;
    let clock_ms = fixture.store.clock().now_ms();
    let answers: Arc<std::sync::Mutex<HashMap<usize, (u16, Value)>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for index in 0..operations {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let (fixture, workload, target, answers) =
            (fixture.clone(), workload.clone(), target.clone(), answers.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let (status, body) = target.send(&fixture, &workload, index, clock_ms).await;
            let latency = sent.elapsed();
            drop(permit);
            assert!(status < 500 || status == 503, "server error {status}: {body}");
            let refused = status >= 400 || body["results"][0]["outcome"] == "rejected";
            let original = replayed_index(&workload, index);
            let mut answers = answers.lock().unwrap();
            match answers.get(&original) {
                // A replay racing its original may find it still in flight (409 is not
                // possible: the same key with the same body is a replay).
                Some(first) if status != 503 && first.0 != 503 => {
                    assert_eq!(first, &(status, body), "a replay over HTTP answered differently")
                }
                Some(_) => {}
                None => {
                    answers.insert(original, (status, body));
                }
            }
            (u64::try_from(latency.as_micros()).unwrap(), refused)
        }));
    }
    let mut latencies_us = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (latency, was_refused) = task.await.unwrap();
        latencies_us.push(latency);
        refused += usize::from(was_refused);
    }
    let elapsed = started.elapsed();
    fixture.store.checkpoint().await.unwrap();
    let bytes = (database_bytes(fixture).await - bytes_before) as f64 / operations as f64;
    Figures { operations, refused, elapsed, latencies_us }.print(label, Some(bytes));
    let report = audit_store(&fixture.store, AuditScope::Full, 0).await.unwrap();
    assert!(report.passed(), "audit failed: {:?}", report.problems);
    let entries = fixture.store.entry_counts().await.unwrap();
    println!(
        "{:<44} audit passed over {} entries; journal: top-ups {} (+ {} funding), payments {}, refunds {}",
        "",
        report.entries_checked,
        entries.get("top_up").unwrap_or(&0) - fixture.funding_top_ups,
        fixture.funding_top_ups,
        entries.get("payment").unwrap_or(&0),
        entries.get("refund").unwrap_or(&0)
    );
}

/// FW-1 over HTTP against `processes` real `fund-server serve` processes (this build's
/// binary) on one PostgreSQL database, requests taken by the processes in turn, as behind a
/// load balancer; with the rate limits on (counted in the database, one upsert per limited
/// request) but raised so that they refuse nothing. The same run with 1 and with 3
/// processes shows whether processes add throughput.
async fn processes_run(processes: usize, operations: usize) {
    let fixture = Arc::new(fixture().await);
    let workload = Arc::new(workload(operations, 13));
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = test_database::RawDatabase::url(&fixture.database);
    let mut servers = Vec::with_capacity(processes);
    let mut urls = Vec::with_capacity(processes);
    for _ in 0..processes {
        // One after another: the first seals the fixture's terminal keys with the key file
        // the others then find.
        let (server, url) = start_server_process(&database_url, data_dir.path());
        servers.push(server);
        urls.push(url);
    }
    let target = Arc::new(HttpTarget {
        urls,
        http: reqwest::Client::builder().pool_max_idle_per_host(in_flight()).build().unwrap(),
    });
    let label = format!("FW-1 over HTTP, {processes} process(es), limits on");
    measure_http(&fixture, &workload, &target, &label).await;
    for mut server in servers {
        let _ = server.kill();
        let _ = server.wait();
    }
}

fn start_server_process(database_url: &str, data_dir: &std::path::Path) -> (Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fund-server"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url)
        .env("TILLFUND_DATA_DIR", data_dir)
        .env("TILLFUND_WALLET_CAP", "100000.00")
        .env("TILLFUND_RATE_LIMIT_FACTOR", "1000")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let url = loop {
        let line = lines.next().expect("fund-server exited before listening").unwrap();
        if let Some(url) = line.strip_prefix("fund-server listening on ") {
            break url.trim().to_owned();
        }
    };
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// What one PIN check costs at the recommended argon2 cost, for the payment rate a server
/// can sustain with real PINs.
fn pin_check_cost() {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let pin = PaymentPin::parse("123456").unwrap();
    for (label, cost) in [
        ("recommended (19 MiB, 2 passes)", PinHashCost::RECOMMENDED),
        ("minimal (8 KiB, 1 pass)", PinHashCost::MINIMAL),
    ] {
        let hash = hash_pin_with(&pin, cost).unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        let rounds = 20;
        let started = Instant::now();
        for _ in 0..rounds {
            assert!(argon2::Argon2::default().verify_password(b"123456", &parsed).is_ok());
        }
        let each = started.elapsed() / rounds;
        println!(
            "PIN check, argon2id {label:<32} {:>8.2} ms each, {:>6.0} checks/s per core",
            each.as_secs_f64() * 1000.0,
            1.0 / each.as_secs_f64()
        );
    }
}

fn main() {
    let operations: usize =
        std::env::var("FW1_OPERATIONS").ok().and_then(|text| text.parse().ok()).unwrap_or(100_000);
    let http_operations: usize = std::env::var("FW1_HTTP_OPERATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(30_000);
    let baseline_operations = (operations / 20).max(1_000);
    println!(
        "FW-1 on {} cores: {CUSTOMERS} customers, {MERCHANTS} merchants, {} requests in flight",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        in_flight()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        storage_run(1, baseline_operations, "storage baseline: one commit per operation").await;
        storage_run(
            fund_server::ledger_writer::BATCH_COMMANDS_MAX,
            operations,
            "FW-1 storage: ledger writer, group commit",
        )
        .await;
    });
    // FW1_GROWTH=0,1000000,5000000 measures the storage throughput as the ledger grows.
    if let Ok(points) = std::env::var("FW1_GROWTH") {
        let points: Vec<u64> =
            points.split(',').map(|point| point.trim().parse().expect("FW1_GROWTH")).collect();
        runtime.block_on(growth_run(&points));
    }
    drop(runtime);
    let client_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    client_runtime.block_on(http_run(http_operations));
    if std::env::var("TILLFUND_TEST_DATABASE").is_ok_and(|backend| backend == "postgres") {
        client_runtime.block_on(async {
            processes_run(1, http_operations).await;
            processes_run(3, http_operations).await;
        });
    }
    pin_check_cost();
}
