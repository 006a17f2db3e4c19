//! Operators for tests: accounts made as the command line makes them, and signed-in calls.

use fund_server::operators::totp::{TotpSecret, step_at};
use fund_server::service::{Caller, RequestSource};
use fund_server::store::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::protocol::OperatorRole;

use super::TestServer;

pub const ADMIN_PASSWORD: &str = "keep the ledger honest";
pub const STAFF_PASSWORD: &str = "correct horse battery";

pub struct Operator {
    pub name: String,
    pub password: String,
    pub secret: TotpSecret,
}

/// An account made on the command line, as the first administrator is.
pub async fn on_the_command_line(server: &TestServer, name: &str, role: OperatorRole) -> Operator {
    let password =
        if role == OperatorRole::Administrator { ADMIN_PASSWORD } else { STAFF_PASSWORD };
    let enrolment = server
        .service
        .add_operator(&Caller::CommandLine, &RequestSource::command_line(), name, role, password)
        .await
        .unwrap();
    Operator {
        name: name.to_owned(),
        password: password.to_owned(),
        secret: TotpSecret::from_base32(&enrolment.totp_secret).unwrap(),
    }
}

/// The code the operator's phone shows now, by the server's clock; the clock then moves on
/// a step, as it does between two real sign-ins (each code is accepted once).
pub fn code_now(server: &TestServer, operator: &Operator) -> String {
    let clock = server.service.store().clock();
    let code = operator.secret.code_at_step(step_at(clock.now_ms()));
    clock.advance(30_000);
    code
}

pub async fn sign_in_with(
    server: &TestServer,
    operator: &Operator,
    password: &str,
    code: &str,
) -> (StatusCode, Value) {
    let body = json!({"name": operator.name, "password": password, "one_time_code": code});
    server.send(Method::POST, "/v1/operator/sessions", body, &[]).await
}

pub async fn sign_in(server: &TestServer, operator: &Operator) -> String {
    let code = code_now(server, operator);
    let (status, body) = sign_in_with(server, operator, &operator.password, &code).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tfo_"), "{token}");
    token
}

pub async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let bearer = format!("Bearer {token}");
    server.send(method, path, body, &[("authorization", &bearer)]).await
}
