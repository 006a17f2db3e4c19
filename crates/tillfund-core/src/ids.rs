//! Typed identifiers. Each is a UUIDv7: made by whoever creates the thing (the counter makes
//! its own outbox entry ids offline), time-ordered so that indexes stay compact, and typed
//! so that a customer id can never be passed where a merchant id is expected.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a valid {kind}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub text: String,
}

/// Where new ids come from: UUIDv7 from the system's clock and randomness, or a seeded
/// sequence stamped with a given clock, so that a simulated run repeats id for id (ids are
/// hashed into the journal and order lists, so they must repeat for a run to).
#[derive(Debug, Clone, Default)]
pub struct IdSource {
    seeded: Option<Arc<Mutex<SeededIds>>>,
}

#[derive(Debug)]
struct SeededIds {
    clock: Clock,
    state: u64,
}

impl SeededIds {
    /// SplitMix64: small, fast, and the same sequence on every platform forever.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }
}

impl IdSource {
    pub fn system() -> IdSource {
        IdSource::default()
    }

    /// Ids from `seed`, stamped with `clock`'s time: still valid, time-ordered UUIDv7s.
    pub fn seeded(seed: u64, clock: Clock) -> IdSource {
        IdSource { seeded: Some(Arc::new(Mutex::new(SeededIds { clock, state: seed }))) }
    }

    pub fn next_uuid(&self) -> Uuid {
        let Some(seeded) = &self.seeded else {
            return Uuid::now_v7();
        };
        let mut seeded = seeded.lock().unwrap_or_else(PoisonError::into_inner);
        let mut random = [0_u8; 10];
        random[..8].copy_from_slice(&seeded.next_u64().to_le_bytes());
        random[8..].copy_from_slice(&seeded.next_u64().to_le_bytes()[..2]);
        let millis = u64::try_from(seeded.clock.now_ms()).unwrap_or(0);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }
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

            /// A new, time-ordered id from `ids`: the same as `generate` unless `ids` is
            /// seeded (the simulator's, to repeat a run id for id).
            pub fn generate_from(ids: &IdSource) -> $name {
                $name(ids.next_uuid())
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
define_id!(
    /// A member of the platform's staff, who signs in to the operator API and console.
    OperatorId,
    "operator id"
);
define_id!(
    /// A change to money or its rules, proposed by one operator for another to approve.
    ProposalId,
    "proposal id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat_per_seed_and_are_time_ordered_v7() {
        let first: Vec<OrderId> = {
            let ids = IdSource::seeded(42, Clock::manual(1_700_000_000_000));
            (0..3).map(|_| OrderId::generate_from(&ids)).collect()
        };
        let clock = Clock::manual(1_700_000_000_000);
        let ids = IdSource::seeded(42, clock.clone());
        let again: Vec<OrderId> = (0..3).map(|_| OrderId::generate_from(&ids)).collect();
        assert_eq!(first, again);
        assert_ne!(first[0], first[1]);
        assert_eq!(first[0].as_uuid().get_version_num(), 7);
        clock.advance(1);
        assert!(OrderId::generate_from(&ids) > again[2], "a later time sorts later");
        let other = IdSource::seeded(43, Clock::manual(1_700_000_000_000));
        assert_ne!(OrderId::generate_from(&other), first[0]);
    }

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
