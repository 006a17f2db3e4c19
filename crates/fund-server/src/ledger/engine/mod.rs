//! The ledger's rules, applied to a batch of commands in memory.
//!
//! The store opens one write transaction per batch, loads what the batch needs (balances
//! of the accounts it touches, bindings, orders, idempotency records, the journal head)
//! into a [`BatchState`], runs [`Batch::apply`] for each command in order, and writes back
//! what the batch produced. Because everything is decided here against state read inside
//! that transaction, a guard such as "no account but world goes negative" holds at commit.
//! This module knows nothing of SQL or HTTP.
//!
//! One file per idea: `command.rs` (what is asked), `outcome.rs` (what is answered),
//! `state.rs` (what a batch reads and writes), and one file per operation deciding it:
//! `top_up.rs`, `reversal.rs`, `redemption.rs`, `payment.rs`, `refund.rs`, `settlement.rs` (the day's
//! close), `reserve.rs` (funding, yield postings, the monitor). This file holds the batch
//! itself: the idempotency check, posting an entry under the no-negative guard, and
//! handing over what to write.

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

mod command;
mod forfeiture;
mod outcome;
mod payment;
mod redemption;
mod refund;
mod reserve;
mod reversal;
mod settlement;
mod sim_bugs;
mod state;
mod top_up;

pub use command::*;
pub use outcome::*;
pub use settlement::*;
pub use sim_bugs::ServerSimBugs;
pub use state::*;
pub use top_up::OFFLINE_RULE_GRACE_MS;

pub struct Batch {
    /// The policy the writer was started with, its money limits those stored last.
    policy: LedgerPolicy,
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

impl Batch {
    pub fn new(policy: &LedgerPolicy, state: BatchState) -> Batch {
        let policy = match state.money_limits {
            Some(limits) => policy.with_limits(limits),
            None => policy.clone(),
        };
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
            CommandKind::DefundReserve { amount } => self.defund_reserve(*amount, command)?,
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
            CommandKind::Redeem(redemption) => self.redeem(redemption, command)?,
            CommandKind::ForfeitBonus { customer_id } => {
                self.forfeit_bonus(*customer_id, command)?
            }
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
        // `post` sets the balance of every account it marks changed.
        self.writes.balances = self
            .changed_accounts
            .iter()
            .filter_map(|account| Some((*account, *self.state.balances.get(account)?)))
            .collect();
        assert_eq!(self.writes.balances.len(), self.changed_accounts.len());
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

    /// The balance of a loaded account. The store loads every account a batch needs (at
    /// zero when it never moved), so one missing is a bug: the command is deferred with
    /// nothing written, never decided on a made-up zero.
    fn balance(&self, account: Account) -> Result<Amount, Deferred> {
        self.state.balances.get(&account).copied().ok_or_else(|| {
            tracing::error!(%account, "ledger: an account the batch did not load");
            Deferred::GuardTripped { account: account.to_string() }
        })
    }

    fn wallet_split(&self, customer_id: CustomerId) -> Result<[i64; 3], Deferred> {
        let [principal, bonus, earned] = Account::wallet_buckets(customer_id);
        Ok([
            self.balance(principal)?.minor_units(),
            self.balance(bonus)?.minor_units(),
            self.balance(earned)?.minor_units(),
        ])
    }

    fn wallet_balance(&self, customer_id: CustomerId) -> Result<Amount, Deferred> {
        let total: i64 = self.wallet_split(customer_id)?.iter().sum();
        Amount::from_minor_units(total).map_err(|error| Deferred::Overflow(error.to_string()))
    }

    fn format(&self, amount: Amount) -> String {
        format!("{} {}", amount.format(self.policy.currency), self.policy.currency)
    }

    /// Posts an entry if every account it leaves stays within its guard; otherwise posts
    /// nothing and says which account would go negative.
    fn post(&mut self, entry: NewEntry) -> Result<Result<i64, Account>, Deferred> {
        let mut after: HashMap<Account, Amount> = HashMap::new();
        for transfer in &entry.transfers {
            debug_assert_ne!(transfer.from, transfer.to, "a transfer moves between two accounts");
            let amount = transfer.amount.amount();
            let from = match after.get(&transfer.from) {
                Some(balance) => *balance,
                None => self.balance(transfer.from)?,
            };
            let to = match after.get(&transfer.to) {
                Some(balance) => *balance,
                None => self.balance(transfer.to)?,
            };
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
}

/// A guard tripped on an account that the operation's own checks had already covered: a
/// bug in this module. The command is refused and nothing is written for it; the writer
/// stays up for everyone else.
impl Batch {
    /// Posts an entry made at a store's counter (a top-up, reversal, payment or refund) and
    /// keeps it for a close later in the same batch; `settled` is its line in that close,
    /// made from the entry's sequence.
    fn post_at_counter(
        &mut self,
        entry: NewEntry,
        merchant_id: MerchantId,
        terminal_id: TerminalId,
        settled: impl FnOnce(i64) -> UnsettledEntry,
    ) -> Result<i64, Deferred> {
        let recorded_at_ms = entry.recorded_at_ms;
        let sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(account) => return guard_tripped(account),
        };
        self.posted_for_settlement.push((
            merchant_id,
            recorded_at_ms,
            (Some(terminal_id), settled(sequence)),
        ));
        Ok(sequence)
    }
}

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
