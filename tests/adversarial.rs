//! Every route the OpenAPI document lists, attacked on the real `fund-server` binary:
//! unsigned, mis-signed, replayed, from another store's counter, with every field out of
//! range, and with property-generated bodies and headers (correctly signed, so that they
//! reach the handlers). No answer may be a 5xx; every refusal is `{code, message}` with a
//! code the document lists for that operation and status; the audit passes afterwards.
//!
//! The document is read from the running server, so a new route is attacked the day it
//! is added. Generation is deterministic (a fixed proptest seed), so a failure prints the
//! request and repeats on the next run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::signing::{NONCE_HEADER, TERMINAL_HEADER, TIMESTAMP_HEADER, TerminalKey};
use tillfund_core::{OrderId, OutboxEntryId};
use tillfund_e2e::demo::MERCHANT_ID;
use tillfund_e2e::raw_counter::{Target, Till, now_ms};

const OPERATOR_TOKEN: &str = "adversarial-operator-token-0123456789";
/// Generated bodies and header sets per operation.
const GENERATED_CASES: usize = 48;

/// How an operation authenticates, read from its `security` in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    Open,
    Signed,
    Customer,
    Operator,
}

struct Operation {
    method: Method,
    path: String,
    guard: Guard,
    /// Names of its query parameters.
    query: Vec<String>,
    /// Status → the codes the document lists for it.
    documented: BTreeMap<u16, BTreeSet<String>>,
}

/// What a valid request needs: an enrolled counter of the demo store and one of another
/// store, a signed-in customer with money, a paid order and a top-up to refer to.
struct World {
    till: Till,
    foreign: Till,
    customer_token: String,
    customer_id: String,
    order_id: OrderId,
    top_up_id: OutboxEntryId,
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let security = operation["security"].to_string();
            let guard = if security.contains("terminal_signature") {
                Guard::Signed
            } else if path == "/v1/operator/status" {
                Guard::Operator
            } else if security.contains("bearer") {
                Guard::Customer
            } else {
                Guard::Open
            };
            let mut documented = BTreeMap::new();
            for (status, response) in operation["responses"].as_object().unwrap() {
                let codes = response["description"]
                    .as_str()
                    .unwrap_or("")
                    .split(',')
                    .map(|code| code.trim().to_owned())
                    .filter(|code| !code.is_empty())
                    .collect();
                documented.insert(status.parse().unwrap(), codes);
            }
            let query = operation["parameters"]
                .as_array()
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter(|parameter| parameter["in"] == "query")
                        .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            operations.push(Operation {
                method: method.to_uppercase().parse().unwrap(),
                path: path.clone(),
                guard,
                query,
                documented,
            });
        }
    }
    assert!(operations.len() >= 18, "the document lists every route: {}", operations.len());
    operations
}

/// A request the operation accepts: its path with parameters filled, and its body.
fn valid_request(operation: &Operation, world: &World) -> (String, Value) {
    let path = operation
        .path
        .replace("{merchant_id}", MERCHANT_ID)
        .replace("{staff_id}", &tillfund_core::StaffId::generate().to_string());
    let body = match (operation.method.as_str(), operation.path.as_str()) {
        ("POST", "/v1/customers") => json!({
            "phone": format!("137{:08}", now_ms() % 100_000_000),
            "display_name": "Ann", "pin": "123456", "merchant_ids": [MERCHANT_ID]
        }),
        ("POST", "/v1/sessions") => json!({"phone": "13800138000", "pin": "123456"}),
        ("POST", "/v1/payments") => json!({
            "token": world.till.payment_token(OrderId::generate(), 1), "pin": "123456"
        }),
        // Naming the world's own counter as the one replaced, with a proof that is not its
        // key's: refused, and that counter (used by every operation after) stays enrolled.
        ("POST", "/v1/terminals/enrol") => json!({
            "activation_code": "AAAA-BBBB-CCCC", "label": "Till", "public_key": "ab".repeat(32),
            "replaces": {"terminal_id": world.till.terminal_id, "proof": "cd".repeat(32)}
        }),
        ("POST", "/v1/sync/push") => json!({"entries": [{
            "id": OutboxEntryId::generate(), "sequence": 1, "recorded_at_ms": now_ms(),
            "action": {"type": "cash_top_up", "customer_id": world.customer_id, "amount": 100,
                       "bonus_shown": 0, "bonus_rule_version": null}
        }]}),
        ("POST", "/v1/terminal/refunds") => json!({"order_id": world.order_id, "amount": 1}),
        ("POST", "/v1/terminal/top-up-reversals") => {
            // Naming its own terminal as the one that took it: valid, and every field of it
            // is sent out of range too.
            json!({"top_up_entry_id": world.top_up_id, "amount": 1,
                   "top_up_terminal_id": world.till.terminal_id})
        }
        ("POST", "/v1/terminal/settlement/close") => json!({"day": "2020-01-01"}),
        // A well-formed request; the code matches nothing, so nothing is paid out.
        ("POST", "/v1/terminal/redemptions") => {
            json!({"customer_id": world.customer_id, "code": "12345678", "amount": 1,
                   "attempt_id": "adversary-1"})
        }
        ("POST", "/v1/wallet/redemption-codes") => {
            json!({"merchant_id": MERCHANT_ID, "amount": 1, "pin": "123456"})
        }
        // The server checks a PIN hash's form and cost, not what it hashes.
        ("PUT", "/v1/terminal/staff/{staff_id}") => json!({
            "name": format!("Ann {}", now_ms()), "role": "cashier", "active": true,
            "pin_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
        }),
        ("GET", "/v1/terminal/settlement") => {
            return (format!("{path}?day=2020-01-01"), Value::Null);
        }
        _ => Value::Null,
    };
    (path, body)
}

/// Sends a request as the operation's rightful caller would, with `body` and any extra
/// headers (which the signature then covers).
async fn send_as_caller(
    target: &Target,
    world: &World,
    operation: &Operation,
    path: &str,
    body: &Value,
    extra_headers: &[(String, String)],
) -> (StatusCode, Value) {
    let idempotency_key = extra_headers
        .iter()
        .find(|(name, _)| name == "idempotency-key")
        .map_or_else(tillfund_core::signing::new_nonce, |(_, value)| value.clone());
    match operation.guard {
        Guard::Signed => {
            let mut captured =
                world.till.sign(operation.method.clone(), path, body, &idempotency_key);
            for (name, value) in extra_headers {
                if name != "idempotency-key" {
                    captured = captured.with_header(name, value);
                }
            }
            world.till.send(&captured).await
        }
        guard => {
            let authorization = match guard {
                Guard::Customer => format!("Bearer {}", world.customer_token),
                Guard::Operator => format!("Bearer {OPERATOR_TOKEN}"),
                _ => String::new(),
            };
            let mut headers: Vec<(&str, &str)> = vec![("idempotency-key", &idempotency_key)];
            if !authorization.is_empty() {
                headers.push(("authorization", &authorization));
            }
            for (name, value) in extra_headers {
                if name != "idempotency-key" {
                    headers.push((name, value));
                }
            }
            target.json(operation.method.clone(), path, body.clone(), &headers).await
        }
    }
}

/// Broken properties, one line per (operation, status, code), reported together at the end.
#[derive(Default)]
struct Findings {
    broken: BTreeMap<String, String>,
    /// Answers per operation and status, printed so that a run shows what it reached.
    seen: BTreeMap<String, BTreeMap<u16, usize>>,
}

impl Findings {
    /// The properties every answer has: never a 5xx; a refusal is `{code, message}` with a
    /// code the document lists for this operation at this status.
    fn check(&mut self, operation: &Operation, what: &str, status: StatusCode, body: &Value) {
        let name = format!("{} {}", operation.method, operation.path);
        *self.seen.entry(name).or_default().entry(status.as_u16()).or_default() += 1;
        if status.is_success() {
            return;
        }
        let code = body["code"].as_str().unwrap_or("(none)");
        let documented =
            operation.documented.get(&status.as_u16()).is_some_and(|codes| codes.contains(code));
        let has_message = body["message"].as_str().is_some_and(|message| !message.is_empty());
        if status.is_server_error() || !documented || !has_message {
            let key = format!("{} {} {status} {code}", operation.method, operation.path);
            let example: String = format!("{what}: {body}").chars().take(300).collect();
            self.broken.entry(key).or_insert(example);
        }
    }

    fn assert_none(&self) {
        for (operation, statuses) in &self.seen {
            println!("{operation:45} {statuses:?}");
        }
        let report: Vec<String> =
            self.broken.iter().map(|(key, example)| format!("{key}\n    e.g. {example}")).collect();
        assert!(report.is_empty(), "{} broken answers:\n{}", report.len(), report.join("\n"));
    }
}

/// Every leaf of a JSON value, as a path of keys and indices.
fn leaves(value: &Value, prefix: Vec<Value>, into: &mut Vec<Vec<Value>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let mut path = prefix.clone();
                path.push(Value::from(key.clone()));
                leaves(child, path, into);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let mut path = prefix.clone();
                path.push(Value::from(index));
                leaves(child, path, into);
            }
        }
        _ => into.push(prefix),
    }
}

fn replaced(value: &Value, path: &[Value], with: Value) -> Value {
    let mut copy = value.clone();
    let mut slot = &mut copy;
    for step in path {
        slot = match step {
            Value::String(key) => &mut slot[key.as_str()],
            Value::Number(index) => &mut slot[usize::try_from(index.as_u64().unwrap()).unwrap()],
            _ => unreachable!(),
        };
    }
    *slot = with;
    copy
}

fn out_of_range_values() -> Vec<Value> {
    vec![
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(-1),
        json!(0),
        json!(1e308),
        json!(""),
        json!("x".repeat(5_000)),
        json!("\u{0}\u{202E}\u{200B}"),
        json!("9999-12-31"),
        Value::Null,
        json!(true),
        json!([]),
        json!({}),
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter),
        proptest::collection::vec(proptest::char::range(' ', '~'), 0..80)
            .prop_map(String::from_iter),
        any::<i64>().prop_map(|number| number.to_string()),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|number| json!(number)),
        any_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(any_text(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A generated case: a body (a mutation of the valid one, or any JSON) and header values.
fn generated_cases(valid_body: &Value, seed: u8) -> Vec<(Value, Vec<(String, String)>)> {
    let mut fields = Vec::new();
    leaves(valid_body, Vec::new(), &mut fields);
    let field_count = fields.len().max(1);
    let body = prop_oneof![
        3 => (0..field_count, any_json()).prop_map({
            let valid_body = valid_body.clone();
            move |(index, value)| match fields.get(index) {
                Some(path) if !path.is_empty() => replaced(&valid_body, path, value),
                _ => value,
            }
        }),
        1 => any_json(),
    ];
    let header_names = prop_oneof![
        Just("idempotency-key"),
        Just(TIMESTAMP_HEADER),
        Just(NONCE_HEADER),
        Just(TERMINAL_HEADER),
        Just("content-type"),
        Just("accept-language"),
    ];
    let headers = proptest::collection::vec(
        (header_names, proptest::collection::vec(proptest::char::range(' ', '~'), 0..120)),
        0..3,
    );
    let strategy = (body, headers);
    let config =
        Config { rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..GENERATED_CASES)
        .map(|_| {
            let (body, headers) = strategy.new_tree(&mut runner).unwrap().current();
            let headers = headers
                .into_iter()
                .map(|(name, value)| (name.to_owned(), String::from_iter(value).trim().to_owned()))
                .collect();
            (body, headers)
        })
        .collect()
}

/// Percent-encodes everything but unreserved characters.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Generated query strings over an operation's parameters (each present or not, any text,
/// numbers at the edges of their types).
fn generated_queries(names: &[String], seed: u8) -> Vec<String> {
    let value = prop_oneof![
        any_text(),
        any::<i64>().prop_map(|number| number.to_string()),
        any::<u64>().prop_map(|number| number.to_string()),
        Just("9223372036854775808".to_owned()),
        Just("9999-12-31".to_owned()),
        Just("-0001-01-01".to_owned()),
    ];
    let strategy = proptest::collection::vec(proptest::option::of(value), names.len());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[seed.wrapping_add(100); 32],
        ),
    );
    (0..GENERATED_CASES)
        .map(|_| {
            let values = strategy.new_tree(&mut runner).unwrap().current();
            names
                .iter()
                .zip(values)
                .filter_map(|(name, value)| {
                    value.map(|value| format!("{name}={}", url_encode(&value)))
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .collect()
}

#[tokio::test]
async fn every_route_refuses_what_it_must_and_never_fails() {
    let target = Target::start(&[
        ("TILLFUND_RATE_LIMIT_FACTOR", "1000"),
        ("TILLFUND_OPERATOR_TOKEN", OPERATOR_TOKEN),
    ]);
    let other_store = target.add_merchant("Other Store");
    let till = target.enrol(MERCHANT_ID).await;
    let foreign = target.enrol(&other_store).await;
    let (customer_id, customer_token) = target.customer("13900139200", &[MERCHANT_ID]).await;
    let top_up_id = OutboxEntryId::generate();
    assert_eq!(till.top_up(top_up_id, &customer_id, 100_000).await["outcome"], "applied");
    let order_id = OrderId::generate();
    let (status, paid) = target.pay(&customer_token, &till.payment_token(order_id, 5_000)).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    let world = World { till, foreign, customer_token, customer_id, order_id, top_up_id };

    let document = target.json(Method::GET, "/openapi.json", Value::Null, &[]).await.1;
    let mut findings = Findings::default();
    for (seed, operation) in operations(&document).iter().enumerate() {
        let (path, body) = valid_request(operation, &world);

        // Without credentials.
        if operation.guard != Guard::Open {
            let (status, answer) = target
                .json(operation.method.clone(), &path, body.clone(), &[("idempotency-key", "k")])
                .await;
            findings.check(operation, "no credentials", status, &answer);
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}: {answer}", operation.method);
        }
        if operation.guard == Guard::Signed {
            // Signed with a key that is not the terminal's.
            let forged = Till { key: TerminalKey::from_bytes([9; 32]), ..world.till.clone() };
            let (status, answer) =
                forged.signed(operation.method.clone(), &path, body.clone(), "k1").await;
            findings.check(operation, "mis-signed", status, &answer);
            assert_eq!(answer["code"], "signature_invalid");
            // Captured and sent again.
            let captured = world.till.sign(operation.method.clone(), &path, &body, "k2");
            let (status, answer) = world.till.send(&captured).await;
            findings.check(operation, "valid", status, &answer);
            let (status, answer) = world.till.send(&captured).await;
            findings.check(operation, "replayed", status, &answer);
            assert_eq!(answer["code"], "request_replayed");
            // From another store's counter: never another store's money or data.
            let (status, answer) =
                world.foreign.signed(operation.method.clone(), &path, body.clone(), "k3").await;
            findings.check(operation, "foreign store", status, &answer);
            match operation.path.as_str() {
                "/v1/terminal/refunds" | "/v1/terminal/top-up-reversals" => {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}")
                }
                "/v1/sync/payments" => assert_eq!(answer["orders"], json!([]), "{answer}"),
                "/v1/sync/bindings" => assert_eq!(answer["changes"], json!([]), "{answer}"),
                _ => {}
            }
        } else {
            let (status, answer) =
                send_as_caller(&target, &world, operation, &path, &body, &[]).await;
            findings.check(operation, "valid", status, &answer);
        }

        // Every field out of range, one at a time.
        let mut fields = Vec::new();
        leaves(&body, Vec::new(), &mut fields);
        for field in fields.iter().filter(|field| !field.is_empty()) {
            for value in out_of_range_values() {
                let mutated = replaced(&body, field, value.clone());
                let (status, answer) =
                    send_as_caller(&target, &world, operation, &path, &mutated, &[]).await;
                findings.check(operation, &format!("{field:?} = {value}"), status, &answer);
            }
        }

        // Generated query strings, signed as sent.
        if !operation.query.is_empty() {
            let bare_path = path.split('?').next().unwrap_or(&path).to_owned();
            for query in generated_queries(&operation.query, u8::try_from(seed).unwrap()) {
                let full = format!("{bare_path}?{query}");
                let (status, answer) =
                    send_as_caller(&target, &world, operation, &full, &Value::Null, &[]).await;
                findings.check(operation, &format!("query {query}"), status, &answer);
            }
        }

        // Generated bodies and headers, signed as sent.
        for (case, (generated, headers)) in
            generated_cases(&body, u8::try_from(seed).unwrap()).into_iter().enumerate()
        {
            let (status, answer) =
                send_as_caller(&target, &world, operation, &path, &generated, &headers).await;
            findings.check(
                operation,
                &format!("case {case}: {generated} {headers:?}"),
                status,
                &answer,
            );
        }
    }
    let (status, health) = target.json(Method::GET, "/healthz", Value::Null, &[]).await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));
    findings.assert_none();
    target.stop_and_audit();
}
