//! Journal entries: one per operation, each a list of transfers, chained by hash.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use tillfund_core::signing::encode_hex;
use tillfund_core::{CustomerId, MerchantId, OrderId, OutboxEntryId, PositiveAmount, TerminalId};

use super::account::Account;

/// What operation an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryCode {
    Fund,
    Defund,
    TopUp,
    TopUpReversal,
    BonusForfeiture,
    /// Principal and yield paid out as cash at a counter, the bonus clawed back.
    Redemption,
    Payment,
    Refund,
    Yield,
    Refill,
    Settlement,
}

/// What one transfer inside an entry is for; a top-up entry has a cash, a principal and a
/// bonus transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferCode {
    Fund,
    Defund,
    Cash,
    Principal,
    Bonus,
    Yield,
    Payment,
    Refund,
    Refill,
    Settlement,
}

macro_rules! text_codes {
    ($type:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self { $($type::$variant => $text),* }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl FromStr for $type {
            type Err = String;

            fn from_str(text: &str) -> Result<$type, String> {
                match text {
                    $($text => Ok($type::$variant),)*
                    other => Err(format!("'{other}' is not a {}", stringify!($type))),
                }
            }
        }
    };
}

text_codes!(EntryCode {
    Fund => "fund",
    Defund => "defund",
    TopUp => "top_up",
    TopUpReversal => "top_up_reversal",
    BonusForfeiture => "bonus_forfeiture",
    Redemption => "redemption",
    Payment => "payment",
    Refund => "refund",
    Yield => "yield",
    Refill => "refill",
    Settlement => "settlement",
});

text_codes!(TransferCode {
    Fund => "fund",
    Defund => "defund",
    Cash => "cash",
    Principal => "principal",
    Bonus => "bonus",
    Yield => "yield",
    Payment => "payment",
    Refund => "refund",
    Refill => "refill",
    Settlement => "settlement",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub from: Account,
    pub to: Account,
    pub amount: PositiveAmount,
    pub code: TransferCode,
}

/// What an entry refers to, for finding it again and for audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryReferences {
    pub merchant_id: Option<MerchantId>,
    pub terminal_id: Option<TerminalId>,
    pub order_id: Option<OrderId>,
    pub outbox_entry_id: Option<OutboxEntryId>,
    pub customer_id: Option<CustomerId>,
    /// The merchant's business day (YYYY-MM-DD) an entry settles or a yield date.
    pub business_day: Option<String>,
}

/// An entry about to be appended; the writer gives it its sequence and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub code: EntryCode,
    pub recorded_at_ms: i64,
    pub references: EntryReferences,
    pub transfers: Vec<Transfer>,
}

pub type EntryHash = [u8; 32];

/// The hash before the first entry.
pub const GENESIS_HASH: EntryHash = [0; 32];

/// An appended entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// 1, 2, 3, … with no gaps.
    pub sequence: i64,
    /// When the server applied it (its clock, never going backwards along the journal);
    /// end-of-day balances for yield are taken by this time.
    pub applied_at_ms: i64,
    pub entry: NewEntry,
    pub previous_hash: EntryHash,
    pub hash: EntryHash,
}

impl JournalEntry {
    pub fn seal(
        sequence: i64,
        applied_at_ms: i64,
        entry: NewEntry,
        previous_hash: EntryHash,
    ) -> JournalEntry {
        let hash = entry_hash(sequence, applied_at_ms, &entry, &previous_hash);
        JournalEntry { sequence, applied_at_ms, entry, previous_hash, hash }
    }
}

/// SHA-256 over a canonical text of everything in the entry plus the previous hash: an
/// edited, removed or reordered row breaks the chain from that row on.
pub fn entry_hash(
    sequence: i64,
    applied_at_ms: i64,
    entry: &NewEntry,
    previous_hash: &EntryHash,
) -> EntryHash {
    let optional = |value: Option<String>| value.unwrap_or_default();
    let references = &entry.references;
    let mut canonical = format!(
        "tillfund-entry-v1\n{sequence}\n{applied_at_ms}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        entry.code,
        entry.recorded_at_ms,
        optional(references.merchant_id.map(|id| id.to_string())),
        optional(references.terminal_id.map(|id| id.to_string())),
        optional(references.order_id.map(|id| id.to_string())),
        optional(references.outbox_entry_id.map(|id| id.to_string())),
        optional(references.customer_id.map(|id| id.to_string())),
        optional(references.business_day.clone()),
    );
    for transfer in &entry.transfers {
        canonical.push_str(&format!(
            "{}>{}:{}:{}\n",
            transfer.from,
            transfer.to,
            transfer.amount.amount().minor_units(),
            transfer.code
        ));
    }
    canonical.push_str(&encode_hex(previous_hash));
    Sha256::digest(canonical.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillfund_core::Currency;

    fn entry() -> NewEntry {
        NewEntry {
            code: EntryCode::Fund,
            recorded_at_ms: 1_700_000_000_000,
            references: EntryReferences::default(),
            transfers: vec![Transfer {
                from: Account::World,
                to: Account::Reserve,
                amount: PositiveAmount::parse("100.00", Currency::CNY).unwrap(),
                code: TransferCode::Fund,
            }],
        }
    }

    #[test]
    fn the_hash_covers_every_field_and_the_chain() {
        let base = entry_hash(1, 5, &entry(), &GENESIS_HASH);
        assert_eq!(base, entry_hash(1, 5, &entry(), &GENESIS_HASH));
        assert_ne!(base, entry_hash(2, 5, &entry(), &GENESIS_HASH));
        assert_ne!(base, entry_hash(1, 5, &entry(), &[1; 32]));
        assert_ne!(base, entry_hash(1, 6, &entry(), &GENESIS_HASH));
        let mut changed = entry();
        changed.transfers[0].amount = PositiveAmount::parse("100.01", Currency::CNY).unwrap();
        assert_ne!(base, entry_hash(1, 5, &changed, &GENESIS_HASH));
        let mut changed = entry();
        changed.references.business_day = Some("2026-11-30".into());
        assert_ne!(base, entry_hash(1, 5, &changed, &GENESIS_HASH));
        let mut changed = entry();
        changed.code = EntryCode::Refill;
        assert_ne!(base, entry_hash(1, 5, &changed, &GENESIS_HASH));
    }

    #[test]
    fn codes_round_trip_as_text() {
        for code in [EntryCode::Fund, EntryCode::TopUp, EntryCode::Settlement] {
            assert_eq!(code.as_str().parse::<EntryCode>().unwrap(), code);
        }
        assert!("bogus".parse::<TransferCode>().is_err());
    }
}
