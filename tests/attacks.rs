//! Attacks on the real `fund-server` binary, each the way it was first carried out against
//! an earlier version: a used activation code, captured and replayed requests, parallel PIN
//! guesses, odd headers and queries, counter clocks in the future, ids shared between
//! counters, a squatted order, files readable by others. Every attack must be refused and
//! leave the ledger as it was; the audit must pass afterwards.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::enrolment::CounterHandshake;
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::signing::{NONCE_HEADER, TIMESTAMP_HEADER, new_nonce};
use tillfund_core::{OrderId, OutboxEntryId, PositiveAmount};
use tillfund_e2e::demo::{MERCHANT_ID, fund_server_cli};
use tillfund_e2e::process::FundServer;
use tillfund_e2e::raw_counter::{Target, Till, now_ms};

fn assert_refused(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!((status, body["code"].as_str()), (expected_status, Some(code)), "{body}");
    assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()), "{body}");
}

#[tokio::test]
async fn a_used_activation_code_hands_out_nothing_that_signs() {
    let target = Target::start(&[]);
    let code = target.activation_code(MERCHANT_ID);
    let counter = CounterHandshake::new().unwrap();
    let counter_public = counter.public_key_hex();
    let (status, first) = target.enrol_raw(&code, &counter_public).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let terminal_id = first["terminal_id"].as_str().unwrap().to_owned();
    let key = counter.finish(&terminal_id, first["server_public_key"].as_str().unwrap()).unwrap();
    let answer_text = first.to_string();
    assert!(!answer_text.contains(&key.to_hex()), "the key never crosses the wire: {answer_text}");
    assert!(first.get("terminal_key").is_none());

    // Whoever read the code off the sticky note, with an idempotency key derived from it
    // as the old counter did, and a key pair of their own: refused.
    let thief = CounterHandshake::new().unwrap();
    let response = target
        .http
        .post(target.url("/v1/terminals/enrol"))
        .header("idempotency-key", format!("enrol-{code}"))
        .json(&json!({"activation_code": code, "label": "Till", "public_key": thief.public_key_hex()}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_refused(status, &body, StatusCode::CONFLICT, "activation_code_used");
    // Replaying the counter's own request gives them the public answer, and the key they
    // derive with their private half signs nothing.
    let (status, replayed) = target.enrol_raw(&code, &counter_public).await;
    assert_eq!(status, StatusCode::OK);
    let guessed =
        thief.finish(&terminal_id, replayed["server_public_key"].as_str().unwrap()).unwrap();
    assert_ne!(guessed, key);
    let forged = Till {
        url: target.server.url.clone(),
        http: target.http.clone(),
        terminal_id: terminal_id.parse().unwrap(),
        merchant_id: MERCHANT_ID.parse().unwrap(),
        key: guessed,
    };
    let (status, body) = forged.signed(Method::GET, "/v1/sync/bindings", Value::Null, "").await;
    assert_refused(status, &body, StatusCode::UNAUTHORIZED, "signature_invalid");
    let genuine = Till { key, ..forged };
    let (status, body) = genuine.signed(Method::GET, "/v1/sync/bindings", Value::Null, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    target.stop_and_audit();
}

#[tokio::test]
async fn a_captured_signed_request_is_used_once_and_its_idempotency_key_is_signed() {
    let target = Target::start(&[]);
    let till = target.enrol(MERCHANT_ID).await;
    let (customer_id, token) = target.customer("13900139001", &[MERCHANT_ID]).await;
    let top_up_id = OutboxEntryId::generate();
    assert_eq!(till.top_up(top_up_id, &customer_id, 1_000).await["outcome"], "applied");
    let order_id = OrderId::generate();
    let (status, paid) = target.pay(&token, &till.payment_token(order_id, 500)).await;
    assert_eq!(status, StatusCode::OK, "{paid}");

    // A refund of 1.00 is captured on the wire, then sent again as it was and with fresh
    // idempotency keys.
    let refund = till.sign(
        Method::POST,
        "/v1/terminal/refunds",
        &json!({"order_id": order_id, "amount": 100}),
        "refund-1",
    );
    let (status, body) = till.send(&refund).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for attempt in 0..3 {
        let (status, body) = till.send(&refund).await;
        assert_refused(status, &body, StatusCode::UNAUTHORIZED, "request_replayed");
        let rekeyed =
            refund.clone().with_header("idempotency-key", &format!("refund-replay-{attempt}"));
        let (status, body) = till.send(&rekeyed).await;
        assert_refused(status, &body, StatusCode::UNAUTHORIZED, "signature_invalid");
        // A fresh nonce without a new signature does not help either.
        let renonced = refund.clone().with_header(NONCE_HEADER, &new_nonce());
        let (status, body) = till.send(&renonced).await;
        assert_refused(status, &body, StatusCode::UNAUTHORIZED, "signature_invalid");
    }
    // The same for a top-up reversal of 1.00.
    let reversal = till.sign(
        Method::POST,
        "/v1/terminal/top-up-reversals",
        &json!({"top_up_entry_id": top_up_id, "amount": 100}),
        "reversal-1",
    );
    assert_eq!(till.send(&reversal).await.0, StatusCode::OK);
    for attempt in 0..3 {
        assert_eq!(till.send(&reversal).await.0, StatusCode::UNAUTHORIZED);
        let rekeyed =
            reversal.clone().with_header("idempotency-key", &format!("reversal-replay-{attempt}"));
        assert_eq!(till.send(&rekeyed).await.0, StatusCode::UNAUTHORIZED);
    }
    // 10.00 in, 5.00 paid, 1.00 refunded once, 1.00 reversed once.
    let wallet = target.wallet(&token).await;
    assert_eq!(wallet["total"], 1_000 - 500 + 100 - 100, "{wallet}");
    target.stop_and_audit();
}

#[tokio::test]
async fn parallel_pin_guesses_are_counted_before_they_are_checked() {
    // The rate limits are raised so that every guess reaches the PIN check.
    let target = Target::start(&[("TILLFUND_RATE_LIMIT_FACTOR", "1000")]);
    target.customer("13900139002", &[MERCHANT_ID]).await;
    let mut guesses = Vec::new();
    for index in 0..40 {
        // 39 wrong PINs and the right one, sent together.
        let pin = if index == 20 { "123456".to_owned() } else { format!("{:06}", 200_000 + index) };
        let http = target.http.clone();
        let url = target.url("/v1/sessions");
        guesses.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .json(&json!({"phone": "13900139002", "pin": pin}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body["code"].as_str().unwrap_or("").to_owned())
        }));
    }
    let mut wrong_checked = 0;
    let mut signed_in = 0;
    let mut locked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            (StatusCode::OK, _) => signed_in += 1,
            (StatusCode::UNAUTHORIZED, code) if code == "sign_in_failed" => wrong_checked += 1,
            (StatusCode::LOCKED, code) if code == "wallet_locked" => locked += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    // Four wrong PINs are answered as wrong, the fifth locks the wallet. A right PIN
    // checked before the lock starts the count again (as it must for the customer), so
    // then at most four more are answered as wrong before the next lock. (The stricter
    // "at most five checked" failed now and then under load, when the right PIN, sent
    // twentieth, was checked before the fifth wrong one.)
    assert!(signed_in <= 1, "{signed_in} signed in");
    assert!(
        wrong_checked <= 4 * (1 + signed_in),
        "{wrong_checked} wrong checked, {signed_in} signed in"
    );
    assert_eq!(wrong_checked + signed_in + locked, 40, "{locked} locked");
    if signed_in == 0 {
        // The right PIN came too late: the wallet stays locked for it too.
        let (status, body) = target
            .json(
                Method::POST,
                "/v1/sessions",
                json!({"phone": "13900139002", "pin": "123456"}),
                &[],
            )
            .await;
        assert_refused(status, &body, StatusCode::LOCKED, "wallet_locked");
    }
    target.stop_and_audit();
}

#[tokio::test]
async fn the_json_api_has_the_rate_limits_of_the_pages() {
    let target = Target::start(&[]);
    let mut answers = Vec::new();
    for index in 0..200 {
        let http = target.http.clone();
        let url = target.url("/v1/sessions");
        answers.push(tokio::spawn(async move {
            let phone = format!("139{:08}", 10_000 + index);
            http.post(url)
                .json(&json!({"phone": phone, "pin": "000000"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut limited = 0;
    for answer in answers {
        if answer.await.unwrap() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    // 20 sign-ins a minute per address, as on the pages.
    assert_eq!(limited, 180);
    // Per phone, +86 and the bare number count as one: 8 a minute.
    let target = Target::start(&[]);
    let mut statuses = Vec::new();
    for index in 0..10 {
        let phone = if index % 2 == 0 { "+86 139 0013 9003" } else { "13900139003" };
        let (status, _) = target
            .json(Method::POST, "/v1/sessions", json!({"phone": phone, "pin": "000000"}), &[])
            .await;
        statuses.push(status);
    }
    assert!(statuses[..8].iter().all(|status| *status == StatusCode::UNAUTHORIZED), "{statuses:?}");
    assert!(
        statuses[8..].iter().all(|status| *status == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn no_header_query_or_body_value_panics_or_answers_500() {
    let target = Target::start(&[]);
    let till = target.enrol(MERCHANT_ID).await;
    for timestamp in [i64::MIN, i64::MAX, 0, -1] {
        let captured = till.sign_at(Method::GET, "/v1/sync/bindings", &Value::Null, "", timestamp);
        let (status, body) = till.send(&captured).await;
        assert_refused(status, &body, StatusCode::UNAUTHORIZED, "clock_skew");
    }
    for text in ["-9223372036854775809", "9223372036854775808", "1e3", "", " 1", "０"] {
        let captured = till
            .sign(Method::GET, "/v1/sync/bindings", &Value::Null, "")
            .with_header(TIMESTAMP_HEADER, text);
        let (status, body) = till.send(&captured).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text:?}: {body}");
    }
    let queries = [
        "/v1/terminal/settlement?day=9999-12-31",
        "/v1/terminal/settlement?day=0000-01-01",
        "/v1/terminal/settlement?day=-0001-01-01",
        "/v1/terminal/settlement?day=2026-02-30",
        "/v1/terminal/settlement?day=abc",
        "/v1/terminal/settlement",
        "/v1/terminal/settlement?day=%FF",
        "/v1/sync/payments?after=-1&wait_ms=18446744073709551615",
        "/v1/sync/payments?after=9223372036854775807",
        "/v1/sync/payments?after=99999999999999999999",
        "/v1/sync/bindings?after=-9223372036854775808&limit=-9223372036854775808",
        "/v1/sync/bindings?limit=9223372036854775807",
    ];
    for path in queries {
        let (status, body) = till.signed(Method::GET, path, Value::Null, "").await;
        assert!(status.is_success() || status.is_client_error(), "{path}: {status} {body}");
        if !status.is_success() {
            assert!(body["code"].is_string() && body["message"].is_string(), "{path}: {body}");
        }
    }
    let bodies = [
        ("/v1/terminal/settlement/close", json!({"day": "9999-12-31"})),
        ("/v1/terminal/settlement/close", json!({"day": "+10000-01-01"})),
        ("/v1/terminal/refunds", json!({"order_id": OrderId::generate(), "amount": i64::MAX})),
        ("/v1/terminal/refunds", json!({"order_id": OrderId::generate(), "amount": i64::MIN})),
        ("/v1/terminal/top-up-reversals", json!({"top_up_entry_id": "x", "amount": 1})),
        (
            "/v1/sync/push",
            json!({"entries": [{"id": OutboxEntryId::generate(), "sequence": u64::MAX,
            "recorded_at_ms": i64::MIN, "action": {"type": "cash_top_up", "customer_id": OrderId::generate(),
            "amount": i64::MAX, "bonus_shown": i64::MIN, "bonus_rule_version": u32::MAX}}]}),
        ),
    ];
    for (path, body) in bodies {
        let (status, answer) = till.signed(Method::POST, path, body.clone(), &new_nonce()).await;
        assert!(
            status.is_success() || status.is_client_error(),
            "{path} {body}: {status} {answer}"
        );
        if !status.is_success() {
            assert!(answer["code"].is_string(), "{path}: {answer}");
        }
    }
    // Refusals made outside any handler are `{code, message}` too.
    let (status, body) = target.json(Method::DELETE, "/v1/sessions", Value::Null, &[]).await;
    assert_refused(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let response = target
        .http
        .post(target.url("/v1/sessions"))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
        .unwrap();
    let status = response.status();
    // The body was refused unread, so the connection closes; the client must be told.
    assert_eq!(
        response.headers().get("connection").and_then(|value| value.to_str().ok()),
        Some("close")
    );
    let body: Value = response.json().await.unwrap();
    assert_refused(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let (status, body) = target.json(Method::GET, "/healthz", Value::Null, &[]).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    target.stop_and_audit();
}

#[tokio::test]
async fn counter_times_are_bounded_by_enrolment_and_the_servers_clock() {
    let target = Target::start(&[]);
    let till = target.enrol(MERCHANT_ID).await;
    let (customer_id, token) = target.customer("13900139004", &[MERCHANT_ID]).await;
    // Year 9999: never settled by any close, kept in the drawer for ever. Refused.
    let year_9999 = 253_402_300_799_000;
    let hundred_days_ago = now_ms() - 100 * 24 * 60 * 60 * 1000;
    for recorded_at_ms in [year_9999, i64::MAX, hundred_days_ago, i64::MIN] {
        let result =
            till.top_up_at(OutboxEntryId::generate(), &customer_id, 1_000, recorded_at_ms).await;
        assert_eq!(
            (result["outcome"].as_str(), result["code"].as_str()),
            (Some("rejected"), Some("recorded_at_out_of_range")),
            "{result}"
        );
    }
    assert_eq!(target.wallet(&token).await["total"], 0);
    // An honest entry from a moment ago is applied.
    let result =
        till.top_up_at(OutboxEntryId::generate(), &customer_id, 1_000, now_ms() - 60_000).await;
    assert_eq!(result["outcome"], "applied", "{result}");
    target.stop_and_audit();
}

#[tokio::test]
async fn entry_ids_are_scoped_to_the_counter_that_made_them() {
    let target = Target::start(&[]);
    let first = target.enrol(MERCHANT_ID).await;
    let second = target.enrol(MERCHANT_ID).await;
    let (ann, ann_token) = target.customer("13900139005", &[MERCHANT_ID]).await;
    let (bob, bob_token) = target.customer("13900139006", &[MERCHANT_ID]).await;
    // Two counters happen to use the same entry id.
    let shared_id = OutboxEntryId::generate();
    assert_eq!(first.top_up(shared_id, &ann, 300).await["outcome"], "applied");
    assert_eq!(second.top_up(shared_id, &bob, 1_000).await["outcome"], "applied");
    // The second counter reverses "its" 10.00: it reaches its own top-up, never the first's.
    let (status, body) = second
        .signed(
            Method::POST,
            "/v1/terminal/top-up-reversals",
            json!({"top_up_entry_id": shared_id, "amount": 1_000}),
            "reverse-bob",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(target.wallet(&ann_token).await["total"], 300);
    assert_eq!(target.wallet(&bob_token).await["total"], 0);
    // The first counter cannot reverse 10.00 against the 3.00 it took.
    let (status, body) = first
        .signed(
            Method::POST,
            "/v1/terminal/top-up-reversals",
            json!({"top_up_entry_id": shared_id, "amount": 1_000}),
            "reverse-ann",
        )
        .await;
    assert_refused(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "reversal_exceeds_top_up");
    assert_eq!(target.wallet(&ann_token).await["total"], 300);
    target.stop_and_audit();
}

#[tokio::test]
async fn another_store_cannot_squat_an_order_id_read_off_a_qr_code() {
    let target = Target::start(&[]);
    let other_store = target.add_merchant("Other Store");
    let store_till = target.enrol(MERCHANT_ID).await;
    let rogue_till = target.enrol(&other_store).await;
    let (_, customer_token) = target.customer("13900139007", &[MERCHANT_ID]).await;
    let (accomplice, accomplice_token) = target.customer("13900139008", &[&other_store]).await;
    let (customer_id, _) =
        (target.wallet(&customer_token).await["customer"]["customer_id"].clone(), ());
    assert!(customer_id.is_string());
    assert_eq!(
        store_till.top_up(OutboxEntryId::generate(), customer_id.as_str().unwrap(), 5_000).await["outcome"],
        "applied"
    );
    assert_eq!(
        rogue_till.top_up(OutboxEntryId::generate(), &accomplice, 100).await["outcome"],
        "applied"
    );
    // The store shows a QR for 38.50; the rogue counter copies its order id into a 0.01
    // token of its own and pays it first.
    let order_id = OrderId::generate();
    let real_token = store_till.payment_token(order_id, 3_850);
    let (status, body) =
        target.pay(&accomplice_token, &rogue_till.payment_token(order_id, 1)).await;
    assert_eq!(status, StatusCode::OK, "the rogue pays its own order: {body}");
    // The real customer still pays the real order.
    let (status, body) = target.pay(&customer_token, &real_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(target.wallet(&customer_token).await["total"], 5_000 - 3_850);
    // And the store's counter hears of its own payment.
    let (status, paid) =
        store_till.signed(Method::GET, "/v1/sync/payments?after=0", Value::Null, "").await;
    assert_eq!(status, StatusCode::OK);
    let orders = paid["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{paid}");
    assert_eq!(orders[0]["amount"], 3_850);
    target.stop_and_audit();
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_database_and_the_secrets_key_are_readable_by_the_server_alone() {
    let target = Target::start(&[]);
    let till = target.enrol(MERCHANT_ID).await;
    let data = target.data_dir.path();
    for name in [
        "fund.sqlite",
        "fund.sqlite-wal",
        "fund.sqlite-shm",
        "fund.counters.sqlite",
        "fund.counters.sqlite-wal",
        "secrets.key",
    ] {
        assert_eq!(mode_of(&data.join(name)), 0o600, "{name}");
    }
    let data_dir = target.data_dir;
    assert!(target.server.stop().unwrap().success());
    // The terminal key is sealed: the database file alone does not hold it.
    let database = std::fs::read(data_dir.path().join("fund.sqlite")).unwrap();
    let key_hex = till.key.to_hex();
    assert!(!database.windows(key_hex.len()).any(|window| window == key_hex.as_bytes()));
    // A database left readable by others by an earlier version is closed at start.
    let database_path = data_dir.path().join("fund.sqlite");
    std::fs::set_permissions(&database_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let again = FundServer::start(data_dir.path(), "127.0.0.1:0").unwrap();
    assert_eq!(mode_of(&database_path), 0o600);
    // The key still opens with the key file: the counter keeps working after a restart.
    let till = Till { url: again.url.clone(), ..till };
    assert_eq!(
        till.signed(Method::GET, "/v1/sync/bindings", Value::Null, "").await.0,
        StatusCode::OK
    );
    assert!(again.stop().unwrap().success());
    // Without its key file the server refuses to start rather than lock every counter out.
    std::fs::rename(data_dir.path().join("secrets.key"), data_dir.path().join("secrets.key.moved"))
        .unwrap();
    let refused = FundServer::start(data_dir.path(), "127.0.0.1:0");
    assert!(refused.is_err(), "a server with a new secrets key must not start on old sealed keys");
}

#[tokio::test]
async fn lesser_leaks_are_closed() {
    let operator_token = "an-operator-token-of-thirty-two-chars";
    let target = Target::start(&[("TILLFUND_OPERATOR_TOKEN", operator_token)]);
    let (_, token) = target.customer("13900139009", &[MERCHANT_ID]).await;

    // Sign-in does not tell a known phone from an unknown one.
    let (known_status, known) = target
        .json(Method::POST, "/v1/sessions", json!({"phone": "13900139009", "pin": "000000"}), &[])
        .await;
    let (unknown_status, unknown) = target
        .json(Method::POST, "/v1/sessions", json!({"phone": "13900139010", "pin": "000000"}), &[])
        .await;
    assert_eq!((known_status, &known), (unknown_status, &unknown));
    assert_refused(known_status, &known, StatusCode::UNAUTHORIZED, "sign_in_failed");

    // A reused idempotency key does not show the server's key (with the customer id).
    let till = target.enrol(MERCHANT_ID).await;
    let (customer_id, _) =
        (target.wallet(&token).await["customer"]["customer_id"].as_str().unwrap().to_owned(), ());
    till.top_up(OutboxEntryId::generate(), &customer_id, 2_000).await;
    let headers =
        [("authorization", format!("Bearer {token}")), ("idempotency-key", "same".to_owned())];
    let headers: Vec<(&str, &str)> =
        headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let first = till.payment_token(OrderId::generate(), 100);
    let second = till.payment_token(OrderId::generate(), 200);
    let (status, _) = target
        .json(Method::POST, "/v1/payments", json!({"token": first, "pin": "123456"}), &headers)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = target
        .json(Method::POST, "/v1/payments", json!({"token": second, "pin": "123456"}), &headers)
        .await;
    assert_refused(status, &body, StatusCode::CONFLICT, "idempotency_key_reused");
    assert!(!body.to_string().contains(&customer_id), "{body}");

    // A payment code valid for a year was not made by a working counter.
    let far = PaymentClaims {
        merchant_id: till.merchant_id,
        terminal_id: till.terminal_id,
        order_id: OrderId::generate(),
        amount: PositiveAmount::try_from(100).unwrap(),
        currency: "CNY".to_owned(),
        expires_at_ms: now_ms() + 365 * 24 * 60 * 60 * 1000,
    }
    .sign(&till.key);
    let (status, body) = target.pay(&token, &far).await;
    assert_refused(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "token_expiry_too_far");

    // Names that hide or reorder what follows are refused.
    let (status, body) = target
        .json(
            Method::POST,
            "/v1/customers",
            json!({"phone": "13900139011", "display_name": "Ann\u{202E}gnp.exe", "pin": "123456", "merchant_ids": []}),
            &[("idempotency-key", "rlo")],
        )
        .await;
    assert_refused(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "display_name_invalid");

    // The start page has the pages' content security policy.
    let start = target.http.get(target.url("/")).send().await.unwrap();
    assert!(
        start.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );

    // Wrong operator tokens are limited per address; past the limit even the right one waits.
    for _ in 0..10 {
        let (status, body) = target
            .json(
                Method::GET,
                "/v1/operator/status",
                Value::Null,
                &[("authorization", "Bearer guess-guess-guess-guess")],
            )
            .await;
        assert_refused(status, &body, StatusCode::UNAUTHORIZED, "operator_token_invalid");
    }
    let bearer = format!("Bearer {operator_token}");
    let (status, body) = target
        .json(Method::GET, "/v1/operator/status", Value::Null, &[("authorization", &bearer)])
        .await;
    assert_refused(status, &body, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");

    // The operator token cannot be given on the command line, where `ps` shows it.
    let (ok, _, stderr) =
        fund_server_cli(target.data_dir.path(), &["--operator-token", operator_token, "migrate"]);
    assert!(!ok, "{stderr}");
    target.stop_and_audit();
}

#[tokio::test]
async fn long_polls_are_capped_per_counter() {
    let target = Target::start(&[]);
    let till = target.enrol(MERCHANT_ID).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let till = till.clone();
        held.push(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let (status, _) = till
                .signed(Method::GET, "/v1/sync/payments?after=0&wait_ms=3000", Value::Null, "")
                .await;
            (status, started.elapsed())
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The fifth is answered at once instead of being held.
    let started = std::time::Instant::now();
    let (status, body) =
        till.signed(Method::GET, "/v1/sync/payments?after=0&wait_ms=3000", Value::Null, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(started.elapsed() < std::time::Duration::from_millis(1_500), "{:?}", started.elapsed());
    for poll in held {
        let (status, waited) = poll.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(waited >= std::time::Duration::from_millis(2_500), "held polls wait: {waited:?}");
    }
    target.stop_and_audit();
}
