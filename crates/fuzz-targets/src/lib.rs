//! The fuzz targets: every parser that takes outside input, driven by arbitrary bytes.
//! Each function must not panic on any input, and where a parser accepts something it
//! must give it back unchanged (format then parse, sign then verify). `fuzz/` wraps each in
//! a libFuzzer binary (`make fuzz`); `tests/corpus.rs` replays the committed corpora and
//! every minimised finding in `cargo test`.
//!
//! Bank statements have no parser yet; the day one lands, it gets a target here.

// A broken round trip must stop the fuzzer at once: that is what the target is for.
#![allow(clippy::panic)]

use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::payment_token::UnverifiedToken;
use tillfund_core::protocol::{
    BindingChangesBody, CloseDayRequest, EnrolRequest, EnrolmentBody, ErrorBody, HealthReport,
    PaidOrdersBody, PayRequest, PushRequest, PushResponse, RefundBody, RefundRequest,
    RegisterRequest, ReversalRequest, SettlementBody, SignInRequest,
};
use tillfund_core::signing::{RequestToSign, SignedFields, TerminalKey, decode_hex, encode_hex};
use tillfund_core::{
    Amount, Currency, CustomerId, DisplayName, MemberCode, MerchantId, OrderId, OutboxEntryId,
    PaymentPin, PhoneNumber, PositiveAmount, TerminalId,
};

/// A fuzz target: any bytes in, a panic out only for a bug.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus replay and the fuzz script.
pub const TARGETS: &[(&str, Target)] = &[
    ("payment_token", payment_token),
    ("amount", amount),
    ("customer_fields", customer_fields),
    ("signed_request", signed_request),
    ("sync_push_body", sync_push_body),
    ("counter_answers", counter_answers),
];

/// The key the targets sign and verify with (any fixed key: the code paths are the same).
fn key() -> TerminalKey {
    TerminalKey::from_bytes([7; 32])
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The payment QR token, as the pay page and `POST /v1/payments` read it: parse, verify
/// its signature and its expiry; a token that verifies signs back to itself.
pub fn payment_token(data: &[u8]) {
    let text = text(data);
    let Ok(token) = UnverifiedToken::parse(&text) else { return };
    let _ = token.clone().verify(&key(), 1_700_000_000_000);
    if let Ok(claims) = token.verify_signature(&key()) {
        let again = UnverifiedToken::parse(&claims.sign(&key()))
            .and_then(|token| token.verify_signature(&key()));
        assert_eq!(again.as_ref(), Ok(&claims), "a verified token must sign back to itself");
    }
}

/// Amount text as a cashier keys it or a form sends it, in every supported currency; the
/// currency code itself.
pub fn amount(data: &[u8]) {
    let text = text(data);
    let _ = Currency::from_code(&text);
    for code in ["CNY", "JPY"] {
        let Ok(currency) = Currency::from_code(code) else { continue };
        if let Ok(amount) = Amount::parse(&text, currency) {
            let again = Amount::parse(&amount.format(currency), currency);
            assert_eq!(again, Ok(amount), "{text:?} in {code} must format and parse back");
        }
        if let Ok(positive) = PositiveAmount::parse(&text, currency) {
            assert!(positive.amount().minor_units() > 0, "{text:?} is not positive");
        }
    }
}

/// Phone numbers, member codes, display names, PINs and ids, as the counter's look-up and
/// the sign-up and sign-in forms read them.
pub fn customer_fields(data: &[u8]) {
    let text = text(data);
    if let Ok(phone) = PhoneNumber::parse(&text) {
        assert_eq!(PhoneNumber::parse(phone.as_str()).as_ref(), Ok(&phone), "{text:?}");
    }
    if let Ok(code) = MemberCode::parse(&text) {
        assert_eq!(MemberCode::parse(code.as_str()).as_ref(), Ok(&code), "{text:?}");
    }
    if let Ok(name) = DisplayName::parse(&text) {
        assert!(name.as_str().chars().count() <= DisplayName::LENGTH_MAX, "{text:?}");
    }
    let _ = PaymentPin::parse(&text);
    let _ = text.parse::<CustomerId>();
    let _ = text.parse::<MerchantId>();
    let _ = text.parse::<TerminalId>();
    let _ = text.parse::<OrderId>();
    let _ = text.parse::<OutboxEntryId>();
}

/// A signed counter request's headers, split from the input by newlines: method, path,
/// terminal, timestamp, nonce, idempotency key, signature, then the body. Reading the
/// fields and checking the signature must not panic; a forged signature never verifies,
/// and the right one always does.
pub fn signed_request(data: &[u8]) {
    let text = text(data);
    let mut parts = text.splitn(8, '\n');
    let mut next = || parts.next().unwrap_or_default();
    let (method, path, terminal, timestamp, nonce) = (next(), next(), next(), next(), next());
    let (idempotency_key, signature, body) = (next(), next(), next());
    let _ = decode_hex(signature);
    let _ = TerminalKey::from_hex(signature);
    let Ok(fields) = SignedFields::parse(terminal, timestamp, nonce) else { return };
    let request = RequestToSign {
        method,
        path_and_query: path,
        terminal_id: terminal,
        timestamp_ms: fields.timestamp_ms,
        nonce: fields.nonce,
        idempotency_key,
        body: body.as_bytes(),
    };
    let right = key().sign_request(&request);
    if signature != right && !signature.eq_ignore_ascii_case(&right) {
        assert!(!key().verify_request(&request, signature), "a forged signature verified");
    }
    assert!(key().verify_request(&request, &right), "the right signature was refused");
    assert_eq!(decode_hex(&right).map(|bytes| encode_hex(&bytes)), Some(right));
}

/// Request bodies the server reads from counters and customers: the sync push (outbox
/// entries), enrolment, refunds, reversals, the day close, sign-up, sign-in, payment; and
/// a bonus rule set, checked and quoted.
pub fn sync_push_body(data: &[u8]) {
    let _ = serde_json::from_slice::<PushRequest>(data);
    let _ = serde_json::from_slice::<EnrolRequest>(data);
    let _ = serde_json::from_slice::<RefundRequest>(data);
    let _ = serde_json::from_slice::<ReversalRequest>(data);
    let _ = serde_json::from_slice::<CloseDayRequest>(data);
    let _ = serde_json::from_slice::<RegisterRequest>(data);
    let _ = serde_json::from_slice::<SignInRequest>(data);
    let _ = serde_json::from_slice::<PayRequest>(data);
    rule_set(data);
}

/// The server's answers as a counter reads them: every body the counter parses.
pub fn counter_answers(data: &[u8]) {
    let _ = serde_json::from_slice::<PushResponse>(data);
    let _ = serde_json::from_slice::<BindingChangesBody>(data);
    let _ = serde_json::from_slice::<PaidOrdersBody>(data);
    let _ = serde_json::from_slice::<SettlementBody>(data);
    let _ = serde_json::from_slice::<EnrolmentBody>(data);
    let _ = serde_json::from_slice::<RefundBody>(data);
    let _ = serde_json::from_slice::<ErrorBody>(data);
    let _ = serde_json::from_slice::<HealthReport>(data);
    rule_set(data);
}

/// A bonus rule set from JSON (the counter caches the server's; the operator publishes
/// one): checked on the way in, then quoted on a few amounts without panicking.
fn rule_set(data: &[u8]) {
    let Ok(rules) = serde_json::from_slice::<BonusRuleSet>(data) else { return };
    let merchant = MerchantId::from_uuid(Default::default());
    for minor in [1, 10_000, 50_000, Amount::MAX_MINOR_UNITS] {
        let Ok(amount) = PositiveAmount::try_from(minor) else { continue };
        for at_ms in [i64::MIN, 0, 1_700_000_000_000, i64::MAX] {
            let quote = rules.quote(merchant, amount, at_ms);
            assert!(quote.bonus.minor_units() >= 0, "a negative bonus");
        }
    }
}
