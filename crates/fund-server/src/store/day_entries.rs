//! The entries a store's day is counted from, read alike by both backends: the query reads
//! one row per transfer of a top-up, reversal, redemption, payment or refund, in journal order, and
//! `DayEntries` folds them into one entry per journal entry.

use tillfund_core::TerminalId;

use super::StoreError;
use crate::ledger::{EntryCode, TerminalEntry, TransferCode, UnsettledEntry};

/// The select list and joins of a day's rows; the caller adds its `WHERE` (on `e.`) and
/// must order by `e.sequence`.
pub(crate) const DAY_ROWS_SELECT: &str = "SELECT e.sequence, e.terminal_id, e.code, \
    t.code AS transfer_code, t.amount \
    FROM journal_entries e JOIN transfers t ON t.entry_sequence = e.sequence \
    WHERE e.code IN ('top_up', 'top_up_reversal', 'redemption', 'payment', 'refund')";

/// One transfer row of a day entry, as read.
pub(crate) struct DayRow<'r> {
    pub sequence: i64,
    pub terminal_id: Option<&'r str>,
    pub code: &'r str,
    pub transfer_code: &'r str,
    pub amount: i64,
}

/// A day's entries, folded from their transfer rows.
#[derive(Debug, Default)]
pub(crate) struct DayEntries {
    pub entries: Vec<TerminalEntry>,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl DayEntries {
    /// Counts one transfer row; rows of one entry must come together.
    pub fn push(&mut self, row: DayRow<'_>) -> Result<(), StoreError> {
        let sequence = row.sequence;
        let code: EntryCode = row.code.parse().map_err(corrupt)?;
        let transfer_code: TransferCode = row.transfer_code.parse().map_err(corrupt)?;
        if self.entries.last().is_none_or(|(_, entry)| entry.sequence() != sequence) {
            let terminal_id: Option<TerminalId> =
                row.terminal_id.map(str::parse).transpose().map_err(corrupt)?;
            let entry = match code {
                EntryCode::TopUp => UnsettledEntry::TopUp { sequence, cash: 0, bonus: 0 },
                EntryCode::TopUpReversal => {
                    UnsettledEntry::Reversal { sequence, cash: 0, bonus: 0 }
                }
                EntryCode::Redemption => UnsettledEntry::Redemption { sequence, cash: 0, bonus: 0 },
                EntryCode::Payment => UnsettledEntry::Payment { sequence, amount: 0 },
                EntryCode::Refund => UnsettledEntry::Refund { sequence, amount: 0 },
                other => {
                    return Err(corrupt(format!(
                        "entry {sequence} of code {other} in a settlement"
                    )));
                }
            };
            self.entries.push((terminal_id, entry));
        }
        let amount = row.amount;
        match (self.entries.last_mut().map(|(_, entry)| entry), transfer_code) {
            (Some(UnsettledEntry::TopUp { cash, .. }), TransferCode::Cash)
            | (Some(UnsettledEntry::Reversal { cash, .. }), TransferCode::Cash)
            | (Some(UnsettledEntry::Redemption { cash, .. }), TransferCode::Cash) => {
                *cash += amount
            }
            (Some(UnsettledEntry::TopUp { bonus, .. }), TransferCode::Bonus)
            | (Some(UnsettledEntry::Reversal { bonus, .. }), TransferCode::Bonus)
            | (Some(UnsettledEntry::Redemption { bonus, .. }), TransferCode::Bonus) => {
                *bonus += amount
            }
            (Some(UnsettledEntry::Payment { amount: total, .. }), _)
            | (Some(UnsettledEntry::Refund { amount: total, .. }), _) => *total += amount,
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'r>(sequence: i64, code: &'r str, transfer_code: &'r str, amount: i64) -> DayRow<'r> {
        DayRow { sequence, terminal_id: None, code, transfer_code, amount }
    }

    #[test]
    fn transfers_of_one_entry_fold_into_it() {
        let mut day = DayEntries::default();
        day.push(row(1, "top_up", "cash", 10_000)).unwrap();
        day.push(row(1, "top_up", "bonus", 500)).unwrap();
        day.push(row(2, "refund", "refund", 300)).unwrap();
        day.push(row(2, "refund", "refund", 200)).unwrap();
        for (code, amount) in
            [("cash", 3_000), ("principal", 2_900), ("yield", 100), ("bonus", 150)]
        {
            day.push(row(3, "redemption", code, amount)).unwrap();
        }
        assert_eq!(
            day.entries,
            vec![
                (None, UnsettledEntry::TopUp { sequence: 1, cash: 10_000, bonus: 500 }),
                (None, UnsettledEntry::Refund { sequence: 2, amount: 500 }),
                (None, UnsettledEntry::Redemption { sequence: 3, cash: 3_000, bonus: 150 }),
            ]
        );
    }

    #[test]
    fn an_entry_of_another_kind_is_a_corrupt_row() {
        let mut day = DayEntries::default();
        assert!(matches!(day.push(row(1, "yield", "yield", 1)), Err(StoreError::Corrupt(_))));
    }
}
