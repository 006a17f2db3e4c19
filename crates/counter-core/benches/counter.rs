//! Counter benchmark: 10,000 top-ups queued offline, then the time to drain them to the
//! server (beside a baseline that pushes one entry per request, same run); and the time
//! from an amount to a payment QR PNG (beside signing the token alone). Run with
//! `make bench`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use counter_core::counter::Counter;
use counter_core::orders::qr_png;
use counter_core::sync::{RoundOutcome, sync_round_in_batches_of};
use fund_server::http::{AppState, app};
use fund_server::ledger::LedgerPolicy;
use fund_server::service::{FundService, ServiceConfig};
use fund_server::store::Backend as Store;
use fund_server::store::prelude::*;
use tillfund_core::Currency;

const QUEUED: usize = 10_000;
const BASELINE_QUEUED: usize = 1_000;

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

async fn start_server(
    data_dir: &std::path::Path,
) -> (String, FundService, tokio::runtime::Runtime) {
    let store = Store::connect(&format!("sqlite://{}", data_dir.join("fund.sqlite").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.wallet_balance_cap = tillfund_core::Amount::from_minor_units(100_000_000).unwrap();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service = runtime
        .spawn(async move {
            let service = FundService::start(store, ServiceConfig::new(policy));
            fund_server::demo::seed_demo(&service).await.unwrap();
            let router = app(AppState::new(service.clone()));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            service
        })
        .await
        .unwrap();
    (url, service, runtime)
}

async fn enrolled_counter(
    url: &str,
    service: &FundService,
    directory: &std::path::Path,
) -> Counter {
    let merchant = fund_server::demo::DEMO_MERCHANT_ID.parse().unwrap();
    let (code, _) = service.create_activation_code(merchant).await.unwrap();
    let counter = Counter::open(&directory.join("counter.sqlite")).await.unwrap();
    counter.enrol(url, &code, "Bench").await.unwrap();
    assert_eq!(sync_round_in_batches_of(counter.store(), 200).await, RoundOutcome::Empty);
    counter
}

async fn drain(counter: &Counter, queued: usize, batch: usize, label: &str) {
    let preview = counter.preview_top_up("800000000011", "0.10").await.unwrap();
    let started = Instant::now();
    for _ in 0..queued {
        counter.record_top_up(None, &preview).await.unwrap();
    }
    let recorded = started.elapsed();
    let started = Instant::now();
    let mut pushed = 0;
    loop {
        match sync_round_in_batches_of(counter.store(), batch).await {
            RoundOutcome::Done { pushed: count } => pushed += count,
            RoundOutcome::Empty => break,
            other => panic!("drain failed: {other:?}"),
        }
    }
    let drained = started.elapsed();
    assert_eq!(pushed, queued);
    println!(
        "{label:<46} {queued:>6} entries drained in {:>6.2} s = {:>7.0} entries/s  (recorded offline at {:.0}/s)",
        drained.as_secs_f64(),
        queued as f64 / drained.as_secs_f64(),
        queued as f64 / recorded.as_secs_f64()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let server_dir = tempfile::tempdir().unwrap();
        let (url, service, server_runtime) = start_server(server_dir.path()).await;

        let baseline_dir = tempfile::tempdir().unwrap();
        let baseline = enrolled_counter(&url, &service, baseline_dir.path()).await;
        drain(&baseline, BASELINE_QUEUED, 1, "baseline: one entry per request").await;

        let counter_dir = tempfile::tempdir().unwrap();
        let counter = enrolled_counter(&url, &service, counter_dir.path()).await;
        drain(&counter, QUEUED, 200, "drain: batches of 200").await;

        // Amount to QR PNG, offline.
        let mut signing = Vec::new();
        let mut orders = Vec::new();
        for index in 0..1_000 {
            let amount = format!("{}.{:02}", 1 + index % 90, index % 100);
            let started = Instant::now();
            let order = counter.create_order(None, &amount).await.unwrap();
            signing.push(started.elapsed());
            let png = qr_png(&order.pay_url).unwrap();
            orders.push(started.elapsed());
            assert!(png.len() > 100);
        }
        println!(
            "{:<46} p50 {:>6.2} ms  p99 {:>6.2} ms",
            "baseline: order and signed token, stored",
            percentile(&mut signing, 0.5),
            percentile(&mut signing, 0.99)
        );
        println!(
            "{:<46} p50 {:>6.2} ms  p99 {:>6.2} ms",
            "amount to QR PNG (order, token, PNG)",
            percentile(&mut orders, 0.5),
            percentile(&mut orders, 0.99)
        );
        let report = service.audit().await.unwrap();
        assert!(report.passed(), "{:?}", report.problems);
        server_runtime.shutdown_background();
    });
}
