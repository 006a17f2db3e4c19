//! Enrolling a counter again (`counter_core::re_enrolment`), headless, against the real
//! fund-server binary: only a manager, never while anything waits for the server under the
//! old terminal (an outbox entry, an unanswered reversal, an open payment code), and what
//! stays (history, staff) and what changes (the terminal, on a move the store).

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use counter_core::client::{ServerClient, TerminalCredentials};
use counter_core::counter::{Counter, now_ms};
use counter_core::staff::{Role, StaffSession};
use counter_core::store::TopUpStatus;
use counter_core::sync::{RoundOutcome, sync_round};
use tillfund_e2e::demo::{self, MEMBER_CODE};
use tillfund_e2e::free_port;
use tillfund_e2e::process::FundServer;

async fn staff(counter: &Counter) -> (StaffSession, StaffSession) {
    let manager = counter.add_staff(None, "Mia", Role::Manager, "2468", now_ms()).await.unwrap();
    let manager = counter.sign_in(manager.staff_id, "2468", now_ms()).await.unwrap();
    let cashier =
        counter.add_staff(Some(&manager), "Ben", Role::Cashier, "1357", now_ms()).await.unwrap();
    let cashier = counter.sign_in(cashier.staff_id, "1357", now_ms()).await.unwrap();
    (manager, cashier)
}

#[tokio::test]
async fn a_manager_enrols_again_only_when_nothing_waits_and_history_and_staff_stay() {
    let server_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start(server_dir.path(), &listen).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    let first = counter
        .enrol(&server.url, &demo::activation_code(server_dir.path()), "Till")
        .await
        .unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let (manager, cashier) = staff(&counter).await;

    // First-run enrolment is over: the same path cannot replace the terminal.
    let code = demo::activation_code(server_dir.path());
    let again = counter.enrol(&server.url, &code, "Till").await.unwrap_err();
    assert_eq!(again.code(), "already_enrolled");
    let refused = counter.re_enrol(&cashier, &server.url, &code, "Till").await.unwrap_err();
    assert_eq!(refused.code(), "manager_required");

    // A top-up waits in the outbox: signed with the old key when sent, it must go first.
    let preview = counter.preview_top_up(MEMBER_CODE, "200.00").await.unwrap();
    let top_up = counter.record_top_up(None, &preview).await.unwrap();
    let refused = counter.re_enrol(&manager, &server.url, &code, "Till").await.unwrap_err();
    assert_eq!(refused.code(), "unsynced_entries");
    assert!(refused.to_string().starts_with("1 top-up still waits for the server"), "{refused}");
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let stored = counter.store().top_up(top_up.entry_id).await.unwrap().unwrap();
    assert_eq!(stored.status, TopUpStatus::Confirmed);

    // A reversal sent and unanswered is keyed by the old terminal on the server: resent
    // under a new one it would give the cash back twice.
    let attempt =
        counter.store().begin_reversal(top_up.entry_id, 5_000, now_ms(), None).await.unwrap();
    let refused = counter.re_enrol(&manager, &server.url, &code, "Till").await.unwrap_err();
    assert_eq!(refused.code(), "unsynced_entries");
    assert!(refused.to_string().starts_with("1 top-up reversal still waits"), "{refused}");
    // A payment code the customer can still pay names the old terminal.
    let order = counter.create_order(None, "3.00").await.unwrap();
    let refused = counter.re_enrol(&manager, &server.url, &code, "Till").await.unwrap_err();
    assert!(
        refused.to_string().starts_with("1 top-up reversal, 1 open payment code still wait"),
        "{refused}"
    );
    counter.cancel_order(order.order_id).await.unwrap();
    // The sync round finishes the reversal under the terminal it was keyed with, once.
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    assert!(counter.store().unanswered_reversals(10).await.unwrap().is_empty());
    assert_eq!(counter.store().reversed_of(attempt.entry_id).await.unwrap(), 5_000);
    assert!(counter.waiting_for_server().await.unwrap().is_empty());

    // Now it goes: a new terminal of the same store; history and staff stay.
    let old_credentials = counter.profile().await.unwrap().credentials().unwrap();
    let client = ServerClient::new(&server.url).unwrap();
    client.settlement(&old_credentials, "2020-01-01").await.unwrap();
    let done = counter.re_enrol(&manager, &server.url, &code, "Till 2").await.unwrap();
    // The old terminal is revoked with it: its key, in a backup of this database, signs
    // nothing more.
    let revoked = client.settlement(&old_credentials, "2020-01-01").await.unwrap_err();
    assert_eq!(revoked.code(), "terminal_revoked", "{revoked}");
    assert_eq!(done.previous_terminal_id, first.terminal_id);
    assert_ne!(done.profile.terminal_id, first.terminal_id);
    assert!(!done.store_changed);
    assert_eq!(counter.profile().await.unwrap(), done.profile);
    assert_eq!(counter.staff().await.unwrap().len(), 2);
    let history = counter.recent_top_ups(10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].entry_id, history[0].reversed), (top_up.entry_id, 5_000));
    // The used code does not enrol a third terminal.
    let used = counter.re_enrol(&manager, &server.url, &code, "Till 3").await.unwrap_err();
    assert_eq!(used.code(), "activation_code_used");

    // The new terminal works: the cache refills, a top-up syncs and can be reversed.
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(MEMBER_CODE, "10.00").await.unwrap();
    let newer = counter.record_top_up(None, &preview).await.unwrap();
    assert!(newer.receipt_number.starts_with(&done.profile.receipt_prefix));
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let reversed = counter.reverse_top_up(None, newer.entry_id, "4.00").await.unwrap();
    assert_eq!((reversed.amount, reversed.reversed_total), (400, 400));
    // So can the old terminal's top-up, from here: the request names the terminal that took
    // it, which the server keys it by, and which this one replaced at this store. What it
    // may still give back counts the reversal made under the old terminal (200 − 50).
    let listed = counter.recent_top_ups(10).await.unwrap();
    let earlier: Vec<bool> = listed.iter().map(|top_up| top_up.earlier_enrolment).collect();
    assert_eq!(earlier, [false, false], "newest first; both reversible here");
    let too_much = counter.reverse_top_up(None, top_up.entry_id, "150.01").await.unwrap_err();
    assert_eq!(too_much.code(), "reversal_exceeds_top_up", "{too_much}");
    let reversed = counter.reverse_top_up(None, top_up.entry_id, "20.00").await.unwrap();
    assert_eq!((reversed.amount, reversed.reversed_total), (2_000, 7_000));
    // One whose answer never came is resent by the sync round, naming the same terminal,
    // and given back once.
    counter.store().begin_reversal(top_up.entry_id, 1_000, now_ms(), None).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    assert!(counter.store().unanswered_reversals(10).await.unwrap().is_empty());
    assert_eq!(counter.store().reversed_of(top_up.entry_id).await.unwrap(), 8_000);
    // The day adds up across the change: the server counts this counter's records of the
    // day under both its terminals (the new one replaced the old at this store), the
    // reversal of the old top-up under the old terminal.
    let today = counter.store_today().await.unwrap();
    let report = counter.day_report(today).await.unwrap();
    assert_eq!(report.matches, Some(true), "{report:?}");
    let server_day = report.server.unwrap().this_terminal_in_day.unwrap();
    assert_eq!((server_day.top_up_count, server_day.reversal_count), (2, 4));

    // Moved to another store: the customer list is the new store's (the demo customer is
    // not bound there), the history stays.
    let (ok, stdout, stderr) =
        demo::fund_server_cli(server_dir.path(), &["merchant", "add", "--name", "Other Store"]);
    assert!(ok, "{stderr}");
    let other_store = stdout.split_whitespace().nth(1).unwrap().to_owned();
    let (ok, stdout, stderr) = demo::fund_server_cli(
        server_dir.path(),
        &["terminal", "activation-code", "--merchant", &other_store],
    );
    assert!(ok, "{stderr}");
    let other_code = stdout.split_whitespace().nth(2).unwrap().to_owned();
    let moved = counter.re_enrol(&manager, &server.url, &other_code, "Till 4").await.unwrap();
    assert!(moved.store_changed);
    assert_eq!(moved.profile.merchant_id.to_string(), other_store);
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    assert_eq!(
        counter.preview_top_up(MEMBER_CODE, "1.00").await.unwrap_err().code(),
        "customer_not_found"
    );
    // The top-ups taken at the first store are not this store's to reverse: the counter
    // says so before asking.
    let listed = counter.recent_top_ups(10).await.unwrap();
    let earlier: Vec<bool> = listed.iter().map(|top_up| top_up.earlier_enrolment).collect();
    assert_eq!(earlier, [true, true]);
    let refused = counter.reverse_top_up(None, top_up.entry_id, "1.00").await.unwrap_err();
    assert_eq!(refused.code(), "top_up_of_earlier_enrolment");
    assert_eq!(counter.store().reversed_of(top_up.entry_id).await.unwrap(), 8_000);
    assert!(server.stop().unwrap().success());
}

/// An enrolment that says it replaces a terminal must hold that terminal's key, for this
/// code and public key: a made-up or borrowed proof revokes nothing and burns no code.
#[tokio::test]
async fn an_enrolment_replaces_only_a_terminal_whose_key_signed_it() {
    let (server_dir, server, _counter_dir, victim) = enrolled_counter().await;
    let victim_credentials = victim.profile().await.unwrap().credentials().unwrap();
    let client = ServerClient::new(&server.url).unwrap();

    // Another counter names the victim's terminal with a key of its own.
    let code = demo::activation_code(server_dir.path());
    let forged = TerminalCredentials {
        terminal_id: victim_credentials.terminal_id,
        key: tillfund_core::signing::TerminalKey::from_bytes([7; 32]),
    };
    let refused = client.enrol(&code, "Intruder", Some(&forged)).await.unwrap_err();
    assert_eq!(refused.code(), "replaced_terminal_unproven", "{refused}");
    // A terminal that does not exist reads the same.
    let nobody = TerminalCredentials {
        terminal_id: tillfund_core::TerminalId::generate(),
        key: tillfund_core::signing::TerminalKey::from_bytes([7; 32]),
    };
    let refused = client.enrol(&code, "Intruder", Some(&nobody)).await.unwrap_err();
    assert_eq!(refused.code(), "replaced_terminal_unproven", "{refused}");

    // A real proof seen on the wire, for one code and public key, is worth nothing for
    // another code or key.
    let public_key = "ab".repeat(32);
    let seen = victim_credentials.key.replacement_proof(&code, &public_key);
    let other_code = demo::activation_code(server_dir.path());
    for (activation_code, key) in [(other_code.as_str(), &public_key), (&code, &"cd".repeat(32))] {
        let replaces = (victim_credentials.terminal_id, seen.as_str());
        let (status, body) = raw_enrol(&server.url, activation_code, key, Some(replaces)).await;
        assert_eq!(status, 422);
        assert_eq!(body["code"], "replaced_terminal_unproven", "{body}");
    }

    // Nothing was revoked and the code was not used: the victim still works, and the code
    // enrols a counter that replaces nobody.
    client.enrol(&code, "Honest", None).await.unwrap();
    client.settlement(&victim_credentials, "2020-01-01").await.unwrap();
    assert!(server.stop().unwrap().success());
}

/// An enrolment straight over HTTP, as a counter or an attacker sends it; the answer's status
/// and body.
async fn raw_enrol(
    server_url: &str,
    activation_code: &str,
    public_key: &str,
    replaces: Option<(tillfund_core::TerminalId, &str)>,
) -> (u16, serde_json::Value) {
    let mut body = serde_json::json!({
        "activation_code": activation_code, "label": "Raw", "public_key": public_key,
    });
    if let Some((terminal_id, proof)) = replaces {
        body["replaces"] = serde_json::json!({"terminal_id": terminal_id, "proof": proof});
    }
    let answer = reqwest::Client::new()
        .post(format!("{server_url}/v1/terminals/enrol"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

/// A terminal is replaced once: the retry of an enrolment must name the terminal its first
/// request named, and a second enrolment naming the same terminal (from a copy of its key)
/// revokes nothing more and takes none of its day's figures.
#[tokio::test]
async fn a_terminal_is_replaced_once_and_a_retry_must_name_the_same_one() {
    let (server_dir, server, _counter_dir, counter) = enrolled_counter().await;
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(MEMBER_CODE, "20.00").await.unwrap();
    let taken = counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let old = counter.profile().await.unwrap().credentials().unwrap();
    let today = counter.store_today().await.unwrap().to_string();
    let client = ServerClient::new(&server.url).unwrap();

    let code = demo::activation_code(server_dir.path());
    let public_key = "ab".repeat(32);
    let proof = old.key.replacement_proof(&code, &public_key);
    let replaces = Some((old.terminal_id, proof.as_str()));
    let (status, first) = raw_enrol(&server.url, &code, &public_key, replaces).await;
    assert_eq!(status, 200, "{first}");
    // The same enrolment again without naming the old terminal is not a retry.
    let (status, body) = raw_enrol(&server.url, &code, &public_key, None).await;
    assert_eq!((status, &body["code"]), (409, &serde_json::json!("activation_code_used")));
    // Named the same: the lost answer, given again; the old terminal is revoked.
    let (status, again) = raw_enrol(&server.url, &code, &public_key, replaces).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["terminal_id"], first["terminal_id"]);
    let revoked = client.settlement(&old, &today).await.unwrap_err();
    assert_eq!(revoked.code(), "terminal_revoked");

    // A second enrolment with the old key (a copy of its database) enrols, but the old
    // terminal's day is not its own.
    let copy_code = demo::activation_code(server_dir.path());
    let copy = client.enrol(&copy_code, "Copy", Some(&old)).await.unwrap();
    let copy_credentials = TerminalCredentials {
        terminal_id: copy.terminal_id,
        key: tillfund_core::signing::TerminalKey::from_hex(&copy.terminal_key).unwrap(),
    };
    let day = client.settlement(&copy_credentials, &today).await.unwrap();
    assert_eq!(day.this_terminal_in_day.unwrap().top_up_count, 0, "the copy adopts nothing");
    assert_eq!(day.figures.top_up_count, 1, "the store's day is whole");
    // Nor its top-ups: naming the old terminal, the copy reverses nothing of them, and
    // neither does another counter of the store that never replaced it.
    let stranger_code = demo::activation_code(server_dir.path());
    let stranger = client.enrol(&stranger_code, "Other", None).await.unwrap();
    let stranger = TerminalCredentials {
        terminal_id: stranger.terminal_id,
        key: tillfund_core::signing::TerminalKey::from_hex(&stranger.terminal_key).unwrap(),
    };
    for (index, credentials) in [&copy_credentials, &stranger].into_iter().enumerate() {
        let key = format!("steal-{index}");
        let refused = client.reverse_top_up(
            credentials,
            Some(old.terminal_id),
            taken.entry_id,
            100,
            None,
            &key,
        );
        let refused = refused.await.unwrap_err();
        assert_eq!(refused.code(), "top_up_not_found", "{refused}");
    }
    let day = client.settlement(&copy_credentials, &today).await.unwrap();
    assert_eq!(day.figures.reversal_count, 0, "nothing was given back");
    assert!(server.stop().unwrap().success());
}

/// Two enrolments replacing the same terminal at once (the counter and a copy of its key,
/// racing): both enrol and the old terminal is revoked, but exactly one of them replaced
/// it, so only that one counts the old terminal's day.
#[tokio::test]
async fn two_enrolments_replacing_one_terminal_at_once_give_it_one_successor() {
    let (server_dir, server, _counter_dir, counter) = enrolled_counter().await;
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(MEMBER_CODE, "20.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let old = counter.profile().await.unwrap().credentials().unwrap();
    let today = counter.store_today().await.unwrap().to_string();
    let client = ServerClient::new(&server.url).unwrap();

    let codes =
        [demo::activation_code(server_dir.path()), demo::activation_code(server_dir.path())];
    let (first, second) = tokio::join!(
        client.enrol(&codes[0], "Racer 1", Some(&old)),
        client.enrol(&codes[1], "Racer 2", Some(&old)),
    );
    let revoked = client.settlement(&old, &today).await.unwrap_err();
    assert_eq!(revoked.code(), "terminal_revoked");
    let mut adopted = Vec::new();
    for enrolment in [first.unwrap(), second.unwrap()] {
        let credentials = TerminalCredentials {
            terminal_id: enrolment.terminal_id,
            key: tillfund_core::signing::TerminalKey::from_hex(&enrolment.terminal_key).unwrap(),
        };
        let day = client.settlement(&credentials, &today).await.unwrap();
        adopted.push(day.this_terminal_in_day.unwrap().top_up_count);
    }
    adopted.sort_unstable();
    assert_eq!(adopted, [0, 1], "one successor counts the old day, the other nothing");
    assert!(server.stop().unwrap().success());
}

/// A fund server with the demo store, and one counter enrolled at it (the directories live
/// as long as the caller keeps them).
async fn enrolled_counter() -> (tempfile::TempDir, FundServer, tempfile::TempDir, Counter) {
    let server_dir = tempfile::tempdir().unwrap();
    let server =
        FundServer::start(server_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &demo::activation_code(server_dir.path()), "Till").await.unwrap();
    (server_dir, server, counter_dir, counter)
}
