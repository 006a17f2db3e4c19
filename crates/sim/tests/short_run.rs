//! The short simulation `make test` runs: 200 seeds of 150 steps on two threads with the
//! server on SQLite, 20 with it on PostgreSQL, every invariant after every step. `make sim` runs thousands (DEVELOPMENT.md, "The simulator").

use std::time::Instant;

use tillfund_sim::{Database, RunOptions, STEPS_SHORT, run_seed_with_options};

const THREADS: u64 = 2;

#[test]
fn two_hundred_seeds_hold_every_invariant() {
    run_seeds(200, Database::Sqlite);
}

/// The same on PostgreSQL (a throwaway database per seed), fewer: each seed costs more.
#[test]
fn twenty_seeds_hold_every_invariant_on_postgresql() {
    run_seeds(20, Database::Postgres);
}

fn run_seeds(seeds: u64, database: Database) {
    let options = RunOptions { database, ..RunOptions::steps(STEPS_SHORT) };
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let options = &options;
                scope.spawn(move || {
                    (1..=seeds)
                        .filter(|seed| seed % THREADS == thread)
                        .map(|seed| run_seed_with_options(seed, options))
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
        "{seeds} seeds x {STEPS_SHORT} steps on {database:?} in {:.1} s on {THREADS} threads",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
