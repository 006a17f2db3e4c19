//! Customers as the platform's staff look them up (`/v1/operator/customers`): every read
//! of personal data is recorded in the operators' trail.

use serde::{Deserialize, Serialize};

use super::{CustomerBody, WalletBody};

/// Customers whose phone or member code is the query, or whose name contains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSearchBody {
    pub customers: Vec<CustomerBody>,
}

/// One line of a wallet's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletEntryBody {
    pub sequence: i64,
    /// `top_up`, `payment`, `refund`, `yield`, `top_up_reversal`, `redemption`,
    /// `bonus_forfeiture`.
    pub kind: String,
    pub applied_at_ms: i64,
    /// The store, for entries made at one.
    pub store: Option<String>,
    /// Minor units into (positive) or out of (negative) the wallet.
    pub change: i64,
}

/// A customer's wallet as an operator sees it: balances by bucket, stores, the PIN lock
/// and the latest entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerDossierBody {
    pub wallet: WalletBody,
    /// Set while wrong PINs keep the wallet locked (unlocking it is a proposal).
    pub locked_until_ms: Option<i64>,
    /// Newest first.
    pub entries: Vec<WalletEntryBody>,
}
