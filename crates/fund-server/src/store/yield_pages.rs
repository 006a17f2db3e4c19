//! What both backends do the same way when they accrue a day a page of wallets at a time:
//! the wallet accounts of a page, their balances as of the day's last entry, and each
//! wallet's accrual added to its running total. The SQL differs by dialect; this does not.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use tillfund_core::CustomerId;

use super::{StoreError, WalletAccrual};
use crate::ledger::{Account, Bucket};

/// Wallets read, accrued and written per round of a day's accrual: what bounds its memory.
pub(super) const WALLETS_PER_PAGE: i64 = 5_000;

/// What a day's accrual recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccruedDay {
    pub wallets: u64,
    /// Sum of the day's accruals, in minor units (fractional).
    pub accrued: Decimal,
}

/// The account keys of every bucket of `customers`' wallets.
pub(super) fn wallet_keys(customers: &[CustomerId]) -> Vec<String> {
    customers
        .iter()
        .flat_map(|customer| Bucket::ALL.map(|bucket| Account::Wallet(*customer, bucket)))
        .map(|account| account.to_string())
        .collect()
}

/// Sums rows of (wallet account key, amount) by customer; any other key is corrupt.
pub(super) fn sum_by_customer(
    rows: impl IntoIterator<Item = (String, i64)>,
) -> Result<HashMap<CustomerId, i64>, StoreError> {
    let mut sums: HashMap<CustomerId, i64> = HashMap::new();
    for (key, amount) in rows {
        let Ok(Account::Wallet(customer, _)) = Account::from_str(&key) else {
            return Err(StoreError::Corrupt(format!("'{key}' is not a wallet account")));
        };
        let sum = sums.entry(customer).or_default();
        *sum = sum
            .checked_add(amount)
            .ok_or_else(|| StoreError::Corrupt(format!("the wallet of {customer} overflows")))?;
    }
    Ok(sums)
}

/// One page's accruals and the running totals they lead to.
#[derive(Debug, Default)]
pub(super) struct PageAccruals {
    pub accruals: Vec<WalletAccrual>,
    pub cumulative: Vec<(CustomerId, Decimal)>,
}

/// Each wallet of the page at its balance as of the day's last entry (its balance now
/// less what moved since), accrued by `accrue`, and added to its running total.
pub(super) fn accrue_page(
    customers: &[CustomerId],
    balances_now: &HashMap<CustomerId, i64>,
    moved_since: &HashMap<CustomerId, i64>,
    positions: &HashMap<CustomerId, Decimal>,
    accrue: &mut (impl FnMut(i64) -> Option<Decimal> + Send),
) -> Result<PageAccruals, StoreError> {
    let mut page = PageAccruals::default();
    for customer in customers {
        let now = balances_now.get(customer).copied().unwrap_or_default();
        let balance = now
            .checked_sub(moved_since.get(customer).copied().unwrap_or_default())
            .ok_or_else(|| StoreError::Corrupt(format!("the wallet of {customer} overflows")))?;
        let Some(accrued) = accrue(balance) else { continue };
        let cumulative = positions.get(customer).copied().unwrap_or_default() + accrued;
        page.accruals.push(WalletAccrual { customer_id: *customer, balance, accrued });
        page.cumulative.push((*customer, cumulative));
    }
    Ok(page)
}

pub(super) fn parse_customer(text: &str) -> Result<CustomerId, StoreError> {
    CustomerId::from_str(text).map_err(|error| StoreError::Corrupt(error.to_string()))
}
