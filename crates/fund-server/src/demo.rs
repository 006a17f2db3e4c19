//! The demo store that `make run` brings up: one merchant with an enrolled counter and one
//! customer bound to it. Fixed ids make seeding idempotent.

use std::str::FromStr;

use tillfund_core::{CustomerId, MemberCode, MerchantId, PaymentPin, PhoneNumber, TerminalId};

use crate::credentials::{generate_terminal_secret, hash_pin};
use crate::ledger::Outcome;
use crate::model::{Customer, Merchant, Terminal};
use crate::service::FundService;
use crate::store::SeedOutcome;
use tillfund_core::bonus::{BonusFormula, BonusRule, BonusTier};
use tillfund_core::signing::TerminalKey;
use tillfund_core::{Amount, PositiveAmount};

pub const DEMO_MERCHANT_ID: &str = "0192f000-0000-7000-8000-00000000d001";
pub const DEMO_TERMINAL_ID: &str = "0192f000-0000-7000-8000-00000000d002";
pub const DEMO_CUSTOMER_ID: &str = "0192f000-0000-7000-8000-00000000d003";
pub const DEMO_CUSTOMER_PHONE: &str = "13800138000";
pub const DEMO_CUSTOMER_PIN: &str = "123456";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Hash(#[from] crate::credentials::HashError),
    #[error("demo constant is invalid: {0}")]
    Constant(String),
    #[error(transparent)]
    Service(#[from] crate::service::ServiceError),
}

/// What the demo reserve starts with, in major units.
const DEMO_RESERVE_FUNDING: &str = "100000.00";

/// Seeds the demo parties, the demo bonus tiers (from 500.00 get 50.00, from 1,000.00 get
/// 120.00) and funds the reserve, each only once.
pub async fn seed_demo(service: &FundService) -> Result<SeedOutcome, SeedError> {
    let store = service.store();
    let currency = service.config().policy.currency;
    let parse_error = |error: tillfund_core::InvalidId| SeedError::Constant(error.to_string());
    let merchant_id = MerchantId::from_str(DEMO_MERCHANT_ID).map_err(parse_error)?;
    let merchant = Merchant {
        id: merchant_id,
        name: "Demo Store 示范店".to_owned(),
        time_zone: "Asia/Shanghai".to_owned(),
    };
    let terminal_id = TerminalId::from_str(DEMO_TERMINAL_ID).map_err(parse_error)?;
    // A key nobody is given: the demo counter of `make run` enrols with an activation code.
    let key = TerminalKey::from_hex(&generate_terminal_secret())
        .map_err(|error| SeedError::Constant(error.to_string()))?;
    let terminal = Terminal {
        id: terminal_id,
        merchant_id,
        label: "Counter 1".to_owned(),
        receipt_prefix: "D1".to_owned(),
        secret: service
            .seal_terminal_key(terminal_id, &key)
            .map_err(|error| SeedError::Constant(error.message))?,
        server_public_key: None,
        enrolled_at_ms: store.clock().now_ms(),
        revoked: false,
    };
    let pin = PaymentPin::parse(DEMO_CUSTOMER_PIN)
        .map_err(|error| SeedError::Constant(error.to_string()))?;
    let customer = Customer {
        id: CustomerId::from_str(DEMO_CUSTOMER_ID).map_err(parse_error)?,
        phone: PhoneNumber::parse(DEMO_CUSTOMER_PHONE)
            .map_err(|error| SeedError::Constant(error.to_string()))?,
        display_name: "Demo Customer".to_owned(),
        member_code: MemberCode::from_body(80_000_000_001),
        pin_hash: hash_pin(&pin)?,
        failed_pin_attempts: 0,
        locked_until_ms: None,
    };
    let outcome = store.seed_demo(&merchant, &terminal, &customer).await?;
    if store.current_bonus_rules().await?.version() == 0 {
        let constant = |error: tillfund_core::MoneyError| SeedError::Constant(error.to_string());
        let tier = |minimum: &str, bonus: &str| -> Result<BonusTier, SeedError> {
            Ok(BonusTier {
                minimum: PositiveAmount::parse(minimum, currency).map_err(constant)?,
                bonus: Amount::parse(bonus, currency).map_err(constant)?,
            })
        };
        let rule = BonusRule {
            merchant_id: None,
            valid_from_ms: 0,
            valid_until_ms: None,
            formula: BonusFormula::Tiers {
                tiers: vec![tier("500.00", "50.00")?, tier("1000.00", "120.00")?],
            },
        };
        service.publish_bonus_rules(vec![rule]).await?;
    }
    let funding = PositiveAmount::parse(DEMO_RESERVE_FUNDING, currency)
        .map_err(|error| SeedError::Constant(error.to_string()))?;
    match service.fund_reserve(funding, "demo-seed-reserve").await? {
        Outcome::Funded { .. } => Ok(outcome),
        other => Err(SeedError::Constant(format!("funding answered {other:?}"))),
    }
}
