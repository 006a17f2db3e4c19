//! The fund server's API on a real SQLite file: every money flow, its refusals, and that
//! retries and duplicates never apply twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, cny, minor, uuid_key};
use fund_server::ledger::{Account, LedgerPolicy};
use fund_server::store::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tillfund_core::Currency;
use tillfund_core::payment_token::confirmation_code;

#[tokio::test]
async fn a_store_day_top_up_pay_refund_with_replays() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    server
        .service
        .publish_bonus_rules(
            serde_json::from_value(json!([{
                "merchant_id": null, "valid_from_ms": 0, "valid_until_ms": null,
                "formula": {"type": "tiers", "tiers": [
                    {"minimum": minor("500.00"), "bonus": minor("50.00")},
                    {"minimum": minor("1000.00"), "bonus": minor("120.00")}
                ]}
            }]))
            .unwrap(),
        )
        .await
        .unwrap();
    let merchant = server.add_merchant("Corner Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138001", &[merchant]).await;

    // Cash top-up of 500.00 earns the 50.00 tier bonus.
    let entry_id = uuid_key();
    let outcome = counter.top_up(&entry_id, 1, &customer.customer_id, "500.00", "50.00").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let wallet = server.wallet(&customer).await;
    assert_eq!(wallet["principal"], minor("500.00"));
    assert_eq!(wallet["bonus"], minor("50.00"));
    assert_eq!(wallet["total"], minor("550.00"));

    // The counter retries the same entry (it never saw the answer): applied once only.
    let replay = counter.top_up(&entry_id, 1, &customer.customer_id, "500.00", "50.00").await;
    assert_eq!(replay["outcome"], "already_applied", "{replay}");
    assert_eq!(server.wallet(&customer).await["total"], minor("550.00"));

    // The same entry id with different content is refused, not applied.
    let altered = counter.top_up(&entry_id, 1, &customer.customer_id, "900.00", "50.00").await;
    assert_eq!(altered["code"], "idempotency_key_reused");
    assert_eq!(server.wallet(&customer).await["total"], minor("550.00"));

    // Pay 110.00: taken from principal and bonus in proportion (500:50).
    let (claims, token) = counter.payment_token("110.00");
    let (status, paid) = server.pay(&customer, &token, "123456", "pay-1").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["amount"], minor("110.00"));
    assert_eq!(
        paid["confirmation_code"],
        confirmation_code(&counter.key, claims.order_id, claims.amount)
    );
    let wallet = server.wallet(&customer).await;
    assert_eq!(wallet["principal"], minor("400.00"));
    assert_eq!(wallet["bonus"], minor("40.00"));

    // Retry with the same key: the first answer, not a second payment.
    let (status, again) = server.pay(&customer, &token, "123456", "pay-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, paid);
    // A new key for the same order: the order is single use.
    let (status, twice) = server.pay(&customer, &token, "123456", "pay-2").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(twice["code"], "order_already_paid");
    // The same key for another order: refused as a reused key.
    let (_, other_token) = counter.payment_token("1.00");
    let (status, reused) = server.pay(&customer, &other_token, "123456", "pay-1").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(reused["code"], "idempotency_key_reused");
    assert_eq!(server.wallet(&customer).await["total"], minor("440.00"));

    // Refund 55.00 of the 110.00: back to principal and bonus in the payment's proportion.
    let refund = |amount: &str, key: &str| {
        let body = json!({"order_id": claims.order_id.to_string(), "amount": minor(amount)});
        let key = key.to_owned();
        let counter = &counter;
        async move {
            counter
                .signed(Method::POST, "/v1/terminal/refunds", body, &[("idempotency-key", &key)])
                .await
        }
    };
    let (status, refunded) = refund("55.00", "refund-1").await;
    assert_eq!(status, StatusCode::OK, "{refunded}");
    assert_eq!(refunded["refunded_total"], minor("55.00"));
    let wallet = server.wallet(&customer).await;
    assert_eq!(wallet["principal"], minor("450.00"));
    assert_eq!(wallet["bonus"], minor("45.00"));
    let (_, replayed) = refund("55.00", "refund-1").await;
    assert_eq!(replayed, refunded);
    let (status, too_much) = refund("55.01", "refund-2").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_much["code"], "refund_exceeds_paid");
    let (status, rest) = refund("55.00", "refund-3").await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(server.wallet(&customer).await["total"], minor("550.00"));

    // Money moved where the design says it goes.
    let store = server.service.store();
    assert_eq!(store.balance(Account::Drawer(merchant)).await.unwrap(), cny("500.00"));
    assert_eq!(store.balance(Account::Service).await.unwrap(), cny("0.00"));
    assert_eq!(store.balance(Account::Reserve).await.unwrap(), cny("9450.00"));
    server.audit_passes().await;
}

#[tokio::test]
async fn top_ups_a_cashier_must_act_on_are_rejected_with_a_reason() {
    let server = TestServer::start().await;
    server.fund_reserve("100000.00").await;
    let bound_store = server.add_merchant("Bound").await;
    let other_store = server.add_merchant("Other").await;
    let counter = server.enrol(other_store).await;
    let customer = server.customer("13800138002", &[bound_store]).await;

    let outcome = counter.top_up(&uuid_key(), 1, &customer.customer_id, "100.00", "0").await;
    assert_eq!(outcome["outcome"], "rejected");
    assert_eq!(outcome["code"], "customer_not_bound");

    let bound_counter = server.enrol(bound_store).await;
    let outcome = bound_counter.top_up(&uuid_key(), 1, &customer.customer_id, "4999.99", "0").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let outcome = bound_counter.top_up(&uuid_key(), 2, &customer.customer_id, "0.02", "0").await;
    assert_eq!(outcome["code"], "wallet_cap_exceeded");
    assert!(outcome["message"].as_str().unwrap().contains("room for 0.01 CNY"), "{outcome}");
    assert_eq!(server.wallet(&customer).await["total"], minor("4999.99"));

    let unknown = counter.top_up(&uuid_key(), 3, &uuid_key(), "1.00", "0").await;
    assert_eq!(unknown["code"], "customer_unknown");
    server.audit_passes().await;
}

#[tokio::test]
async fn payments_refuse_bad_tokens_and_missing_funds() {
    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let unbound_merchant = server.add_merchant("Elsewhere").await;
    let counter = server.enrol(merchant).await;
    let elsewhere = server.enrol(unbound_merchant).await;
    let customer = server.customer("13800138003", &[merchant]).await;
    counter.top_up(&uuid_key(), 1, &customer.customer_id, "20.00", "0").await;

    let (_, token) = counter.payment_token("20.01");
    let (status, body) = server.pay(&customer, &token, "123456", &uuid_key()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("insufficient_funds"))
    );

    let expired = counter.payment_claims("1.00", -1).sign(&counter.key);
    let (status, body) = server.pay(&customer, &expired, "123456", &uuid_key()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("token_expired")));

    let forged = counter.payment_claims("1.00", 60_000).sign(&elsewhere.key);
    let (status, body) = server.pay(&customer, &forged, "123456", &uuid_key()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("token_bad_signature"))
    );

    let (status, body) = server.pay(&customer, "not-a-token", "123456", &uuid_key()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("token_malformed"))
    );

    let (_, not_bound) = elsewhere.payment_token("1.00");
    let (status, body) = server.pay(&customer, &not_bound, "123456", &uuid_key()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("customer_not_bound"))
    );

    let (_, token) = counter.payment_token("1.00");
    let (status, body) = server.pay(&customer, &token, "123456", "").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_key_missing"))
    );

    assert_eq!(server.wallet(&customer).await["total"], minor("20.00"));
    server.audit_passes().await;
}

#[tokio::test]
async fn five_wrong_pins_lock_the_wallet() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138004", &[merchant]).await;
    let (_, token) = counter.payment_token("1.00");
    for tries_left in (1..=4).rev() {
        let (status, body) = server.pay(&customer, &token, "000000", &uuid_key()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "pin_wrong");
        assert!(
            body["message"].as_str().unwrap().contains(&if tries_left == 1 {
                "1 try left".to_owned()
            } else {
                format!("{tries_left} tries left")
            }),
            "{body}"
        );
    }
    let (status, body) = server.pay(&customer, &token, "000000", &uuid_key()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::LOCKED, Some("wallet_locked")));
    // Locked: even the right PIN is refused, at payment and at sign-in.
    let (status, body) = server.pay(&customer, &token, "123456", &uuid_key()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::LOCKED, Some("wallet_locked")));
    let (status, body) = server
        .send(Method::POST, "/v1/sessions", json!({"phone": customer.phone, "pin": "123456"}), &[])
        .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::LOCKED, Some("wallet_locked")));
}

#[tokio::test]
async fn counter_requests_must_be_signed_current_and_enrolled() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;

    let (status, _) =
        counter.signed(Method::GET, "/v1/sync/bindings", serde_json::Value::Null, &[]).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) =
        server.send(Method::GET, "/v1/sync/bindings", serde_json::Value::Null, &[]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_missing"))
    );

    let timestamp = fund_server::model::now_ms();
    let forged = common::Counter {
        key: tillfund_core::signing::TerminalKey::from_bytes([7; 32]),
        ..counter.clone()
    };
    let request =
        forged.sign(Method::GET, "/v1/sync/bindings", serde_json::Value::Null, &[], timestamp);
    let (status, body) = counter.send_signed(&request).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_invalid"))
    );

    let stale = timestamp - 10 * 60 * 1000;
    let request =
        counter.sign(Method::GET, "/v1/sync/bindings", serde_json::Value::Null, &[], stale);
    let (status, body) = counter.send_signed(&request).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("clock_skew")));

    server.service.store().revoke_terminal(counter.terminal_id, timestamp).await.unwrap();
    let (status, body) =
        counter.signed(Method::GET, "/v1/sync/bindings", serde_json::Value::Null, &[]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("terminal_revoked")));
}

#[tokio::test]
async fn an_activation_code_enrols_one_counter_only_and_never_sends_the_key() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Shop").await;
    let (code, _) = server.service.create_activation_code(merchant).await.unwrap();
    let counter_key = tillfund_core::enrolment::CounterHandshake::new().unwrap();
    let counter_public = counter_key.public_key_hex();
    let enrol = |code: String, public_key: String| {
        let server = &server;
        async move {
            server
                .send(
                    Method::POST,
                    "/v1/terminals/enrol",
                    json!({"activation_code": code, "label": "Till", "public_key": public_key}),
                    &[],
                )
                .await
        }
    };
    let (status, first) = enrol(code.clone(), counter_public.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["merchant"]["name"], "Shop");
    assert!(first.get("terminal_key").is_none(), "{first}");
    // The counter never saw the answer and retries with its public key: the same enrolment,
    // which holds nothing but public keys.
    let (status, retry) = enrol(code.clone(), counter_public.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(retry, first);
    let terminal_id = first["terminal_id"].as_str().unwrap().to_owned();
    let key =
        counter_key.finish(&terminal_id, first["server_public_key"].as_str().unwrap()).unwrap();
    // Whoever saw the code (and the request) tries with a key pair of their own: refused.
    let thief = tillfund_core::enrolment::CounterHandshake::new().unwrap();
    let (status, second) = enrol(code.to_lowercase(), thief.public_key_hex()).await;
    assert_eq!(
        (status, second["code"].as_str()),
        (StatusCode::CONFLICT, Some("activation_code_used"))
    );
    // The thief who also replays the counter's public key gets only public keys, and the
    // key they derive with their own private half is not the terminal's.
    let (_, replayed) = enrol(code.clone(), counter_public.clone()).await;
    let guessed =
        thief.finish(&terminal_id, replayed["server_public_key"].as_str().unwrap()).unwrap();
    assert_ne!(guessed, key);
    // After the code's lifetime even the right counter's retry is refused.
    server.service.store().clock().advance(fund_server::service::ACTIVATION_CODE_TTL_MS);
    let (status, late) = enrol(code.clone(), counter_public.clone()).await;
    assert_eq!(
        (status, late["code"].as_str()),
        (StatusCode::CONFLICT, Some("activation_code_used"))
    );
    let (status, unknown) = enrol("AAAA-BBBB-CCCC".to_owned(), counter_public.clone()).await;
    assert_eq!(
        (status, unknown["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("activation_code_unknown"))
    );
    let (status, bad_key) = enrol(code, "00".repeat(32)).await;
    assert_eq!(
        (status, bad_key["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("public_key_invalid"))
    );
}

#[tokio::test]
async fn counters_pull_binding_changes_since_a_cursor() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138005", &[merchant]).await;
    let (status, page) = counter
        .signed(Method::GET, "/v1/sync/bindings?after=0", serde_json::Value::Null, &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["changes"].as_array().unwrap().len(), 1);
    assert_eq!(page["changes"][0]["bound"], true);
    assert_eq!(page["changes"][0]["customer"]["phone"], "13800138005");
    let cursor = page["next_after"].as_i64().unwrap();

    let bearer = format!("Bearer {}", customer.token);
    let path = format!("/v1/wallet/stores/{merchant}");
    let (status, _) = server
        .send(Method::DELETE, &path, serde_json::Value::Null, &[("authorization", &bearer)])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Unbinding twice changes nothing more.
    let (status, _) = server
        .send(Method::DELETE, &path, serde_json::Value::Null, &[("authorization", &bearer)])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = counter
        .signed(
            Method::GET,
            &format!("/v1/sync/bindings?after={cursor}"),
            serde_json::Value::Null,
            &[],
        )
        .await;
    assert_eq!(page["changes"].as_array().unwrap().len(), 1);
    assert_eq!(page["changes"][0]["bound"], false);
}

/// Funded to a level under its threshold while the service account is empty: the alert
/// is raised by the funding itself, not at the next operation that draws on the reserve;
/// funding past the threshold clears it.
#[tokio::test]
async fn funding_the_reserve_to_under_its_threshold_raises_the_alert_at_once() {
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.reserve_threshold = cny("600.00");
    policy.reserve_refill = cny("300.00");
    let server = TestServer::start_with(policy).await;
    let store = server.service.store();
    server.fund_reserve("100.00").await;
    let alert = store.reserve_alert().await.unwrap();
    assert!(alert.as_deref().is_some_and(|alert| alert.contains("fund the reserve")), "{alert:?}");
    server.fund_reserve("500.00").await;
    assert_eq!(store.reserve_alert().await.unwrap(), None, "600.00 covers the threshold");
    server.audit_passes().await;
}

#[tokio::test]
async fn the_reserve_refills_from_service_and_alerts_when_it_cannot() {
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.reserve_threshold = cny("600.00");
    policy.reserve_refill = cny("300.00");
    let server = TestServer::start_with(policy).await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138006", &[merchant]).await;
    let store = server.service.store();

    // 450.00 leaves the reserve at 550.00, under 600.00; service holds nothing: alert, and
    // the reserve is not touched.
    assert_eq!(
        counter.top_up(&uuid_key(), 1, &customer.customer_id, "450.00", "0").await["outcome"],
        "applied"
    );
    assert_eq!(store.balance(Account::Reserve).await.unwrap(), cny("550.00"));
    assert!(store.reserve_alert().await.unwrap().unwrap().contains("fund the reserve"));

    // Payments bring money to service; the next top-up triggers one refill of 300.00.
    let (_, token) = counter.payment_token("400.00");
    let (status, _) = server.pay(&customer, &token, "123456", &uuid_key()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        counter.top_up(&uuid_key(), 2, &customer.customer_id, "10.00", "0").await["outcome"],
        "applied"
    );
    assert_eq!(store.balance(Account::Reserve).await.unwrap(), cny("840.00"));
    assert_eq!(store.balance(Account::Service).await.unwrap(), cny("100.00"));
    assert_eq!(store.reserve_alert().await.unwrap(), None);

    // A top-up the reserve cannot cover, with too little in service to refill: retry later,
    // nothing applied, and the same entry succeeds once the operator funds the reserve.
    let entry = uuid_key();
    let outcome = counter.top_up(&entry, 3, &customer.customer_id, "900.00", "0").await;
    assert_eq!(outcome["outcome"], "retry_later");
    assert_eq!(outcome["code"], "reserve_insufficient");
    assert_eq!(server.wallet(&customer).await["total"], minor("60.00"));
    server.fund_reserve("5000.00").await;
    assert_eq!(
        counter.top_up(&entry, 3, &customer.customer_id, "900.00", "0").await["outcome"],
        "applied"
    );
    assert_eq!(server.wallet(&customer).await["total"], minor("960.00"));
    server.audit_passes().await;
}

#[tokio::test]
async fn two_hundred_concurrent_payments_against_a_wallet_that_covers_ten() {
    let server = TestServer::start_unlimited().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138007", &[merchant]).await;
    assert_eq!(
        counter.top_up(&uuid_key(), 1, &customer.customer_id, "100.00", "0").await["outcome"],
        "applied"
    );

    let server = std::sync::Arc::new(server);
    let customer = std::sync::Arc::new(customer);
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (_, token) = counter.payment_token("10.00");
        let server = server.clone();
        let customer = customer.clone();
        tasks.push(tokio::spawn(async move {
            server.pay(&customer, &token, "123456", &uuid_key()).await
        }));
    }
    let mut paid = 0;
    let mut refused = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::OK => paid += 1,
            StatusCode::UNPROCESSABLE_ENTITY if body["code"] == "insufficient_funds" => {
                refused += 1
            }
            other => panic!("unexpected answer {other}: {body}"),
        }
    }
    assert_eq!((paid, refused), (10, 190));
    assert_eq!(server.wallet(&customer).await["total"], 0);
    assert_eq!(server.service.store().balance(Account::Service).await.unwrap(), cny("100.00"));
    server.audit_passes().await;
}

#[tokio::test]
async fn the_audit_names_an_edited_journal_row() {
    let server = TestServer::start().await;
    server.fund_reserve("100.00").await;
    server.fund_reserve("50.00").await;
    server.audit_passes().await;
    // Someone with database access bypasses the append-only guard and edits an amount.
    let bypass = if server.database.is_postgres() {
        "ALTER TABLE transfers DISABLE TRIGGER transfers_are_never_changed"
    } else {
        "DROP TRIGGER transfers_are_never_updated"
    };
    server.database.execute_raw(bypass).await.unwrap();
    server
        .database
        .execute_raw("UPDATE transfers SET amount = 999 WHERE entry_sequence = 1")
        .await
        .unwrap();
    // The entry lies before the checkpoint the passing audit left: only the full audit
    // reads it again.
    let report = server.service.audit_full().await.unwrap();
    assert!(!report.passed());
    let problems = report.problems.join("\n");
    assert!(problems.contains("entry 1: its hash does not match its content"), "{problems}");
    assert!(problems.contains("reserve holds 15000 but its entries sum to 5999"), "{problems}");
}

#[tokio::test]
async fn the_journal_refuses_updates_and_deletes() {
    let server = TestServer::start().await;
    server.fund_reserve("100.00").await;
    for statement in [
        "UPDATE journal_entries SET code = 'refill'",
        "DELETE FROM journal_entries",
        "UPDATE transfers SET amount = 1",
        "DELETE FROM transfers",
    ] {
        let error = server.database.execute_raw(statement).await.unwrap_err();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    let error = server
        .database
        .execute_raw("UPDATE accounts SET balance = -1 WHERE key = 'reserve'")
        .await
        .unwrap_err();
    assert!(error.to_lowercase().contains("check"), "{error}");
    server.audit_passes().await;
}

#[tokio::test]
async fn a_store_closes_its_day_once_and_late_entries_go_to_the_next_close() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let first = server.customer("13800138020", &[merchant]).await;
    let second = server.customer("13800138021", &[merchant]).await;
    assert_eq!(
        counter.top_up(&uuid_key(), 1, &first.customer_id, "500.00", "0").await["outcome"],
        "applied"
    );
    assert_eq!(
        counter.top_up(&uuid_key(), 2, &second.customer_id, "300.00", "0").await["outcome"],
        "applied"
    );
    let (claims, token) = counter.payment_token("100.00");
    assert_eq!(server.pay(&first, &token, "123456", &uuid_key()).await.0, StatusCode::OK);
    let refund = json!({"order_id": claims.order_id.to_string(), "amount": minor("20.00")});
    let (status, _) = counter
        .signed(Method::POST, "/v1/terminal/refunds", refund, &[("idempotency-key", "r1")])
        .await;
    assert_eq!(status, StatusCode::OK);

    let today = jiff::Timestamp::from_millisecond(counter.clock.now_ms())
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let path = format!("/v1/terminal/settlement?day={today}");
    let (status, open) = counter.signed(Method::GET, &path, serde_json::Value::Null, &[]).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(open["closed"], false);
    assert_eq!(
        (open["top_up_count"].as_i64(), open["cash"].as_i64()),
        (Some(2), Some(minor("800.00")))
    );
    assert_eq!(
        (open["payment_count"].as_i64(), open["payments"].as_i64()),
        (Some(1), Some(minor("100.00")))
    );
    assert_eq!(
        (open["refund_count"].as_i64(), open["refunds"].as_i64()),
        (Some(1), Some(minor("20.00")))
    );
    assert_eq!(open["net_owed_to_store"], minor("-720.00"));

    let close = json!({"day": today.to_string()});
    let (status, closed) =
        counter.signed(Method::POST, "/v1/terminal/settlement/close", close.clone(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["closed"], true);
    assert_eq!(closed["cash"], minor("800.00"));
    let store = server.service.store();
    assert_eq!(store.balance(Account::Drawer(merchant)).await.unwrap(), cny("0.00"));
    assert_eq!(store.balance(Account::Service).await.unwrap(), cny("800.00"));

    // Closing again (a retry, or a second counter) answers the first close.
    let (status, again) =
        counter.signed(Method::POST, "/v1/terminal/settlement/close", close, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, closed);

    // A top-up recorded after the close is not in the closed day; the next close has it.
    assert_eq!(
        counter.top_up(&uuid_key(), 3, &second.customer_id, "50.00", "0").await["outcome"],
        "applied"
    );
    let (_, still) = counter.signed(Method::GET, &path, serde_json::Value::Null, &[]).await;
    assert_eq!(still["cash"], minor("800.00"));
    counter.clock.advance(24 * 60 * 60 * 1000);
    let tomorrow = today.tomorrow().unwrap();
    let (_, next) = counter
        .signed(
            Method::GET,
            &format!("/v1/terminal/settlement?day={tomorrow}"),
            serde_json::Value::Null,
            &[],
        )
        .await;
    assert_eq!(
        (next["closed"].as_bool(), next["cash"].as_i64()),
        (Some(false), Some(minor("50.00")))
    );

    let future = tomorrow.tomorrow().unwrap();
    let (status, body) = counter
        .signed(
            Method::GET,
            &format!("/v1/terminal/settlement?day={future}"),
            serde_json::Value::Null,
            &[],
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("day_in_future"))
    );
    server.audit_passes().await;
}

#[tokio::test]
async fn sign_up_is_idempotent_by_key() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Shop").await;
    let body = json!({"phone": "13800138030", "display_name": "Lin", "pin": "123456", "merchant_ids": [merchant.to_string()]});
    let (status, first) = server
        .send(Method::POST, "/v1/customers", body.clone(), &[("idempotency-key", "k1")])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = server
        .send(Method::POST, "/v1/customers", body.clone(), &[("idempotency-key", "k1")])
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again, first);
    let other = json!({"phone": "13800138031", "display_name": "Lin", "pin": "123456"});
    let (status, reused) =
        server.send(Method::POST, "/v1/customers", other, &[("idempotency-key", "k1")]).await;
    assert_eq!(
        (status, reused["code"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_key_reused"))
    );
    let (status, taken) = server
        .send(Method::POST, "/v1/customers", body.clone(), &[("idempotency-key", "k2")])
        .await;
    assert_eq!((status, taken["code"].as_str()), (StatusCode::CONFLICT, Some("phone_taken")));
    let (status, missing) = server.send(Method::POST, "/v1/customers", body, &[]).await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_key_missing"))
    );
    let bad = json!({"phone": "12345", "display_name": "Lin", "pin": "123456"});
    let (status, invalid) =
        server.send(Method::POST, "/v1/customers", bad, &[("idempotency-key", "k3")]).await;
    assert_eq!(
        (status, invalid["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("phone_invalid"))
    );
}

#[tokio::test]
async fn the_operator_sees_the_reserve_alert_on_the_status_endpoint() {
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.reserve_threshold = cny("500.00");
    policy.reserve_refill = cny("1000.00");
    let mut config = fund_server::service::ServiceConfig::new(policy);
    config.operator_token = Some("s3cret-operator".into());
    let server = TestServer::start_with_config(config).await;
    server.fund_reserve("600.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138040", &[merchant]).await;
    assert_eq!(
        counter.top_up(&uuid_key(), 1, &customer.customer_id, "200.00", "0").await["outcome"],
        "applied"
    );

    let (status, body) = server
        .send(
            Method::GET,
            "/v1/operator/status",
            serde_json::Value::Null,
            &[("authorization", "Bearer s3cret-operator")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["reserve"], minor("400.00"));
    assert!(body["reserve_alert"].as_str().unwrap().contains("fund the reserve"), "{body}");
    let (status, body) = server
        .send(
            Method::GET,
            "/v1/operator/status",
            serde_json::Value::Null,
            &[("authorization", "Bearer wrong-token-xx")],
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("operator_token_invalid"))
    );

    let plain = TestServer::start().await;
    let (status, body) =
        plain.send(Method::GET, "/v1/operator/status", serde_json::Value::Null, &[]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("operator_api_disabled"))
    );
}

#[tokio::test]
async fn a_reversed_top_up_claws_back_its_bonus_in_proportion() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    server
        .service
        .publish_bonus_rules(
            serde_json::from_value(json!([{
                "merchant_id": null, "valid_from_ms": 0, "valid_until_ms": null,
                "formula": {"type": "tiers", "tiers": [{"minimum": minor("1000.00"), "bonus": minor("120.00")}]}
            }]))
            .unwrap(),
        )
        .await
        .unwrap();
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138050", &[merchant]).await;
    let entry = uuid_key();
    let outcome = counter.top_up(&entry, 1, &customer.customer_id, "1000.00", "120.00").await;
    assert_eq!(outcome["outcome"], "applied");
    assert_eq!(server.wallet(&customer).await["bonus"], minor("120.00"));

    let reverse = |amount: &str, key: &str| {
        let body = json!({"top_up_entry_id": entry, "amount": minor(amount)});
        let key = key.to_owned();
        let counter = &counter;
        async move {
            counter
                .signed(
                    Method::POST,
                    "/v1/terminal/top-up-reversals",
                    body,
                    &[("idempotency-key", &key)],
                )
                .await
        }
    };
    // A quarter back: a quarter of the bonus goes with it.
    let (status, body) = reverse("250.00", "rev-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["bonus_clawed_back"], minor("30.00"));
    let wallet = server.wallet(&customer).await;
    assert_eq!(
        (wallet["principal"].as_i64(), wallet["bonus"].as_i64()),
        (Some(minor("750.00")), Some(minor("90.00")))
    );
    let (_, replay) = reverse("250.00", "rev-1").await;
    assert_eq!(replay, body);
    let (status, too_much) = reverse("750.01", "rev-2").await;
    assert_eq!(
        (status, too_much["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reversal_exceeds_top_up"))
    );

    // After spending, the rest cannot be reversed in full.
    let (_, token) = counter.payment_token("100.00");
    assert_eq!(server.pay(&customer, &token, "123456", &uuid_key()).await.0, StatusCode::OK);
    let (status, spent) = reverse("750.00", "rev-3").await;
    assert_eq!(
        (status, spent["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wallet_insufficient"))
    );
    let (status, rest) = reverse("600.00", "rev-4").await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(rest["bonus_clawed_back"], minor("72.00"));

    // The drawer gave back 850.00 of the 1,000.00 taken; the day's figures say so.
    let store = server.service.store();
    assert_eq!(store.balance(Account::Drawer(merchant)).await.unwrap(), cny("150.00"));
    let today = jiff::Timestamp::from_millisecond(counter.clock.now_ms())
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let (_, day) = counter
        .signed(
            Method::GET,
            &format!("/v1/terminal/settlement?day={today}"),
            serde_json::Value::Null,
            &[],
        )
        .await;
    assert_eq!(
        (day["reversal_count"].as_i64(), day["reversed_cash"].as_i64()),
        (Some(2), Some(minor("850.00")))
    );
    assert_eq!(day["drawer_cash"], minor("150.00"));
    server.audit_passes().await;
}

/// The cash of a day not yet closed belongs to that day's close: a reversal made the next
/// day is paid out of the next day's cash, and both days still close. Found by the
/// simulator: a reversal paid out of the whole drawer left the earlier day's close short,
/// and that day could never be closed (the close tripped the drawer's guard, a 500).
#[tokio::test]
async fn a_reversal_the_next_day_is_paid_from_that_day_s_cash_and_every_day_still_closes() {
    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138072", &[merchant]).await;
    let clock = server.service.store().clock().clone();
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let day_of =
        |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_zoned(zone.clone()).date();
    let first_day = day_of(clock.now_ms());
    let yesterdays = uuid_key();
    let outcome = counter.top_up(&yesterdays, 1, &customer.customer_id, "100.00", "0.00").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    clock.advance(24 * 60 * 60 * 1000);
    let second_day = day_of(clock.now_ms());
    let reverse = |key: &str| {
        let body = json!({"top_up_entry_id": yesterdays, "amount": minor("30.00")});
        let key = key.to_owned();
        let counter = &counter;
        async move {
            counter
                .signed(
                    Method::POST,
                    "/v1/terminal/top-up-reversals",
                    body,
                    &[("idempotency-key", &key)],
                )
                .await
        }
    };
    // Nothing taken yet today: yesterday's 100.00 is owed to yesterday's close.
    let (status, refused) = reverse("rev-early").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("drawer_insufficient")),
        "{refused}"
    );
    let store = server.service.store();
    assert_eq!(store.balance(Account::Drawer(merchant)).await.unwrap(), cny("100.00"));
    // Once today's cash covers it, it is given back.
    let body = json!({"entries": [{
        "id": uuid_key(), "sequence": 2, "recorded_at_ms": clock.now_ms(),
        "action": {"type": "cash_top_up", "customer_id": customer.customer_id,
                   "amount": minor("50.00"), "bonus_shown": 0, "bonus_rule_version": null}
    }]});
    let (_, pushed) = counter.signed(Method::POST, "/v1/sync/push", body, &[]).await;
    assert_eq!(pushed["results"][0]["outcome"], "applied", "{pushed}");
    let (status, reversed) = reverse("rev-later").await;
    assert_eq!(status, StatusCode::OK, "{reversed}");
    // Both days close, each with its own cash: 100.00, then 50.00 less 30.00.
    for (day, drawer_cash) in [(first_day, "100.00"), (second_day, "20.00")] {
        let body = json!({"day": day.to_string()});
        let (status, closed) =
            counter.signed(Method::POST, "/v1/terminal/settlement/close", body, &[]).await;
        assert_eq!(status, StatusCode::OK, "{day}: {closed}");
        assert_eq!(closed["drawer_cash"], minor(drawer_cash), "{day}: {closed}");
    }
    assert_eq!(store.balance(Account::Drawer(merchant)).await.unwrap(), cny("0.00"));
    server.audit_passes().await;
}

/// A counter whose clock runs a few minutes ahead may push tomorrow's top-up before
/// midnight: that cash belongs to tomorrow's close, and a reversal tonight may not be paid
/// out of it (found in review: tomorrow's close would have tripped the drawer's guard).
#[tokio::test]
async fn a_reversal_is_not_paid_from_cash_recorded_for_the_next_day() {
    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138073", &[merchant]).await;
    let clock = server.service.store().clock().clone();
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let push = |sequence: u64, recorded_at_ms: i64, entry: String| {
        let body = json!({"entries": [{
            "id": entry, "sequence": sequence, "recorded_at_ms": recorded_at_ms,
            "action": {"type": "cash_top_up", "customer_id": customer.customer_id,
                       "amount": minor("100.00"), "bonus_shown": 0, "bonus_rule_version": null}
        }]});
        let counter = &counter;
        async move { counter.signed(Method::POST, "/v1/sync/push", body, &[]).await.1 }
    };
    // Yesterday's top-up, its day left open.
    let yesterdays = uuid_key();
    let pushed = push(1, clock.now_ms(), yesterdays.clone()).await;
    assert_eq!(pushed["results"][0]["outcome"], "applied", "{pushed}");
    // Today, two minutes before midnight; the counter's clock runs four minutes ahead.
    let today = jiff::Timestamp::from_millisecond(clock.now_ms())
        .unwrap()
        .to_zoned(zone.clone())
        .date()
        .tomorrow()
        .unwrap();
    let midnight =
        today.tomorrow().unwrap().to_zoned(zone.clone()).unwrap().timestamp().as_millisecond();
    clock.advance(midnight - 2 * 60_000 - clock.now_ms());
    let pushed = push(2, midnight + 2 * 60_000, uuid_key()).await;
    assert_eq!(pushed["results"][0]["outcome"], "applied", "{pushed}");
    let body = json!({"top_up_entry_id": yesterdays, "amount": minor("100.00")});
    let (status, refused) = counter
        .signed(Method::POST, "/v1/terminal/top-up-reversals", body, &[("idempotency-key", "r")])
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("drawer_insufficient")),
        "{refused}"
    );
    server.audit_passes().await;
}

/// A counter's clock cannot revive a promotion: the grace for a superseded rule set is
/// judged by when the server receives the top-up, not by the time the counter claims.
/// (In-process: the server's clock must move eight days.)
#[tokio::test]
async fn backdating_a_top_up_does_not_revive_an_ended_promotion() {
    use tillfund_core::bonus::{BonusFormula, BonusRule};
    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138071", &[merchant]).await;
    let rule = |basis_points| BonusRule {
        merchant_id: None,
        valid_from_ms: 0,
        valid_until_ms: None,
        formula: BonusFormula::Percentage { basis_points, cap: None },
    };
    let promotion = server.service.publish_bonus_rules(vec![rule(1_000)]).await.unwrap();
    let clock = server.service.store().clock().clone();
    let promotion_running_ms = clock.now_ms() + 60_000;
    clock.advance(24 * 60 * 60 * 1000);
    // The promotion ends: a rule set of 1 % replaces it.
    server.service.publish_bonus_rules(vec![rule(100)]).await.unwrap();
    clock.advance(8 * 24 * 60 * 60 * 1000);
    let push = |entry_id: String, recorded_at_ms: i64| {
        let counter = counter.clone();
        let customer_id = customer.customer_id.clone();
        let version = promotion.version();
        async move {
            let body = json!({"entries": [{
                "id": entry_id, "sequence": 1, "recorded_at_ms": recorded_at_ms,
                "action": {"type": "cash_top_up", "customer_id": customer_id, "amount": 10_000,
                           "bonus_shown": 1_000, "bonus_rule_version": version}
            }]});
            counter.signed(Method::POST, "/v1/sync/push", body, &[]).await.1["results"][0].clone()
        }
    };
    // Claimed while the promotion ran, received eight days after it ended: today's rules.
    let result = push(uuid_key(), promotion_running_ms).await;
    assert_eq!(result["outcome"], "applied", "{result}");
    let wallet = server.wallet(&customer).await;
    assert_eq!((wallet["principal"].as_i64(), wallet["bonus"].as_i64()), (Some(10_000), Some(100)));
    // A time in the future of the server, or older than a counter can be offline: refused.
    let too_old = clock.now_ms() - 91 * 24 * 60 * 60 * 1000;
    for recorded_at_ms in [clock.now_ms() + 10 * 60 * 1000, too_old, i64::MAX, i64::MIN] {
        let result = push(uuid_key(), recorded_at_ms).await;
        assert_eq!(result["outcome"], "rejected", "{result}");
        assert_eq!(result["code"], "recorded_at_out_of_range", "{result}");
    }
    assert_eq!(server.wallet(&customer).await["total"], 10_100);
    server.audit_passes().await;
}
