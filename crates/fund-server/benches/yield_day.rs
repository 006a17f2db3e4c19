//! One day of yield over many wallets: the set-based accrual and the postings through the
//! ledger writer, timed, with the memory the accrual added to this process at its peak.
//! Each size is printed beside a baseline from the same run, a tenth as many wallets, so
//! that the figure shows how the work scales on this machine today.
//!
//! `YIELD_WALLETS` (default 1,000,000) wallets on the backend `TILLFUND_TEST_DATABASE`
//! names (SQLite by default). The customers and their bindings are written straight into the
//! database (they are not what is measured); each wallet is then funded by a real top-up
//! through the ledger writer, so the journal and the balances are what a server makes.
//! Run with `cargo bench -p fund-server --bench yield_day` (it takes minutes: funding a
//! million wallets is a million journal entries).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/test_database.rs"]
mod test_database;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fund_server::ledger::{CashTopUp, Command, CommandKind, IdempotencyKey, LedgerPolicy, Outcome};
use fund_server::ledger_writer::{BATCH_COMMANDS_MAX, apply_batch};
use fund_server::model::{Merchant, Terminal};
use fund_server::service::{FundService, ServiceConfig};
use fund_server::store::prelude::*;
use test_database::{RawDatabase, TestDatabase};
use tillfund_core::{
    Amount, Currency, CustomerId, MemberCode, MerchantId, OutboxEntryId, PositiveAmount, TerminalId,
};

/// Rows per INSERT when writing the customers.
const ROWS_PER_INSERT: usize = 2_000;

/// Set for the child process that writes the fixture: the database URL and the wallets.
const CHILD_URL: &str = "YIELD_DAY_FIXTURE_URL";
const CHILD_WALLETS: &str = "YIELD_DAY_FIXTURE_WALLETS";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if let (Ok(url), Ok(wallets)) = (std::env::var(CHILD_URL), std::env::var(CHILD_WALLETS)) {
        runtime.block_on(write_fixture(&url, wallets.parse().unwrap()));
        return;
    }
    // The service logs each day's accrual and posting times apart.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("fund_server::service::yields=info"))
        .with_ansi(false)
        .init();
    let wallets: usize =
        std::env::var("YIELD_WALLETS").ok().and_then(|text| text.parse().ok()).unwrap_or(1_000_000);
    let backend = std::env::var("TILLFUND_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
    println!("yield, one day with daily posting, on {backend}");
    runtime.block_on(async {
        one_day((wallets / 10).max(1), "baseline").await;
        one_day(wallets, "measured").await;
    });
}

async fn one_day(wallets: usize, label: &str) {
    let database = TestDatabase::create().await;
    let url = database.url();
    // The fixture is written by a child process, so that the memory measured below is the
    // accrual's alone, not what funding a million wallets allocated and freed.
    let started = Instant::now();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_URL, &url)
        .env(CHILD_WALLETS, wallets.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "the fixture process failed");
    let funded_in = started.elapsed();
    let store = database.store().await;
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.wallet_balance_cap = Amount::from_minor_units(10_000_000).unwrap();
    let mut config = ServiceConfig::new(policy);
    config.yield_policy.posting = fund_server::ledger::yield_math::PostingInterval::Daily;
    let service = FundService::start(store.clone(), config);
    let today = service.business_today();
    service.set_yield_rate(today, rust_decimal::Decimal::new(365, 4)).await.unwrap();
    store.clock().advance(24 * 60 * 60 * 1000);

    let memory = PeakMemory::start();
    let started = Instant::now();
    let report = service.accrue_through_yesterday().await.unwrap();
    let elapsed = started.elapsed();
    let added_kib = memory.stop();
    let accrued: usize = report.days.iter().map(|day| day.wallets).sum();
    let posted = store.entry_counts().await.unwrap().get("yield").copied().unwrap_or(0);
    assert_eq!(accrued, wallets, "every wallet accrues");
    assert_eq!(usize::try_from(posted).unwrap(), wallets, "every wallet gets a posting");
    println!(
        "{label:<9} {wallets:>9} wallets: accrued and posted in {:>8.0} ms ({:>7.0} wallets/s), \
         peak memory +{:>7.1} MiB; (funding them took {:.0} s)",
        elapsed.as_secs_f64() * 1000.0,
        wallets as f64 / elapsed.as_secs_f64(),
        added_kib as f64 / 1024.0,
        funded_in.as_secs_f64()
    );
}

/// In the child process: a store, its counter, `wallets` customers bound to it, the reserve
/// funded and every wallet topped up through the ledger writer.
async fn write_fixture(url: &str, wallets: usize) {
    let store = fund_server::store::Backend::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let now = store.clock().now_ms();
    let merchant = Merchant {
        id: MerchantId::generate(),
        name: "Store".into(),
        time_zone: "Asia/Shanghai".into(),
        settlement_account: String::new(),
    };
    store.add_merchant(&merchant, now).await.unwrap();
    let terminal = Terminal {
        id: TerminalId::generate(),
        merchant_id: merchant.id,
        label: "Counter".into(),
        receipt_prefix: "Y01".into(),
        secret: "00".repeat(32),
        server_public_key: None,
        enrolled_at_ms: now,
        revoked: false,
        replaces: None,
        replaced_by: None,
    };
    store.add_terminal(&terminal, now).await.unwrap();
    let customers = write_customers(url, merchant.id, wallets, now).await;
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.wallet_balance_cap = Amount::from_minor_units(10_000_000).unwrap();
    let funding = Command {
        idempotency: IdempotencyKey { key: "bench/fund".into(), fingerprint: [0; 32] },
        recorded_at_ms: now,
        kind: CommandKind::FundReserve {
            amount: PositiveAmount::try_from(1_000_000_000_000).unwrap(),
        },
    };
    apply_batch(&store, &policy, &[funding]).await.unwrap();
    for (chunk_index, chunk) in customers.chunks(BATCH_COMMANDS_MAX).enumerate() {
        let commands: Vec<Command> = chunk
            .iter()
            .enumerate()
            .map(|(index, customer_id)| Command {
                idempotency: IdempotencyKey {
                    key: format!("bench/top-up/{chunk_index}/{index}"),
                    fingerprint: [0; 32],
                },
                recorded_at_ms: now,
                kind: CommandKind::CashTopUp(CashTopUp {
                    merchant_id: merchant.id,
                    terminal_id: terminal.id,
                    outbox_entry_id: OutboxEntryId::generate(),
                    customer_id: *customer_id,
                    // 100.00 to 199.99: every wallet earns a little over a fen a day.
                    amount: PositiveAmount::try_from(10_000 + (index as i64 * 37) % 10_000)
                        .unwrap(),
                    bonus_shown: Amount::ZERO,
                    rule_set_version: None,
                }),
            })
            .collect();
        for result in apply_batch(&store, &policy, &commands).await.unwrap() {
            assert!(matches!(result.unwrap().outcome, Outcome::ToppedUp { .. }));
        }
    }
    store.checkpoint().await.unwrap();
}

/// Customers bound to `merchant`, written with multi-row INSERTs beneath the store.
async fn write_customers(
    url: &str,
    merchant: MerchantId,
    wallets: usize,
    now: i64,
) -> Vec<CustomerId> {
    let customers: Vec<CustomerId> = (0..wallets).map(|_| CustomerId::generate()).collect();
    for (chunk_index, chunk) in customers.chunks(ROWS_PER_INSERT).enumerate() {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(index, id)| {
                let number = chunk_index * ROWS_PER_INSERT + index;
                format!(
                    "('{id}', '139{number:08}', 'Customer', '{}', 'not-a-pin-hash', {now})",
                    MemberCode::from_body(number as u64)
                )
            })
            .collect();
        test_database::execute_raw(
            url,
            &format!(
                "INSERT INTO customers (id, phone, display_name, member_code, pin_hash, created_at_ms) \
                 VALUES {}",
                rows.join(", ")
            ))
            .await
            .unwrap();
        let bindings: Vec<String> =
            chunk.iter().map(|id| format!("('{id}', '{merchant}', {now})")).collect();
        test_database::execute_raw(
            url,
            &format!(
                "INSERT INTO bindings (customer_id, merchant_id, bound_at_ms) VALUES {}",
                bindings.join(", ")
            ),
        )
        .await
        .unwrap();
    }
    customers
}

/// The most resident memory this process reached above where it started, sampled every
/// 5 ms from /proc (the accrual's own allocations; the database server's are its own).
struct PeakMemory {
    running: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    start_kib: u64,
    sampler: std::thread::JoinHandle<()>,
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

impl PeakMemory {
    fn start() -> PeakMemory {
        let start_kib = resident_kib();
        let running = Arc::new(AtomicBool::new(true));
        let peak_kib = Arc::new(AtomicU64::new(start_kib));
        let sampler = {
            let (running, peak_kib) = (running.clone(), peak_kib.clone());
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    peak_kib.fetch_max(resident_kib(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        PeakMemory { running, peak_kib, start_kib, sampler }
    }

    fn stop(self) -> u64 {
        self.running.store(false, Ordering::Relaxed);
        self.sampler.join().unwrap();
        self.peak_kib.load(Ordering::Relaxed).saturating_sub(self.start_kib)
    }
}
