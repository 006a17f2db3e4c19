//! The customer's API: stores, sign-up, sign-in, wallet, payment. Also the merchant and
//! customer records that the counter's API sends too.

use serde::{Deserialize, Serialize};

use crate::{CustomerId, MerchantId, OrderId};

/// A partner store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub merchant_id: MerchantId,
    pub name: String,
    /// IANA time zone of the store's business day.
    pub time_zone: String,
}

/// A customer as the API shows them; never the PIN or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub customer_id: CustomerId,
    pub phone: String,
    pub display_name: String,
    /// 12 digits with a check digit, shown on the wallet page for the cashier.
    pub member_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// 11-digit mainland mobile number, or + and country code.
    pub phone: String,
    pub display_name: String,
    /// Six digits.
    pub pin: String,
    /// Stores to bind to now (at most 20).
    #[serde(default)]
    pub merchant_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    pub phone: String,
    pub pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionBody {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub customer: CustomerBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletBody {
    pub customer: CustomerBody,
    /// ISO 4217; every amount below is an integer of its minor unit (fen for CNY).
    pub currency: String,
    pub principal: i64,
    pub bonus: i64,
    #[serde(rename = "yield")]
    pub yield_earned: i64,
    pub total: i64,
    pub stores: Vec<MerchantBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayRequest {
    /// The token from the counter's QR code.
    pub token: String,
    pub pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub order_id: OrderId,
    pub amount: i64,
    /// Six digits the customer shows the cashier; the counter checks it offline.
    pub confirmation_code: String,
    pub wallet_balance: i64,
    pub entry_sequence: i64,
}
