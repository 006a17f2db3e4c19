//! Merchants, customers, PIN attempts, bindings and sessions.

use std::sync::Arc;

use fund_server::store::{BindOutcome, PinAttempt, RegisterOutcome, RegistrationKey, Storage};
use tillfund_core::{MemberCode, MerchantId};

use crate::support::{customer, merchant, shop};

pub async fn merchants_are_kept_and_listed_by_name<S: Storage>(store: S) {
    let (zebra, apple) = (merchant("Zebra"), merchant("Apple"));
    store.add_merchant(&zebra, 1_000).await.unwrap();
    store.add_merchant(&apple, 1_000).await.unwrap();
    assert_eq!(store.merchant(zebra.id).await.unwrap(), Some(zebra.clone()));
    assert_eq!(store.merchant(MerchantId::generate()).await.unwrap(), None);
    assert_eq!(store.list_merchants(10).await.unwrap(), vec![apple.clone(), zebra]);
    assert_eq!(store.list_merchants(1).await.unwrap(), vec![apple]);
    assert!(store.add_merchant(&merchant("Zebra"), 1_000).await.is_ok(), "names may repeat");
}

pub async fn registration_answers_every_outcome_and_writes_once<S: Storage>(store: S) {
    let known = merchant("Known");
    store.add_merchant(&known, 1_000).await.unwrap();
    let first = customer(1);
    let key = RegistrationKey { key: "register/a".into(), fingerprint: [7; 32] };
    let outcome =
        store.register_customer(&first, &[known.id], || unreachable!(), Some(&key), 1_000).await;
    assert_eq!(outcome.unwrap(), RegisterOutcome::Registered(first.clone()));
    let (second, third) = (customer(2), customer(3));
    let replay = store.register_customer(&second, &[], || unreachable!(), Some(&key), 2_000);
    assert_eq!(replay.await.unwrap(), RegisterOutcome::Replayed(first.id));
    let altered = RegistrationKey { key: "register/a".into(), fingerprint: [8; 32] };
    let reused = store.register_customer(&third, &[], || unreachable!(), Some(&altered), 2_000);
    assert_eq!(reused.await.unwrap(), RegisterOutcome::KeyReused);
    let mut same_phone = customer(4);
    same_phone.phone = first.phone.clone();
    let taken = store.register_customer(&same_phone, &[], || unreachable!(), None, 2_000);
    assert_eq!(taken.await.unwrap(), RegisterOutcome::PhoneTaken);
    let unknown = MerchantId::generate();
    let stranger = customer(5);
    let stores = [known.id, unknown];
    let refused = store.register_customer(&stranger, &stores, || unreachable!(), None, 2_000);
    assert_eq!(refused.await.unwrap(), RegisterOutcome::MerchantUnknown(unknown));

    assert_eq!(store.customer(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.customer_by_phone(&first.phone).await.unwrap(), Some(first.clone()));
    for absent in [second, third, same_phone, stranger] {
        assert_eq!(store.customer(absent.id).await.unwrap(), None, "refusals write nothing");
    }
    assert_eq!(store.bound_merchants(first.id).await.unwrap(), vec![known.clone()]);
    let changes = store.binding_changes(known.id, 0, 10).await.unwrap();
    assert_eq!(changes.len(), 1, "only the registered customer was bound: {changes:?}");
}

pub async fn a_taken_member_code_is_drawn_again<S: Storage>(store: S) {
    store.register_customer(&customer(1), &[], || unreachable!(), None, 1_000).await.unwrap();
    let mut second = customer(2);
    second.member_code = MemberCode::from_body(1);
    let outcome = store
        .register_customer(&second, &[], || MemberCode::from_body(99), None, 1_000)
        .await
        .unwrap();
    let RegisterOutcome::Registered(registered) = outcome else { panic!("{outcome:?}") };
    assert_eq!(registered.member_code, MemberCode::from_body(99));
    let stored = store.customer(second.id).await.unwrap().unwrap();
    assert_eq!(stored.member_code, MemberCode::from_body(99));
}

pub async fn pin_attempts_lock_at_the_limit_and_reset<S: Storage>(store: S) {
    let (_, buyer) = shop(&store).await;
    let take = |now_ms: i64| store.take_pin_attempt(buyer.id, 3, now_ms, now_ms + 60_000);
    assert_eq!(take(1_000).await.unwrap(), PinAttempt::Taken { attempt: 1, locks: false });
    store.reset_pin_failures(buyer.id).await.unwrap();
    assert_eq!(take(1_000).await.unwrap(), PinAttempt::Taken { attempt: 1, locks: false });
    assert_eq!(take(1_000).await.unwrap(), PinAttempt::Taken { attempt: 2, locks: false });
    assert_eq!(take(1_000).await.unwrap(), PinAttempt::Taken { attempt: 3, locks: true });
    assert_eq!(take(2_000).await.unwrap(), PinAttempt::Locked { until_ms: 61_000 });
    // The lock runs out: the count starts again.
    assert_eq!(take(61_001).await.unwrap(), PinAttempt::Taken { attempt: 1, locks: false });
}

pub async fn parallel_pin_attempts_never_pass_the_limit<S: Storage>(store: S) {
    let (_, buyer) = shop(&store).await;
    let store = Arc::new(store);
    let guesses: Vec<_> = (0..40)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store.take_pin_attempt(buyer.id, 5, 1_000, 900_000).await.unwrap()
            })
        })
        .collect();
    let mut taken = 0;
    for guess in guesses {
        if let PinAttempt::Taken { .. } = guess.await.unwrap() {
            taken += 1;
        }
    }
    assert_eq!(taken, 5, "every attempt past the limit is refused, however many arrive at once");
}

pub async fn bindings_change_once_and_are_pulled_in_order<S: Storage>(store: S) {
    let (first_shop, buyer) = shop(&store).await;
    let second_shop = merchant("Another");
    store.add_merchant(&second_shop, 1_000).await.unwrap();
    let bind = |merchant_id, bound| store.set_binding(buyer.id, merchant_id, bound, 2_000);
    assert_eq!(bind(first_shop.id, true).await.unwrap(), BindOutcome::Unchanged);
    assert_eq!(bind(second_shop.id, true).await.unwrap(), BindOutcome::Changed);
    assert_eq!(bind(MerchantId::generate(), true).await.unwrap(), BindOutcome::MerchantUnknown);
    assert_eq!(bind(first_shop.id, false).await.unwrap(), BindOutcome::Changed);
    assert_eq!(bind(first_shop.id, false).await.unwrap(), BindOutcome::Unchanged);
    assert_eq!(store.bound_merchants(buyer.id).await.unwrap(), vec![second_shop]);

    let changes = store.binding_changes(first_shop.id, 0, 10).await.unwrap();
    let bound: Vec<bool> = changes.iter().map(|change| change.bound).collect();
    assert_eq!(bound, [true, false], "bound at registration, then unbound");
    assert!(changes[0].sequence < changes[1].sequence);
    assert_eq!(changes[1].customer.id, buyer.id);
    let after = store.binding_changes(first_shop.id, changes[0].sequence, 10).await.unwrap();
    assert_eq!(after, changes[1..]);
    assert_eq!(store.binding_changes(first_shop.id, 0, 1).await.unwrap(), changes[..1]);
}

pub async fn sessions_live_until_they_expire_or_end_and_expired_ones_are_purged<S: Storage>(
    store: S,
) {
    let (_, buyer) = shop(&store).await;
    store.add_session("token-a", buyer.id, 1_000, 5_000).await.unwrap();
    store.add_session("token-b", buyer.id, 1_000, 5_000).await.unwrap();
    assert_eq!(store.session_customer("token-a", 4_999).await.unwrap(), Some(buyer.id));
    assert_eq!(store.session_customer("token-a", 5_000).await.unwrap(), None, "expired");
    assert_eq!(store.session_customer("token-c", 1_000).await.unwrap(), None);
    store.end_session("token-a").await.unwrap();
    assert_eq!(store.session_customer("token-a", 2_000).await.unwrap(), None, "signed out");
    assert_eq!(store.session_customer("token-b", 2_000).await.unwrap(), Some(buyer.id));

    // Expired sessions are purged, at most `limit` a call; live ones stay.
    store.add_session("token-c", buyer.id, 1_000, 4_000).await.unwrap();
    store.add_session("token-d", buyer.id, 1_000, 9_000).await.unwrap();
    assert_eq!(store.purge_expired_sessions(3_999, 10).await.unwrap(), 0);
    assert_eq!(store.purge_expired_sessions(5_000, 1).await.unwrap(), 1);
    assert_eq!(store.purge_expired_sessions(5_000, 10).await.unwrap(), 1);
    assert_eq!(store.purge_expired_sessions(5_000, 10).await.unwrap(), 0);
    assert_eq!(store.session_customer("token-d", 5_000).await.unwrap(), Some(buyer.id));
}
