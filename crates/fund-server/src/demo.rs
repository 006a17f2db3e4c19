//! The demo store that `make run` brings up: one merchant and one customer bound to it,
//! made through the same service calls as the operator's commands and the sign-up page.
//! Fixed ids and idempotency keys make seeding idempotent.

use std::str::FromStr;

use tillfund_core::bonus::{BonusFormula, BonusRule, BonusTier};
use tillfund_core::{
    Amount, CustomerId, DisplayName, MemberCode, MerchantId, PaymentPin, PhoneNumber,
    PositiveAmount,
};

use crate::ledger::Outcome;
use crate::service::{FundService, NewWallet};
use crate::store::Storage;

pub const DEMO_MERCHANT_ID: &str = "0192f000-0000-7000-8000-00000000d001";
pub const DEMO_CUSTOMER_ID: &str = "0192f000-0000-7000-8000-00000000d003";
pub const DEMO_CUSTOMER_PHONE: &str = "13800138000";
pub const DEMO_CUSTOMER_PIN: &str = "123456";

/// What `seed_demo` found or made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOutcome {
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("demo constant is invalid: {0}")]
    Constant(String),
    #[error(transparent)]
    Service(#[from] crate::service::ServiceError),
}

/// What the demo reserve starts with, in major units.
const DEMO_RESERVE_FUNDING: &str = "100000.00";

/// Seeds the demo parties, the demo bonus tiers (from 500.00 get 50.00, from 1,000.00 get
/// 120.00) and funds the reserve, each only once.
pub async fn seed_demo<S: Storage>(service: &FundService<S>) -> Result<SeedOutcome, SeedError> {
    let store = service.store();
    let currency = service.config().policy.currency;
    let constant = |error: &dyn std::fmt::Display| SeedError::Constant(error.to_string());
    let merchant_id = MerchantId::from_str(DEMO_MERCHANT_ID).map_err(|e| constant(&e))?;
    let created = store.merchant(merchant_id).await?.is_none();
    if created {
        service.add_merchant_as(merchant_id, "Demo Store 示范店", "Asia/Shanghai").await?;
    }
    let wallet = NewWallet {
        customer_id: CustomerId::from_str(DEMO_CUSTOMER_ID).map_err(|e| constant(&e))?,
        member_code: MemberCode::from_body(80_000_000_001),
    };
    let phone = PhoneNumber::parse(DEMO_CUSTOMER_PHONE).map_err(|e| constant(&e))?;
    if store.customer_by_phone(&phone).await?.is_none() {
        let name = DisplayName::parse("Demo Customer").map_err(|e| constant(&e))?;
        let pin = PaymentPin::parse(DEMO_CUSTOMER_PIN).map_err(|e| constant(&e))?;
        let stores = vec![merchant_id];
        service.register_customer_as(wallet, phone, name, pin, stores, "demo-customer").await?;
    }
    if store.current_bonus_rules().await?.version() == 0 {
        let tier = |minimum: &str, bonus: &str| -> Result<BonusTier, SeedError> {
            Ok(BonusTier {
                minimum: PositiveAmount::parse(minimum, currency).map_err(|e| constant(&e))?,
                bonus: Amount::parse(bonus, currency).map_err(|e| constant(&e))?,
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
    let funding =
        PositiveAmount::parse(DEMO_RESERVE_FUNDING, currency).map_err(|e| constant(&e))?;
    match service.fund_reserve(funding, "demo-seed-reserve").await? {
        Outcome::Funded { .. } => Ok(SeedOutcome { created }),
        other => Err(SeedError::Constant(format!("funding answered {other:?}"))),
    }
}
