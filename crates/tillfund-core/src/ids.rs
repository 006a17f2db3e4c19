//! Typed identifiers. Each is a UUIDv7: made by whoever creates the thing (the counter makes
//! its own outbox entry ids offline), time-ordered so that indexes stay compact, and typed
//! so that a customer id can never be passed where a merchant id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a valid {kind}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub text: String,
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> $name {
                $name(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> $name {
                $name(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(formatter)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<$name, InvalidId> {
                Uuid::try_parse(text)
                    .map($name)
                    .map_err(|_| InvalidId { kind: $kind, text: text.chars().take(40).collect() })
            }
        }
    };
}

define_id!(
    /// A customer's wallet.
    CustomerId,
    "customer id"
);
define_id!(
    /// A partner store.
    MerchantId,
    "merchant id"
);
define_id!(
    /// One enrolled counter of a merchant.
    TerminalId,
    "terminal id"
);
define_id!(
    /// A payment order made at a counter.
    OrderId,
    "order id"
);
define_id!(
    /// One entry of a counter's outbox; the server applies each at most once.
    OutboxEntryId,
    "outbox entry id"
);
define_id!(
    /// A cashier or manager of one counter (staff are kept at the counter).
    StaffId,
    "staff id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let customer_id = CustomerId::generate();
        assert_eq!(customer_id.to_string().parse::<CustomerId>().unwrap(), customer_id);
        let json = serde_json::to_string(&customer_id).unwrap();
        assert_eq!(json, format!("\"{customer_id}\""));
        assert_eq!(serde_json::from_str::<CustomerId>(&json).unwrap(), customer_id);
    }

    #[test]
    fn generated_ids_are_time_ordered() {
        let first = OutboxEntryId::generate();
        let second = OutboxEntryId::generate();
        assert!(first < second);
    }

    #[test]
    fn invalid_text_names_the_kind() {
        let error = "not-a-uuid".parse::<MerchantId>().unwrap_err();
        assert_eq!(error.to_string(), "'not-a-uuid' is not a valid merchant id");
    }
}
