//! Who did it at the counter: one cashier per record (the first named stays), read per
//! counter and member for a store's day, with names only from that store's own staff.

use fund_server::store::{CashierKind, CashierRecord, StaffRecord, Storage};
use tillfund_core::StaffId;

use crate::support::{merchant, terminal};

pub async fn a_record_keeps_its_first_cashier_and_names_come_from_the_store<S: Storage>(store: S) {
    let shop = merchant("Shop");
    let other = merchant("Other");
    store.add_merchant(&shop, 1_000).await.unwrap();
    store.add_merchant(&other, 1_000).await.unwrap();
    let till = terminal(shop.id, "A", "key-a");
    let other_till = terminal(other.id, "B", "key-b");
    store.add_terminal(&till, 1_000).await.unwrap();
    store.add_terminal(&other_till, 1_000).await.unwrap();
    let (ben, mia, stranger) = (StaffId::generate(), StaffId::generate(), StaffId::generate());
    let member = |name: &str| StaffRecord {
        name: name.into(),
        role: "manager".into(),
        pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA".into(),
        active: true,
        first_of_store: false,
    };
    store.put_staff(shop.id, ben, &member("Ben"), till.id, 200, 1_000).await.unwrap();
    store.put_staff(shop.id, mia, &member("Mia"), till.id, 200, 1_000).await.unwrap();
    // The stranger is on the other store's staff: a counter of this store naming them
    // does not get their name on its records.
    store.put_staff(other.id, stranger, &member("Eve"), other_till.id, 200, 1_000).await.unwrap();

    let record = |kind, id: &str, staff_id, amount, at| CashierRecord {
        merchant_id: shop.id,
        terminal_id: till.id,
        kind,
        record_id: id.into(),
        staff_id,
        amount,
        recorded_at_ms: at,
    };
    for kept in [
        record(CashierKind::TopUp, "t1", ben, 10_000, 2_000),
        record(CashierKind::TopUp, "t2", ben, 5_000, 2_100),
        // A retry naming someone else changes nothing: the first stays.
        record(CashierKind::TopUp, "t1", mia, 99_999, 2_200),
        record(CashierKind::Refund, "r1", mia, 700, 2_300),
        record(CashierKind::Reversal, "v1", mia, 2_000, 2_400),
        record(CashierKind::Close, "2026-12-07", mia, 0, 2_500),
        record(CashierKind::TopUp, "t3", stranger, 100, 2_600),
        // Another day.
        record(CashierKind::TopUp, "t4", ben, 1_000, 9_000),
    ] {
        store.keep_cashier(&kept).await.unwrap();
    }
    let mut lines = store.cashier_days(shop.id, 2_000, 3_000, 100).await.unwrap();
    lines.sort_by_key(|line| line.name.clone());
    let figures: Vec<_> = lines
        .iter()
        .map(|line| {
            (
                line.name.as_deref(),
                line.staff_id,
                (line.top_up_count, line.top_ups),
                (line.refund_count, line.refunds),
                (line.reversal_count, line.reversed),
                line.closes,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            (None, Some(stranger), (1, 100), (0, 0), (0, 0), 0),
            (Some("Ben"), Some(ben), (2, 15_000), (0, 0), (0, 0), 0),
            (Some("Mia"), Some(mia), (0, 0), (1, 700), (1, 2_000), 1),
        ]
    );
    assert!(lines.iter().all(|line| line.terminal_id == Some(till.id)));
    assert_eq!(store.cashier_days(shop.id, 2_000, 3_000, 1).await.unwrap().len(), 1, "bounded");
    assert!(store.cashier_days(other.id, 0, 10_000, 100).await.unwrap().is_empty());
}
