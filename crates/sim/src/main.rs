//! `tillfund-sim`: runs seeds of the simulation and reports the first failure with the
//! command that reproduces it. See DEVELOPMENT.md, "The simulator".

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Parser;
use tillfund_sim::{Bug, Database, RunOptions, STEPS_SHORT, run_seed_with_options};

/// Seeds between two progress lines of a long run.
const PROGRESS_EVERY: u64 = 500;

#[derive(Debug, Parser)]
#[command(about = "Deterministic simulation of counters and the fund server under faults")]
struct Arguments {
    /// Runs this one seed and prints its trace.
    #[arg(long)]
    seed: Option<u64>,
    /// Runs this many seeds, from --first-seed on.
    #[arg(long, default_value_t = 1_000)]
    seeds: u64,
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Steps per seed.
    #[arg(long, default_value_t = STEPS_SHORT)]
    steps: u32,
    /// Threads running seeds side by side (each seed on its own runtime).
    #[arg(long, default_value_t = 2)]
    jobs: u64,
    /// A deliberately broken version to run: outbox-idempotency-off,
    /// refund-ignores-refunded, ack-before-answer or counter-parts-skip-refunds.
    #[arg(long, default_value = "none")]
    bug: String,
    /// Runs the server on a throwaway PostgreSQL database (TILLFUND_TEST_POSTGRES).
    #[arg(long)]
    postgres: bool,
    /// Where a failing seed's trace is written.
    #[arg(long, default_value = "target/sim")]
    trace_dir: PathBuf,
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let Some(bug) = Bug::from_name(&arguments.bug) else {
        eprintln!(
            "--bug {} is not one of: none, outbox-idempotency-off, refund-ignores-refunded, ack-before-answer",
            arguments.bug
        );
        return ExitCode::from(2);
    };
    let options = RunOptions {
        steps: arguments.steps,
        bug,
        database: if arguments.postgres { Database::Postgres } else { Database::Sqlite },
    };
    if let Some(seed) = arguments.seed {
        let report = run_seed_with_options(seed, &options);
        print!("{}", report.trace);
        return match report.failure {
            None => ExitCode::SUCCESS,
            Some(_) => ExitCode::FAILURE,
        };
    }
    let started = Instant::now();
    let jobs = arguments.jobs.max(1);
    let last = arguments.first_seed.saturating_add(arguments.seeds);
    let (done, failed_so_far) = (AtomicU64::new(0), AtomicU64::new(0));
    let failures = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|job| {
                let (arguments, options) = (&arguments, &options);
                let (done, failed_so_far) = (&done, &failed_so_far);
                scope.spawn(move || {
                    let mut failed = Vec::new();
                    let mut seed = arguments.first_seed + job;
                    while seed < last {
                        let report = run_seed_with_options(seed, options);
                        if report.failure.is_some() {
                            failed_so_far.fetch_add(1, Ordering::Relaxed);
                            failed.push(report);
                        }
                        // A line every PROGRESS_EVERY seeds: a long run shows it is moving.
                        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if finished % PROGRESS_EVERY == 0 {
                            println!(
                                "{finished} seeds in {:.0} s, {} failed",
                                started.elapsed().as_secs_f64(),
                                failed_so_far.load(Ordering::Relaxed)
                            );
                        }
                        seed += jobs;
                    }
                    failed
                })
            })
            .collect();
        let mut failed: Vec<_> =
            workers.into_iter().flat_map(|worker| worker.join().unwrap_or_default()).collect();
        failed.sort_by_key(|report| report.seed);
        failed
    });
    let elapsed = started.elapsed();
    let per_seed_ms = elapsed.as_millis() / u128::from(arguments.seeds.max(1));
    println!(
        "{} seeds x {} steps in {:.1} s ({per_seed_ms} ms per seed, {jobs} threads): {} failed",
        arguments.seeds,
        arguments.steps,
        elapsed.as_secs_f64(),
        failures.len()
    );
    let _ = std::fs::create_dir_all(&arguments.trace_dir);
    for report in &failures {
        let path = arguments.trace_dir.join(format!("seed-{}.trace", report.seed));
        let written = std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(report.trace.as_bytes()));
        println!(
            "FAILED seed={} step={}: {}\n  trace: {}{}\n  reproduce: make sim SEED={} SIM_STEPS={} BUG={}",
            report.seed,
            report.steps_run,
            report.failure.as_deref().unwrap_or_default(),
            path.display(),
            if written.is_ok() { "" } else { " (could not be written)" },
            report.seed,
            arguments.steps,
            bug.name()
        );
    }
    if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
