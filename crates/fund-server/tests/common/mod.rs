//! A real fund server for tests: the HTTP app in process on port 0, over a real database
//! (a SQLite file, or with `TILLFUND_TEST_DATABASE=postgres` a throwaway PostgreSQL
//! database, see `test_database.rs`), and a client that signs counter requests like a
//! counter does.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fund_server::http::{AppState, app};
use fund_server::ledger::LedgerPolicy;
use fund_server::service::{FundService, ServiceConfig};
use fund_server::store::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::signing::TerminalKey;
use tillfund_core::{Amount, Currency, MerchantId, OrderId, PositiveAmount, TerminalId};

#[path = "test_database.rs"]
mod test_database;

pub mod operators;

pub use test_database::{RawDatabase, TestDatabase};

pub fn cny(text: &str) -> Amount {
    Amount::parse(text, Currency::CNY).unwrap()
}

pub fn minor(text: &str) -> i64 {
    cny(text).minor_units()
}

pub struct TestServer {
    pub url: String,
    pub service: FundService,
    pub http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    pub database: TestDatabase,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(LedgerPolicy::default_for(Currency::CNY)).await
    }

    pub async fn start_with(policy: LedgerPolicy) -> TestServer {
        TestServer::start_with_config(ServiceConfig::new(policy)).await
    }

    pub async fn start_with_config(config: ServiceConfig) -> TestServer {
        TestServer::start_with_limits(config, fund_server::http::WebLimits::default()).await
    }

    /// A server without rate limits, for tests that race the ledger, not the limiter.
    pub async fn start_unlimited() -> TestServer {
        let config = ServiceConfig::new(LedgerPolicy::default_for(Currency::CNY));
        TestServer::start_with_limits(config, fund_server::http::WebLimits::unlimited()).await
    }

    pub async fn start_with_limits(
        config: ServiceConfig,
        limits: fund_server::http::WebLimits,
    ) -> TestServer {
        let database = TestDatabase::create().await;
        let service = FundService::start(database.store().await, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = app(AppState::with_limits(service.clone(), limits));
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestServer { url, service, http: reqwest::Client::new(), task, database }
    }

    pub async fn fund_reserve(&self, amount: &str) {
        let amount = PositiveAmount::parse(amount, Currency::CNY).unwrap();
        self.service.fund_reserve(amount, &uuid_key()).await.unwrap();
    }

    pub async fn add_merchant(&self, name: &str) -> MerchantId {
        self.service.add_merchant(name, "Asia/Shanghai").await.unwrap().id
    }

    /// Enrols a counter of `merchant_id` through the API, as a counter would.
    pub async fn enrol(&self, merchant_id: MerchantId) -> Counter {
        let (code, _) = self.service.create_activation_code(merchant_id).await.unwrap();
        let handshake = tillfund_core::enrolment::CounterHandshake::new().unwrap();
        let (status, body) = self
            .send(
                Method::POST,
                "/v1/terminals/enrol",
                json!({"activation_code": code, "label": "Counter", "public_key": handshake.public_key_hex()}),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("terminal_key").is_none(), "the key never crosses the wire: {body}");
        let terminal_id: TerminalId = body["terminal_id"].as_str().unwrap().parse().unwrap();
        let key = handshake
            .finish(&terminal_id.to_string(), body["server_public_key"].as_str().unwrap())
            .unwrap();
        Counter {
            url: self.url.clone(),
            http: self.http.clone(),
            terminal_id,
            merchant_id,
            key,
            enrolled_at_ms: self.service.store().clock().now_ms(),
            clock: self.service.store().clock().clone(),
        }
    }

    /// Registers a customer bound to the given merchants and signs in; returns the session.
    pub async fn customer(&self, phone: &str, merchants: &[MerchantId]) -> Customer {
        let merchant_ids: Vec<String> = merchants.iter().map(ToString::to_string).collect();
        let (status, body) = self
            .send(
                Method::POST,
                "/v1/customers",
                json!({"phone": phone, "display_name": "Test", "pin": "123456", "merchant_ids": merchant_ids}),
                &[("idempotency-key", &format!("register-{phone}"))],
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let customer_id = body["customer_id"].as_str().unwrap().to_owned();
        let (status, session) = self
            .send(Method::POST, "/v1/sessions", json!({"phone": phone, "pin": "123456"}), &[])
            .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        Customer {
            customer_id,
            phone: phone.to_owned(),
            token: session["token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn wallet(&self, customer: &Customer) -> Value {
        let bearer = format!("Bearer {}", customer.token);
        let (status, body) =
            self.send(Method::GET, "/v1/wallet", Value::Null, &[("authorization", &bearer)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn pay(
        &self,
        customer: &Customer,
        token: &str,
        pin: &str,
        key: &str,
    ) -> (StatusCode, Value) {
        let bearer = format!("Bearer {}", customer.token);
        self.send(
            Method::POST,
            "/v1/payments",
            json!({"token": token, "pin": pin}),
            &[("authorization", &bearer), ("idempotency-key", key)],
        )
        .await
    }

    pub async fn audit_passes(&self) {
        let report = self.service.audit().await.unwrap();
        assert!(report.passed(), "audit problems: {:?}", report.problems);
        let report = self.service.audit_full().await.unwrap();
        assert!(report.passed(), "full audit problems: {:?}", report.problems);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn uuid_key() -> String {
    OrderId::generate().to_string()
}

pub struct Customer {
    pub customer_id: String,
    pub phone: String,
    pub token: String,
}

/// A counter's side: signs requests and makes payment tokens with its key.
/// A signed counter request: method, path, every header, body.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl SignedRequest {
    /// Replaces (or adds) a header, keeping the signature as it was.
    pub fn with_header(mut self, name: &str, value: &str) -> SignedRequest {
        self.headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Clone)]
pub struct Counter {
    pub url: String,
    pub http: reqwest::Client,
    pub terminal_id: TerminalId,
    pub merchant_id: MerchantId,
    pub key: TerminalKey,
    /// Entry times derive from this and the sequence, so a resent entry is byte-identical.
    pub enrolled_at_ms: i64,
    /// The server's clock: requests are signed with its time, as a synchronised counter's.
    pub clock: fund_server::model::Clock,
}

impl Counter {
    pub async fn signed(
        &self,
        method: Method,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let request = self.sign(method, path, body, headers, self.clock.now_ms());
        self.send_signed(&request).await
    }

    /// A signed request, built but not sent: attack tests send it twice, or change it.
    pub fn sign(
        &self,
        method: Method,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
        timestamp_ms: i64,
    ) -> SignedRequest {
        let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).unwrap() };
        let idempotency_key = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
            .map_or("", |(_, value)| *value);
        let terminal_id = self.terminal_id.to_string();
        let signed = self.key.signed_headers(
            &terminal_id,
            method.as_str(),
            path,
            timestamp_ms,
            idempotency_key,
            &bytes,
        );
        // The idempotency key comes with the caller's own headers below.
        let mut all_headers: Vec<(String, String)> = signed
            .into_iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("idempotency-key"))
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        all_headers.push(("content-type".to_owned(), "application/json".to_owned()));
        all_headers
            .extend(headers.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        SignedRequest { method, path: path.to_owned(), headers: all_headers, body: bytes }
    }

    pub async fn send_signed(&self, signed: &SignedRequest) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(signed.method.clone(), format!("{}{}", self.url, signed.path))
            .body(signed.body.clone());
        for (name, value) in &signed.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Pushes one cash top-up as an outbox entry with the given id; returns its result
    /// (`{id, outcome, code?, message?}`).
    pub async fn top_up(
        &self,
        entry_id: &str,
        sequence: u64,
        customer_id: &str,
        amount: &str,
        bonus_shown: &str,
    ) -> Value {
        let body = json!({"entries": [{
            "id": entry_id,
            "sequence": sequence,
            "recorded_at_ms": self.enrolled_at_ms + i64::try_from(sequence).unwrap(),
            "action": {
                "type": "cash_top_up",
                "customer_id": customer_id,
                "amount": minor(amount),
                "bonus_shown": minor(bonus_shown),
                "bonus_rule_version": null
            }
        }]});
        let (status, response) = self.signed(Method::POST, "/v1/sync/push", body, &[]).await;
        assert_eq!(status, StatusCode::OK, "{response}");
        response["results"][0].clone()
    }

    pub fn payment_claims(&self, amount: &str, expires_in_ms: i64) -> PaymentClaims {
        PaymentClaims {
            merchant_id: self.merchant_id,
            terminal_id: self.terminal_id,
            order_id: OrderId::generate(),
            amount: PositiveAmount::parse(amount, Currency::CNY).unwrap(),
            currency: "CNY".to_owned(),
            expires_at_ms: self.clock.now_ms() + expires_in_ms,
        }
    }

    pub fn payment_token(&self, amount: &str) -> (PaymentClaims, String) {
        let claims = self.payment_claims(amount, 120_000);
        let token = claims.sign(&self.key);
        (claims, token)
    }
}
