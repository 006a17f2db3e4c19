//! The short simulation `make test` runs: 200 seeds of 150 steps on two threads, every
//! invariant after every step. `make sim` runs thousands (DEVELOPMENT.md, "The simulator").

use std::time::Instant;

use tillfund_sim::{STEPS_SHORT, run_seed};

const SEEDS: u64 = 200;
const THREADS: u64 = 2;

#[test]
fn two_hundred_seeds_hold_every_invariant() {
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                scope.spawn(move || {
                    (1..=SEEDS)
                        .filter(|seed| seed % THREADS == thread)
                        .map(|seed| run_seed(seed, STEPS_SHORT))
                        .filter(|report| report.failure.is_some())
                        .map(|report| {
                            let tail: Vec<&str> = report.trace.lines().rev().take(30).collect();
                            let tail: Vec<&str> = tail.into_iter().rev().collect();
                            format!(
                                "seed {} failed at step {}: {}\n  reproduce: make sim SEED={}\n{}",
                                report.seed,
                                report.steps_run,
                                report.failure.unwrap_or_default(),
                                report.seed,
                                tail.join("\n")
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap_or_default()).collect()
    });
    eprintln!(
        "{SEEDS} seeds x {STEPS_SHORT} steps in {:.1} s on {THREADS} threads",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
