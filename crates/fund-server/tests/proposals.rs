//! Four eyes over the operators' API on a real database: a bonus rule proposed by one
//! operator and approved by another reaches a counter's next top-up; nobody approves their
//! own proposal; a viewer changes nothing; an expired proposal stays unapproved; parallel
//! approvals apply a change once; and the trail shows every step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::operators::{call, on_the_command_line, sign_in};
use common::{TestServer, minor, uuid_key};
use fund_server::ledger::Account;
use fund_server::store::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::protocol::OperatorRole;

fn tier_rule(minimum: &str, bonus: &str) -> Value {
    json!({"merchant_id": null, "valid_from_ms": 0, "valid_until_ms": null,
           "formula": {"type": "tiers", "tiers": [{"minimum": minor(minimum), "bonus": minor(bonus)}]}})
}

async fn propose(server: &TestServer, token: &str, change: Value) -> (StatusCode, Value) {
    let body = json!({"change": change, "note": "spring campaign"});
    call(server, Method::POST, "/v1/operator/proposals", token, body).await
}

async fn decide(server: &TestServer, token: &str, id: &str, what: &str) -> (StatusCode, Value) {
    let path = format!("/v1/operator/proposals/{id}/{what}");
    call(server, Method::POST, &path, token, Value::Null).await
}

#[tokio::test]
async fn a_bonus_rule_proposed_and_approved_by_another_reaches_the_next_top_up() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let merchant = server.add_merchant("Corner Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138001", &[merchant]).await;
    let maker = on_the_command_line(&server, "wang", OperatorRole::Operator).await;
    let checker = on_the_command_line(&server, "li.wei", OperatorRole::Approver).await;
    let viewer = on_the_command_line(&server, "zhao", OperatorRole::Viewer).await;
    let (maker, checker, viewer) = (
        sign_in(&server, &maker).await,
        sign_in(&server, &checker).await,
        sign_in(&server, &viewer).await,
    );

    // A viewer proposes nothing.
    let change = json!({"kind": "publish_bonus_rules", "rules": [tier_rule("500.00", "50.00")]});
    let (status, refused) = propose(&server, &viewer, change.clone()).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("operator_forbidden"))
    );

    // The operator proposes; the proposal shows what changes, on sample amounts too.
    let (status, proposal) = propose(&server, &maker, change).await;
    assert_eq!(status, StatusCode::CREATED, "{proposal}");
    assert_eq!(proposal["status"], "pending");
    let id = proposal["id"].as_str().unwrap().to_owned();
    let lines: Vec<(String, String, String)> = proposal["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            let text = |field: &str| line[field].as_str().unwrap().to_owned();
            (text("what"), text("before"), text("after"))
        })
        .collect();
    assert_eq!(lines[0], ("bonus rule set".into(), "version 0".into(), "version 1".into()));
    assert!(
        lines.contains(&(
            "bonus on a top-up of 500.00 CNY at any store".into(),
            "0.00".into(),
            "50.00".into()
        )),
        "{lines:?}"
    );
    assert!(
        lines.contains(&(
            "bonus on a top-up of 100.00 CNY at any store".into(),
            "0.00".into(),
            "0.00".into()
        )),
        "{lines:?}"
    );
    assert_eq!(server.service.current_bonus_rules().await.unwrap().version(), 0, "nothing yet");

    // Four eyes: the maker cannot approve it, a viewer cannot either.
    let (status, own) = decide(&server, &maker, &id, "approve").await;
    assert_eq!(
        (status, own["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("operator_forbidden")),
        "an operator approves nothing"
    );
    let (status, _) = decide(&server, &viewer, &id, "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, listed) =
        call(&server, Method::GET, "/v1/operator/proposals?status=pending", &viewer, Value::Null)
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["proposals"][0]["id"], id.as_str(), "a viewer reads it");

    // The approver approves: applied at once, exactly once.
    let (status, approved) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(
        (approved["status"].as_str(), approved["outcome"].as_str()),
        (Some("applied"), Some("ok"))
    );
    assert_eq!(approved["decided_by"], "li.wei");
    let (status, again) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("proposal_not_pending"))
    );
    assert_eq!(server.service.current_bonus_rules().await.unwrap().version(), 1);

    // The counter picks the rule up, and its next top-up gets the new bonus.
    let (status, rules) =
        counter.signed(Method::GET, "/v1/sync/bonus-rules", Value::Null, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rules["version"], 1, "{rules}");
    let outcome = counter.top_up(&uuid_key(), 1, &customer.customer_id, "500.00", "50.00").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    assert_eq!(server.wallet(&customer).await["bonus"], minor("50.00"));

    // The trail shows every step, refusals included.
    let admin = on_the_command_line(&server, "admin", OperatorRole::Administrator).await;
    let admin = sign_in(&server, &admin).await;
    let (_, page) =
        call(&server, Method::GET, "/v1/operator/trail?action=proposal_made", &admin, Value::Null)
            .await;
    let made: Vec<_> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["operator_name"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(made, [("wang", "ok"), ("zhao", "operator_forbidden")]);
    assert!(
        page["records"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("bonus on a top-up of 500.00 CNY at any store: 0.00 -> 50.00")
    );
    let (_, page) = call(
        &server,
        Method::GET,
        "/v1/operator/trail?action=proposal_approved",
        &admin,
        Value::Null,
    )
    .await;
    let approved: Vec<_> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["operator_name"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        approved,
        [
            ("li.wei", "proposal_not_pending"),
            ("li.wei", "ok"),
            ("zhao", "operator_forbidden"),
            ("wang", "operator_forbidden")
        ]
    );
    server.audit_passes().await;
}

#[tokio::test]
async fn nobody_approves_their_own_and_expired_or_decided_proposals_stay_as_they_are() {
    let server = TestServer::start().await;
    let first = on_the_command_line(&server, "li.wei", OperatorRole::Approver).await;
    let second = on_the_command_line(&server, "chen", OperatorRole::Approver).await;
    let (first, second) = (sign_in(&server, &first).await, sign_in(&server, &second).await);
    let fund = json!({"kind": "fund_reserve", "amount": minor("2500.00")});

    // An approver's own proposal needs the other approver.
    let (_, proposal) = propose(&server, &first, fund.clone()).await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    assert_eq!(proposal["changes"][0]["before"], "0.00");
    assert_eq!(proposal["changes"][0]["after"], "2500.00");
    let (status, own) = decide(&server, &first, &id, "approve").await;
    assert_eq!(
        (status, own["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("proposal_own_approval"))
    );
    let (status, own) = decide(&server, &first, &id, "reject").await;
    assert_eq!(
        (status, own["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("proposal_own_approval"))
    );
    let (status, other) = decide(&server, &second, &id, "withdraw").await;
    assert_eq!(
        (status, other["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("operator_forbidden"))
    );
    let (status, withdrawn) = decide(&server, &first, &id, "withdraw").await;
    assert_eq!((status, withdrawn["status"].as_str()), (StatusCode::OK, Some("withdrawn")));
    let (status, late) = decide(&server, &second, &id, "approve").await;
    assert_eq!(
        (status, late["code"].as_str()),
        (StatusCode::CONFLICT, Some("proposal_not_pending"))
    );

    // Rejected stays rejected.
    let (_, proposal) = propose(&server, &first, fund.clone()).await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (status, rejected) = decide(&server, &second, &id, "reject").await;
    assert_eq!((status, rejected["status"].as_str()), (StatusCode::OK, Some("rejected")));
    assert_eq!(decide(&server, &second, &id, "approve").await.0, StatusCode::CONFLICT);

    // Expired after 48 hours: listed as expired, never approvable.
    let (_, proposal) = propose(&server, &first, fund.clone()).await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    server.service.store().clock().advance(48 * 60 * 60 * 1000);
    let (status, _) = call(&server, Method::GET, "/v1/operator/me", &second, Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended meanwhile");
    let second =
        sign_in(&server, &on_the_command_line(&server, "zhou", OperatorRole::Approver).await).await;
    let (status, expired) = decide(&server, &second, &id, "approve").await;
    assert_eq!(
        (status, expired["code"].as_str()),
        (StatusCode::CONFLICT, Some("proposal_expired"))
    );
    let (_, listed) =
        call(&server, Method::GET, "/v1/operator/proposals?status=expired", &second, Value::Null)
            .await;
    assert_eq!(listed["proposals"].as_array().unwrap().len(), 1);
    assert_eq!(listed["proposals"][0]["id"], id.as_str());
    assert_eq!(
        server.service.store().balance(Account::Reserve).await.unwrap().minor_units(),
        0,
        "nothing was funded"
    );

    // Bad proposals change nothing and say why.
    let first =
        sign_in(&server, &on_the_command_line(&server, "wu", OperatorRole::Operator).await).await;
    for (change, code) in [
        (json!({"kind": "fund_reserve", "amount": 0}), "amount_not_positive"),
        (
            json!({"kind": "set_yield_rate", "effective_from": "2026-13-01", "annual_percent": "2"}),
            "day_invalid",
        ),
        (
            json!({"kind": "set_yield_rate", "effective_from": "2026-12-01", "annual_percent": "200"}),
            "yield_rate_invalid",
        ),
        (json!({"kind": "revoke_terminal", "terminal_id": "nope"}), "proposal_target_unknown"),
        (json!({"kind": "unlock_customer", "customer_id": uuid_key()}), "proposal_target_unknown"),
        (
            json!({"kind": "publish_bonus_rules", "rules": [{"merchant_id": null, "valid_from_ms": 10, "valid_until_ms": 5, "formula": {"type": "percentage", "basis_points": 100, "cap": null}}]}),
            "bonus_rule_invalid",
        ),
    ] {
        let (_, refused) = propose(&server, &first, change).await;
        assert_eq!(refused["code"], code, "{refused}");
    }
    let (_, refused) = call(
        &server,
        Method::POST,
        "/v1/operator/proposals",
        &first,
        json!({"change": fund, "note": "x".repeat(501)}),
    )
    .await;
    assert_eq!(refused["code"], "proposal_note_too_long");
    let (status, refused) = call(
        &server,
        Method::POST,
        "/v1/operator/proposals",
        &first,
        json!({"change": {"kind": "drain_reserve"}}),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body_invalid"))
    );
    let (status, _) = decide(&server, &second, "not-an-id", "approve").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.audit_passes().await;
}

#[tokio::test]
async fn parallel_approvals_apply_a_change_once() {
    let server = TestServer::start_unlimited().await;
    let maker =
        sign_in(&server, &on_the_command_line(&server, "wang", OperatorRole::Operator).await).await;
    let mut checkers = Vec::new();
    for name in ["li.wei", "chen", "zhou", "wu"] {
        checkers.push(
            sign_in(&server, &on_the_command_line(&server, name, OperatorRole::Approver).await)
                .await,
        );
    }
    let (_, proposal) =
        propose(&server, &maker, json!({"kind": "fund_reserve", "amount": minor("1000.00")})).await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    let approvals: Vec<_> = (0..12)
        .map(|index| {
            let request = server
                .http
                .post(format!("{}/v1/operator/proposals/{id}/approve", server.url))
                .bearer_auth(&checkers[index % checkers.len()]);
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for approval in approvals {
        statuses.push(approval.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|status| **status == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK || *status == StatusCode::CONFLICT)
    );
    assert_eq!(
        server.service.store().balance(Account::Reserve).await.unwrap().minor_units(),
        minor("1000.00")
    );
    server.audit_passes().await;
}

#[tokio::test]
async fn revoking_a_counter_and_unlocking_a_wallet_go_through_four_eyes() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Corner Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138002", &[merchant]).await;
    let maker =
        sign_in(&server, &on_the_command_line(&server, "wang", OperatorRole::Operator).await).await;
    let checker =
        sign_in(&server, &on_the_command_line(&server, "li.wei", OperatorRole::Approver).await)
            .await;

    let change = json!({"kind": "revoke_terminal", "terminal_id": counter.terminal_id.to_string()});
    let (_, proposal) = propose(&server, &maker, change).await;
    assert_eq!(proposal["changes"][0]["before"], "enrolled", "{proposal}");
    let (status, _) = counter.signed(Method::GET, "/v1/sync/bonus-rules", Value::Null, &[]).await;
    assert_eq!(status, StatusCode::OK, "still enrolled while pending");
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (_, approved) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(approved["status"], "applied", "{approved}");
    let (status, refused) =
        counter.signed(Method::GET, "/v1/sync/bonus-rules", Value::Null, &[]).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("terminal_revoked"))
    );

    // A yield rate from a day on: shown against the rate in force then.
    let change =
        json!({"kind": "set_yield_rate", "effective_from": "2026-12-01", "annual_percent": "2.5"});
    let (_, proposal) = propose(&server, &maker, change).await;
    assert_eq!(proposal["changes"][0]["what"], "annual yield rate from 2026-12-01");
    assert_eq!(
        (proposal["changes"][0]["before"].as_str(), proposal["changes"][0]["after"].as_str()),
        (Some("none"), Some("2.5%"))
    );
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (_, approved) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(approved["status"], "applied", "{approved}");
    let rates = server.service.yield_rates().await.unwrap();
    assert_eq!(rates.len(), 1);
    assert_eq!((rates[0].0.as_str(), rates[0].1.to_string().as_str()), ("2026-12-01", "0.025"));

    // Five wrong PINs lock the wallet; an approved unlock lifts it before its time.
    for _ in 0..5 {
        let (status, _) = server
            .send(
                Method::POST,
                "/v1/sessions",
                json!({"phone": customer.phone, "pin": "999999"}),
                &[],
            )
            .await;
        assert_eq!(status.as_u16() / 100, 4);
    }
    let (status, locked) = server
        .send(Method::POST, "/v1/sessions", json!({"phone": customer.phone, "pin": "123456"}), &[])
        .await;
    assert_eq!((status, locked["code"].as_str()), (StatusCode::LOCKED, Some("wallet_locked")));
    let change = json!({"kind": "unlock_customer", "customer_id": customer.customer_id});
    let (_, proposal) = propose(&server, &maker, change).await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (_, approved) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(approved["status"], "applied", "{approved}");
    let (status, _) = server
        .send(Method::POST, "/v1/sessions", json!({"phone": customer.phone, "pin": "123456"}), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    server.audit_passes().await;
}

#[tokio::test]
async fn an_approval_cut_off_before_it_was_applied_is_finished_by_approving_again() {
    let server = TestServer::start().await;
    let maker =
        sign_in(&server, &on_the_command_line(&server, "wang", OperatorRole::Operator).await).await;
    let checker_account = on_the_command_line(&server, "li.wei", OperatorRole::Approver).await;
    let checker = sign_in(&server, &checker_account).await;
    let fund = json!({"kind": "fund_reserve", "amount": minor("700.00")});
    let (_, proposal) = propose(&server, &maker, fund).await;
    let id: tillfund_core::ProposalId = proposal["id"].as_str().unwrap().parse().unwrap();
    // The approval's decision was written, then the server stopped before applying it.
    let decider = fund_server::operators::Actor {
        operator_id: server.service.operator_id_by_name("li.wei").await.unwrap(),
        name: "li.wei".into(),
    };
    let decision = fund_server::store::Decision {
        to: tillfund_core::protocol::ProposalStatus::Approved,
        decider: &decider,
        note: "",
        changes: &[],
        now_ms: server.service.store().clock().now_ms(),
    };
    assert!(server.service.store().decide_proposal(id, decision).await.unwrap());
    let (_, stuck) =
        call(&server, Method::GET, &format!("/v1/operator/proposals/{id}"), &maker, Value::Null)
            .await;
    assert_eq!(stuck["status"], "approved");
    // While it may still be applying, approving again is refused; a minute on, the
    // proposer still cannot finish it, an approver can, and it applies once.
    let (status, busy) = decide(&server, &checker, &id.to_string(), "approve").await;
    assert_eq!(
        (status, busy["code"].as_str()),
        (StatusCode::CONFLICT, Some("proposal_not_pending"))
    );
    server.service.store().clock().advance(60_000);
    let (status, _) = decide(&server, &maker, &id.to_string(), "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for _ in 0..2 {
        let (status, finished) = decide(&server, &checker, &id.to_string(), "approve").await;
        assert_eq!(
            (status, finished["status"].as_str()),
            (StatusCode::OK, Some("applied")),
            "{finished}"
        );
        // Its finish lost again (as two approvers finishing it at once would see): it
        // applies again, and funds once.
        execute_again(&server, id).await;
    }
    assert_eq!(
        server.service.store().balance(Account::Reserve).await.unwrap().minor_units(),
        minor("700.00")
    );
    server.audit_passes().await;
}

/// Puts an applied proposal back to approved, as if its finish had been lost.
async fn execute_again(server: &TestServer, id: tillfund_core::ProposalId) {
    let statement =
        format!("UPDATE proposals SET status = 'approved', outcome = NULL WHERE id = '{id}'");
    server.database.execute_raw(&statement).await.unwrap();
}

#[tokio::test]
async fn money_limits_and_taking_money_out_of_the_reserve_go_through_four_eyes() {
    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    let merchant = server.add_merchant("Corner Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138003", &[merchant]).await;
    let maker =
        sign_in(&server, &on_the_command_line(&server, "wang", OperatorRole::Operator).await).await;
    let checker =
        sign_in(&server, &on_the_command_line(&server, "li.wei", OperatorRole::Approver).await)
            .await;
    let status = server.service.ledger_status().await.unwrap();
    assert_eq!((status.wallet_balance_cap.minor_units(), status.limits_version), (500_000, None));

    // Limits that cannot be are refused when proposed.
    for (cap, threshold) in [(0, 0), (minor("300.00"), -1)] {
        let change = json!({"kind": "set_money_limits", "wallet_cap": cap,
                            "reserve_threshold": threshold, "reserve_refill": 0});
        let (status, refused) = propose(&server, &maker, change).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("money_limit_invalid")),
            "{refused}"
        );
    }
    let limits = json!({"kind": "set_money_limits", "wallet_cap": minor("300.00"),
                        "reserve_threshold": minor("200.00"), "reserve_refill": 0});
    let (_, proposal) = propose(&server, &maker, limits.clone()).await;
    let line = |index: usize| {
        let line = &proposal["changes"][index];
        (line["what"].as_str().unwrap(), line["before"].as_str(), line["after"].as_str())
    };
    assert_eq!(line(0), ("wallet cap", Some("5000.00"), Some("300.00")), "{proposal}");
    assert_eq!(line(1), ("reserve threshold", Some("0.00"), Some("200.00")), "{proposal}");
    // While it waits, the limits in force hold: a top-up to 400.00 goes through.
    let outcome = counter.top_up(&uuid_key(), 1, &customer.customer_id, "400.00", "0.00").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (_, approved) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(approved["status"], "applied", "{approved}");

    // The ledger enforces the approved cap, though this server was started with 5,000.00.
    let status = server.service.ledger_status().await.unwrap();
    assert_eq!(
        (status.wallet_balance_cap.minor_units(), status.limits_version),
        (minor("300.00"), Some(1))
    );
    let outcome = counter.top_up(&uuid_key(), 2, &customer.customer_id, "1.00", "0.00").await;
    assert_eq!(
        (outcome["outcome"].as_str(), outcome["code"].as_str()),
        (Some("rejected"), Some("wallet_cap_exceeded")),
        "{outcome}"
    );
    // The same limits again would change nothing.
    let (status, refused) = propose(&server, &maker, limits).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("money_limit_invalid"))
    );
    // Applying the approved proposal again stores no second version.
    execute_again(&server, id.parse().unwrap()).await;
    server.service.store().clock().advance(60_000);
    let (_, again) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(again["status"], "applied", "{again}");
    assert_eq!(server.service.ledger_status().await.unwrap().limits_version, Some(1));

    // The reserve holds 600.00 (400.00 went into the wallet) and keeps 200.00.
    let reserve = || async { server.service.store().balance(Account::Reserve).await.unwrap() };
    assert_eq!(reserve().await.minor_units(), minor("600.00"));
    let defund = |amount: &str| json!({"kind": "defund_reserve", "amount": minor(amount)});
    let (_, too_much) = propose(&server, &maker, defund("400.01")).await;
    let id = too_much["id"].as_str().unwrap().to_owned();
    let (_, failed) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["outcome"], "reserve_under_threshold", "{failed}");
    assert_eq!(reserve().await.minor_units(), minor("600.00"), "nothing moved");
    let (_, proposal) = propose(&server, &maker, defund("400.00")).await;
    assert_eq!(
        (proposal["changes"][0]["before"].as_str(), proposal["changes"][0]["after"].as_str()),
        (Some("600.00"), Some("200.00"))
    );
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (_, applied) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(applied["status"], "applied", "{applied}");
    execute_again(&server, id.parse().unwrap()).await;
    server.service.store().clock().advance(60_000);
    decide(&server, &checker, &id, "approve").await;
    assert_eq!(reserve().await.minor_units(), minor("200.00"), "taken out once");

    // Funding that leaves the reserve under its threshold says what the ledger does next.
    let limits = json!({"kind": "set_money_limits", "wallet_cap": minor("300.00"),
                        "reserve_threshold": minor("1000.00"), "reserve_refill": minor("100.00")});
    let (_, proposal) = propose(&server, &maker, limits).await;
    let (_, applied) = decide(&server, &checker, proposal["id"].as_str().unwrap(), "approve").await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let fund = json!({"kind": "fund_reserve", "amount": minor("10.00")});
    let (_, proposal) = propose(&server, &maker, fund).await;
    let under = &proposal["changes"][1];
    assert_eq!(under["what"], "reserve under its threshold of 1000.00", "{proposal}");
    assert_eq!(
        under["after"],
        "210.00, under the threshold: the service account (0.00) cannot refill it, the alert is raised",
        "{proposal}"
    );
    server.audit_passes().await;
}

#[tokio::test]
async fn a_store_s_settlement_account_changes_only_under_four_eyes() {
    let server = TestServer::start().await;
    let merchant = server.add_merchant("Corner Shop").await;
    let maker =
        sign_in(&server, &on_the_command_line(&server, "wang", OperatorRole::Operator).await).await;
    let checker =
        sign_in(&server, &on_the_command_line(&server, "li.wei", OperatorRole::Approver).await)
            .await;
    let edit = |name: &str, account: &str| {
        json!({"kind": "edit_merchant", "merchant_id": merchant.to_string(), "name": name,
               "time_zone": "Asia/Shanghai", "settlement_account": account})
    };
    // What cannot be is refused when proposed; so is a change that changes nothing.
    for (change, code) in [
        (edit("Corner Shop", "ICBC 6222\n0000"), "settlement_account_invalid"),
        (edit("", "ICBC 6222 0000"), "merchant_name_invalid"),
        (edit("Corner Shop", ""), "body_invalid"),
    ] {
        let (status, refused) = propose(&server, &maker, change).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{refused}"
        );
    }
    let (status, proposal) =
        propose(&server, &maker, edit("Corner Shop Nanjing Rd", "ICBC 6222 0000 1234")).await;
    assert_eq!(status, StatusCode::CREATED, "{proposal}");
    let lines: Vec<(&str, &str)> = proposal["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| (line["before"].as_str().unwrap(), line["after"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [("Corner Shop", "Corner Shop Nanjing Rd"), ("(none)", "ICBC 6222 0000 1234")],
        "only what changes, before → after"
    );
    let listed = || async {
        let (_, body) =
            call(&server, Method::GET, "/v1/operator/merchants", &maker, Value::Null).await;
        body["merchants"][0]["settlement_account"].as_str().unwrap().to_owned()
    };
    assert_eq!(listed().await, "", "nothing changes while it waits");
    // A second proposal made from the same page: approved after the first, it would
    // quietly put the old name back.
    let (_, stale) = propose(&server, &maker, edit("Corner Shop", "ICBC 6222 0000 1234")).await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (status, _) = decide(&server, &maker, &id, "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not by its proposer");
    let (_, approved) = decide(&server, &checker, &id, "approve").await;
    assert_eq!(approved["status"], "applied", "{approved}");
    assert_eq!(listed().await, "ICBC 6222 0000 1234");
    let stored = server.service.store().merchant(merchant).await.unwrap().unwrap();
    assert_eq!(stored.name, "Corner Shop Nanjing Rd");
    let (status, outdated) =
        decide(&server, &checker, stale["id"].as_str().unwrap(), "approve").await;
    assert_eq!(
        (status, outdated["code"].as_str()),
        (StatusCode::CONFLICT, Some("proposal_outdated")),
        "{outdated}"
    );
    assert_eq!(server.service.store().merchant(merchant).await.unwrap().unwrap(), stored);

    // Its time zone changes only while no day of it is open: a day's entries are cut in it.
    server.fund_reserve("100.00").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138004", &[merchant]).await;
    let outcome = counter.top_up(&uuid_key(), 1, &customer.customer_id, "10.00", "0").await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let rezone = json!({"kind": "edit_merchant", "merchant_id": merchant.to_string(),
        "name": "Corner Shop Nanjing Rd", "time_zone": "Europe/Berlin",
        "settlement_account": "ICBC 6222 0000 1234"});
    let (status, refused) = propose(&server, &maker, rezone).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::CONFLICT, Some("merchant_days_open")),
        "{refused}"
    );
}

#[tokio::test]
async fn a_bonus_rule_set_scheduled_to_start_keeps_the_rules_in_force_until_then() {
    let server = TestServer::start().await;
    let maker =
        sign_in(&server, &on_the_command_line(&server, "wang", OperatorRole::Operator).await).await;
    let checker =
        sign_in(&server, &on_the_command_line(&server, "li.wei", OperatorRole::Approver).await)
            .await;
    let publish = |rules: Value, starts_at_ms: Option<i64>| json!({"kind": "publish_bonus_rules", "rules": rules, "starts_at_ms": starts_at_ms});
    let (_, first) =
        propose(&server, &maker, publish(json!([tier_rule("500.00", "10.00")]), None)).await;
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(decide(&server, &checker, &id, "approve").await.1["status"], "applied");

    let now = server.service.store().clock().now_ms();
    let (status, refused) =
        propose(&server, &maker, publish(json!([tier_rule("500.00", "50.00")]), Some(now - 1)))
            .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bonus_rule_invalid")),
        "{refused}"
    );
    let start = now + 60 * 60 * 1000;
    let (_, proposal) =
        propose(&server, &maker, publish(json!([tier_rule("500.00", "50.00")]), Some(start))).await;
    let lines = proposal["changes"].as_array().unwrap();
    assert!(lines.iter().any(|line| line["what"] == "new rules start"), "{proposal}");
    let sample = lines
        .iter()
        .find(|line| line["what"].as_str().unwrap().starts_with("bonus on a top-up of 500.00 CNY"))
        .unwrap();
    assert_eq!(
        (sample["before"].as_str(), sample["after"].as_str()),
        (Some("10.00"), Some("50.00"))
    );
    let id = proposal["id"].as_str().unwrap().to_owned();
    assert_eq!(decide(&server, &checker, &id, "approve").await.1["status"], "applied");

    // One set, published now: the old bonus until the start, the new one from then on.
    let rules = server.service.current_bonus_rules().await.unwrap();
    assert_eq!(rules.version(), 2);
    let anywhere = tillfund_core::MerchantId::generate();
    let amount = tillfund_core::PositiveAmount::try_from(minor("500.00")).unwrap();
    let bonus = |at: i64| rules.quote(anywhere, amount, at).bonus.minor_units();
    assert_eq!(
        (bonus(now), bonus(start - 1), bonus(start), bonus(start + 86_400_000)),
        (minor("10.00"), minor("10.00"), minor("50.00"), minor("50.00"))
    );
    // The rules as operators read them: the set in force and the versions before it.
    let (status, rules) =
        call(&server, Method::GET, "/v1/operator/rules", &maker, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    assert_eq!(rules["bonus_rules_version"], 2);
    assert_eq!(rules["bonus_rules"].as_array().unwrap().len(), 2, "{rules}");
    let versions = rules["bonus_rule_versions"].as_array().unwrap();
    assert_eq!(
        versions.iter().map(|version| version["version"].as_u64().unwrap()).collect::<Vec<_>>(),
        [2, 1]
    );
    assert!(versions[0]["superseded_at_ms"].is_null() && versions[1]["superseded_at_ms"].is_i64());
    assert_eq!(rules["wallet_cap"], 500_000);

    // Its finish lost, and approved again only after the start: it is finished, not failed,
    // and the bonus is what was approved.
    execute_again(&server, id.parse().unwrap()).await;
    server.service.store().clock().advance(2 * 60 * 60 * 1000);
    let approver = on_the_command_line(&server, "zhang", OperatorRole::Approver).await;
    let approver = sign_in(&server, &approver).await;
    let (status, finished) = decide(&server, &approver, &id, "approve").await;
    assert_eq!(
        (status, finished["status"].as_str()),
        (StatusCode::OK, Some("applied")),
        "{finished}"
    );
    let rules = server.service.current_bonus_rules().await.unwrap();
    let later = server.service.store().clock().now_ms();
    assert_eq!(rules.quote(anywhere, amount, later).bonus.minor_units(), minor("50.00"));
}
