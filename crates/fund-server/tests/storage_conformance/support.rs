//! Fixtures for the checks: parties and ledger commands made the same way for every backend.

use fund_server::ledger::{
    CashTopUp, Command, CommandKind, Decided, IdempotencyKey, LedgerPolicy, Payment,
};
use fund_server::ledger_writer::apply_batch;
use fund_server::model::{Customer, Merchant, Terminal};
use fund_server::store::Storage;
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::{
    Amount, Currency, CustomerId, MemberCode, MerchantId, OrderId, OutboxEntryId, PhoneNumber,
    PositiveAmount, TerminalId,
};

pub fn merchant(name: &str) -> Merchant {
    Merchant {
        id: MerchantId::generate(),
        name: name.into(),
        time_zone: "Asia/Shanghai".into(),
        settlement_account: String::new(),
    }
}

pub fn customer(index: u64) -> Customer {
    Customer {
        id: CustomerId::generate(),
        phone: PhoneNumber::parse(&format!("1390000{index:04}")).unwrap(),
        display_name: format!("Customer {index}"),
        member_code: MemberCode::from_body(index),
        pin_hash: "hash".into(),
    }
}

pub fn terminal(merchant_id: MerchantId, receipt_prefix: &str, secret: &str) -> Terminal {
    Terminal {
        id: TerminalId::generate(),
        merchant_id,
        label: "Counter".into(),
        receipt_prefix: receipt_prefix.into(),
        secret: secret.into(),
        server_public_key: None,
        enrolled_at_ms: 1_000,
        revoked: false,
        replaces: None,
        replaced_by: None,
    }
}

pub fn positive(minor_units: i64) -> PositiveAmount {
    PositiveAmount::try_from(minor_units).unwrap()
}

pub fn minor(minor_units: i64) -> Amount {
    Amount::from_minor_units(minor_units).unwrap()
}

pub fn policy() -> LedgerPolicy {
    LedgerPolicy::default_for(Currency::CNY)
}

/// A merchant with one customer bound to it.
pub async fn shop<S: Storage>(store: &S) -> (Merchant, Customer) {
    let shop = merchant("Shop");
    store.add_merchant(&shop, 1_000).await.unwrap();
    let buyer = customer(1);
    store.register_customer(&buyer, &[shop.id], || unreachable!(), None, 1_000).await.unwrap();
    (shop, buyer)
}

pub fn command(key: &str, recorded_at_ms: i64, kind: CommandKind) -> Command {
    Command {
        idempotency: IdempotencyKey { key: key.into(), fingerprint: [1; 32] },
        recorded_at_ms,
        kind,
    }
}

pub fn fund(key: &str, minor_units: i64) -> Command {
    command(key, 1_000, CommandKind::FundReserve { amount: positive(minor_units) })
}

pub fn top_up(
    key: &str,
    shop: &Merchant,
    terminal_id: TerminalId,
    buyer: CustomerId,
    minor_units: i64,
) -> Command {
    command(
        key,
        1_000,
        CommandKind::CashTopUp(CashTopUp {
            merchant_id: shop.id,
            terminal_id,
            outbox_entry_id: OutboxEntryId::generate(),
            customer_id: buyer,
            amount: positive(minor_units),
            bonus_shown: Amount::ZERO,
            rule_set_version: None,
        }),
    )
}

pub fn payment(
    key: &str,
    shop: &Merchant,
    terminal_id: TerminalId,
    order_id: OrderId,
    buyer: CustomerId,
    minor_units: i64,
) -> Command {
    command(
        key,
        1_000,
        CommandKind::Payment(Payment {
            claims: PaymentClaims {
                merchant_id: shop.id,
                terminal_id,
                order_id,
                amount: positive(minor_units),
                currency: "CNY".into(),
                expires_at_ms: i64::MAX,
            },
            customer_id: buyer,
            confirmation_code: "000000".into(),
        }),
    )
}

/// Applies commands as one batch and insists every one was decided.
pub async fn apply<S: Storage>(store: &S, commands: &[Command]) -> Vec<Decided> {
    apply_batch(store, &policy(), commands)
        .await
        .unwrap()
        .into_iter()
        .map(|result| result.expect("decided"))
        .collect()
}

pub use crate::test_database::{RawDatabase, SqliteFile, ThrowawayDatabase, execute_raw};
