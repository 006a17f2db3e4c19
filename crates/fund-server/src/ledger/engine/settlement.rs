//! Closing a store's day: the figures of the entries it settles, and the entry that moves
//! the drawer's cash and the net of payments and refunds.

use super::*;

pub use tillfund_core::settlement::SettlementFigures;

/// One unsettled entry of a merchant, as a close counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsettledEntry {
    TopUp { sequence: i64, cash: i64, bonus: i64 },
    Reversal { sequence: i64, cash: i64, bonus: i64 },
    Payment { sequence: i64, amount: i64 },
    Refund { sequence: i64, amount: i64 },
    Redemption { sequence: i64, cash: i64, bonus: i64 },
}

impl UnsettledEntry {
    pub fn sequence(self) -> i64 {
        match self {
            UnsettledEntry::TopUp { sequence, .. }
            | UnsettledEntry::Reversal { sequence, .. }
            | UnsettledEntry::Payment { sequence, .. }
            | UnsettledEntry::Refund { sequence, .. }
            | UnsettledEntry::Redemption { sequence, .. } => sequence,
        }
    }
}

impl UnsettledEntry {
    /// Counts this entry in `figures`.
    pub fn add_to(self, figures: &mut SettlementFigures) {
        match self {
            UnsettledEntry::TopUp { cash, bonus, .. } => {
                figures.top_up_count += 1;
                figures.cash += cash;
                figures.bonus += bonus;
            }
            UnsettledEntry::Reversal { cash, bonus, .. } => {
                figures.reversal_count += 1;
                figures.reversed_cash += cash;
                figures.reversed_bonus += bonus;
            }
            UnsettledEntry::Payment { amount, .. } => {
                figures.payment_count += 1;
                figures.payments += amount;
            }
            UnsettledEntry::Refund { amount, .. } => {
                figures.refund_count += 1;
                figures.refunds += amount;
            }
            UnsettledEntry::Redemption { cash, bonus, .. } => {
                figures.redemption_count += 1;
                figures.redeemed_cash += cash;
                figures.redeemed_bonus += bonus;
            }
        }
    }
}

/// An unsettled entry and the counter it was made at (`None` for none).
pub type TerminalEntry = (Option<TerminalId>, UnsettledEntry);

/// The unsettled entries of one merchant up to a day's end, loaded for a close.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnsettledDay {
    pub entries: Vec<TerminalEntry>,
    pub already_closed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedDay {
    pub merchant_id: MerchantId,
    pub day: String,
    pub entry_sequence: Option<i64>,
    pub figures: SettlementFigures,
    /// The same figures split by the counter each entry was made at.
    pub by_terminal: Vec<(TerminalId, SettlementFigures)>,
    pub settled_entries: Vec<i64>,
}

/// Figures of all entries, and of the entries of each counter.
pub fn figures_by_terminal(
    entries: &[TerminalEntry],
) -> (SettlementFigures, Vec<(TerminalId, SettlementFigures)>) {
    let mut total = SettlementFigures::default();
    let mut by_terminal: BTreeMap<TerminalId, SettlementFigures> = BTreeMap::new();
    for (terminal_id, entry) in entries {
        entry.add_to(&mut total);
        if let Some(terminal_id) = terminal_id {
            entry.add_to(by_terminal.entry(*terminal_id).or_default());
        }
    }
    (total, by_terminal.into_iter().collect())
}

impl Batch {
    pub(super) fn close_day(
        &mut self,
        merchant_id: MerchantId,
        day: &str,
        day_end_ms: i64,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let key = (merchant_id, day.to_owned());
        let Some(unsettled) = self.state.unsettled.get(&key).cloned() else {
            return Err(Deferred::GuardTripped {
                account: format!("settlement of {merchant_id} {day} (not loaded)"),
            });
        };
        if unsettled.already_closed {
            return Ok(Outcome::rejected(
                RejectCode::DayAlreadyClosed,
                format!("{day} is already closed."),
            ));
        }
        let entries = self.entries_to_settle(merchant_id, day_end_ms, &unsettled);
        let (figures, mut by_terminal) = figures_by_terminal(&entries);
        if self.policy.sim_bugs.counter_parts_skip_refunds() {
            for (_, part) in &mut by_terminal {
                (part.refunds, part.refund_count) = (0, 0);
            }
        }
        let transfers = settlement_transfers(merchant_id, &figures);
        let entry_sequence = if transfers.is_empty() {
            None
        } else {
            let entry = NewEntry {
                code: EntryCode::Settlement,
                recorded_at_ms: command.recorded_at_ms,
                references: EntryReferences {
                    merchant_id: Some(merchant_id),
                    business_day: Some(day.to_owned()),
                    ..EntryReferences::default()
                },
                transfers,
            };
            match self.post(entry)? {
                Ok(sequence) => Some(sequence),
                Err(Account::Service) => return Err(Deferred::ServiceInsufficient),
                Err(account) => return guard_tripped(account),
            }
        };
        if let Some(stored) = self.state.unsettled.get_mut(&key) {
            stored.already_closed = true;
        }
        let settled_entries: Vec<i64> = entries.iter().map(|(_, entry)| entry.sequence()).collect();
        self.settled_in_batch.extend(settled_entries.iter().copied());
        self.writes.settlements.push(ClosedDay {
            merchant_id,
            day: day.to_owned(),
            entry_sequence,
            figures,
            by_terminal,
            settled_entries,
        });
        Ok(Outcome::DayClosed { entry_sequence, merchant_id, day: day.to_owned(), figures })
    }

    /// What a close of a merchant's day ending at `day_end_ms` settles: what was unsettled
    /// at the batch's start and what this batch posted before the day's end, less what an
    /// earlier close in this batch settled already.
    fn entries_to_settle(
        &self,
        merchant_id: MerchantId,
        day_end_ms: i64,
        unsettled: &UnsettledDay,
    ) -> Vec<TerminalEntry> {
        let posted_here =
            self.posted_for_settlement.iter().filter(|(merchant, recorded_at_ms, _)| {
                *merchant == merchant_id && *recorded_at_ms < day_end_ms
            });
        unsettled
            .entries
            .iter()
            .copied()
            .chain(posted_here.map(|(_, _, entry)| *entry))
            .filter(|(_, entry)| !self.settled_in_batch.contains(&entry.sequence()))
            .collect()
    }
}

/// The close's money: the drawer's cash to the service account, and payments less refunds
/// out to the store's bank account (or, when refunds exceed payments, back from the store).
fn settlement_transfers(merchant_id: MerchantId, figures: &SettlementFigures) -> Vec<Transfer> {
    let mut transfers = Vec::new();
    if let Ok(cash) = PositiveAmount::try_from(figures.drawer_cash()) {
        transfers.push(Transfer {
            from: Account::Drawer(merchant_id),
            to: Account::Service,
            amount: cash,
            code: TransferCode::Settlement,
        });
    }
    // Payments less refunds leave the service account for the store's bank account;
    // when refunds exceed payments the store pays the difference back.
    let payments_net = figures.payments - figures.refunds;
    if let Ok(amount) = PositiveAmount::try_from(payments_net) {
        transfers.push(Transfer {
            from: Account::Service,
            to: Account::World,
            amount,
            code: TransferCode::Settlement,
        });
    } else if let Ok(amount) = PositiveAmount::try_from(-payments_net) {
        transfers.push(Transfer {
            from: Account::World,
            to: Account::Service,
            amount,
            code: TransferCode::Settlement,
        });
    }
    transfers
}
