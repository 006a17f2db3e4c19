//! The operators' API on a real database: accounts made on the command line and in the
//! API, sign-in with a password and a one-time code, the lock, sessions, roles, and the
//! trail every step leaves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestServer;
use common::operators::{
    ADMIN_PASSWORD, Operator, STAFF_PASSWORD, call, code_now, on_the_command_line, sign_in,
    sign_in_with,
};
use fund_server::operators::totp::{TotpSecret, step_at};
use fund_server::store::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::protocol::OperatorRole;

async fn trail_actions(server: &TestServer, token: &str) -> Vec<(String, String, String)> {
    let (status, page) =
        call(server, Method::GET, "/v1/operator/trail?limit=500", token, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|record| {
            let text = |field: &str| record[field].as_str().unwrap().to_owned();
            (text("operator_name"), text("action"), text("outcome"))
        })
        .collect()
}

#[tokio::test]
async fn the_first_administrator_adds_staff_who_sign_in_with_both_factors() {
    let server = TestServer::start().await;
    let admin = on_the_command_line(&server, "admin", OperatorRole::Administrator).await;
    let admin_token = sign_in(&server, &admin).await;
    let (status, me) =
        call(&server, Method::GET, "/v1/operator/me", &admin_token, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((me["name"].as_str(), me["role"].as_str()), (Some("admin"), Some("administrator")));

    // A code is good once: the same one again is refused even with the right password.
    let clock = server.service.store().clock();
    let code = admin.secret.code_at_step(step_at(clock.now_ms()));
    let (status, _) = sign_in_with(&server, &admin, ADMIN_PASSWORD, &code).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, replayed) = sign_in_with(&server, &admin, ADMIN_PASSWORD, &code).await;
    assert_eq!(
        (status, replayed["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("operator_sign_in_failed"))
    );
    clock.advance(30_000);
    // Neither factor alone signs in, and the answer does not say which was wrong.
    let code = code_now(&server, &admin);
    let (status, wrong_password) = sign_in_with(&server, &admin, "not the password!", &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, wrong_code) = sign_in_with(&server, &admin, ADMIN_PASSWORD, "000000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password, wrong_code);
    let nobody = Operator {
        name: "nobody".into(),
        password: "x".repeat(20),
        secret: TotpSecret::generate(),
    };
    let (status, unknown) = sign_in_with(&server, &nobody, &nobody.password, "123456").await;
    assert_eq!((status, &unknown), (StatusCode::UNAUTHORIZED, &wrong_code));
    let huge = "p".repeat(100_000);
    let (status, refused) = sign_in_with(&server, &admin, &huge, "123456").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("operator_sign_in_failed"))
    );

    // The administrator adds an approver; the second factor is shown this once.
    let new = json!({"name": "Li.Wei", "role": "approver", "password": STAFF_PASSWORD});
    let (status, added) =
        call(&server, Method::POST, "/v1/operator/operators", &admin_token, new.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["operator"]["name"], "li.wei");
    assert!(
        added["provisioning_uri"].as_str().unwrap().starts_with("otpauth://totp/Tillfund:li.wei?")
    );
    let wei = Operator {
        name: "li.wei".into(),
        password: STAFF_PASSWORD.into(),
        secret: TotpSecret::from_base32(added["totp_secret"].as_str().unwrap()).unwrap(),
    };
    for (body, code) in [
        (new, "operator_name_taken"),
        (
            json!({"name": "x y", "role": "viewer", "password": STAFF_PASSWORD}),
            "operator_name_invalid",
        ),
        (json!({"name": "short", "role": "viewer", "password": "short"}), "operator_password_weak"),
        (
            json!({"name": "wang", "role": "viewer", "password": "wang is my name!"}),
            "operator_password_weak",
        ),
    ] {
        let (_, refused) =
            call(&server, Method::POST, "/v1/operator/operators", &admin_token, body).await;
        assert_eq!(refused["code"], code, "{refused}");
    }
    let (status, refused) =
        call(&server, Method::POST, "/v1/operator/operators", &admin_token, json!({"name": 1}))
            .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body_invalid"))
    );

    // Roles: an approver manages no accounts; a viewer neither, nor reads the trail.
    let wei_token = sign_in(&server, &wei).await;
    let (status, forbidden) =
        call(&server, Method::GET, "/v1/operator/operators", &wei_token, Value::Null).await;
    assert_eq!(
        (status, forbidden["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("operator_forbidden"))
    );
    let viewer = on_the_command_line(&server, "zhao", OperatorRole::Viewer).await;
    let viewer_token = sign_in(&server, &viewer).await;
    let new = json!({"name": "sneaky", "role": "administrator", "password": STAFF_PASSWORD});
    let (status, _) =
        call(&server, Method::POST, "/v1/operator/operators", &viewer_token, new).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(server.service.operator_id_by_name("sneaky").await.unwrap().is_none());
    let (status, _) =
        call(&server, Method::GET, "/v1/operator/trail", &viewer_token, Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, list) =
        call(&server, Method::GET, "/v1/operator/operators", &admin_token, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<_> =
        list["operators"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "li.wei", "zhao"]);

    // Every step is in the trail, refusals with their code.
    let trail = trail_actions(&server, &admin_token).await;
    let expected = [
        ("cli", "operator_added", "ok"),
        ("admin", "sign_in", "ok"),
        ("admin", "sign_in", "ok"),
        ("admin", "sign_in", "operator_sign_in_failed"),
        ("admin", "sign_in", "operator_sign_in_failed"),
        ("admin", "sign_in", "operator_sign_in_failed"),
        ("nobody", "sign_in", "operator_sign_in_failed"),
        ("admin", "sign_in", "operator_sign_in_failed"),
        ("admin", "operator_added", "ok"),
        ("admin", "operator_added", "operator_name_taken"),
        ("admin", "operator_added", "operator_name_invalid"),
        ("admin", "operator_added", "operator_password_weak"),
        ("admin", "operator_added", "operator_password_weak"),
        ("li.wei", "sign_in", "ok"),
        ("li.wei", "operators_listed", "operator_forbidden"),
        ("cli", "operator_added", "ok"),
        ("zhao", "sign_in", "ok"),
        ("zhao", "operator_added", "operator_forbidden"),
        ("zhao", "trail_read", "operator_forbidden"),
    ];
    let trail: Vec<_> =
        trail.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(trail, expected);

    // The export holds the same records; the audit checks the chain.
    let response = server
        .http
        .get(format!("{}/v1/operator/trail.csv", server.url))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert_eq!(csv.lines().count(), expected.len() + 1, "{csv}");
    assert!(csv.starts_with("\"sequence\",\"at_utc\","));
    let report = server.service.audit_full().await.unwrap();
    assert!(report.passed(), "{:?}", report.problems);
    assert_eq!(report.trail_records_checked, expected.len() as u64);

    // Sign-out ends the session at once.
    let (status, ended) =
        call(&server, Method::DELETE, "/v1/operator/sessions/current", &admin_token, Value::Null)
            .await;
    assert_eq!((status, ended["sessions_ended"].as_u64()), (StatusCode::OK, Some(1)));
    let (status, after) =
        call(&server, Method::GET, "/v1/operator/me", &admin_token, Value::Null).await;
    assert_eq!(
        (status, after["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("operator_session_invalid"))
    );
    let (status, _) =
        call(&server, Method::GET, "/v1/operator/me", "tfo_made_up", Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server.send(Method::GET, "/v1/operator/me", Value::Null, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn parallel_wrong_sign_ins_lock_the_account_at_the_limit() {
    let server = TestServer::start_unlimited().await;
    let wei = on_the_command_line(&server, "li.wei", OperatorRole::Operator).await;
    let attempts: Vec<_> = (0..12)
        .map(|_| {
            let body = json!({"name": "li.wei", "password": "wrong wrong wrong", "one_time_code": "123456"});
            let request = server.http.post(format!("{}/v1/operator/sessions", server.url)).json(&body);
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut failed = 0;
    let mut locked = 0;
    for attempt in attempts {
        match attempt.await.unwrap().as_str() {
            "operator_sign_in_failed" => failed += 1,
            "operator_locked" => locked += 1,
            other => panic!("{other}"),
        }
    }
    // Five attempts are counted, the fifth locks; none of the other seven was checked.
    assert_eq!((failed, locked), (4, 8));
    let code = code_now(&server, &wei);
    let (status, body) = sign_in_with(&server, &wei, STAFF_PASSWORD, &code).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::LOCKED, Some("operator_locked")),
        "{body}"
    );
    // A clock time one can act on, and how long that is.
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("locked until ") && message.contains("(15 minutes from now)"),
        "{body}"
    );
    server.service.store().clock().advance(15 * 60 * 1000);
    sign_in(&server, &wei).await;
}

#[tokio::test]
async fn sessions_end_on_idling_sign_out_everywhere_disabling_and_new_credentials() {
    let server = TestServer::start().await;
    let admin = on_the_command_line(&server, "admin", OperatorRole::Administrator).await;
    let wei = on_the_command_line(&server, "li.wei", OperatorRole::Operator).await;
    let admin_token = sign_in(&server, &admin).await;
    let (first, second) = (sign_in(&server, &wei).await, sign_in(&server, &wei).await);
    let me = |token: String| {
        let server = &server;
        async move { call(server, Method::GET, "/v1/operator/me", &token, Value::Null).await.0 }
    };
    let (_, ended) =
        call(&server, Method::DELETE, "/v1/operator/sessions", &first, Value::Null).await;
    assert_eq!(ended["sessions_ended"], 2);
    assert_eq!(me(second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(admin_token.clone()).await, StatusCode::OK, "another account's session lives on");

    // Disabled: the session ends at once and sign-in fails as a wrong password does.
    let token = sign_in(&server, &wei).await;
    let wei_id = server.service.operator_id_by_name("li.wei").await.unwrap().unwrap();
    let disable = format!("/v1/operator/operators/{wei_id}/disable");
    let (status, _) = call(&server, Method::POST, &disable, &admin_token, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
    let code = code_now(&server, &wei);
    let (status, _) = sign_in_with(&server, &wei, STAFF_PASSWORD, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin_id = server.service.operator_id_by_name("admin").await.unwrap().unwrap();
    let (status, refused) = call(
        &server,
        Method::POST,
        &format!("/v1/operator/operators/{admin_id}/disable"),
        &admin_token,
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::CONFLICT, Some("operator_self_disable"))
    );
    let (status, refused) = call(
        &server,
        Method::POST,
        "/v1/operator/operators/not-an-id/disable",
        &admin_token,
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("operator_unknown"))
    );
    let (status, _) = call(
        &server,
        Method::POST,
        &format!("/v1/operator/operators/{wei_id}/enable"),
        &admin_token,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // A session not used for 30 minutes ends; one in use lives on.
    let token = sign_in(&server, &wei).await;
    server.service.store().clock().advance(29 * 60 * 1000);
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    server.service.store().clock().advance(29 * 60 * 1000);
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    assert_eq!(me(admin_token.clone()).await, StatusCode::UNAUTHORIZED, "idle for an hour");
    server.service.store().clock().advance(31 * 60 * 1000);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);

    // A new password: the current one must prove right, the new one meet the rules, and
    // every session ends.
    let token = sign_in(&server, &wei).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, refused) = call(
        &server,
        Method::POST,
        "/v1/operator/password",
        &token,
        change("wrong", "a brand new passphrase"),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("operator_sign_in_failed"))
    );
    let (status, refused) = call(
        &server,
        Method::POST,
        "/v1/operator/password",
        &token,
        change(STAFF_PASSWORD, "short"),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("operator_password_weak"))
    );
    let (status, _) = call(
        &server,
        Method::POST,
        "/v1/operator/password",
        &token,
        change(STAFF_PASSWORD, "a brand new passphrase"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
    let code = code_now(&server, &wei);
    let (status, _) = sign_in_with(&server, &wei, STAFF_PASSWORD, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password");
    let wei = Operator { password: "a brand new passphrase".into(), ..wei };
    let token = sign_in(&server, &wei).await;

    // A lost phone: a new second factor from an administrator; the old codes stop working.
    let admin_token = sign_in(&server, &admin).await;
    let (status, reset) = call(
        &server,
        Method::POST,
        &format!("/v1/operator/operators/{wei_id}/second-factor"),
        &admin_token,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reset}");
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
    let code = code_now(&server, &wei);
    let (status, _) = sign_in_with(&server, &wei, &wei.password, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old second factor");
    let wei = Operator {
        secret: TotpSecret::from_base32(reset["totp_secret"].as_str().unwrap()).unwrap(),
        ..wei
    };
    sign_in(&server, &wei).await;
    let report = server.service.audit_full().await.unwrap();
    assert!(report.passed(), "{:?}", report.problems);
}

#[tokio::test]
async fn any_signed_in_operator_and_the_monitoring_token_read_the_status() {
    let server = TestServer::start().await;
    let viewer = on_the_command_line(&server, "zhao", OperatorRole::Viewer).await;
    let token = sign_in(&server, &viewer).await;
    let (status, body) =
        call(&server, Method::GET, "/v1/operator/status", &token, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["currency"], "CNY");
    let (status, _) =
        call(&server, Method::GET, "/v1/operator/status", "tfo_ended", Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn customers_are_found_by_phone_code_or_name_and_every_read_is_recorded() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Corner Shop").await;
    let first = server.customer("13800138001", &[merchant]).await;
    server.customer("13800138002", &[]).await;
    let viewer =
        sign_in(&server, &on_the_command_line(&server, "zhao", OperatorRole::Viewer).await).await;
    let search = |query: &str| {
        let path = format!("/v1/operator/customers?q={query}");
        let (server, viewer) = (&server, viewer.clone());
        async move { call(server, Method::GET, &path, &viewer, Value::Null).await }
    };
    let (status, by_phone) = search("13800138001").await;
    assert_eq!(status, StatusCode::OK, "{by_phone}");
    assert_eq!(by_phone["customers"].as_array().unwrap().len(), 1);
    assert_eq!(by_phone["customers"][0]["customer_id"], first.customer_id.as_str());
    let member_code = by_phone["customers"][0]["member_code"].as_str().unwrap().to_owned();
    let (_, by_code) = search(&member_code).await;
    assert_eq!(by_code["customers"][0]["customer_id"], first.customer_id.as_str());
    let (_, by_name) = search("ES").await;
    assert_eq!(by_name["customers"].as_array().unwrap().len(), 2, "{by_name}");
    let (_, wildcard) = search("%25").await;
    assert_eq!(wildcard["customers"].as_array().unwrap().len(), 0, "a % is a %");
    let (status, refused) = search("").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("query_invalid"))
    );

    // The dossier: balances, stores, the PIN lock, the history.
    for _ in 0..5 {
        let body = json!({"phone": "13800138001", "pin": "999999"});
        server.send(Method::POST, "/v1/sessions", body, &[]).await;
    }
    let path = format!("/v1/operator/customers/{}", first.customer_id);
    let (status, dossier) = call(&server, Method::GET, &path, &viewer, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{dossier}");
    assert_eq!(dossier["wallet"]["stores"][0]["name"], "Corner Shop");
    assert_eq!(dossier["wallet"]["total"], 0);
    assert!(dossier["locked_until_ms"].as_i64().is_some(), "{dossier}");
    assert!(dossier["wallet"]["customer"].get("pin_hash").is_none());
    let (status, _) =
        call(&server, Method::GET, "/v1/operator/customers/nobody", &viewer, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every read is in the trail, with what it found.
    let admin =
        sign_in(&server, &on_the_command_line(&server, "admin", OperatorRole::Administrator).await)
            .await;
    let (_, page) =
        call(&server, Method::GET, "/v1/operator/trail?operator_id=", &admin, Value::Null).await;
    assert_eq!(page["code"], "query_invalid", "an empty id is not an id");
    let (_, page) = call(&server, Method::GET, "/v1/operator/trail", &admin, Value::Null).await;
    let reads: Vec<_> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|record| record["operator_name"] == "zhao" && record["action"] != "sign_in")
        .map(|record| {
            (
                record["action"].as_str().unwrap().to_owned(),
                record["outcome"].as_str().unwrap().to_owned(),
                record["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Newest first; an id that is not one reads nothing and is refused before the service.
    assert_eq!(reads.len(), 6, "{reads:?}");
    assert_eq!((reads[0].0.as_str(), reads[0].1.as_str()), ("customer_read", "ok"));
    assert_eq!((reads[1].0.as_str(), reads[1].1.as_str()), ("customers_searched", "query_invalid"));
    assert!(
        reads[5].2.starts_with("'13800138001': 1 found") && reads[5].2.contains(&member_code),
        "{:?}",
        reads[5]
    );
}

#[tokio::test]
async fn merchants_counters_and_activation_codes_are_day_to_day_work() {
    let server = TestServer::start().await;
    let worker =
        sign_in(&server, &on_the_command_line(&server, "wang", OperatorRole::Operator).await).await;
    let viewer =
        sign_in(&server, &on_the_command_line(&server, "zhao", OperatorRole::Viewer).await).await;

    let store = json!({"name": "Harbour Tea", "time_zone": "Asia/Hong_Kong"});
    let (status, _) =
        call(&server, Method::POST, "/v1/operator/merchants", &viewer, store.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer adds no store");
    let (status, added) =
        call(&server, Method::POST, "/v1/operator/merchants", &worker, store).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let merchant_id = added["merchant_id"].as_str().unwrap().to_owned();
    let bad = json!({"name": "X", "time_zone": "Mars/Base"});
    let (_, refused) = call(&server, Method::POST, "/v1/operator/merchants", &worker, bad).await;
    assert_eq!(refused["code"], "time_zone_invalid");

    // A code, shown once; a second one cancelled; the first enrols a counter.
    let codes = format!("/v1/operator/merchants/{merchant_id}/activation-codes");
    let (status, issued) = call(&server, Method::POST, &codes, &worker, Value::Null).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let (_, spare) = call(&server, Method::POST, &codes, &worker, Value::Null).await;
    let spare_path = format!("{codes}/{}", spare["code_id"].as_str().unwrap());
    let (status, _) = call(&server, Method::DELETE, &spare_path, &worker, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, again) = call(&server, Method::DELETE, &spare_path, &worker, Value::Null).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("activation_code_not_waiting"))
    );
    let handshake = tillfund_core::enrolment::CounterHandshake::new().unwrap();
    let enrol = |code: &str| json!({"activation_code": code, "label": "Till 1", "public_key": handshake.public_key_hex()});
    let (status, refused) = server
        .send(
            Method::POST,
            "/v1/terminals/enrol",
            enrol(spare["activation_code"].as_str().unwrap()),
            &[],
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::CONFLICT, Some("activation_code_expired")),
        "a cancelled code enrols nothing"
    );
    let merchant: tillfund_core::MerchantId = merchant_id.parse().unwrap();
    let counter = server.enrol(merchant).await;
    let (status, _) = counter
        .signed(
            Method::GET,
            "/v1/sync/bonus-rules",
            Value::Null,
            &[("x-tillfund-app-version", "0.9.1")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The list shows the counter's last contact and version, and each code's state.
    let (status, list) =
        call(&server, Method::GET, "/v1/operator/merchants", &viewer, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let harbour = list["merchants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["merchant_id"] == merchant_id.as_str())
        .unwrap();
    assert_eq!(harbour["counters"][0]["app_version"], "0.9.1", "{harbour}");
    assert!(harbour["counters"][0]["last_seen_ms"].as_i64().is_some());
    let states: Vec<_> = harbour["activation_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.iter().filter(|state| **state == "cancelled").count(), 1, "{states:?}");
    assert_eq!(states.iter().filter(|state| **state == "used").count(), 1, "{states:?}");
    assert!(
        !list.to_string().contains(issued["activation_code"].as_str().unwrap()),
        "codes are never listed"
    );

    let admin =
        sign_in(&server, &on_the_command_line(&server, "admin", OperatorRole::Administrator).await)
            .await;
    let (_, page) =
        call(&server, Method::GET, "/v1/operator/trail?limit=50", &admin, Value::Null).await;
    let text = page.to_string();
    assert!(
        text.contains("merchant_added")
            && text.contains("activation_code_issued")
            && text.contains("activation_code_cancelled")
    );
    assert!(
        !text.contains(issued["activation_code"].as_str().unwrap()),
        "the trail never holds a code"
    );
}

#[tokio::test]
async fn every_stores_day_is_read_as_json_and_csv() {
    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Corner, \"Shop\"").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138001", &[merchant]).await;
    let outcome =
        counter.top_up(&common::uuid_key(), 1, &customer.customer_id, "200.00", "0.00").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let viewer =
        sign_in(&server, &on_the_command_line(&server, "zhao", OperatorRole::Viewer).await).await;
    let today = jiff::Timestamp::from_millisecond(server.service.now_ms())
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let path = format!("/v1/operator/settlements?day={today}");
    let (status, days) = call(&server, Method::GET, &path, &viewer, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{days}");
    let day = &days["days"][0];
    assert_eq!(
        (day["closed"].as_bool(), day["figures"]["top_up_count"].as_i64()),
        (Some(false), Some(1))
    );
    assert_eq!(day["drawer_cash"], common::minor("200.00"));
    assert_eq!(
        day["net_owed_to_store"],
        -common::minor("200.00"),
        "the store holds the platform's cash"
    );
    assert_eq!(day["counters"][0]["terminal_id"], counter.terminal_id.to_string().as_str());
    let response = server
        .http
        .get(format!("{}/v1/operator/settlements.csv?day={today}", server.url))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains("\"Corner, \"\"Shop\"\"\"") && lines[1].contains("\"200.00\""),
        "{csv}"
    );
    let (status, refused) =
        call(&server, Method::GET, "/v1/operator/settlements?day=tomorrow", &viewer, Value::Null)
            .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("day_invalid"))
    );
}

#[tokio::test]
async fn the_dashboard_shows_todays_flows_the_reserves_month_and_silent_counters() {
    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Corner Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138001", &[merchant]).await;
    let outcome =
        counter.top_up(&common::uuid_key(), 1, &customer.customer_id, "200.00", "0.00").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let viewer =
        sign_in(&server, &on_the_command_line(&server, "zhao", OperatorRole::Viewer).await).await;
    let (status, board) =
        call(&server, Method::GET, "/v1/operator/dashboard", &viewer, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    let cash = board["today_flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|flow| flow["code"] == "cash")
        .unwrap();
    assert_eq!(
        (cash["entries"].as_i64(), cash["amount"].as_i64()),
        (Some(1), Some(common::minor("200.00")))
    );
    let days = board["reserve_by_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(
        days[29]["reserve"], board["status"]["reserve"],
        "today ends where the reserve stands"
    );
    assert_eq!(days[28]["reserve"], 0, "yesterday there was no reserve yet");
    assert_eq!(board["silent_counters"].as_array().unwrap().len(), 0);
    assert_eq!(board["refused_entries"].as_array().unwrap().len(), 0);
    assert_eq!(board["last_audit"], Value::Null, "never audited");

    // A top-up for a customer not bound to the store is refused: it waits at the counter.
    let stranger = server.customer("13800138009", &[]).await;
    let outcome =
        counter.top_up(&common::uuid_key(), 2, &stranger.customer_id, "10.00", "0.00").await;
    assert_eq!(outcome["outcome"], "rejected", "{outcome}");
    // An audit that finds a problem: a balance moved beside the journal.
    let approver =
        sign_in(&server, &on_the_command_line(&server, "li.wei", OperatorRole::Approver).await)
            .await;
    let (status, _) =
        call(&server, Method::POST, "/v1/operator/audits", &approver, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    server
        .database
        .execute_raw("UPDATE accounts SET balance = balance + 1 WHERE key = 'reserve'")
        .await
        .unwrap();
    let (_, report) =
        call(&server, Method::POST, "/v1/operator/audits", &approver, Value::Null).await;
    assert!(!report["problems"].as_array().unwrap().is_empty(), "{report}");
    let (_, board) =
        call(&server, Method::GET, "/v1/operator/dashboard", &viewer, Value::Null).await;
    let refused = board["refused_entries"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{board}");
    assert_eq!(
        (refused[0]["terminal_id"].as_str(), refused[0]["refused"].as_u64()),
        (Some(counter.terminal_id.to_string().as_str()), Some(1))
    );
    assert_eq!(
        (board["last_audit"]["by"].as_str(), board["last_audit"]["outcome"].as_str()),
        (Some("li.wei"), Some("audit_problems_found")),
        "{board}"
    );
    server
        .database
        .execute_raw("UPDATE accounts SET balance = balance - 1 WHERE key = 'reserve'")
        .await
        .unwrap();

    // A day and an hour later the counter is silent.
    server.service.store().clock().advance(25 * 60 * 60 * 1000);
    let viewer =
        sign_in(&server, &on_the_command_line(&server, "qian", OperatorRole::Viewer).await).await;
    let (_, board) =
        call(&server, Method::GET, "/v1/operator/dashboard", &viewer, Value::Null).await;
    let silent = board["silent_counters"].as_array().unwrap();
    assert_eq!(silent.len(), 1, "{board}");
    assert_eq!(silent[0]["terminal_id"], counter.terminal_id.to_string().as_str());
    assert_eq!(
        board["reserve_by_day"][28]["reserve"], board["status"]["reserve"],
        "yesterday's end is today's start"
    );
}
