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
    /// Who did what at this counter in the day, as the counter named them.
    #[serde(default)]
    pub cashiers: Vec<CashierDayBody>,
}

/// A member of the store's staff's part of a counter's day. Amounts are minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CashierDayBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub staff_id: crate::StaffId,
    /// From the store's staff list; absent for a member the store does not know.
    pub name: Option<String>,
    pub top_up_count: i64,
    pub top_ups: i64,
    pub refund_count: i64,
    pub refunds: i64,
    pub reversal_count: i64,
    pub reversed_cash: i64,
    /// Wallets paid out as cash, and the cash.
    #[serde(default)]
    pub redemption_count: i64,
    #[serde(default)]
    pub redeemed_cash: i64,
    /// Days this member closed at this counter (0 or 1).
    pub closes: i64,
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
