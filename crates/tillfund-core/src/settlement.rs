//! A business day's figures at a store, as the ledger counts them, the wire carries them
//! and the counter shows them: declared once here.

use serde::{Deserialize, Serialize};

/// What a store's day (or one counter's part of it) took and gave back, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettlementFigures {
    pub top_up_count: i64,
    /// Cash the store took for the platform.
    pub cash: i64,
    /// Bonus the platform gave on those top-ups (from the reserve, not the store).
    pub bonus: i64,
    pub payment_count: i64,
    pub payments: i64,
    pub refund_count: i64,
    pub refunds: i64,
    pub reversal_count: i64,
    /// Cash given back for reversed top-ups.
    pub reversed_cash: i64,
    /// Bonus clawed back by those reversals. Absent from a counter's figures as stored
    /// before it was sent.
    #[serde(default)]
    pub reversed_bonus: i64,
    /// Wallets paid out as cash at the counter (principal and yield), and the bonus clawed
    /// back with them. Absent from figures of before redemptions.
    #[serde(default)]
    pub redemption_count: i64,
    #[serde(default)]
    pub redeemed_cash: i64,
    #[serde(default)]
    pub redeemed_bonus: i64,
}

/// Two parts of a day together (a counter's figures under the terminals it has been).
impl std::ops::AddAssign for SettlementFigures {
    fn add_assign(&mut self, other: SettlementFigures) {
        // Destructured in full: a field added to the struct must be added here too.
        let SettlementFigures {
            top_up_count,
            cash,
            bonus,
            payment_count,
            payments,
            refund_count,
            refunds,
            reversal_count,
            reversed_cash,
            reversed_bonus,
            redemption_count,
            redeemed_cash,
            redeemed_bonus,
        } = other;
        self.top_up_count += top_up_count;
        self.cash += cash;
        self.bonus += bonus;
        self.payment_count += payment_count;
        self.payments += payments;
        self.refund_count += refund_count;
        self.refunds += refunds;
        self.reversal_count += reversal_count;
        self.reversed_cash += reversed_cash;
        self.reversed_bonus += reversed_bonus;
        self.redemption_count += redemption_count;
        self.redeemed_cash += redeemed_cash;
        self.redeemed_bonus += redeemed_bonus;
    }
}

impl SettlementFigures {
    /// Cash that must be in the drawer: taken for top-ups less given back for reversals
    /// and paid out for redemptions.
    pub fn drawer_cash(&self) -> i64 {
        self.cash - self.reversed_cash - self.redeemed_cash
    }

    /// What the platform owes the store: payments less refunds less the cash the store
    /// holds for the platform. Negative when the store owes the platform.
    pub fn net_owed_to_store(&self) -> i64 {
        self.payments - self.refunds - self.drawer_cash()
    }
}
