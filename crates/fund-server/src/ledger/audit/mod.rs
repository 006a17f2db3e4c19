//! The audit: replays the journal and checks every invariant of the ledger.
//!
//! Entries are fed in sequence order, a chunk at a time, so the journal never has to fit in
//! memory. A full audit starts at the first entry and holds one number per account. An
//! incremental audit resumes after the last entry a passing audit verified (its
//! `AuditCheckpoint`): it holds only the accounts and takings the new entries touch, seeded
//! from the balances kept at the checkpoint and from the earlier entries the new ones refer
//! back to, which the store finds by index.

use std::collections::{BTreeMap, HashMap, HashSet};

use tillfund_core::{Amount, OrderId, OutboxEntryId, TerminalId};

use super::account::{Account, Bucket};
use super::entry::{EntryCode, EntryHash, GENESIS_HASH, JournalEntry, TransferCode, entry_hash};
use takings::{TakingProblem, Takings, track, wallet_sum};

mod takings;

/// At most this many problems are kept; past that only the count grows.
const PROBLEMS_KEPT_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries_checked: u64,
    pub accounts_checked: u64,
    pub problems_found: u64,
    /// The first problems found, each one sentence naming what is wrong and where.
    pub problems: Vec<String>,
    /// The checkpoint an incremental audit resumed after; `None` for a full audit.
    pub resumed_after: Option<AuditCheckpoint>,
    /// Records of the operators' trail whose chain was checked (all of them, every audit).
    pub trail_records_checked: u64,
}

/// Where a passing audit stopped: the last entry it verified. The store keeps it beside
/// every account's balance as the journal stood at that entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCheckpoint {
    pub sequence: i64,
    pub hash: EntryHash,
    pub applied_at_ms: i64,
    pub audited_at_ms: i64,
}

/// What a passing audit leaves for the next one: the new checkpoint and the balances of
/// the accounts it replayed (every account after a full audit, the touched ones after an
/// incremental one; `replaces_all` says which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextCheckpoint {
    pub checkpoint: AuditCheckpoint,
    pub balances: Vec<(Account, i64)>,
    pub replaces_all: bool,
}

/// A stored balance that differs from the one kept at the checkpoint, or has no
/// counterpart there (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceDrift {
    pub key: String,
    pub stored: Option<i64>,
    pub at_checkpoint: Option<i64>,
}

/// The earlier entries an incremental audit must recall: by top-up (counter's entry id)
/// and by order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferencesToRecall {
    pub outbox_entry_ids: Vec<OutboxEntryId>,
    pub order_ids: Vec<OrderId>,
}

impl ReferencesToRecall {
    pub fn is_empty(&self) -> bool {
        self.outbox_entry_ids.is_empty() && self.order_ids.is_empty()
    }
}

impl AuditReport {
    /// Adds what the check of the operators' trail found.
    pub fn add_trail_check(&mut self, records_checked: u64, problems: Vec<String>) {
        self.trail_records_checked += records_checked;
        self.problems_found += problems.len() as u64;
        let room = PROBLEMS_KEPT_MAX.saturating_sub(self.problems.len());
        self.problems.extend(problems.into_iter().take(room));
    }

    pub fn passed(&self) -> bool {
        self.problems_found == 0
    }
}

/// One closed day as stored, with what the journal says it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementCheck {
    pub merchant_id: String,
    pub day: String,
    /// Cash less reversed cash, from the stored figures.
    pub drawer_cash: i64,
    /// Payments less refunds, from the stored figures.
    pub net_payments: i64,
    /// The same two, summed over the entries the close settled.
    pub drawer_cash_of_entries: i64,
    pub net_payments_of_entries: i64,
    /// What the close's journal entry moved: drawer → service, and service → world
    /// (negative when world → service); zeros when it had no entry.
    pub drawer_cash_moved: i64,
    pub net_moved: i64,
}

#[derive(Debug)]
pub struct Auditor {
    /// Replayed balances: every account (full) or those the new entries touch, starting
    /// from their balance at the checkpoint (incremental).
    replayed: BTreeMap<Account, i128>,
    /// Incremental only: each touched account's balance at the checkpoint.
    at_checkpoint: HashMap<Account, i128>,
    /// Incremental only: the ids whose earlier entries were recalled (each once, or they
    /// would count twice).
    recalled_outbox_entry_ids: HashSet<OutboxEntryId>,
    recalled_order_ids: HashSet<OrderId>,
    /// Incremental only: the earlier entries recalled (an entry carrying a top-up id and an
    /// order id can come back twice, and must count once).
    recalled_sequences: HashSet<i64>,
    resumed_after: Option<AuditCheckpoint>,
    /// The last entry checked: sequence, hash, applied at.
    last_checked: Option<(i64, EntryHash, i64)>,
    /// Per counter and entry id: every reversal must stay within its top-up.
    top_ups: HashMap<(TerminalId, OutboxEntryId), Takings<2>>,
    /// Per counter and order id: every refund must stay within its payment, bucket by bucket.
    orders: HashMap<(TerminalId, OrderId), Takings<3>>,
    expected_sequence: i64,
    previous_hash: EntryHash,
    previous_applied_at_ms: i64,
    entries_checked: u64,
    problems_found: u64,
    problems: Vec<String>,
}

impl Default for Auditor {
    fn default() -> Auditor {
        Auditor::new()
    }
}

impl Auditor {
    pub fn new() -> Auditor {
        Auditor {
            replayed: BTreeMap::new(),
            at_checkpoint: HashMap::new(),
            recalled_outbox_entry_ids: HashSet::new(),
            recalled_order_ids: HashSet::new(),
            recalled_sequences: HashSet::new(),
            resumed_after: None,
            last_checked: None,
            top_ups: HashMap::new(),
            orders: HashMap::new(),
            expected_sequence: 1,
            previous_hash: GENESIS_HASH,
            previous_applied_at_ms: 0,
            entries_checked: 0,
            problems_found: 0,
            problems: Vec::new(),
        }
    }

    /// An incremental audit: the entries after `checkpoint` are checked; the driver seeds
    /// the balances and takings they touch (`accounts_to_seed`, `references_to_recall`).
    pub fn resume(checkpoint: AuditCheckpoint) -> Auditor {
        Auditor {
            resumed_after: Some(checkpoint),
            expected_sequence: checkpoint.sequence.saturating_add(1),
            previous_hash: checkpoint.hash,
            previous_applied_at_ms: checkpoint.applied_at_ms,
            ..Auditor::new()
        }
    }

    pub fn resumed_after(&self) -> Option<&AuditCheckpoint> {
        self.resumed_after.as_ref()
    }

    /// Incremental only: the checkpoint's own entry as read now must be the one verified.
    pub fn check_checkpoint_entry(&mut self, entry: Option<&JournalEntry>) {
        let Some(checkpoint) = self.resumed_after else { return };
        if entry.is_none_or(|entry| entry.hash != checkpoint.hash) {
            self.problem(format!(
                "entry {}, the last one a passing audit verified, has changed or is gone \
                 since (run `fund-server audit --full`)",
                checkpoint.sequence
            ));
        }
    }

    /// Incremental only: the accounts `entries` touch whose balance at the checkpoint is
    /// not yet known.
    pub fn accounts_to_seed(&self, entries: &[JournalEntry]) -> Vec<Account> {
        if self.resumed_after.is_none() {
            return Vec::new();
        }
        let unknown: HashSet<Account> = entries
            .iter()
            .flat_map(|entry| &entry.entry.transfers)
            .flat_map(|transfer| [transfer.from, transfer.to])
            .filter(|account| !self.replayed.contains_key(account))
            .collect();
        unknown.into_iter().collect()
    }

    /// Incremental only: the balances at the checkpoint of the accounts asked for; an
    /// account the checkpoint does not hold starts at zero.
    pub fn seed_balances(&mut self, asked: &[Account], found: &[(Account, i64)]) {
        let found: HashMap<Account, i64> = found.iter().copied().collect();
        for account in asked {
            let balance = i128::from(found.get(account).copied().unwrap_or_default());
            self.at_checkpoint.insert(*account, balance);
            self.replayed.insert(*account, balance);
        }
    }

    /// Incremental only: the top-up and order ids `entries` carry whose earlier entries
    /// have not been recalled yet. The driver recalls them (`recall`) before checking
    /// `entries`; each id is asked for once.
    pub fn references_to_recall(&mut self, entries: &[JournalEntry]) -> ReferencesToRecall {
        let mut recall = ReferencesToRecall::default();
        if self.resumed_after.is_none() {
            return recall;
        }
        for entry in entries {
            let references = &entry.entry.references;
            if let Some(id) = references.outbox_entry_id
                && self.recalled_outbox_entry_ids.insert(id)
            {
                recall.outbox_entry_ids.push(id);
            }
            if let Some(id) = references.order_id
                && self.recalled_order_ids.insert(id)
            {
                recall.order_ids.push(id);
            }
        }
        recall
    }

    /// Incremental only: every entry up to the checkpoint (verified by an earlier audit)
    /// that carries an id `references_to_recall` named, in sequence order. They count
    /// towards what was taken and given back, and are not checked again.
    pub fn recall(&mut self, earlier: &[JournalEntry]) {
        let Some(checkpoint) = self.resumed_after else { return };
        for entry in earlier {
            assert!(entry.sequence <= checkpoint.sequence, "recalled an entry past the checkpoint");
            if !self.recalled_sequences.insert(entry.sequence) {
                continue;
            }
            // An earlier audit reported whatever was wrong with it.
            let _ = self.check_references(entry);
        }
    }

    pub fn problem(&mut self, problem: String) {
        self.problems_found += 1;
        if self.problems.len() < PROBLEMS_KEPT_MAX {
            self.problems.push(problem);
        }
    }

    /// Checks one entry and applies it to the replayed balances.
    pub fn check_entry(&mut self, journal_entry: &JournalEntry) {
        let sequence = journal_entry.sequence;
        self.entries_checked += 1;
        if sequence != self.expected_sequence {
            self.problem(format!(
                "entry {sequence}: expected sequence {} (an entry is missing or reordered)",
                self.expected_sequence
            ));
        }
        self.expected_sequence = sequence + 1;
        if journal_entry.previous_hash != self.previous_hash {
            self.problem(format!(
                "entry {sequence}: its previous hash does not match the entry before it"
            ));
        }
        if journal_entry.applied_at_ms < self.previous_applied_at_ms {
            self.problem(format!("entry {sequence}: applied before the entry before it"));
        }
        self.previous_applied_at_ms = journal_entry.applied_at_ms;
        let recomputed = entry_hash(
            sequence,
            journal_entry.applied_at_ms,
            &journal_entry.entry,
            &journal_entry.previous_hash,
        );
        if recomputed != journal_entry.hash {
            self.problem(format!("entry {sequence}: its hash does not match its content (edited)"));
        }
        self.previous_hash = journal_entry.hash;
        self.last_checked = Some((sequence, journal_entry.hash, journal_entry.applied_at_ms));
        if journal_entry.entry.transfers.is_empty() {
            self.problem(format!("entry {sequence}: it has no transfers"));
        }
        let mut touched = Vec::new();
        for transfer in &journal_entry.entry.transfers {
            if transfer.from == transfer.to {
                self.problem(format!(
                    "entry {sequence}: a transfer from {} to itself",
                    transfer.from
                ));
            }
            let amount = i128::from(transfer.amount.amount().minor_units());
            debug_assert!(
                self.resumed_after.is_none()
                    || (self.replayed.contains_key(&transfer.from)
                        && self.replayed.contains_key(&transfer.to)),
                "an incremental audit replays only seeded accounts"
            );
            *self.replayed.entry(transfer.from).or_default() -= amount;
            *self.replayed.entry(transfer.to).or_default() += amount;
            touched.push(transfer.from);
        }
        for account in touched {
            let balance = self.replayed.get(&account).copied().unwrap_or_default();
            if !account.may_go_negative() && balance < 0 {
                self.problem(format!("entry {sequence}: it leaves {account} negative ({balance})"));
            }
        }
        if let Some(problem) = self.check_references(journal_entry) {
            self.problem(problem);
        }
    }

    /// Reversals and refunds stay within what they refer to: a reversal within its top-up
    /// (principal and bonus apart), a refund within its payment (bucket by bucket); a
    /// top-up or an order appears once; nothing refers to what the journal does not hold.
    /// Returns what is wrong with `journal_entry`, if anything.
    fn check_references(&mut self, journal_entry: &JournalEntry) -> Option<String> {
        let sequence = journal_entry.sequence;
        let entry = &journal_entry.entry;
        let references = &entry.references;
        let what = match entry.code {
            EntryCode::TopUp | EntryCode::TopUpReversal => {
                let (Some(terminal), Some(entry_id)) =
                    (references.terminal_id, references.outbox_entry_id)
                else {
                    return Some(format!(
                        "entry {sequence}: a top-up without its counter and entry id"
                    ));
                };
                let reversal = entry.code == EntryCode::TopUpReversal;
                let amounts = [
                    (TransferCode::Principal, Bucket::Principal),
                    (TransferCode::Bonus, Bucket::Bonus),
                ]
                .map(|(code, bucket)| wallet_sum(entry, code, bucket, reversal));
                let problem = track(&mut self.top_ups, (terminal, entry_id), amounts, reversal)?;
                let what = format!("top-up {entry_id} of {terminal}");
                match problem {
                    TakingProblem::TakenTwice => format!("{what} is applied twice"),
                    TakingProblem::ReturnsWhatIsNotHeld => {
                        format!("reverses {what}, which the journal does not hold")
                    }
                    TakingProblem::ReturnsMoreThanTaken => {
                        format!("{what} is reversed for more than it took")
                    }
                }
            }
            EntryCode::Payment | EntryCode::Refund => {
                let (Some(terminal), Some(order_id)) =
                    (references.terminal_id, references.order_id)
                else {
                    return Some(format!(
                        "entry {sequence}: a payment or refund without its counter and order"
                    ));
                };
                let refund = entry.code == EntryCode::Refund;
                let code = if refund { TransferCode::Refund } else { TransferCode::Payment };
                let amounts = Bucket::ALL.map(|bucket| wallet_sum(entry, code, bucket, !refund));
                let problem = track(&mut self.orders, (terminal, order_id), amounts, refund)?;
                let what = format!("order {order_id} of {terminal}");
                match problem {
                    TakingProblem::TakenTwice => format!("{what} is paid twice"),
                    TakingProblem::ReturnsWhatIsNotHeld => {
                        format!("refunds {what}, which the journal does not hold")
                    }
                    TakingProblem::ReturnsMoreThanTaken => {
                        format!("{what} is refunded for more than it took")
                    }
                }
            }
            _ => return None,
        };
        Some(format!("entry {sequence}: {what}"))
    }

    /// A closed day's stored figures, the entries it settled and the money its entry moved
    /// must all agree.
    pub fn check_settlement(&mut self, check: &SettlementCheck) {
        let name = format!("the close of {} on {}", check.merchant_id, check.day);
        if check.drawer_cash != check.drawer_cash_of_entries
            || check.net_payments != check.net_payments_of_entries
        {
            self.problem(format!(
                "{name}: its figures (drawer {}, net {}) differ from the entries it settled (drawer {}, net {})",
                check.drawer_cash, check.net_payments, check.drawer_cash_of_entries, check.net_payments_of_entries
            ));
        }
        if check.drawer_cash != check.drawer_cash_moved || check.net_payments != check.net_moved {
            self.problem(format!(
                "{name}: its figures (drawer {}, net {}) differ from what its entry moved (drawer {}, net {})",
                check.drawer_cash, check.net_payments, check.drawer_cash_moved, check.net_moved
            ));
        }
    }

    /// A full audit's end: compares every stored balance with the replay and checks the
    /// totals. A pass leaves a checkpoint holding every replayed balance.
    pub fn finish(
        mut self,
        stored_balances: &[(Account, Amount)],
        now_ms: i64,
    ) -> (AuditReport, Option<NextCheckpoint>) {
        assert!(self.resumed_after.is_none(), "an incremental audit ends with finish_resumed");
        let mut stored_sum: i128 = 0;
        let mut stored_accounts = BTreeMap::new();
        for (account, balance) in stored_balances {
            let balance = i128::from(balance.minor_units());
            stored_sum += balance;
            stored_accounts.insert(*account, balance);
            if !account.may_go_negative() && balance < 0 {
                self.problem(format!("{account} is negative ({balance})"));
            }
            let replayed = self.replayed.get(account).copied().unwrap_or_default();
            if replayed != balance {
                self.problem(format!(
                    "{account} holds {balance} but its entries sum to {replayed}"
                ));
            }
        }
        let missing: Vec<(Account, i128)> = self
            .replayed
            .iter()
            .filter(|(account, balance)| **balance != 0 && !stored_accounts.contains_key(account))
            .map(|(account, balance)| (*account, *balance))
            .collect();
        for (account, replayed) in missing {
            self.problem(format!("{account} has entries summing to {replayed} but no balance"));
        }
        if stored_sum != 0 {
            self.problem(format!("balances sum to {stored_sum}, not zero"));
        }
        self.report(stored_accounts.len() as u64, now_ms, true)
    }

    /// An incremental audit's end. `drift` is every stored balance that differs from the
    /// one kept at the checkpoint: each must be what the new entries moved, and every
    /// account they touched must have moved by exactly that. The checkpoint's balances
    /// summed to zero, so the stored ones do when the drift does.
    pub fn finish_resumed(
        mut self,
        drift: &[BalanceDrift],
        account_count: u64,
        now_ms: i64,
    ) -> (AuditReport, Option<NextCheckpoint>) {
        assert!(self.resumed_after.is_some(), "a full audit ends with finish");
        let mut drift_sum: i128 = 0;
        let mut compared = HashSet::new();
        for BalanceDrift { key, stored, at_checkpoint } in drift {
            let Ok(account) = key.parse::<Account>() else {
                self.problem(format!("account row '{key}' is unreadable"));
                continue;
            };
            compared.insert(account);
            let at_checkpoint = i128::from(at_checkpoint.unwrap_or_default());
            drift_sum += i128::from(stored.unwrap_or_default()) - at_checkpoint;
            let replayed = self.replayed.get(&account).copied().unwrap_or(at_checkpoint);
            match stored.map(i128::from) {
                Some(stored) => {
                    if !account.may_go_negative() && stored < 0 {
                        self.problem(format!("{account} is negative ({stored})"));
                    }
                    if stored != replayed {
                        self.problem(format!(
                            "{account} holds {stored} but its entries sum to {replayed}"
                        ));
                    }
                }
                None if replayed != 0 => self
                    .problem(format!("{account} has entries summing to {replayed} but no balance")),
                None => {}
            }
        }
        // The touched accounts whose stored balance did not move since the checkpoint.
        let unmoved: Vec<(Account, i128, i128)> = self
            .replayed
            .iter()
            .filter(|(account, _)| !compared.contains(*account))
            .map(|(account, replayed)| {
                (*account, self.at_checkpoint.get(account).copied().unwrap_or_default(), *replayed)
            })
            .filter(|(_, stored, replayed)| stored != replayed)
            .collect();
        for (account, stored, replayed) in unmoved {
            self.problem(format!("{account} holds {stored} but its entries sum to {replayed}"));
        }
        if drift_sum != 0 {
            self.problem(format!(
                "balances sum to {drift_sum}, not zero (they moved by that since the checkpoint)"
            ));
        }
        self.report(account_count, now_ms, false)
    }

    fn report(
        self,
        accounts_checked: u64,
        now_ms: i64,
        full: bool,
    ) -> (AuditReport, Option<NextCheckpoint>) {
        let report = AuditReport {
            entries_checked: self.entries_checked,
            accounts_checked,
            problems_found: self.problems_found,
            problems: self.problems,
            resumed_after: self.resumed_after,
            trail_records_checked: 0,
        };
        let next = match self.last_checked {
            Some((sequence, hash, applied_at_ms)) if report.passed() => {
                // Passed, so every replayed balance equals a stored one and fits.
                let balances: Option<Vec<(Account, i64)>> = self
                    .replayed
                    .iter()
                    .map(|(account, balance)| Some((*account, i64::try_from(*balance).ok()?)))
                    .collect();
                balances.map(|balances| NextCheckpoint {
                    checkpoint: AuditCheckpoint {
                        sequence,
                        hash,
                        applied_at_ms,
                        audited_at_ms: now_ms,
                    },
                    balances,
                    replaces_all: full,
                })
            }
            _ => None,
        };
        (report, next)
    }
}

#[cfg(test)]
mod tests;
