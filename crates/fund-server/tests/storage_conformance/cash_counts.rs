//! Drawer counts: one per counter and day, the first kept, listed per store and day.

use fund_server::store::Storage;
use tillfund_core::cash_count::{CashCount, DenominationCount};

use crate::support::{merchant, terminal};

fn count(counted: i64) -> CashCount {
    CashCount {
        opening_float: 10_000,
        drawer_cash: 5_000,
        cash_dropped: 0,
        cash_drop_count: 0,
        expected: 15_000,
        counted,
        over_short: counted - 15_000,
        denominations: vec![DenominationCount { value: 5_000, pieces: counted / 5_000 }],
        counted_by: "Mia 米娅".into(),
        counted_at_ms: 2_000,
        note: Some("one note \"quoted\"".into()),
    }
}

pub async fn a_drawer_count_is_kept_once_per_counter_and_day<S: Storage>(store: S) {
    let shop = merchant("Shop");
    store.add_merchant(&shop, 1_000).await.unwrap();
    let till_1 = terminal(shop.id, "A", "key-a");
    let till_2 = terminal(shop.id, "B", "key-b");
    store.add_terminal(&till_1, 1_000).await.unwrap();
    store.add_terminal(&till_2, 1_000).await.unwrap();
    assert!(store.cash_counts(shop.id, "2026-12-07").await.unwrap().is_empty());

    let kept = store
        .keep_cash_count(shop.id, till_1.id, "2026-12-07", &count(15_000), 5_000, 3_000)
        .await
        .unwrap();
    assert_eq!(
        (kept.terminal_id, &kept.count, kept.server_drawer_cash, kept.recorded_at_ms),
        (till_1.id, &count(15_000), 5_000, 3_000)
    );
    // A second count of the same counter's day is not kept: the first is answered.
    let again = store
        .keep_cash_count(shop.id, till_1.id, "2026-12-07", &count(10_000), 4_000, 4_000)
        .await
        .unwrap();
    assert_eq!(again, kept);
    let other = store
        .keep_cash_count(shop.id, till_2.id, "2026-12-07", &count(10_000), 5_000, 4_000)
        .await
        .unwrap();
    store
        .keep_cash_count(shop.id, till_2.id, "2026-12-08", &count(15_000), 0, 5_000)
        .await
        .unwrap();
    let mut listed = store.cash_counts(shop.id, "2026-12-07").await.unwrap();
    listed.sort_by_key(|kept| kept.terminal_id);
    let mut expected = vec![kept, other];
    expected.sort_by_key(|kept| kept.terminal_id);
    assert_eq!(listed, expected);
    assert!(store.cash_counts(merchant("Other").id, "2026-12-07").await.unwrap().is_empty());
}
