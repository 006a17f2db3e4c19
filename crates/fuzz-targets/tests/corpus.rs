//! Every committed corpus input and every minimised finding, through its target: what the
//! fuzzers once found stays fixed, and a target whose inputs no longer parse is noticed.

use std::path::PathBuf;

use tillfund_fuzz_targets::TARGETS;

fn inputs(directory: &PathBuf) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(directory) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes)))
        .collect()
}

#[test]
fn every_corpus_input_and_finding_runs_clean() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    for (name, target) in TARGETS {
        let corpus = inputs(&fuzz.join("corpus").join(name));
        assert!(corpus.len() >= 3, "fuzz/corpus/{name} has {} inputs; seed it", corpus.len());
        let findings = inputs(&fuzz.join("regressions").join(name));
        for (path, bytes) in corpus.iter().chain(&findings) {
            let outcome = std::panic::catch_unwind(|| target(bytes));
            assert!(outcome.is_ok(), "{name} panicked on {}", path.display());
        }
    }
}

/// Writes the seed corpora (`cargo test -p tillfund-fuzz-targets -- --ignored`): valid and
/// nearly valid inputs of each parser, made with the real types so that they stay valid
/// as the protocol changes. Run after changing a wire type; commit what changed.
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_seed_corpora() {
    use tillfund_core::bonus::{BonusFormula, BonusRule, BonusRuleSet, BonusTier};
    use tillfund_core::payment_token::PaymentClaims;
    use tillfund_core::protocol::{
        CounterAction, EntryOutcome, EntryResult, ErrorBody, OutboxEntry, PushRequest,
        PushResponse, RefundRequest,
    };
    use tillfund_core::signing::{RequestToSign, TerminalKey};
    use tillfund_core::{
        Amount, Currency, CustomerId, MemberCode, MerchantId, OrderId, OutboxEntryId,
        PositiveAmount, TerminalId,
    };

    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let directory = fuzz.join(target);
        std::fs::create_dir_all(&directory).unwrap_or_else(|error| panic!("{error}"));
        std::fs::write(directory.join(name), bytes).unwrap_or_else(|error| panic!("{error}"));
    };
    let uuid = |n: u128| uuid_from(n);
    let key = TerminalKey::from_bytes([7; 32]);
    let cny = |text: &str| {
        PositiveAmount::parse(text, Currency::CNY).unwrap_or_else(|error| panic!("{error}"))
    };

    for (index, amount) in ["0.01", "38.50", "5000.00"].into_iter().enumerate() {
        let claims = PaymentClaims {
            merchant_id: MerchantId::from_uuid(uuid(1)),
            terminal_id: TerminalId::from_uuid(uuid(2)),
            order_id: OrderId::from_uuid(uuid(3 + index as u128)),
            amount: cny(amount),
            currency: "CNY".to_owned(),
            expires_at_ms: 1_700_000_300_000,
        };
        write("payment_token", &format!("valid-{index}"), claims.sign(&key).as_bytes());
    }
    write("payment_token", "empty", b"");
    write("payment_token", "not-a-token", b"https://pay.example/p?t=%%%");

    for (index, text) in [
        "0.01",
        "5000.00",
        "1,000",
        "38.500",
        "-1",
        "1e20",
        "99999999999999999999",
        " 12.3 ",
        "CNY",
        "JPY",
    ]
    .into_iter()
    .enumerate()
    {
        write("amount", &format!("seed-{index}"), text.as_bytes());
    }

    let member = MemberCode::from_body(1_234_567_890);
    for (index, text) in [
        "13800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        member.as_str(),
        "张三",
        "123456",
        "0190a0a0-0000-7000-8000-000000000001",
    ]
    .into_iter()
    .enumerate()
    {
        write("customer_fields", &format!("seed-{index}"), text.as_bytes());
    }

    let body = br#"{"entries":[]}"#;
    for (index, (method, path, idempotency)) in [
        ("POST", "/v1/sync/push", ""),
        ("GET", "/v1/sync/payments?after=7&wait_ms=8000", ""),
        ("POST", "/v1/terminal/refunds", "0190a0a0-0000-7000-8000-00000000000f"),
    ]
    .into_iter()
    .enumerate()
    {
        let terminal = TerminalId::from_uuid(uuid(2)).to_string();
        let nonce = "00112233445566778899aabbccddeeff";
        let request = RequestToSign {
            method,
            path_and_query: path,
            terminal_id: &terminal,
            timestamp_ms: 1_700_000_000_000,
            nonce,
            idempotency_key: idempotency,
            body,
        };
        let signature = key.sign_request(&request);
        let text = format!(
            "{method}\n{path}\n{terminal}\n1700000000000\n{nonce}\n{idempotency}\n{signature}\n{}",
            String::from_utf8_lossy(body)
        );
        write("signed_request", &format!("valid-{index}"), text.as_bytes());
    }

    let entry = OutboxEntry {
        id: OutboxEntryId::from_uuid(uuid(9)),
        sequence: 1,
        recorded_at_ms: 1_700_000_000_000,
        action: CounterAction::CashTopUp {
            customer_id: CustomerId::from_uuid(uuid(10)),
            amount: cny("500.00"),
            bonus_shown: Amount::from_minor_units(5_000).unwrap_or(Amount::ZERO),
            bonus_rule_version: Some(1),
        },
        cashier: Some(tillfund_core::StaffId::from_uuid(uuid(11))),
    };
    write("sync_push_body", "push", &json(&PushRequest { entries: vec![entry.clone(), entry] }));
    write(
        "sync_push_body",
        "refund",
        &json(&RefundRequest { order_id: uuid(3).to_string(), amount: 500, cashier: None }),
    );
    let rules = BonusRuleSet::new(
        1,
        vec![
            BonusRule {
                merchant_id: None,
                valid_from_ms: 0,
                valid_until_ms: None,
                formula: BonusFormula::Tiers {
                    tiers: vec![BonusTier {
                        minimum: cny("500.00"),
                        bonus: Amount::from_minor_units(5_000).unwrap_or(Amount::ZERO),
                    }],
                },
            },
            BonusRule {
                merchant_id: Some(MerchantId::from_uuid(uuid(1))),
                valid_from_ms: 1_700_000_000_000,
                valid_until_ms: Some(1_800_000_000_000),
                formula: BonusFormula::Percentage {
                    basis_points: 250,
                    cap: Some(Amount::from_minor_units(10_000).unwrap_or(Amount::ZERO)),
                },
            },
        ],
    )
    .unwrap_or_else(|error| panic!("{error}"));
    write("sync_push_body", "rules", &json(&rules));
    write("counter_answers", "rules", &json(&rules));
    let results = PushResponse {
        results: vec![
            EntryResult { id: OutboxEntryId::from_uuid(uuid(9)), outcome: EntryOutcome::Applied },
            EntryResult {
                id: OutboxEntryId::from_uuid(uuid(11)),
                outcome: EntryOutcome::Rejected {
                    code: "customer_not_bound".to_owned(),
                    message: "Not bound.".to_owned(),
                },
            },
        ],
    };
    write("counter_answers", "push-response", &json(&results));
    write(
        "counter_answers",
        "error",
        &json(&ErrorBody {
            code: "request_replayed".to_owned(),
            message: "Sent before.".to_owned(),
        }),
    );
    write("counter_answers", "refund", br#"{"order_id":"0190a0a0-0000-7000-8000-000000000003","amount":500,"refunded_total":500,"wallet_balance":12000,"entry_sequence":42}"#);
}

fn uuid_from(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_a0a0_0000_7000_8000_0000_0000_0000 | n)
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
