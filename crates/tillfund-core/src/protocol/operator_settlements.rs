//! Stores' days as the platform's staff read them (`/v1/operator/settlements`).

use serde::{Deserialize, Serialize};

use crate::settlement::SettlementFigures;
use crate::{MerchantId, TerminalId};

/// One counter's part of a store's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CounterDayBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub terminal_id: TerminalId,
    pub figures: SettlementFigures,
    /// The counter's drawer counted at the close, when it sent one.
    #[serde(default)]
    pub cash_count: Option<crate::cash_count::CashCount>,
}

/// A store's day: closed with the figures the close recorded, or open with what a close
/// now would settle. Amounts are minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreDayBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub merchant_id: MerchantId,
    pub name: String,
    pub day: String,
    pub closed: bool,
    pub figures: SettlementFigures,
    /// Cash the drawer must hold: top-ups less reversed cash.
    pub drawer_cash: i64,
    /// What the platform owes the store (negative: the store owes the platform).
    pub net_owed_to_store: i64,
    pub counters: Vec<CounterDayBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreDaysBody {
    pub currency: String,
    pub days: Vec<StoreDayBody>,
}
