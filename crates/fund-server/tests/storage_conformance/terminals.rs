//! Activation codes, enrolment, terminal keys, revocation and request nonces.

use std::sync::Arc;

use fund_server::store::{EnrolOutcome, Storage};
use tillfund_core::{MerchantId, TerminalId};

use crate::support::{merchant, terminal};

/// A nonce as counters make them: 32 hexadecimal digits.
fn nonce(index: u8) -> String {
    format!("{index:032x}")
}

pub async fn activation_codes_enrol_once<S: Storage>(store: S) {
    let shop = merchant("Shop");
    store.add_merchant(&shop, 1_000).await.unwrap();
    assert!(store.add_activation_code(shop.id, "code-1", 1_000, 10_000).await.unwrap());
    assert!(store.add_activation_code(shop.id, "code-2", 1_000, 2_000).await.unwrap());
    assert!(
        !store.add_activation_code(MerchantId::generate(), "code-3", 1_000, 10_000).await.unwrap()
    );

    let made = |merchant_id, prefix: String| {
        let mut made = terminal(merchant_id, "X", "sealed-key");
        made.receipt_prefix = prefix;
        made.server_public_key = Some("server-public".into());
        made
    };
    let unknown = store.enrol_terminal("code-3", "counter-a", None, made, 2_000).await.unwrap();
    assert_eq!(unknown, EnrolOutcome::CodeUnknown, "a code of an unknown merchant was not kept");
    let expired = store.enrol_terminal("code-2", "counter-a", None, made, 2_000).await.unwrap();
    assert_eq!(expired, EnrolOutcome::CodeExpired);

    let EnrolOutcome::Enrolled { terminal: enrolled, merchant: of } =
        store.enrol_terminal("code-1", "counter-a", None, made, 2_000).await.unwrap()
    else {
        panic!("a fresh code enrols");
    };
    assert_eq!(of, shop);
    assert_eq!(enrolled.merchant_id, shop.id);
    assert!(enrolled.receipt_prefix.starts_with('T'), "{}", enrolled.receipt_prefix);
    assert_eq!(store.terminal(enrolled.id).await.unwrap(), Some(*enrolled.clone()));

    // The same counter whose answer was lost gets the same terminal; anyone else is refused.
    let again = store.enrol_terminal("code-1", "counter-a", None, |_, _| unreachable!(), 3_000);
    assert_eq!(
        again.await.unwrap(),
        EnrolOutcome::Enrolled { terminal: enrolled.clone(), merchant: shop.clone() }
    );
    let other = store.enrol_terminal("code-1", "counter-b", None, |_, _| unreachable!(), 3_000);
    assert_eq!(other.await.unwrap(), EnrolOutcome::CodeUsed);
    // Once the code has expired, not even the same counter gets it back.
    let late = store.enrol_terminal("code-1", "counter-a", None, |_, _| unreachable!(), 10_000);
    assert_eq!(late.await.unwrap(), EnrolOutcome::CodeUsed);
    // A revoked terminal is not handed back either.
    assert!(store.revoke_terminal(enrolled.id, 4_000).await.unwrap());
    let revoked = store.enrol_terminal("code-1", "counter-a", None, |_, _| unreachable!(), 5_000);
    assert_eq!(revoked.await.unwrap(), EnrolOutcome::CodeUsed);
}

pub async fn terminals_keep_keys_and_revocation<S: Storage>(store: S) {
    let shop = merchant("Shop");
    store.add_merchant(&shop, 1_000).await.unwrap();
    let (first, second) = (terminal(shop.id, "C1", "key-1"), terminal(shop.id, "C2", "key-2"));
    store.add_terminal(&first, 1_000).await.unwrap();
    store.add_terminal(&second, 1_000).await.unwrap();
    assert_eq!(store.terminal(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.terminal(TerminalId::generate()).await.unwrap(), None);

    let mut secrets = store.terminal_secrets().await.unwrap();
    secrets.sort();
    let mut expected = vec![(first.id, "key-1".to_owned()), (second.id, "key-2".to_owned())];
    expected.sort();
    assert_eq!(secrets, expected);
    store.replace_terminal_secret(first.id, "sealed-1").await.unwrap();
    assert_eq!(store.terminal(first.id).await.unwrap().unwrap().secret, "sealed-1");

    assert!(store.revoke_terminal(first.id, 2_000).await.unwrap());
    assert!(store.terminal(first.id).await.unwrap().unwrap().revoked);
    assert!(!store.terminal(second.id).await.unwrap().unwrap().revoked);
    assert!(!store.revoke_terminal(TerminalId::generate(), 2_000).await.unwrap());
}

pub async fn a_nonce_is_accepted_once_per_terminal<S: Storage>(store: S) {
    let (first, second) = (TerminalId::generate(), TerminalId::generate());
    assert!(store.use_request_nonce(first, &nonce(1), 10_000, None).await.unwrap());
    assert!(!store.use_request_nonce(first, &nonce(1), 10_000, None).await.unwrap(), "replayed");
    assert!(
        store.use_request_nonce(second, &nonce(1), 10_000, None).await.unwrap(),
        "per terminal"
    );
    // Purging forgets only nonces that expired before the given time.
    assert!(store.use_request_nonce(first, &nonce(2), 50_000, Some(20_000)).await.unwrap());
    assert!(store.use_request_nonce(first, &nonce(1), 60_000, None).await.unwrap(), "purged");
    assert!(!store.use_request_nonce(first, &nonce(2), 60_000, None).await.unwrap(), "kept");
}

pub async fn parallel_uses_of_a_nonce_accept_one<S: Storage>(store: S) {
    let terminal_id = TerminalId::generate();
    let store = Arc::new(store);
    let uses: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store.use_request_nonce(terminal_id, &nonce(3), 10_000, None).await.unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for used in uses {
        accepted += usize::from(used.await.unwrap());
    }
    assert_eq!(accepted, 1);
}
