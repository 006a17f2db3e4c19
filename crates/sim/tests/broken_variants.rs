//! The simulator catches what matters: each deliberately broken version (switched on at run
//! time; the switches exist only with the `sim-bugs` feature this crate turns on) fails an
//! invariant within a few seeds. The bounds are about three times the first failing seed
//! measured when they were set (DEVELOPMENT.md, "The simulator").

use tillfund_sim::{Bug, STEPS_SHORT, run_seed_with};

fn first_failing_seed(bug: Bug, seeds_max: u64) -> Option<(u64, String)> {
    (1..=seeds_max).find_map(|seed| {
        let report = run_seed_with(seed, STEPS_SHORT, bug);
        report.failure.map(|failure| (seed, failure))
    })
}

fn assert_caught(bug: Bug, seeds_max: u64, invariant: &str) {
    let Some((seed, failure)) = first_failing_seed(bug, seeds_max) else {
        panic!("{} ran {seeds_max} seeds without failing an invariant", bug.name());
    };
    eprintln!("{}: caught at seed {seed}: {failure}", bug.name());
    assert!(
        failure.starts_with(invariant),
        "{}: caught by another invariant: {failure}",
        bug.name()
    );
}

#[test]
fn outbox_idempotency_switched_off_is_caught() {
    assert_caught(Bug::OutboxIdempotencyOff, 21, "top_up_at_most_once");
}

#[test]
fn a_refund_that_skips_the_already_refunded_check_is_caught() {
    // The paid_orders CHECK rolls the batch back: the server cannot write.
    assert_caught(Bug::RefundIgnoresRefunded, 10, "no_server_error");
}

#[test]
fn an_outbox_entry_acknowledged_before_the_answer_is_caught() {
    assert_caught(Bug::AckBeforeAnswer, 6, "outbox_exactly_once");
}

#[test]
fn a_close_whose_counter_parts_leave_out_refunds_is_caught() {
    // The audit checks each close's money, not how it splits by counter: only the
    // simulator's own recount of the settled entries sees it.
    assert_caught(Bug::CounterPartsSkipRefunds, 10, "settlement_figures");
}
