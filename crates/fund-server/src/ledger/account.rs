//! The accounts of the ledger. Money only ever moves between these.

use std::fmt;
use std::str::FromStr;

use tillfund_core::{CustomerId, MerchantId};

/// A wallet holds three kinds of money apart, so the wallet page can show them and a
/// reversal can claw back bonus in proportion. Bonus is never paid out as cash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    /// Cash the customer put in.
    Principal,
    /// Top-up bonus given by the platform's rules.
    Bonus,
    /// Yield paid on the balance.
    Yield,
}

impl Bucket {
    pub const ALL: [Bucket; 3] = [Bucket::Principal, Bucket::Bonus, Bucket::Yield];

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Principal => "principal",
            Bucket::Bonus => "bonus",
            Bucket::Yield => "yield",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    /// Money outside the system: cash in pockets, bank transfers in and out. The only
    /// account that may go negative; its balance is minus everything inside.
    World,
    /// The platform's provision fund at the bank; pays principal credit, bonus and yield.
    Reserve,
    /// The platform's service fund; payments land here.
    Service,
    /// Cash a store collected for the platform and has not yet settled.
    Drawer(MerchantId),
    /// One part of a customer's wallet.
    Wallet(CustomerId, Bucket),
}

impl Account {
    pub fn may_go_negative(self) -> bool {
        self == Account::World
    }

    pub fn wallet_buckets(customer_id: CustomerId) -> [Account; 3] {
        Bucket::ALL.map(|bucket| Account::Wallet(customer_id, bucket))
    }
}

/// The stored key: `world`, `reserve`, `service`, `drawer/<merchant>`,
/// `customer/<customer>/<bucket>`.
impl fmt::Display for Account {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::World => formatter.write_str("world"),
            Account::Reserve => formatter.write_str("reserve"),
            Account::Service => formatter.write_str("service"),
            Account::Drawer(merchant_id) => write!(formatter, "drawer/{merchant_id}"),
            Account::Wallet(customer_id, bucket) => {
                write!(formatter, "customer/{customer_id}/{}", bucket.as_str())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an account key")]
pub struct InvalidAccountKey(pub String);

impl FromStr for Account {
    type Err = InvalidAccountKey;

    fn from_str(key: &str) -> Result<Account, InvalidAccountKey> {
        let invalid = || InvalidAccountKey(key.chars().take(80).collect());
        match key {
            "world" => return Ok(Account::World),
            "reserve" => return Ok(Account::Reserve),
            "service" => return Ok(Account::Service),
            _ => {}
        }
        let mut parts = key.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("drawer"), Some(merchant), None, None) => {
                Ok(Account::Drawer(merchant.parse().map_err(|_| invalid())?))
            }
            (Some("customer"), Some(customer), Some(bucket), None) => {
                let bucket = match bucket {
                    "principal" => Bucket::Principal,
                    "bonus" => Bucket::Bonus,
                    "yield" => Bucket::Yield,
                    _ => return Err(invalid()),
                };
                Ok(Account::Wallet(customer.parse().map_err(|_| invalid())?, bucket))
            }
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let merchant_id = MerchantId::generate();
        let customer_id = CustomerId::generate();
        let mut accounts =
            vec![Account::World, Account::Reserve, Account::Service, Account::Drawer(merchant_id)];
        accounts.extend(Account::wallet_buckets(customer_id));
        for account in accounts {
            assert_eq!(account.to_string().parse::<Account>().unwrap(), account);
        }
        assert_eq!(
            Account::Wallet(customer_id, Bucket::Bonus).to_string(),
            format!("customer/{customer_id}/bonus")
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        for key in ["", "worlds", "drawer/", "drawer/x", "customer/x/bonus", "customer/01/cash"] {
            assert!(key.parse::<Account>().is_err(), "{key}");
        }
        let customer_id = CustomerId::generate();
        assert!(format!("customer/{customer_id}/cash").parse::<Account>().is_err());
        assert!(format!("customer/{customer_id}/bonus/x").parse::<Account>().is_err());
    }

    #[test]
    fn only_world_may_go_negative() {
        assert!(Account::World.may_go_negative());
        assert!(!Account::Reserve.may_go_negative());
        assert!(!Account::Service.may_go_negative());
        assert!(!Account::Drawer(MerchantId::generate()).may_go_negative());
    }
}
