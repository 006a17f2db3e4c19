//! The double-entry ledger: accounts, journal entries chained by hash, and the rules that
//! decide each money operation. Pure domain: the store loads and writes, this decides.

pub mod account;
pub mod audit;
pub mod engine;
pub mod entry;
pub mod split;
pub mod yield_math;

pub use account::{Account, Bucket};
pub use engine::{
    AlertChange, AppliedTopUp, Batch, BatchNeeds, BatchState, BatchWrites, CashTopUp, ClosedDay,
    Command, CommandKind, Decided, Deferred, IdempotencyKey, LedgerPolicy, MoneyLimits, OrderKey,
    Outcome, PaidOrder, Payment, Redemption, Refund, RejectCode, ReverseTopUp, RuleSetRecord,
    ServerSimBugs, SettlementFigures, StoredOutcome, TerminalEntry, TopUpKey, UnsettledDay,
    UnsettledEntry, figures_by_terminal,
};
pub use entry::{
    EntryCode, EntryHash, EntryReferences, JournalEntry, NewEntry, Transfer, TransferCode,
};
