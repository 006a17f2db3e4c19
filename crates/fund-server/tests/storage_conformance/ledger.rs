//! Batches, balances, bonus rules, paid orders, a merchant's day, the audit's reads and a
//! wallet's history.

use fund_server::ledger::{
    Account, Batch, BatchNeeds, Bucket, CommandKind, Outcome, SettlementFigures,
};
use fund_server::service::{AuditScope, audit_store};
use fund_server::store::{AuditRead, BatchTransaction, Storage, StoreError, StoredDay};
use tillfund_core::bonus::{BonusFormula, BonusRule};
use tillfund_core::{Amount, MerchantId, OrderId, TerminalId};

use crate::support::{apply, command, fund, minor, payment, policy, shop, top_up};

async fn wallet_total<S: Storage>(store: &S, customer: tillfund_core::CustomerId) -> i64 {
    let mut total = 0;
    for bucket in [Bucket::Principal, Bucket::Bonus, Bucket::Yield] {
        total += store.balance(Account::Wallet(customer, bucket)).await.unwrap().minor_units();
    }
    total
}

pub async fn a_batch_writes_only_when_committed<S: Storage>(store: S) {
    let commands = [fund("fund/1", 50_000)];
    let policy = policy();
    let mut batch = store.begin_batch().await.unwrap();
    let state = batch.load(&BatchNeeds::of(&commands)).await.unwrap();
    let mut decided = Batch::new(&policy, state);
    decided.apply(&commands[0]).unwrap();
    batch.write(&decided.finish()).await.unwrap();
    drop(batch);
    assert_eq!(store.balance(Account::Reserve).await.unwrap(), Amount::ZERO, "rolled back");
    assert!(store.entry_counts().await.unwrap().is_empty());

    let mut batch = store.begin_batch().await.unwrap();
    let state = batch.load(&BatchNeeds::of(&commands)).await.unwrap();
    let mut decided = Batch::new(&policy, state);
    decided.apply(&commands[0]).unwrap();
    batch.write(&decided.finish()).await.unwrap();
    batch.commit().await.unwrap();
    assert_eq!(store.balance(Account::Reserve).await.unwrap(), minor(50_000));
    assert_eq!(store.entry_counts().await.unwrap().get("fund"), Some(&1));
}

pub async fn batches_apply_once_and_balance_to_zero<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    let deposit = top_up("top-up/1", &shop, counter, buyer.id, 5_000);
    let first = apply(&store, &[fund("fund/1", 100_000), deposit.clone()]).await;
    assert!(matches!(first[1].outcome, Outcome::ToppedUp { .. }), "{first:?}");
    assert!(!first[1].replayed);
    let again = apply(&store, &[deposit]).await;
    assert!(again[0].replayed, "the same key answers the stored outcome");
    assert_eq!(again[0].outcome, first[1].outcome);
    assert_eq!(wallet_total(&store, buyer.id).await, 5_000);
    assert_eq!(store.balance(Account::Drawer(MerchantId::generate())).await.unwrap(), Amount::ZERO);

    let balances = store.all_balances().await.unwrap();
    let sum: i64 = balances.iter().map(|(_, balance)| balance.minor_units()).sum();
    assert_eq!(sum, 0, "double entry: {balances:?}");
    assert!(balances.iter().any(|(account, _)| *account == Account::Drawer(shop.id)));
    assert_eq!(store.reserve_alert().await.unwrap(), None);
}

pub async fn bonus_rule_sets_get_the_next_version<S: Storage>(store: S) {
    assert_eq!(store.current_bonus_rules().await.unwrap().version(), 0);
    let rule = |basis_points| BonusRule {
        merchant_id: None,
        valid_from_ms: 0,
        valid_until_ms: None,
        formula: BonusFormula::Percentage { basis_points, cap: None },
    };
    assert_eq!(store.publish_bonus_rules(vec![rule(500)]).await.unwrap().version(), 1);
    let second = store.publish_bonus_rules(vec![rule(700)]).await.unwrap();
    assert_eq!(second.version(), 2);
    assert_eq!(store.current_bonus_rules().await.unwrap(), second);
    let invalid = store.publish_bonus_rules(vec![rule(10_001)]).await;
    assert!(matches!(invalid, Err(StoreError::Invalid(_))), "{invalid:?}");
    assert_eq!(store.current_bonus_rules().await.unwrap(), second, "a refused set changes nothing");
}

pub async fn paid_orders_are_found_by_counter_and_merchant<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    let order = OrderId::generate();
    let decided = apply(
        &store,
        &[
            fund("fund/1", 100_000),
            top_up("top-up/1", &shop, counter, buyer.id, 5_000),
            payment("pay/1", &shop, counter, order, buyer.id, 1_200),
        ],
    )
    .await;
    let Outcome::Paid { entry_sequence, .. } = decided[2].outcome else { panic!("{decided:?}") };
    assert_eq!(store.order_payer(counter, order).await.unwrap(), Some(buyer.id));
    assert_eq!(
        store.order_payer(TerminalId::generate(), order).await.unwrap(),
        None,
        "per counter"
    );
    let paid = store.paid_orders_after(shop.id, 0, 10).await.unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(
        (paid[0].order_id, paid[0].customer_id, paid[0].payment_entry),
        (order, buyer.id, entry_sequence)
    );
    assert_eq!(paid[0].amount.amount(), minor(1_200));
    assert_eq!(paid[0].paid_split.iter().sum::<i64>(), 1_200);
    assert!(store.paid_orders_after(shop.id, entry_sequence, 10).await.unwrap().is_empty());
    assert!(store.paid_orders_after(MerchantId::generate(), 0, 10).await.unwrap().is_empty());
    assert_eq!(wallet_total(&store, buyer.id).await, 3_800);
}

pub async fn a_day_is_open_then_closed_with_its_figures<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    apply(&store, &[fund("fund/1", 100_000), top_up("top-up/1", &shop, counter, buyer.id, 5_000)])
        .await;
    let StoredDay::Open(open) = store.stored_day(shop.id, "2026-01-01", i64::MAX).await.unwrap()
    else {
        panic!("nothing closed the day yet");
    };
    assert_eq!(open.entries.len(), 1);
    assert!(!open.already_closed);
    let close = CommandKind::CloseDay {
        merchant_id: shop.id,
        day: "2026-01-01".into(),
        day_end_ms: i64::MAX,
    };
    let closed = apply(&store, &[command("close/1", 2_000, close)]).await;
    let Outcome::DayClosed { figures, .. } = &closed[0].outcome else { panic!("{closed:?}") };
    assert_eq!((figures.top_up_count, figures.cash), (1, 5_000));
    let StoredDay::Closed { figures: stored, by_terminal } =
        store.stored_day(shop.id, "2026-01-01", i64::MAX).await.unwrap()
    else {
        panic!("the day is closed");
    };
    assert_eq!(&stored, figures);
    assert_eq!(by_terminal, vec![(counter, stored)]);
    let StoredDay::Open(next) = store.stored_day(shop.id, "2026-01-02", i64::MAX).await.unwrap()
    else {
        panic!("the next day is open");
    };
    assert!(next.entries.is_empty(), "each entry is settled once");
    // A counter's day counts what it recorded within the day, settled or not.
    let day_of = |start_ms, end_ms| store.terminal_day(shop.id, counter, start_ms, end_ms);
    assert_eq!(day_of(1_000, 1_001).await.unwrap(), stored, "the top-up is at 1,000");
    assert_eq!(day_of(0, 1_000).await.unwrap(), SettlementFigures::default(), "end excluded");
    assert_eq!(day_of(1_001, i64::MAX).await.unwrap(), SettlementFigures::default());
    let other = store.terminal_day(shop.id, TerminalId::generate(), 0, i64::MAX);
    assert_eq!(other.await.unwrap(), SettlementFigures::default(), "another counter's");
}

pub async fn the_audit_reads_one_clean_journal<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    let mut commands = vec![fund("fund/1", 100_000)];
    for index in 0..4 {
        commands.push(top_up(&format!("top-up/{index}"), &shop, counter, buyer.id, 1_000));
    }
    apply(&store, &commands).await;
    let mut view = store.begin_audit().await.unwrap();
    let head = view.journal_after(0, 2).await.unwrap();
    let rest = view.journal_after(head[1].sequence, 100).await.unwrap();
    let sequences: Vec<i64> = head.iter().chain(&rest).map(|entry| entry.sequence).collect();
    assert_eq!(sequences.len(), 5);
    assert!(sequences.windows(2).all(|pair| pair[0] < pair[1]), "{sequences:?}");
    assert_eq!(rest[0].previous_hash, head[1].hash, "hash-chained");
    assert!(view.journal_after(*sequences.last().unwrap(), 100).await.unwrap().is_empty());
    assert!(view.settlement_checks(0).await.unwrap().is_empty());
    assert_eq!(view.checkpoint().await.unwrap(), None);
    assert!(view.balances().await.unwrap().iter().all(Result::is_ok));
    drop(view);
    let report = audit_store(&store, AuditScope::SinceCheckpoint, 0).await.unwrap();
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.entries_checked, 5);
    assert_eq!(report.resumed_after, None, "the first audit replays everything");
}

pub async fn wallet_history_is_newest_first<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    apply(
        &store,
        &[
            fund("fund/1", 100_000),
            top_up("top-up/1", &shop, counter, buyer.id, 5_000),
            payment("pay/1", &shop, counter, OrderId::generate(), buyer.id, 1_200),
        ],
    )
    .await;
    let history = store.wallet_history(buyer.id, 10).await.unwrap();
    let lines: Vec<(&str, i64)> =
        history.iter().map(|line| (line.code.as_str(), line.change)).collect();
    assert_eq!(lines, [("payment", -1_200), ("top_up", 5_000)]);
    assert_eq!(history[0].merchant.as_deref(), Some("Shop"));
    assert_eq!(store.wallet_history(buyer.id, 1).await.unwrap(), history[..1]);
}
