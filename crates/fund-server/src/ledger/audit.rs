//! The audit: replays the journal and checks every invariant of the ledger.
//!
//! Entries are fed in sequence order, a chunk at a time, so the journal never has to fit in
//! memory; the replayed balances do (one number per account).

use std::collections::BTreeMap;

use tillfund_core::Amount;

use super::account::Account;
use super::entry::{EntryHash, GENESIS_HASH, JournalEntry, entry_hash};

/// At most this many problems are kept; past that only the count grows.
const PROBLEMS_KEPT_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries_checked: u64,
    pub accounts_checked: u64,
    pub problems_found: u64,
    /// The first problems found, each one sentence naming what is wrong and where.
    pub problems: Vec<String>,
}

impl AuditReport {
    pub fn passed(&self) -> bool {
        self.problems_found == 0
    }
}

#[derive(Debug)]
pub struct Auditor {
    replayed: BTreeMap<Account, i128>,
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
            expected_sequence: 1,
            previous_hash: GENESIS_HASH,
            previous_applied_at_ms: 0,
            entries_checked: 0,
            problems_found: 0,
            problems: Vec::new(),
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
    }

    /// Compares the stored balances with the replay and checks the totals.
    pub fn finish(mut self, stored_balances: &[(Account, Amount)]) -> AuditReport {
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
        AuditReport {
            entries_checked: self.entries_checked,
            accounts_checked: stored_accounts.len() as u64,
            problems_found: self.problems_found,
            problems: self.problems,
        }
    }
}
