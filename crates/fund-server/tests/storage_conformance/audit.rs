//! The incremental audit on every backend: it resumes after the last passing audit, recalls
//! the earlier entries a new refund or reversal refers to, compares every stored balance
//! with the one kept at the checkpoint, and leaves the checkpoint alone when it fails.
//! What it does not re-read (an entry before the checkpoint) the full audit does.

use fund_server::ledger::{Command, CommandKind, Refund, ReverseTopUp};
use fund_server::service::{AuditScope, audit_store};
use fund_server::store::Storage;
use tillfund_core::{OrderId, TerminalId};

use crate::support::{apply, command, execute_raw, fund, payment, positive, shop, top_up};

async fn audit<S: Storage>(
    store: &S,
    scope: AuditScope,
) -> fund_server::ledger::audit::AuditReport {
    audit_store(store, scope, 0).await.unwrap()
}

pub async fn the_incremental_audit_resumes_and_checks_every_balance<S: Storage>(
    store: S,
    url: &str,
) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    let order = OrderId::generate();
    let first_top_up = top_up("top-up/1", &shop, counter, buyer.id, 5_000);
    let CommandKind::CashTopUp(recorded) = &first_top_up.kind else { unreachable!() };
    let top_up_entry = recorded.outbox_entry_id;
    apply(
        &store,
        &[
            fund("fund/1", 100_000),
            first_top_up.clone(),
            payment("pay/1", &shop, counter, order, buyer.id, 2_000),
        ],
    )
    .await;
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    assert!(report.passed() && report.resumed_after.is_none(), "{report:?}");
    assert_eq!(report.entries_checked, 3);

    // A refund and a reversal after the checkpoint of a payment and a top-up before it.
    let refund = |key: &str, minor_units: i64| -> Command {
        command(
            key,
            1_000,
            CommandKind::Refund(Refund {
                merchant_id: shop.id,
                terminal_id: counter,
                order_id: order,
                amount: positive(minor_units),
            }),
        )
    };
    let reversal = command(
        "reverse/1",
        1_000,
        CommandKind::ReverseTopUp(ReverseTopUp {
            merchant_id: shop.id,
            terminal_id: counter,
            top_up_terminal_id: counter,
            top_up: top_up_entry,
            amount: positive(1_000),
            day_start_ms: 0,
            day_end_ms: i64::MAX,
        }),
    );
    apply(&store, &[refund("refund/1", 500), reversal]).await;
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.resumed_after.map(|checkpoint| checkpoint.sequence), Some(3));
    assert_eq!(report.entries_checked, 2, "only what came after the checkpoint");
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    assert!(report.passed() && report.entries_checked == 0, "{report:?}");
    assert_eq!(report.resumed_after.map(|checkpoint| checkpoint.sequence), Some(5));

    // A balance moved beside the journal, in an account no new entry touched; a new entry
    // comes after the checkpoint, which a passing audit would move past.
    apply(&store, &[fund("fund/2", 1_000)]).await;
    let moved = "UPDATE accounts SET balance = balance + 7 WHERE key = 'reserve'";
    execute_raw(url, moved).await.unwrap();
    execute_raw(url, "UPDATE accounts SET balance = balance - 7 WHERE key = 'world'")
        .await
        .unwrap();
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    let problems = report.problems.join("\n");
    assert!(problems.contains("reserve holds"), "{problems}");
    assert!(problems.contains("world holds"), "{problems}");
    execute_raw(url, "UPDATE accounts SET balance = balance - 7 WHERE key = 'reserve'")
        .await
        .unwrap();
    execute_raw(url, "UPDATE accounts SET balance = balance + 7 WHERE key = 'world'")
        .await
        .unwrap();
    // The failed audit left the checkpoint where it was.
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.resumed_after.map(|checkpoint| checkpoint.sequence), Some(5));
    assert_eq!(report.entries_checked, 1);

    // An entry before the checkpoint edited beneath the store: the incremental audit does
    // not read it again, the full one names it.
    let bypass = if url.starts_with("sqlite") {
        "DROP TRIGGER transfers_are_never_updated"
    } else {
        "ALTER TABLE transfers DISABLE TRIGGER transfers_are_never_changed"
    };
    execute_raw(url, bypass).await.unwrap();
    execute_raw(url, "UPDATE transfers SET amount = amount + 1 WHERE entry_sequence = 2")
        .await
        .unwrap();
    assert!(audit(&store, AuditScope::SinceCheckpoint).await.passed());
    let report = audit(&store, AuditScope::Full).await;
    let problems = report.problems.join("\n");
    assert!(problems.contains("entry 2: its hash does not match its content"), "{problems}");
    // A failed full audit drops the checkpoint: from now on every audit replays it all.
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    assert!(report.resumed_after.is_none() && !report.passed(), "{report:?}");
    execute_raw(url, "UPDATE transfers SET amount = amount - 1 WHERE entry_sequence = 2")
        .await
        .unwrap();
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    assert!(report.passed() && report.entries_checked == 6, "{report:?}");

    // The checkpoint's own entry changed: the incremental audit names it.
    let bypass = if url.starts_with("sqlite") {
        "DROP TRIGGER journal_entries_are_never_updated"
    } else {
        "ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_are_never_changed"
    };
    execute_raw(url, bypass).await.unwrap();
    let rehash = if url.starts_with("sqlite") {
        "UPDATE journal_entries SET hash = zeroblob(32) WHERE sequence = 6"
    } else {
        "UPDATE journal_entries SET hash = decode(repeat('00', 32), 'hex') WHERE sequence = 6"
    };
    execute_raw(url, rehash).await.unwrap();
    let report = audit(&store, AuditScope::SinceCheckpoint).await;
    let problems = report.problems.join("\n");
    assert!(problems.contains("entry 6, the last one a passing audit verified"), "{problems}");
}
