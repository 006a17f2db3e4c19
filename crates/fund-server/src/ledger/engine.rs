//! The ledger's rules, applied to a batch of commands in memory.
//!
//! The store opens one write transaction per batch, loads what the batch needs (balances
//! of the accounts it touches, bindings, orders, idempotency records, the journal head)
//! into a [`BatchState`], runs [`Batch::apply`] for each command in order, and writes back
//! what the batch produced. Because everything is decided here against state read inside
//! that transaction, a guard such as "no account but world goes negative" holds at commit.
//! This module knows nothing of SQL or HTTP.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::{Amount, Currency, CustomerId, MerchantId, OrderId, OutboxEntryId};
use tillfund_core::{PositiveAmount, TerminalId};

use super::account::{Account, Bucket};
use super::entry::{
    EntryCode, EntryHash, EntryReferences, JournalEntry, NewEntry, Transfer, TransferCode,
};
use super::split::split_proportionally;

/// How long after a bonus rule set is superseded a counter that was offline may still
/// apply it: the customer was shown that bonus at the counter and keeps it.
pub const OFFLINE_RULE_GRACE_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Limits and settings the ledger enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPolicy {
    pub currency: Currency,
    /// Most a wallet may hold after a top-up (principal + bonus + yield).
    pub wallet_balance_cap: Amount,
    /// When the reserve falls under this, it is refilled from the service account.
    pub reserve_threshold: Amount,
    /// How much one refill moves; zero turns the monitor off.
    pub reserve_refill: Amount,
}

impl LedgerPolicy {
    /// CNY with the 5,000.00 cap Chinese rules set for named prepaid cards; the reserve
    /// monitor is off until the operator configures it.
    pub fn default_for(currency: Currency) -> LedgerPolicy {
        let scale = 10_i64.pow(currency.decimal_places());
        LedgerPolicy {
            currency,
            wallet_balance_cap: Amount::from_minor_units(5_000 * scale).unwrap_or(Amount::ZERO),
            reserve_threshold: Amount::ZERO,
            reserve_refill: Amount::ZERO,
        }
    }
}

/// A client's idempotency key with a fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// Namespaced by who sent it, e.g. `terminal/<id>/outbox/<entry>`.
    pub key: String,
    /// SHA-256 of the canonical request; the same key with another request is refused.
    pub fingerprint: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub idempotency: IdempotencyKey,
    pub recorded_at_ms: i64,
    pub kind: CommandKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandKind {
    /// The operator moves money from the bank into the reserve.
    FundReserve {
        amount: PositiveAmount,
    },
    CashTopUp(CashTopUp),
    Payment(Payment),
    Refund(Refund),
    /// Pays accrued yield from the reserve into a wallet's yield bucket.
    PostYield {
        customer_id: CustomerId,
        amount: PositiveAmount,
        day: String,
    },
    /// Gives cash back for all or part of a top-up: the principal returns to the reserve,
    /// the bonus is clawed back in proportion, and the cash leaves the drawer.
    ReverseTopUp(ReverseTopUp),
    /// Closes a merchant's business day: settles every entry of the merchant recorded
    /// before `day_end_ms` and not settled yet.
    CloseDay {
        merchant_id: MerchantId,
        day: String,
        day_end_ms: i64,
    },
}

/// A merchant's figures for a settlement, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementFigures {
    pub top_up_count: i64,
    /// Cash the store took for the platform.
    pub cash: i64,
    /// Bonus the platform gave on those top-ups (from the reserve, not the store).
    pub bonus: i64,
    pub payment_count: i64,
    pub payments: i64,
    pub refund_count: i64,
    pub refunds: i64,
    pub reversal_count: i64,
    /// Cash given back for reversed top-ups.
    pub reversed_cash: i64,
    /// Bonus clawed back by those reversals.
    pub reversed_bonus: i64,
}

impl SettlementFigures {
    /// Cash that must be in the drawer: taken for top-ups less given back for reversals.
    pub fn drawer_cash(&self) -> i64 {
        self.cash - self.reversed_cash
    }

    /// What the platform owes the store: payments less refunds less the cash the store
    /// holds for the platform. Negative when the store owes the platform.
    pub fn net_owed_to_store(&self) -> i64 {
        self.payments - self.refunds - self.drawer_cash()
    }
}

/// One unsettled entry of a merchant, as a close counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsettledEntry {
    TopUp { sequence: i64, cash: i64, bonus: i64 },
    Reversal { sequence: i64, cash: i64, bonus: i64 },
    Payment { sequence: i64, amount: i64 },
    Refund { sequence: i64, amount: i64 },
}

impl UnsettledEntry {
    pub fn sequence(self) -> i64 {
        match self {
            UnsettledEntry::TopUp { sequence, .. }
            | UnsettledEntry::Reversal { sequence, .. }
            | UnsettledEntry::Payment { sequence, .. }
            | UnsettledEntry::Refund { sequence, .. } => sequence,
        }
    }
}

impl SettlementFigures {
    pub fn add(&mut self, entry: UnsettledEntry) {
        match entry {
            UnsettledEntry::TopUp { cash, bonus, .. } => {
                self.top_up_count += 1;
                self.cash += cash;
                self.bonus += bonus;
            }
            UnsettledEntry::Reversal { cash, bonus, .. } => {
                self.reversal_count += 1;
                self.reversed_cash += cash;
                self.reversed_bonus += bonus;
            }
            UnsettledEntry::Payment { amount, .. } => {
                self.payment_count += 1;
                self.payments += amount;
            }
            UnsettledEntry::Refund { amount, .. } => {
                self.refund_count += 1;
                self.refunds += amount;
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
pub struct CashTopUp {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub outbox_entry_id: OutboxEntryId,
    pub customer_id: CustomerId,
    pub amount: PositiveAmount,
    pub bonus_shown: Amount,
    pub rule_set_version: Option<u32>,
}

/// A payment whose token was already verified (signature, expiry, currency) and whose PIN
/// was already checked; what is left is the ledger's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub claims: PaymentClaims,
    pub customer_id: CustomerId,
    /// Derived from the order with the terminal's key by the caller, which holds the key.
    pub confirmation_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseTopUp {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    /// The outbox entry that recorded the top-up.
    pub top_up: OutboxEntryId,
    pub amount: PositiveAmount,
}

/// An applied top-up, as a reversal needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedTopUp {
    pub outbox_entry_id: OutboxEntryId,
    /// The counter that made the entry id: ids are that counter's, not global.
    pub terminal_id: TerminalId,
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub amount: i64,
    pub bonus: i64,
    pub reversed_amount: i64,
    pub reversed_bonus: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub order_id: OrderId,
    pub amount: PositiveAmount,
}

/// What a command did. Stored with its idempotency key, so a replay gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Funded {
        entry_sequence: i64,
        amount: Amount,
    },
    ToppedUp {
        entry_sequence: i64,
        customer_id: CustomerId,
        amount: Amount,
        bonus: Amount,
        /// True when the bonus applied differs from the one the counter showed.
        bonus_adjusted: bool,
        wallet_balance: Amount,
    },
    Paid {
        entry_sequence: i64,
        order_id: OrderId,
        customer_id: CustomerId,
        amount: Amount,
        confirmation_code: String,
        wallet_balance: Amount,
    },
    TopUpReversed {
        entry_sequence: i64,
        customer_id: CustomerId,
        amount: Amount,
        bonus_clawed_back: Amount,
        wallet_balance: Amount,
    },
    Refunded {
        entry_sequence: i64,
        order_id: OrderId,
        amount: Amount,
        refunded_total: Amount,
        wallet_balance: Amount,
    },
    YieldPosted {
        entry_sequence: i64,
        customer_id: CustomerId,
        amount: Amount,
    },
    DayClosed {
        /// `None` when the day moved no money.
        entry_sequence: Option<i64>,
        merchant_id: MerchantId,
        day: String,
        figures: SettlementFigures,
    },
    /// Refused for good: retrying the same request gives the same answer.
    Rejected {
        code: String,
        message: String,
    },
}

impl Outcome {
    fn rejected(code: &str, message: impl Into<String>) -> Outcome {
        Outcome::Rejected { code: code.to_owned(), message: message.into() }
    }
}

/// A decided command: its outcome, and whether that is the stored answer to an earlier
/// request with the same idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub outcome: Outcome,
    pub replayed: bool,
}

/// Why a command could not be decided now. Nothing was written for it, and the same
/// request may succeed later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Deferred {
    /// The key is kept for the log; the message shown to the sender never includes it (it
    /// is the server's namespaced key, with the sender's id in it).
    #[error("this Idempotency-Key was already used for a different request; use a new key")]
    KeyReused { key: String },
    #[error(
        "the reserve cannot cover {needed} and the service account cannot refill it; \
         the operator must fund the reserve (retry later)"
    )]
    ReserveInsufficient { needed: String },
    #[error("the service account cannot cover this refund now (retry later)")]
    ServiceInsufficient,
    #[error("an amount left its range: {0}")]
    Overflow(String),
    #[error("internal error: the guard on {account} tripped; nothing was written")]
    GuardTripped { account: String },
}

impl Deferred {
    pub fn code(&self) -> &'static str {
        match self {
            Deferred::KeyReused { .. } => "idempotency_key_reused",
            Deferred::ReserveInsufficient { .. } => "reserve_insufficient",
            Deferred::ServiceInsufficient => "service_insufficient",
            Deferred::Overflow(_) => "amount_out_of_range",
            Deferred::GuardTripped { .. } => "internal",
        }
    }
}

/// A paid order, as refunds need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidOrder {
    pub order_id: OrderId,
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub customer_id: CustomerId,
    pub amount: PositiveAmount,
    /// What the payment took from principal, bonus and yield.
    pub paid_split: [i64; 3],
    /// What refunds have given back to principal, bonus and yield so far.
    pub refunded_split: [i64; 3],
    pub payment_entry: i64,
    pub paid_at_ms: i64,
}

impl PaidOrder {
    pub fn refunded_total(&self) -> i64 {
        self.refunded_split.iter().sum()
    }
}

/// One published bonus rule set and when it stopped being current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetRecord {
    pub rule_set: BonusRuleSet,
    pub published_at_ms: i64,
    pub superseded_at_ms: Option<i64>,
}

/// A stored answer to an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    pub fingerprint: [u8; 32],
    pub outcome: Outcome,
}

/// A paid order as the server knows it: the order id is made by a counter and means
/// something only together with that counter, so another store's counter that copies an id
/// off a QR code names a different order.
pub type OrderKey = (TerminalId, OrderId);
/// A top-up by the counter that recorded it and its outbox entry id.
pub type TopUpKey = (TerminalId, OutboxEntryId);

/// Which rows a batch must load before it runs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchNeeds {
    pub accounts: BTreeSet<Account>,
    pub customers: BTreeSet<CustomerId>,
    pub bindings: BTreeSet<(CustomerId, MerchantId)>,
    pub orders: BTreeSet<OrderKey>,
    pub top_ups: BTreeSet<TopUpKey>,
    pub idempotency_keys: BTreeSet<String>,
    pub rule_set_versions: BTreeSet<u32>,
    /// (merchant, day, end of the day) of each close in the batch.
    pub closes: BTreeSet<(MerchantId, String, i64)>,
}

impl BatchNeeds {
    pub fn of(commands: &[Command]) -> BatchNeeds {
        let mut needs = BatchNeeds::default();
        needs.accounts.extend([Account::World, Account::Reserve, Account::Service]);
        for command in commands {
            needs.idempotency_keys.insert(command.idempotency.key.clone());
            match &command.kind {
                CommandKind::FundReserve { .. } => {}
                CommandKind::CashTopUp(top_up) => {
                    needs.accounts.insert(Account::Drawer(top_up.merchant_id));
                    needs.accounts.extend(Account::wallet_buckets(top_up.customer_id));
                    needs.customers.insert(top_up.customer_id);
                    needs.bindings.insert((top_up.customer_id, top_up.merchant_id));
                    needs.rule_set_versions.extend(top_up.rule_set_version);
                }
                CommandKind::Payment(payment) => {
                    needs.accounts.extend(Account::wallet_buckets(payment.customer_id));
                    needs.customers.insert(payment.customer_id);
                    needs.bindings.insert((payment.customer_id, payment.claims.merchant_id));
                    needs.orders.insert((payment.claims.terminal_id, payment.claims.order_id));
                }
                CommandKind::Refund(refund) => {
                    needs.orders.insert((refund.terminal_id, refund.order_id));
                }
                CommandKind::PostYield { customer_id, .. } => {
                    needs.accounts.extend(Account::wallet_buckets(*customer_id));
                }
                CommandKind::ReverseTopUp(reversal) => {
                    needs.accounts.insert(Account::Drawer(reversal.merchant_id));
                    needs.top_ups.insert((reversal.terminal_id, reversal.top_up));
                }
                CommandKind::CloseDay { merchant_id, day, day_end_ms } => {
                    needs.accounts.insert(Account::Drawer(*merchant_id));
                    needs.closes.insert((*merchant_id, day.clone(), *day_end_ms));
                }
            }
        }
        needs
    }
}

/// Everything a batch reads, loaded inside its write transaction.
#[derive(Debug, Clone)]
pub struct BatchState {
    /// Balances of every account the batch may touch, zero for one with no row yet. An
    /// account missing here was not loaded: touching it is refused as a bug.
    pub balances: HashMap<Account, Amount>,
    pub existing_customers: HashSet<CustomerId>,
    pub bindings: HashSet<(CustomerId, MerchantId)>,
    pub orders: HashMap<OrderKey, PaidOrder>,
    pub top_ups: HashMap<TopUpKey, AppliedTopUp>,
    pub idempotency: HashMap<String, StoredOutcome>,
    pub rule_sets: HashMap<u32, RuleSetRecord>,
    /// The rule set in force now; version 0 (no rules) when none was ever published.
    pub current_rule_set: BonusRuleSet,
    /// For each close in the batch, keyed by (merchant, day).
    pub unsettled: HashMap<(MerchantId, String), UnsettledDay>,
    pub head_sequence: i64,
    pub head_hash: EntryHash,
    /// The time every entry of this batch is applied at: the server's clock, but never
    /// before the last entry's.
    pub applied_at_ms: i64,
}

/// What a batch did to the reserve alert.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum AlertChange {
    #[default]
    Unchanged,
    /// The reserve is under its threshold and the service account cannot refill it.
    Raised(String),
    /// The reserve is back at or above its threshold.
    Cleared,
}

/// What a batch produced, for the store to write in the same transaction.
#[derive(Debug, Default, Clone)]
pub struct BatchWrites {
    pub entries: Vec<JournalEntry>,
    /// Final balances of every account the batch changed.
    pub balances: Vec<(Account, Amount)>,
    pub new_orders: Vec<PaidOrder>,
    /// Orders whose refunded split changed, with the new split.
    pub refunded_orders: Vec<(OrderKey, [i64; 3])>,
    pub outcomes: Vec<(IdempotencyKey, Outcome)>,
    pub reserve_alert: AlertChange,
    /// Closed days: (merchant, day, close entry, figures, the entries it settled).
    pub settlements: Vec<ClosedDay>,
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
        total.add(*entry);
        if let Some(terminal_id) = terminal_id {
            by_terminal.entry(*terminal_id).or_default().add(*entry);
        }
    }
    (total, by_terminal.into_iter().collect())
}

pub struct Batch<'policy> {
    policy: &'policy LedgerPolicy,
    state: BatchState,
    changed_accounts: BTreeSet<Account>,
    writes: BatchWrites,
    new_order_ids: Vec<OrderKey>,
    refunded_order_ids: BTreeSet<OrderKey>,
    settled_in_batch: HashSet<i64>,
    /// Merchant entries posted by this batch: (merchant, recorded at, entry). A close later
    /// in the batch settles them too, as it would had they been committed before it.
    posted_for_settlement: Vec<(MerchantId, i64, TerminalEntry)>,
}

impl<'policy> Batch<'policy> {
    pub fn new(policy: &'policy LedgerPolicy, state: BatchState) -> Batch<'policy> {
        Batch {
            policy,
            state,
            changed_accounts: BTreeSet::new(),
            writes: BatchWrites::default(),
            new_order_ids: Vec::new(),
            refunded_order_ids: BTreeSet::new(),
            settled_in_batch: HashSet::new(),
            posted_for_settlement: Vec::new(),
        }
    }

    /// Decides one command. A `Deferred` command changed nothing.
    pub fn apply(&mut self, command: &Command) -> Result<Decided, Deferred> {
        if let Some(stored) = self.state.idempotency.get(&command.idempotency.key) {
            if stored.fingerprint != command.idempotency.fingerprint {
                return Err(Deferred::KeyReused { key: command.idempotency.key.clone() });
            }
            return Ok(Decided { outcome: stored.outcome.clone(), replayed: true });
        }
        let outcome = match &command.kind {
            CommandKind::FundReserve { amount } => self.fund_reserve(*amount, command)?,
            CommandKind::CashTopUp(top_up) => self.cash_top_up(top_up, command)?,
            CommandKind::Payment(payment) => self.payment(payment, command)?,
            CommandKind::Refund(refund) => self.refund(refund, command)?,
            CommandKind::PostYield { customer_id, amount, day } => {
                self.post_yield(*customer_id, *amount, day, command)?
            }
            CommandKind::CloseDay { merchant_id, day, day_end_ms } => {
                self.close_day(*merchant_id, day, *day_end_ms, command)?
            }
            CommandKind::ReverseTopUp(reversal) => self.reverse_top_up(reversal, command)?,
        };
        self.state.idempotency.insert(
            command.idempotency.key.clone(),
            StoredOutcome {
                fingerprint: command.idempotency.fingerprint,
                outcome: outcome.clone(),
            },
        );
        self.writes.outcomes.push((command.idempotency.clone(), outcome.clone()));
        Ok(Decided { outcome, replayed: false })
    }

    /// Ends the batch and hands over what to write.
    pub fn finish(mut self) -> BatchWrites {
        self.writes.balances = self
            .changed_accounts
            .iter()
            .map(|account| (*account, self.balance(*account)))
            .collect();
        for order_id in &self.new_order_ids {
            if let Some(order) = self.state.orders.get(order_id) {
                self.writes.new_orders.push(order.clone());
            }
        }
        for order_id in &self.refunded_order_ids {
            // An order paid and refunded in the same batch is written once, as new.
            if self.new_order_ids.contains(order_id) {
                continue;
            }
            if let Some(order) = self.state.orders.get(order_id) {
                self.writes.refunded_orders.push((*order_id, order.refunded_split));
            }
        }
        self.writes
    }

    /// The balance of a loaded account; zero for one that was not loaded, which `post`
    /// refuses to change.
    fn balance(&self, account: Account) -> Amount {
        self.state.balances.get(&account).copied().unwrap_or(Amount::ZERO)
    }

    fn wallet_split(&self, customer_id: CustomerId) -> [i64; 3] {
        Account::wallet_buckets(customer_id).map(|account| self.balance(account).minor_units())
    }

    fn wallet_balance(&self, customer_id: CustomerId) -> Amount {
        let total: i64 = self.wallet_split(customer_id).iter().sum();
        Amount::from_minor_units(total).unwrap_or(Amount::ZERO)
    }

    fn format(&self, amount: Amount) -> String {
        format!("{} {}", amount.format(self.policy.currency), self.policy.currency)
    }

    /// Posts an entry if every account it leaves stays within its guard; otherwise posts
    /// nothing and says which account would go negative.
    fn post(&mut self, entry: NewEntry) -> Result<Result<i64, Account>, Deferred> {
        let mut after: HashMap<Account, Amount> = HashMap::new();
        for transfer in &entry.transfers {
            for account in [transfer.from, transfer.to] {
                if !self.state.balances.contains_key(&account) {
                    tracing::error!(%account, "ledger: an account the batch did not load");
                    return Err(Deferred::GuardTripped { account: account.to_string() });
                }
            }
            debug_assert_ne!(transfer.from, transfer.to, "a transfer moves between two accounts");
            let amount = transfer.amount.amount();
            let from = after.get(&transfer.from).copied().unwrap_or(self.balance(transfer.from));
            let to = after.get(&transfer.to).copied().unwrap_or(self.balance(transfer.to));
            let overflow = |error: tillfund_core::MoneyError| Deferred::Overflow(error.to_string());
            after.insert(transfer.from, from.checked_sub(amount).map_err(overflow)?);
            after.insert(transfer.to, to.checked_add(amount).map_err(overflow)?);
        }
        if let Some((account, _)) = after
            .iter()
            .find(|(account, balance)| !account.may_go_negative() && balance.is_negative())
        {
            return Ok(Err(*account));
        }
        for (account, balance) in after {
            self.state.balances.insert(account, balance);
            self.changed_accounts.insert(account);
        }
        let sequence = self.state.head_sequence + 1;
        let sealed =
            JournalEntry::seal(sequence, self.state.applied_at_ms, entry, self.state.head_hash);
        self.state.head_sequence = sequence;
        self.state.head_hash = sealed.hash;
        self.writes.entries.push(sealed);
        Ok(Ok(sequence))
    }

    fn fund_reserve(
        &mut self,
        amount: PositiveAmount,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let entry = NewEntry {
            code: EntryCode::Fund,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences::default(),
            transfers: vec![Transfer {
                from: Account::World,
                to: Account::Reserve,
                amount,
                code: TransferCode::Fund,
            }],
        };
        match self.post(entry)? {
            Ok(entry_sequence) => {
                self.clear_reserve_alert_if_recovered();
                Ok(Outcome::Funded { entry_sequence, amount: amount.amount() })
            }
            Err(account) => guard_tripped(account),
        }
    }

    /// The bonus of a top-up. The counter's clock is honoured only as far as the server
    /// could have known: a named rule set counts while the server receives the top-up less
    /// than the grace after that set was superseded (server time, which a counter cannot
    /// move), and the rules' own validity is judged at the recorded time but never earlier
    /// than the grace before receipt. Backdating a top-up therefore cannot revive a
    /// promotion that ended longer ago than an honest offline counter could have shown it.
    fn bonus_for(&self, top_up: &CashTopUp, recorded_at_ms: i64) -> Amount {
        let received_at_ms = self.state.applied_at_ms;
        let named = top_up.rule_set_version.and_then(|version| self.state.rule_sets.get(&version));
        let still_honoured = |record: &RuleSetRecord| {
            record.superseded_at_ms.is_none_or(|superseded| {
                received_at_ms < superseded.saturating_add(OFFLINE_RULE_GRACE_MS)
            })
        };
        let rule_set = match named {
            Some(record) if still_honoured(record) => &record.rule_set,
            _ => &self.state.current_rule_set,
        };
        let judged_at_ms = recorded_at_ms.max(received_at_ms.saturating_sub(OFFLINE_RULE_GRACE_MS));
        rule_set.quote(top_up.merchant_id, top_up.amount, judged_at_ms).bonus
    }

    fn cash_top_up(&mut self, top_up: &CashTopUp, command: &Command) -> Result<Outcome, Deferred> {
        let customer_id = top_up.customer_id;
        if !self.state.existing_customers.contains(&customer_id) {
            return Ok(Outcome::rejected("customer_unknown", "There is no customer with this id."));
        }
        if !self.state.bindings.contains(&(customer_id, top_up.merchant_id)) {
            return Ok(Outcome::rejected(
                "customer_not_bound",
                "The customer is not bound to this store: give the cash back, or have the \
                 customer add this store in the wallet first.",
            ));
        }
        let bonus = self.bonus_for(top_up, command.recorded_at_ms);
        let amount = top_up.amount.amount();
        let overflow = |error: tillfund_core::MoneyError| Deferred::Overflow(error.to_string());
        let credit = amount.checked_add(bonus).map_err(overflow)?;
        let balance_before = self.wallet_balance(customer_id);
        let balance_after = balance_before.checked_add(credit).map_err(overflow)?;
        if balance_after > self.policy.wallet_balance_cap {
            let room =
                self.policy.wallet_balance_cap.checked_sub(balance_before).map_err(overflow)?;
            return Ok(Outcome::rejected(
                "wallet_cap_exceeded",
                format!(
                    "The wallet would hold {} with the bonus, above the cap of {}; it has room \
                     for {} including bonus. Give the cash back.",
                    self.format(balance_after),
                    self.format(self.policy.wallet_balance_cap),
                    self.format(room.max(Amount::ZERO)),
                ),
            ));
        }
        if self.balance(Account::Reserve) < credit {
            self.refill_reserve(command.recorded_at_ms)?;
            if self.balance(Account::Reserve) < credit {
                return Err(Deferred::ReserveInsufficient { needed: self.format(credit) });
            }
        }
        let mut transfers = vec![
            Transfer {
                from: Account::World,
                to: Account::Drawer(top_up.merchant_id),
                amount: top_up.amount,
                code: TransferCode::Cash,
            },
            Transfer {
                from: Account::Reserve,
                to: Account::Wallet(customer_id, Bucket::Principal),
                amount: top_up.amount,
                code: TransferCode::Principal,
            },
        ];
        if let Ok(bonus) = PositiveAmount::new(bonus) {
            transfers.push(Transfer {
                from: Account::Reserve,
                to: Account::Wallet(customer_id, Bucket::Bonus),
                amount: bonus,
                code: TransferCode::Bonus,
            });
        }
        let entry = NewEntry {
            code: EntryCode::TopUp,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(top_up.merchant_id),
                terminal_id: Some(top_up.terminal_id),
                outbox_entry_id: Some(top_up.outbox_entry_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(account) => return guard_tripped(account),
        };
        self.posted_for_settlement.push((
            top_up.merchant_id,
            command.recorded_at_ms,
            (
                Some(top_up.terminal_id),
                UnsettledEntry::TopUp {
                    sequence: entry_sequence,
                    cash: amount.minor_units(),
                    bonus: bonus.minor_units(),
                },
            ),
        ));
        self.monitor_reserve(command.recorded_at_ms)?;
        Ok(Outcome::ToppedUp {
            entry_sequence,
            customer_id,
            amount,
            bonus,
            bonus_adjusted: bonus != top_up.bonus_shown,
            wallet_balance: self.wallet_balance(customer_id),
        })
    }

    fn payment(&mut self, payment: &Payment, command: &Command) -> Result<Outcome, Deferred> {
        let claims = &payment.claims;
        let customer_id = payment.customer_id;
        if !self.state.existing_customers.contains(&customer_id) {
            return Ok(Outcome::rejected("customer_unknown", "There is no customer with this id."));
        }
        let order_key = (claims.terminal_id, claims.order_id);
        if self.state.orders.contains_key(&order_key) {
            return Ok(Outcome::rejected(
                "order_already_paid",
                "This order has already been paid.",
            ));
        }
        if !self.state.bindings.contains(&(customer_id, claims.merchant_id)) {
            return Ok(Outcome::rejected(
                "customer_not_bound",
                "Your wallet is not bound to this store. Add the store in your wallet, then pay.",
            ));
        }
        let split = self.wallet_split(customer_id);
        let amount = claims.amount.amount().minor_units();
        let Some(taken) = split_proportionally(amount, split) else {
            return Ok(Outcome::rejected(
                "insufficient_funds",
                format!(
                    "Your balance of {} does not cover {}.",
                    self.format(self.wallet_balance(customer_id)),
                    self.format(claims.amount.amount())
                ),
            ));
        };
        let transfers = wallet_transfers(customer_id, taken, Direction::ToService)?;
        let entry = NewEntry {
            code: EntryCode::Payment,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(claims.merchant_id),
                terminal_id: Some(claims.terminal_id),
                order_id: Some(claims.order_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(account) => return guard_tripped(account),
        };
        self.posted_for_settlement.push((
            claims.merchant_id,
            command.recorded_at_ms,
            (
                Some(claims.terminal_id),
                UnsettledEntry::Payment { sequence: entry_sequence, amount },
            ),
        ));
        self.state.orders.insert(
            order_key,
            PaidOrder {
                order_id: claims.order_id,
                merchant_id: claims.merchant_id,
                terminal_id: claims.terminal_id,
                customer_id,
                amount: claims.amount,
                paid_split: taken,
                refunded_split: [0; 3],
                payment_entry: entry_sequence,
                paid_at_ms: command.recorded_at_ms,
            },
        );
        self.new_order_ids.push(order_key);
        Ok(Outcome::Paid {
            entry_sequence,
            order_id: claims.order_id,
            customer_id,
            amount: claims.amount.amount(),
            confirmation_code: payment.confirmation_code.clone(),
            wallet_balance: self.wallet_balance(customer_id),
        })
    }

    fn refund(&mut self, refund: &Refund, command: &Command) -> Result<Outcome, Deferred> {
        // Only the counter that made the order refunds it: its id is that counter's.
        let order_key = (refund.terminal_id, refund.order_id);
        let Some(order) = self.state.orders.get(&order_key).cloned() else {
            return Ok(Outcome::rejected("order_not_found", "No paid order has this number."));
        };
        if order.merchant_id != refund.merchant_id {
            return Ok(Outcome::rejected(
                "order_of_another_merchant",
                "This order was paid at another store.",
            ));
        }
        let remaining_split: [i64; 3] =
            std::array::from_fn(|index| order.paid_split[index] - order.refunded_split[index]);
        let remaining: i64 = remaining_split.iter().sum();
        let amount = refund.amount.amount().minor_units();
        let Some(returned) = split_proportionally(amount, remaining_split) else {
            let remaining = Amount::from_minor_units(remaining).unwrap_or(Amount::ZERO);
            return Ok(Outcome::rejected(
                "refund_exceeds_paid",
                format!("At most {} of this order can still be refunded.", self.format(remaining)),
            ));
        };
        let customer_id = order.customer_id;
        let transfers = wallet_transfers(customer_id, returned, Direction::FromService)?;
        let entry = NewEntry {
            code: EntryCode::Refund,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(order.merchant_id),
                terminal_id: Some(refund.terminal_id),
                order_id: Some(order.order_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(Account::Service) => return Err(Deferred::ServiceInsufficient),
            Err(account) => return guard_tripped(account),
        };
        self.posted_for_settlement.push((
            order.merchant_id,
            command.recorded_at_ms,
            (Some(refund.terminal_id), UnsettledEntry::Refund { sequence: entry_sequence, amount }),
        ));
        let refunded_split: [i64; 3] =
            std::array::from_fn(|index| order.refunded_split[index] + returned[index]);
        let refunded_total: i64 = refunded_split.iter().sum();
        if let Some(stored) = self.state.orders.get_mut(&order_key) {
            stored.refunded_split = refunded_split;
        }
        self.refunded_order_ids.insert(order_key);
        Ok(Outcome::Refunded {
            entry_sequence,
            order_id: order.order_id,
            amount: refund.amount.amount(),
            refunded_total: Amount::from_minor_units(refunded_total)
                .map_err(|error| Deferred::Overflow(error.to_string()))?,
            wallet_balance: self.wallet_balance(customer_id),
        })
    }

    fn reverse_top_up(
        &mut self,
        reversal: &ReverseTopUp,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        // Only the counter that recorded the top-up reverses it: entry ids are per counter.
        let top_up_key = (reversal.terminal_id, reversal.top_up);
        let Some(top_up) = self.state.top_ups.get(&top_up_key).cloned() else {
            return Ok(Outcome::rejected("top_up_not_found", "No applied top-up has this number."));
        };
        if top_up.merchant_id != reversal.merchant_id {
            return Ok(Outcome::rejected(
                "top_up_of_another_merchant",
                "This top-up was taken at another store.",
            ));
        }
        let amount = reversal.amount.amount().minor_units();
        let remaining = top_up.amount - top_up.reversed_amount;
        if amount > remaining {
            return Ok(Outcome::rejected(
                "reversal_exceeds_top_up",
                format!(
                    "At most {} of this top-up can still be reversed.",
                    self.format(Amount::from_minor_units(remaining).unwrap_or(Amount::ZERO))
                ),
            ));
        }
        // Cumulative proportion, so reversing in parts claws back exactly the whole bonus.
        let reversed_after = top_up.reversed_amount + amount;
        let bonus_after = i64::try_from(
            i128::from(top_up.bonus) * i128::from(reversed_after) / i128::from(top_up.amount),
        )
        .map_err(|error| Deferred::Overflow(error.to_string()))?;
        let bonus = bonus_after - top_up.reversed_bonus;
        let customer_id = top_up.customer_id;
        let principal_held =
            self.balance(Account::Wallet(customer_id, Bucket::Principal)).minor_units();
        let bonus_held = self.balance(Account::Wallet(customer_id, Bucket::Bonus)).minor_units();
        if principal_held < amount || bonus_held < bonus {
            return Ok(Outcome::rejected(
                "wallet_insufficient",
                "The customer has already spent part of this top-up; it cannot be reversed in full now.",
            ));
        }
        if self.balance(Account::Drawer(top_up.merchant_id)).minor_units() < amount {
            return Ok(Outcome::rejected(
                "drawer_insufficient",
                "The cash of this top-up has left the drawer (its day is closed); the operator must handle this reversal.",
            ));
        }
        let mut transfers = vec![
            Transfer {
                from: Account::Wallet(customer_id, Bucket::Principal),
                to: Account::Reserve,
                amount: reversal.amount,
                code: TransferCode::Principal,
            },
            Transfer {
                from: Account::Drawer(top_up.merchant_id),
                to: Account::World,
                amount: reversal.amount,
                code: TransferCode::Cash,
            },
        ];
        if let Ok(bonus) = PositiveAmount::try_from(bonus) {
            transfers.push(Transfer {
                from: Account::Wallet(customer_id, Bucket::Bonus),
                to: Account::Reserve,
                amount: bonus,
                code: TransferCode::Bonus,
            });
        }
        let entry = NewEntry {
            code: EntryCode::TopUpReversal,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(top_up.merchant_id),
                terminal_id: Some(reversal.terminal_id),
                outbox_entry_id: Some(top_up.outbox_entry_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(account) => return guard_tripped(account),
        };
        self.posted_for_settlement.push((
            top_up.merchant_id,
            command.recorded_at_ms,
            (
                Some(reversal.terminal_id),
                UnsettledEntry::Reversal { sequence: entry_sequence, cash: amount, bonus },
            ),
        ));
        if let Some(stored) = self.state.top_ups.get_mut(&top_up_key) {
            stored.reversed_amount = reversed_after;
            stored.reversed_bonus = bonus_after;
        }
        Ok(Outcome::TopUpReversed {
            entry_sequence,
            customer_id,
            amount: reversal.amount.amount(),
            bonus_clawed_back: Amount::from_minor_units(bonus)
                .map_err(|error| Deferred::Overflow(error.to_string()))?,
            wallet_balance: self.wallet_balance(customer_id),
        })
    }

    fn close_day(
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
                "day_already_closed",
                format!("{day} is already closed."),
            ));
        }
        // What was unsettled at the batch's start, and what this batch posted before the
        // close; an entry an earlier close of this batch settled is not settled again.
        let posted_here =
            self.posted_for_settlement.iter().filter(|(merchant, recorded_at_ms, _)| {
                *merchant == merchant_id && *recorded_at_ms < day_end_ms
            });
        let entries: Vec<TerminalEntry> = unsettled
            .entries
            .iter()
            .copied()
            .chain(posted_here.map(|(_, _, entry)| *entry))
            .filter(|(_, entry)| !self.settled_in_batch.contains(&entry.sequence()))
            .collect();
        let (figures, by_terminal) = figures_by_terminal(&entries);
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
            figures: figures.clone(),
            by_terminal,
            settled_entries,
        });
        Ok(Outcome::DayClosed { entry_sequence, merchant_id, day: day.to_owned(), figures })
    }

    fn post_yield(
        &mut self,
        customer_id: CustomerId,
        amount: PositiveAmount,
        day: &str,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        if self.balance(Account::Reserve) < amount.amount() {
            self.refill_reserve(command.recorded_at_ms)?;
            if self.balance(Account::Reserve) < amount.amount() {
                return Err(Deferred::ReserveInsufficient { needed: self.format(amount.amount()) });
            }
        }
        let entry = NewEntry {
            code: EntryCode::Yield,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                customer_id: Some(customer_id),
                business_day: Some(day.to_owned()),
                ..EntryReferences::default()
            },
            transfers: vec![Transfer {
                from: Account::Reserve,
                to: Account::Wallet(customer_id, Bucket::Yield),
                amount,
                code: TransferCode::Yield,
            }],
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(account) => return guard_tripped(account),
        };
        self.monitor_reserve(command.recorded_at_ms)?;
        Ok(Outcome::YieldPosted { entry_sequence, customer_id, amount: amount.amount() })
    }

    /// After an operation that drew on the reserve: refill it once if it is under the
    /// threshold, or raise the alert when the service account cannot cover the refill.
    fn monitor_reserve(&mut self, recorded_at_ms: i64) -> Result<(), Deferred> {
        if self.balance(Account::Reserve) < self.policy.reserve_threshold {
            self.refill_reserve(recorded_at_ms)?;
        }
        Ok(())
    }

    fn refill_reserve(&mut self, recorded_at_ms: i64) -> Result<(), Deferred> {
        let Ok(refill) = PositiveAmount::new(self.policy.reserve_refill) else {
            return Ok(());
        };
        let entry = NewEntry {
            code: EntryCode::Refill,
            recorded_at_ms,
            references: EntryReferences::default(),
            transfers: vec![Transfer {
                from: Account::Service,
                to: Account::Reserve,
                amount: refill,
                code: TransferCode::Refill,
            }],
        };
        match self.post(entry)? {
            Ok(_) => self.clear_reserve_alert_if_recovered(),
            Err(_) => {
                let message = format!(
                    "reserve is {} (threshold {}) and the service account holds {}, less than \
                     the refill of {}: fund the reserve",
                    self.format(self.balance(Account::Reserve)),
                    self.format(self.policy.reserve_threshold),
                    self.format(self.balance(Account::Service)),
                    self.format(self.policy.reserve_refill),
                );
                tracing::error!(%message, "reserve monitor");
                self.writes.reserve_alert = AlertChange::Raised(message);
            }
        }
        Ok(())
    }

    fn clear_reserve_alert_if_recovered(&mut self) {
        if self.balance(Account::Reserve) >= self.policy.reserve_threshold {
            self.writes.reserve_alert = AlertChange::Cleared;
        }
    }
}

/// A guard tripped on an account that the operation's own checks had already covered: a
/// bug in this module. The command is refused and nothing is written for it; the writer
/// stays up for everyone else.
fn guard_tripped<T>(account: Account) -> Result<T, Deferred> {
    tracing::error!(%account, "ledger guard tripped after the operation's own checks");
    Err(Deferred::GuardTripped { account: account.to_string() })
}

enum Direction {
    ToService,
    FromService,
}

fn wallet_transfers(
    customer_id: CustomerId,
    split: [i64; 3],
    direction: Direction,
) -> Result<Vec<Transfer>, Deferred> {
    let mut transfers = Vec::with_capacity(3);
    for (bucket, minor_units) in Bucket::ALL.into_iter().zip(split) {
        if minor_units == 0 {
            continue;
        }
        let amount = PositiveAmount::try_from(minor_units)
            .map_err(|error| Deferred::Overflow(error.to_string()))?;
        let wallet = Account::Wallet(customer_id, bucket);
        let (from, to, code) = match direction {
            Direction::ToService => (wallet, Account::Service, TransferCode::Payment),
            Direction::FromService => (Account::Service, wallet, TransferCode::Refund),
        };
        transfers.push(Transfer { from, to, amount, code });
    }
    Ok(transfers)
}
