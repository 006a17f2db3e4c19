//! The yield rate schedule, accrual days, postings and balances as of an entry.

use std::str::FromStr;

use fund_server::ledger::Outcome;
use fund_server::store::{PostingDue, Storage, WalletAccrual, YieldDay};
use rust_decimal::Decimal;
use tillfund_core::TerminalId;

use crate::support::{apply, fund, shop, top_up};

fn rate(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

pub async fn yield_rates_are_set_and_replaced_by_day<S: Storage>(store: S) {
    assert!(store.yield_rates().await.unwrap().is_empty());
    store.set_yield_rate("2026-02-01", rate("0.03"), 1_000).await.unwrap();
    store.set_yield_rate("2026-01-01", rate("0.02"), 1_000).await.unwrap();
    store.set_yield_rate("2026-01-01", rate("0.025"), 2_000).await.unwrap();
    assert_eq!(
        store.yield_rates().await.unwrap(),
        vec![("2026-01-01".to_owned(), rate("0.025")), ("2026-02-01".to_owned(), rate("0.03"))]
    );
}

pub async fn an_accrual_day_is_recorded_once_and_posted<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    assert_eq!(store.first_applied_at_ms().await.unwrap(), None);
    assert_eq!(store.sequence_before(i64::MAX).await.unwrap(), 0);
    apply(
        &store,
        &[fund("fund/1", 100_000), top_up("t/1", &shop, TerminalId::generate(), buyer.id, 5_000)],
    )
    .await;
    assert!(store.first_applied_at_ms().await.unwrap().is_some());
    let through = store.sequence_before(i64::MAX).await.unwrap();
    assert_eq!(through, 2);
    assert_eq!(store.sequence_before(0).await.unwrap(), 0);

    let accruals = [WalletAccrual { customer_id: buyer.id, balance: 5_000, accrued: rate("1.5") }];
    let record =
        |day: &'static str| store.record_accrual_day(day, through, rate("0.02"), &accruals, 3_000);
    assert!(record("2026-01-01").await.unwrap());
    assert!(!record("2026-01-01").await.unwrap(), "a day is accrued once");
    assert_eq!(store.last_accrued_day().await.unwrap().as_deref(), Some("2026-01-01"));
    assert_eq!(store.unposted_days().await.unwrap(), ["2026-01-01"]);
    assert_eq!(
        store.yield_postings_due().await.unwrap(),
        [PostingDue { customer_id: buyer.id, cumulative_floor: 1, posted: 0 }]
    );
    store.record_yield_posted(&[(buyer.id, 1)]).await.unwrap();
    assert!(store.yield_postings_due().await.unwrap().is_empty(), "0.5 is not a whole unit yet");
    store.mark_yield_day_posted("2026-01-01", 4_000).await.unwrap();
    assert!(store.unposted_days().await.unwrap().is_empty());

    assert!(record("2026-01-02").await.unwrap());
    assert_eq!(
        store.yield_postings_due().await.unwrap(),
        [PostingDue { customer_id: buyer.id, cumulative_floor: 3, posted: 1 }]
    );
    let days = store.yield_days(buyer.id, 7).await.unwrap();
    let day = |day: &str| YieldDay { day: day.into(), balance: 5_000, accrued: rate("1.5") };
    assert_eq!(days, [day("2026-01-01"), day("2026-01-02")], "oldest first");
    assert_eq!(store.yield_days(buyer.id, 1).await.unwrap(), [day("2026-01-02")]);
}

pub async fn wallet_totals_are_read_as_of_an_entry<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    let first =
        apply(&store, &[fund("fund/1", 100_000), top_up("t/1", &shop, counter, buyer.id, 5_000)])
            .await;
    let Outcome::ToppedUp { entry_sequence, .. } = first[1].outcome else { panic!("{first:?}") };
    apply(&store, &[top_up("t/2", &shop, counter, buyer.id, 3_000)]).await;
    assert_eq!(store.wallet_totals_as_of(entry_sequence).await.unwrap(), [(buyer.id, 5_000)]);
    let latest = store.sequence_before(i64::MAX).await.unwrap();
    assert_eq!(store.wallet_totals_as_of(latest).await.unwrap(), [(buyer.id, 8_000)]);
}
