//! A counter made of nothing but the wire protocol: enrols by key agreement, signs requests
//! by hand, keeps what it sent so that it can send it again or alter it. The attack tests
//! and the security benchmark drive the real `fund-server` binary with it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::enrolment::CounterHandshake;
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::signing::{TerminalKey, new_nonce};
use tillfund_core::{Currency, MerchantId, OrderId, OutboxEntryId, PositiveAmount, TerminalId};

use crate::demo::fund_server_cli;
use crate::process::FundServer;

pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}

/// Enrols a new terminal of `merchant` at the server at `url` with an activation code, by
/// key agreement as a counter does.
pub async fn enrol_till(http: &reqwest::Client, url: &str, code: &str, merchant: &str) -> Till {
    let handshake = CounterHandshake::new().unwrap();
    let response = http
        .post(format!("{url}/v1/terminals/enrol"))
        .json(&json!({"activation_code": code, "label": "Till", "public_key": handshake.public_key_hex()}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "{body}");
    let terminal_id: TerminalId = body["terminal_id"].as_str().unwrap().parse().unwrap();
    let key = handshake
        .finish(&terminal_id.to_string(), body["server_public_key"].as_str().unwrap())
        .unwrap();
    Till {
        url: url.to_owned(),
        http: http.clone(),
        terminal_id,
        merchant_id: merchant.parse().unwrap(),
        key,
    }
}

/// Registers a customer (PIN 123456) bound to `merchants` at the server at `url` and signs
/// in; returns (customer id, session token).
pub async fn register_customer(
    http: &reqwest::Client,
    url: &str,
    phone: &str,
    merchants: &[&str],
) -> (String, String) {
    let answer = |response: reqwest::Response| async move {
        let status = response.status();
        (status, response.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (status, body) = answer(
        http.post(format!("{url}/v1/customers"))
            .header("idempotency-key", format!("signup-{phone}"))
            .json(&json!({"phone": phone, "display_name": "Ann", "pin": "123456", "merchant_ids": merchants}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let customer_id = body["customer_id"].as_str().unwrap().to_owned();
    let (status, session) = answer(
        http.post(format!("{url}/v1/sessions"))
            .json(&json!({"phone": phone, "pin": "123456"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    (customer_id, session["token"].as_str().unwrap().to_owned())
}

/// A running server and its data directory.
pub struct Target {
    pub server: FundServer,
    pub data_dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl Target {
    pub fn start(environment: &[(&str, &str)]) -> Target {
        let data_dir = tempfile::tempdir().unwrap();
        let server =
            FundServer::start_with_env(data_dir.path(), "127.0.0.1:0", environment).unwrap();
        Target { server, data_dir, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    pub fn activation_code(&self, merchant: &str) -> String {
        let (ok, stdout, stderr) = fund_server_cli(
            self.data_dir.path(),
            &["terminal", "activation-code", "--merchant", merchant],
        );
        assert!(ok, "{stderr}");
        stdout.split_whitespace().nth(2).unwrap().to_owned()
    }

    pub fn add_merchant(&self, name: &str) -> String {
        let (ok, stdout, stderr) =
            fund_server_cli(self.data_dir.path(), &["merchant", "add", "--name", name]);
        assert!(ok, "{stderr}");
        stdout.split_whitespace().nth(1).unwrap().to_owned()
    }

    pub async fn enrol_raw(&self, code: &str, public_key: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/v1/terminals/enrol"))
            .json(&json!({"activation_code": code, "label": "Till", "public_key": public_key}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn enrol(&self, merchant: &str) -> Till {
        let code = self.activation_code(merchant);
        enrol_till(&self.http, &self.server.url, &code, merchant).await
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers a customer bound to `merchants` and signs in; returns (customer id, token).
    pub async fn customer(&self, phone: &str, merchants: &[&str]) -> (String, String) {
        register_customer(&self.http, &self.server.url, phone, merchants).await
    }

    pub async fn wallet(&self, token: &str) -> Value {
        self.json(
            Method::GET,
            "/v1/wallet",
            Value::Null,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
        .1
    }

    pub async fn pay(&self, token: &str, payment_token: &str) -> (StatusCode, Value) {
        self.json(
            Method::POST,
            "/v1/payments",
            json!({"token": payment_token, "pin": "123456"}),
            &[("authorization", &format!("Bearer {token}")), ("idempotency-key", &new_nonce())],
        )
        .await
    }

    /// Stops the server and runs the audit on its data.
    pub fn stop_and_audit(self) {
        assert!(self.server.stop().unwrap().success());
        let (ok, stdout, stderr) = fund_server_cli(self.data_dir.path(), &["audit"]);
        assert!(ok, "audit: {stdout}{stderr}");
    }
}

/// A signed request, built but not yet sent, so that it can be sent again or altered.
#[derive(Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn with_header(mut self, name: &str, value: &str) -> Captured {
        self.headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Clone)]
pub struct Till {
    pub url: String,
    pub http: reqwest::Client,
    pub terminal_id: TerminalId,
    pub merchant_id: MerchantId,
    pub key: TerminalKey,
}

impl Till {
    pub fn sign(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        idempotency_key: &str,
    ) -> Captured {
        self.sign_at(method, path, body, idempotency_key, now_ms())
    }

    pub fn sign_at(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        idempotency_key: &str,
        timestamp_ms: i64,
    ) -> Captured {
        let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(body).unwrap() };
        let terminal_id = self.terminal_id.to_string();
        let signed = self.key.signed_headers(
            &terminal_id,
            method.as_str(),
            path,
            timestamp_ms,
            idempotency_key,
            &bytes,
        );
        let mut headers: Vec<(String, String)> =
            signed.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
        Captured { method, path: path.to_owned(), headers, body: bytes }
    }

    /// The same terminal sending to another process of the platform (behind a load
    /// balancer each request may reach any).
    pub fn at(&self, url: &str) -> Till {
        Till { url: url.to_owned(), ..self.clone() }
    }

    /// Sends `captured`; a connection refused or cut is an error, not a panic, for the
    /// fault tests that retry.
    pub async fn try_send(&self, captured: &Captured) -> reqwest::Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(captured.method.clone(), format!("{}{}", self.url, captured.path))
            .body(captured.body.clone());
        for (name, value) in &captured.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    pub async fn send(&self, captured: &Captured) -> (StatusCode, Value) {
        self.try_send(captured).await.unwrap()
    }

    pub async fn signed(
        &self,
        method: Method,
        path: &str,
        body: Value,
        idempotency_key: &str,
    ) -> (StatusCode, Value) {
        let captured = self.sign(method, path, &body, idempotency_key);
        self.send(&captured).await
    }

    /// Pushes one top-up under `entry_id`, recorded now; returns its result.
    pub async fn top_up(
        &self,
        entry_id: OutboxEntryId,
        customer_id: &str,
        minor_units: i64,
    ) -> Value {
        self.top_up_at(entry_id, customer_id, minor_units, now_ms()).await
    }

    pub async fn top_up_at(
        &self,
        entry_id: OutboxEntryId,
        customer_id: &str,
        minor_units: i64,
        recorded_at_ms: i64,
    ) -> Value {
        let body = json!({"entries": [{
            "id": entry_id, "sequence": 1, "recorded_at_ms": recorded_at_ms,
            "action": {"type": "cash_top_up", "customer_id": customer_id, "amount": minor_units,
                       "bonus_shown": 0, "bonus_rule_version": null}
        }]});
        let (status, answer) = self.signed(Method::POST, "/v1/sync/push", body, "").await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["results"][0].clone()
    }

    pub fn payment_token(&self, order_id: OrderId, minor_units: i64) -> String {
        PaymentClaims {
            merchant_id: self.merchant_id,
            terminal_id: self.terminal_id,
            order_id,
            amount: PositiveAmount::try_from(minor_units).unwrap(),
            currency: Currency::CNY.code().to_owned(),
            expires_at_ms: now_ms() + 120_000,
        }
        .sign(&self.key)
    }
}
