//! A seed is a run: the same seed gives the same trace byte for byte (ending in the journal
//! head's hash, so the ledger too), on one thread or two at once; another seed differs.

use tillfund_sim::{Database, RunOptions, run_seed, run_seed_with_options};

const STEPS: u32 = 120;

fn first_difference(left: &str, right: &str) -> String {
    left.lines().zip(right.lines()).enumerate().find(|(_, (a, b))| a != b).map_or_else(
        || "lengths differ".to_owned(),
        |(line, (a, b))| format!("line {}: {a:?} vs {b:?}", line + 1),
    )
}

#[test]
fn the_same_seed_gives_byte_identical_traces() {
    let first = run_seed(7, STEPS);
    let again = run_seed(7, STEPS);
    assert_eq!(first.failure, None, "{}", first.trace);
    assert!(first.trace.contains("== end: invariants held; journal head #"), "{}", first.trace);
    assert!(first.trace == again.trace, "{}", first_difference(&first.trace, &again.trace));

    // Side by side on two threads: nothing is shared between runs.
    let (left, right) = std::thread::scope(|scope| {
        let left = scope.spawn(|| run_seed(7, STEPS));
        let right = scope.spawn(|| run_seed(7, STEPS));
        (left.join().map(|report| report.trace), right.join().map(|report| report.trace))
    });
    let (left, right) = (left.unwrap_or_default(), right.unwrap_or_default());
    assert!(left == first.trace, "{}", first_difference(&left, &first.trace));
    assert!(right == first.trace, "{}", first_difference(&right, &first.trace));

    let other = run_seed(8, STEPS);
    assert_ne!(other.trace, first.trace);
}

#[test]
fn on_postgresql_too() {
    let options = RunOptions { database: Database::Postgres, ..RunOptions::steps(STEPS) };
    let first = run_seed_with_options(7, &options);
    let again = run_seed_with_options(7, &options);
    assert_eq!(first.failure, None, "{}", first.trace);
    assert!(first.trace == again.trace, "{}", first_difference(&first.trace, &again.trace));
}
