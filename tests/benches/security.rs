//! The cost of the trust boundaries, measured on the real `fund-server` binary (`make bench`):
//!
//! 1. Memory of PIN checks: the server's resident memory right after start (baseline), and
//!    after 1,000 argon2id PIN checks (sign-ins, 16 at a time). The pool of argon2 buffers
//!    bounds the growth at `pin_checks_concurrent_max` × 19 MiB, however many checks run.
//! 2. `/healthz` latency with no long poll open (baseline) and with the most the server
//!    allows held open (1,000: 250 counters × 4), and how many polls past the caps were
//!    answered at once instead of held.
//!
//! Figures are printed beside the baseline of the same run; nothing here asserts a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tillfund_e2e::demo::MERCHANT_ID;
use tillfund_e2e::raw_counter::Target;

const PIN_CHECKS: usize = 1_000;
const PIN_CHECKS_AT_ONCE: usize = 16;
const COUNTERS: usize = 250;
const POLLS_PER_COUNTER: usize = 4;
const HEALTH_SAMPLES: usize = 200;

fn resident_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn health_latencies(target: &Target) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(HEALTH_SAMPLES);
    for _ in 0..HEALTH_SAMPLES {
        let started = Instant::now();
        let response = target.http.get(target.url("/healthz")).send().await.unwrap();
        assert!(response.status().is_success());
        samples.push(started.elapsed());
    }
    samples.sort();
    (samples[HEALTH_SAMPLES / 2], samples[HEALTH_SAMPLES * 99 / 100])
}

#[tokio::main]
async fn main() {
    let target = Target::start(&[("TILLFUND_RATE_LIMIT_FACTOR", "1000")]);
    let pid = target.server.pid();
    target.customer("13900139100", &[MERCHANT_ID]).await;
    let (baseline_rss, _) = resident_kib(pid);

    let started = Instant::now();
    let mut pending = Vec::new();
    for index in 0..PIN_CHECKS {
        let http = target.http.clone();
        let url = target.url("/v1/sessions");
        pending.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .json(&json!({"phone": "13900139100", "pin": "123456"}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status.is_success(), format!("{status} {}", response.text().await.unwrap_or_default()))
        }));
        if pending.len() == PIN_CHECKS_AT_ONCE || index + 1 == PIN_CHECKS {
            for check in pending.drain(..) {
                let (signed_in, answer) = check.await.unwrap();
                assert!(signed_in, "every PIN check signs in: {answer}");
            }
        }
    }
    let elapsed = started.elapsed();
    let (after_rss, peak_rss) = resident_kib(pid);
    println!(
        "PIN checks (argon2id 19 MiB, 2 passes), {PIN_CHECKS} sign-ins {PIN_CHECKS_AT_ONCE} at a time:"
    );
    println!("  baseline RSS after start     {:>8} KiB", baseline_rss);
    println!(
        "  RSS after {PIN_CHECKS} checks       {:>8} KiB  (+{} KiB)",
        after_rss,
        after_rss.saturating_sub(baseline_rss)
    );
    println!("  peak RSS                     {:>8} KiB", peak_rss);
    println!(
        "  {:.1} checks/s ({:.1} ms each on average)",
        PIN_CHECKS as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / PIN_CHECKS as f64
    );

    let (p50_idle, p99_idle) = health_latencies(&target).await;
    let mut counters = Vec::with_capacity(COUNTERS);
    for _ in 0..COUNTERS {
        counters.push(target.enrol(MERCHANT_ID).await);
    }
    let mut polls = Vec::new();
    for counter in &counters {
        for _ in 0..POLLS_PER_COUNTER {
            let counter = counter.clone();
            polls.push(tokio::spawn(async move {
                let started = Instant::now();
                let (status, _): (_, Value) = counter
                    .signed(Method::GET, "/v1/sync/payments?after=0&wait_ms=10000", Value::Null, "")
                    .await;
                (status, started.elapsed())
            }));
        }
    }
    // Let every poll arrive and be held before measuring.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (p50_held, p99_held) = health_latencies(&target).await;
    // Past the caps: one more per counter, answered at once rather than held.
    let started = Instant::now();
    let (status, _) = counters[0]
        .signed(Method::GET, "/v1/sync/payments?after=0&wait_ms=10000", Value::Null, "")
        .await;
    let over_cap = started.elapsed();
    assert!(status.is_success());
    let mut held = 0;
    for poll in polls {
        let (status, waited) = poll.await.unwrap();
        assert!(status.is_success());
        if waited >= Duration::from_secs(5) {
            held += 1;
        }
    }
    println!("/healthz latency, {HEALTH_SAMPLES} requests one after another:");
    println!(
        "  no long poll open           p50 {:>6.2} ms  p99 {:>6.2} ms",
        ms(p50_idle),
        ms(p99_idle)
    );
    println!(
        "  {} long polls held          p50 {:>6.2} ms  p99 {:>6.2} ms",
        COUNTERS * POLLS_PER_COUNTER,
        ms(p50_held),
        ms(p99_held)
    );
    println!(
        "  polls held to their wait: {held}; one past the per-counter cap answered in {:.1} ms",
        ms(over_cap)
    );
    target.stop_and_audit();
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
