//! The audit: replays the journal and checks every invariant of the ledger.
//!
//! Entries are fed in sequence order, a chunk at a time, so the journal never has to fit in
//! memory; the replayed balances do (one number per account).

use std::collections::{BTreeMap, HashMap};

use tillfund_core::{Amount, OrderId, OutboxEntryId, TerminalId};

use super::account::{Account, Bucket};
use super::entry::{
    EntryCode, EntryHash, GENESIS_HASH, JournalEntry, NewEntry, TransferCode, entry_hash,
};

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

/// What an entry took, bucket by bucket, and what the entries that refer back to it gave
/// back: a top-up and its reversals ([principal, bonus]), a payment and its refunds
/// ([principal, bonus, yield]).
#[derive(Debug, Clone, Copy)]
struct Takings<const BUCKETS: usize> {
    taken: [i128; BUCKETS],
    returned: [i128; BUCKETS],
}

/// What is wrong with an entry that takes or gives back, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TakingProblem {
    TakenTwice,
    ReturnsWhatIsNotHeld,
    ReturnsMoreThanTaken,
}

/// Records an entry that takes (`returning` false) or gives back against `key`.
fn track<K: std::hash::Hash + Eq, const BUCKETS: usize>(
    takings: &mut HashMap<K, Takings<BUCKETS>>,
    key: K,
    amounts: [i128; BUCKETS],
    returning: bool,
) -> Option<TakingProblem> {
    if !returning {
        let fresh = Takings { taken: amounts, returned: [0; BUCKETS] };
        return takings.insert(key, fresh).is_some().then_some(TakingProblem::TakenTwice);
    }
    let Some(totals) = takings.get_mut(&key) else {
        return Some(TakingProblem::ReturnsWhatIsNotHeld);
    };
    for (total, amount) in totals.returned.iter_mut().zip(amounts) {
        *total += amount;
    }
    let over = totals.returned.iter().zip(totals.taken).any(|(returned, taken)| *returned > taken);
    over.then_some(TakingProblem::ReturnsMoreThanTaken)
}

/// What an entry's transfers of `code` moved out of (`outgoing`) or into a wallet's
/// `bucket`.
fn wallet_sum(entry: &NewEntry, code: TransferCode, bucket: Bucket, outgoing: bool) -> i128 {
    entry
        .transfers
        .iter()
        .filter(|transfer| transfer.code == code)
        .filter(|transfer| {
            let account = if outgoing { transfer.from } else { transfer.to };
            matches!(account, Account::Wallet(_, found) if found == bucket)
        })
        .map(|transfer| i128::from(transfer.amount.amount().minor_units()))
        .sum()
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
    replayed: BTreeMap<Account, i128>,
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
        self.check_references(journal_entry);
    }

    /// Reversals and refunds stay within what they refer to: a reversal within its top-up
    /// (principal and bonus apart), a refund within its payment (bucket by bucket); a
    /// top-up or an order appears once; nothing refers to what the journal does not hold.
    fn check_references(&mut self, journal_entry: &JournalEntry) {
        let sequence = journal_entry.sequence;
        let entry = &journal_entry.entry;
        let references = &entry.references;
        match entry.code {
            EntryCode::TopUp | EntryCode::TopUpReversal => {
                let (Some(terminal), Some(entry_id)) =
                    (references.terminal_id, references.outbox_entry_id)
                else {
                    self.problem(format!(
                        "entry {sequence}: a top-up without its counter and entry id"
                    ));
                    return;
                };
                let reversal = entry.code == EntryCode::TopUpReversal;
                let amounts = [
                    (TransferCode::Principal, Bucket::Principal),
                    (TransferCode::Bonus, Bucket::Bonus),
                ]
                .map(|(code, bucket)| wallet_sum(entry, code, bucket, reversal));
                let what = format!("top-up {entry_id} of {terminal}");
                match track(&mut self.top_ups, (terminal, entry_id), amounts, reversal) {
                    None => {}
                    Some(TakingProblem::TakenTwice) => {
                        self.problem(format!("entry {sequence}: {what} is applied twice"));
                    }
                    Some(TakingProblem::ReturnsWhatIsNotHeld) => self.problem(format!(
                        "entry {sequence}: reverses {what}, which the journal does not hold"
                    )),
                    Some(TakingProblem::ReturnsMoreThanTaken) => self.problem(format!(
                        "entry {sequence}: {what} is reversed for more than it took"
                    )),
                }
            }
            EntryCode::Payment | EntryCode::Refund => {
                let (Some(terminal), Some(order_id)) =
                    (references.terminal_id, references.order_id)
                else {
                    self.problem(format!(
                        "entry {sequence}: a payment or refund without its counter and order"
                    ));
                    return;
                };
                let refund = entry.code == EntryCode::Refund;
                let code = if refund { TransferCode::Refund } else { TransferCode::Payment };
                let amounts = Bucket::ALL.map(|bucket| wallet_sum(entry, code, bucket, !refund));
                let what = format!("order {order_id} of {terminal}");
                match track(&mut self.orders, (terminal, order_id), amounts, refund) {
                    None => {}
                    Some(TakingProblem::TakenTwice) => {
                        self.problem(format!("entry {sequence}: {what} is paid twice"));
                    }
                    Some(TakingProblem::ReturnsWhatIsNotHeld) => self.problem(format!(
                        "entry {sequence}: refunds {what}, which the journal does not hold"
                    )),
                    Some(TakingProblem::ReturnsMoreThanTaken) => self.problem(format!(
                        "entry {sequence}: {what} is refunded for more than it took"
                    )),
                }
            }
            _ => {}
        }
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

#[cfg(test)]
mod tests {
    use tillfund_core::{CustomerId, MerchantId, PositiveAmount};

    use super::*;
    use crate::ledger::entry::{EntryReferences, NewEntry, Transfer};

    fn amount(minor_units: i64) -> PositiveAmount {
        PositiveAmount::try_from(minor_units).unwrap()
    }

    fn transfer(from: Account, to: Account, minor_units: i64, code: TransferCode) -> Transfer {
        Transfer { from, to, amount: amount(minor_units), code }
    }

    /// A journal fed to an auditor entry by entry, sealed as the writer seals them.
    struct Journal {
        auditor: Auditor,
        previous_hash: EntryHash,
        sequence: i64,
    }

    impl Journal {
        fn new() -> Journal {
            Journal { auditor: Auditor::new(), previous_hash: GENESIS_HASH, sequence: 0 }
        }

        fn append(
            &mut self,
            code: EntryCode,
            references: EntryReferences,
            transfers: Vec<Transfer>,
        ) {
            self.sequence += 1;
            let entry = NewEntry { code, recorded_at_ms: 0, references, transfers };
            let sealed =
                JournalEntry::seal(self.sequence, self.sequence, entry, self.previous_hash);
            self.previous_hash = sealed.hash;
            self.auditor.check_entry(&sealed);
        }

        fn problems(self) -> Vec<String> {
            self.auditor.problems
        }
    }

    struct Store {
        merchant: MerchantId,
        customer: CustomerId,
    }

    impl Store {
        fn references(&self, terminal: TerminalId) -> EntryReferences {
            EntryReferences {
                merchant_id: Some(self.merchant),
                terminal_id: Some(terminal),
                customer_id: Some(self.customer),
                ..EntryReferences::default()
            }
        }

        fn top_up(
            &self,
            journal: &mut Journal,
            terminal: TerminalId,
            entry: OutboxEntryId,
            minor_units: i64,
        ) {
            let references =
                EntryReferences { outbox_entry_id: Some(entry), ..self.references(terminal) };
            journal.append(
                EntryCode::TopUp,
                references,
                vec![
                    transfer(
                        Account::World,
                        Account::Drawer(self.merchant),
                        minor_units,
                        TransferCode::Cash,
                    ),
                    transfer(
                        Account::Reserve,
                        Account::Wallet(self.customer, Bucket::Principal),
                        minor_units,
                        TransferCode::Principal,
                    ),
                ],
            );
        }

        fn reversal(
            &self,
            journal: &mut Journal,
            terminal: TerminalId,
            entry: OutboxEntryId,
            minor_units: i64,
        ) {
            let references =
                EntryReferences { outbox_entry_id: Some(entry), ..self.references(terminal) };
            journal.append(
                EntryCode::TopUpReversal,
                references,
                vec![
                    transfer(
                        Account::Wallet(self.customer, Bucket::Principal),
                        Account::Reserve,
                        minor_units,
                        TransferCode::Principal,
                    ),
                    transfer(
                        Account::Drawer(self.merchant),
                        Account::World,
                        minor_units,
                        TransferCode::Cash,
                    ),
                ],
            );
        }

        fn payment(
            &self,
            journal: &mut Journal,
            terminal: TerminalId,
            order: OrderId,
            minor_units: i64,
        ) {
            let references = EntryReferences { order_id: Some(order), ..self.references(terminal) };
            journal.append(
                EntryCode::Payment,
                references,
                vec![transfer(
                    Account::Wallet(self.customer, Bucket::Principal),
                    Account::Service,
                    minor_units,
                    TransferCode::Payment,
                )],
            );
        }

        fn refund(
            &self,
            journal: &mut Journal,
            terminal: TerminalId,
            order: OrderId,
            minor_units: i64,
        ) {
            let references = EntryReferences { order_id: Some(order), ..self.references(terminal) };
            journal.append(
                EntryCode::Refund,
                references,
                vec![transfer(
                    Account::Service,
                    Account::Wallet(self.customer, Bucket::Principal),
                    minor_units,
                    TransferCode::Refund,
                )],
            );
        }
    }

    fn funded() -> (Journal, Store) {
        let mut journal = Journal::new();
        journal.append(
            EntryCode::Fund,
            EntryReferences::default(),
            vec![transfer(Account::World, Account::Reserve, 100_000, TransferCode::Fund)],
        );
        (journal, Store { merchant: MerchantId::generate(), customer: CustomerId::generate() })
    }

    fn named(problems: &[String], text: &str) -> bool {
        problems.iter().any(|problem| problem.contains(text))
    }

    #[test]
    fn a_reversal_beyond_its_top_up_is_named_even_when_balances_allow_it() {
        // Two counters used one entry id; the reversal of the second's 10.00 was booked
        // against the first's 3.00 (the defect of wave 1). Balances never go negative.
        let (mut journal, store) = funded();
        let (first, second) = (TerminalId::generate(), TerminalId::generate());
        let shared = OutboxEntryId::generate();
        store.top_up(&mut journal, first, shared, 300);
        store.top_up(&mut journal, second, shared, 1_000);
        store.reversal(&mut journal, first, shared, 1_000);
        let problems = journal.problems();
        assert!(named(&problems, "is reversed for more than it took"), "{problems:?}");

        let (mut journal, store) = funded();
        store.top_up(&mut journal, first, shared, 300);
        store.top_up(&mut journal, second, shared, 1_000);
        store.reversal(&mut journal, second, shared, 1_000);
        store.reversal(&mut journal, first, shared, 300);
        assert_eq!(journal.problems(), Vec::<String>::new());
    }

    #[test]
    fn refunds_beyond_the_payment_and_references_to_nothing_are_named() {
        let (mut journal, store) = funded();
        let terminal = TerminalId::generate();
        let order = OrderId::generate();
        store.top_up(&mut journal, terminal, OutboxEntryId::generate(), 5_000);
        store.payment(&mut journal, terminal, order, 1_000);
        store.refund(&mut journal, terminal, order, 600);
        store.refund(&mut journal, terminal, order, 600);
        store.refund(&mut journal, TerminalId::generate(), order, 100);
        store.reversal(&mut journal, terminal, OutboxEntryId::generate(), 100);
        store.payment(&mut journal, terminal, order, 100);
        let problems = journal.problems();
        assert!(named(&problems, "is refunded for more than it took"), "{problems:?}");
        assert!(named(&problems, "which the journal does not hold"), "{problems:?}");
        assert!(named(&problems, "is paid twice"), "{problems:?}");
    }

    #[test]
    fn a_close_that_differs_from_its_entries_is_named() {
        let mut auditor = Auditor::new();
        let check = SettlementCheck {
            merchant_id: "m".to_owned(),
            day: "2026-12-01".to_owned(),
            drawer_cash: 1_000,
            net_payments: 500,
            drawer_cash_of_entries: 1_000,
            net_payments_of_entries: 500,
            drawer_cash_moved: 1_000,
            net_moved: 500,
        };
        auditor.check_settlement(&check);
        assert!(auditor.problems.is_empty());
        auditor.check_settlement(&SettlementCheck { drawer_cash_of_entries: 700, ..check.clone() });
        auditor.check_settlement(&SettlementCheck { net_moved: 0, ..check });
        assert_eq!(auditor.problems.len(), 2, "{:?}", auditor.problems);
    }
}
