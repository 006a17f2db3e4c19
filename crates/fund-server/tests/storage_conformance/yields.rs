//! The yield rate schedule, accrual days, postings and balances as of an entry.

use std::str::FromStr;

use std::collections::BTreeSet;

use fund_server::ledger::Outcome;
use fund_server::store::{AccruedDay, PostingDue, Storage, YieldDay};
use rust_decimal::Decimal;
use tillfund_core::{CustomerId, MemberCode, TerminalId};

use crate::support::{apply, execute_raw, fund, shop, top_up};

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

    let record = |day: &'static str| {
        store.record_accrual_day(day, through, rate("0.02"), |_| Some(rate("1.5")), 3_000)
    };
    let once = AccruedDay { wallets: 1, accrued: rate("1.5") };
    assert_eq!(record("2026-01-01").await.unwrap(), Some(once));
    assert_eq!(record("2026-01-01").await.unwrap(), None, "a day is accrued once");
    assert_eq!(store.last_accrued_day().await.unwrap().as_deref(), Some("2026-01-01"));
    assert_eq!(store.unposted_days().await.unwrap(), ["2026-01-01"]);
    let due = || async { store.yield_postings_due(None, 100).await.unwrap().due };
    assert_eq!(due().await, [PostingDue { customer_id: buyer.id, cumulative_floor: 1, posted: 0 }]);
    store.record_yield_posted(&[(buyer.id, 1)]).await.unwrap();
    assert!(due().await.is_empty(), "0.5 is not a whole unit yet");
    store.mark_yield_day_posted("2026-01-01", 4_000).await.unwrap();
    assert!(store.unposted_days().await.unwrap().is_empty());

    assert_eq!(record("2026-01-02").await.unwrap(), Some(once));
    assert_eq!(due().await, [PostingDue { customer_id: buyer.id, cumulative_floor: 3, posted: 1 }]);
    let days = store.yield_days(buyer.id, 7).await.unwrap();
    let day = |day: &str| YieldDay { day: day.into(), balance: 5_000, accrued: rate("1.5") };
    assert_eq!(days, [day("2026-01-01"), day("2026-01-02")], "oldest first");
    assert_eq!(store.yield_days(buyer.id, 1).await.unwrap(), [day("2026-01-02")]);
}

pub async fn accrual_takes_balances_as_of_an_entry<S: Storage>(store: S) {
    let (shop, buyer) = shop(&store).await;
    let counter = TerminalId::generate();
    let first =
        apply(&store, &[fund("fund/1", 100_000), top_up("t/1", &shop, counter, buyer.id, 5_000)])
            .await;
    let Outcome::ToppedUp { entry_sequence, .. } = first[1].outcome else { panic!("{first:?}") };
    apply(&store, &[top_up("t/2", &shop, counter, buyer.id, 3_000)]).await;
    let balance_seen = |through: i64, day: &'static str| {
        let store = &store;
        async move {
            let mut seen = Vec::new();
            let accrue = |balance: i64| {
                seen.push(balance);
                None
            };
            store.record_accrual_day(day, through, rate("0.02"), accrue, 1).await.unwrap();
            seen
        }
    };
    assert_eq!(balance_seen(entry_sequence, "2026-01-01").await, [5_000]);
    let latest = store.sequence_before(i64::MAX).await.unwrap();
    assert_eq!(balance_seen(latest, "2026-01-02").await, [8_000]);
}

/// More wallets than one page of the accrual and of the postings: every wallet is accrued
/// and due once. Written beneath the store (customers and balances only) to be quick.
pub async fn accrual_and_postings_page_through_every_wallet<S: Storage>(store: S, url: &str) {
    const WALLETS: usize = 5_003;
    let customers: Vec<CustomerId> = (0..WALLETS).map(|_| CustomerId::generate()).collect();
    for (chunk_index, chunk) in customers.chunks(1_000).enumerate() {
        let numbered =
            chunk.iter().enumerate().map(|(index, id)| (chunk_index * 1_000 + index, id));
        let (rows, accounts): (Vec<String>, Vec<String>) = numbered
            .map(|(number, id)| {
                let code = MemberCode::from_body(number as u64);
                (
                    format!("('{id}', '139{number:08}', 'C', '{code}', 'x', 1)"),
                    format!("('customer/{id}/principal', {})", number + 1),
                )
            })
            .unzip();
        let insert = format!(
            "INSERT INTO customers (id, phone, display_name, member_code, pin_hash, created_at_ms) \
             VALUES {}",
            rows.join(", ")
        );
        execute_raw(url, &insert).await.unwrap();
        let insert = format!("INSERT INTO accounts (key, balance) VALUES {}", accounts.join(", "));
        execute_raw(url, &insert).await.unwrap();
    }
    let accrue = |balance: i64| Some(Decimal::from(balance));
    let recorded = store.record_accrual_day("2026-01-01", 0, rate("0.02"), accrue, 1).await;
    let expected_sum: i64 = (1..=WALLETS as i64).sum();
    assert_eq!(
        recorded.unwrap(),
        Some(AccruedDay { wallets: WALLETS as u64, accrued: Decimal::from(expected_sum) })
    );
    let mut due = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store.yield_postings_due(after, 1_000).await.unwrap();
        due.extend(page.due.iter().map(|posting| (posting.customer_id, posting.cumulative_floor)));
        pages += 1;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    let wallets: BTreeSet<CustomerId> = due.iter().map(|(customer, _)| *customer).collect();
    assert_eq!((due.len(), wallets.len()), (WALLETS, WALLETS), "each wallet due once");
    assert_eq!(due.iter().map(|(_, floor)| floor).sum::<i64>(), expected_sum);
}
