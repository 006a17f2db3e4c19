//! The storage boundary: what the service and the ledger writer need from a database, as
//! traits, and the SQLite implementation behind them (`sqlite/`). This is the only module
//! that knows SQL. A second backend implements the same traits and proves itself by
//! passing the same conformance suite (`tests/storage_conformance.rs`).
//!
//! The traits follow the service's needs, one area each: parties (merchants, customers,
//! bindings, sessions, PIN attempts), terminals (enrolment, keys, request nonces), the
//! ledger (a batch's load and write, balances, bonus rules, paid orders), yield, and the
//! reports (a merchant's day, a wallet's history, the audit's reads). `Storage` is all of
//! them with the life cycle of the database.
//!
//! Every method returns a `Send` future, so the service can hold any `Storage` behind the
//! HTTP server's tasks. Money moves only through a [`BatchTransaction`]: the ledger writer
//! opens one, loads what its commands need, lets the engine decide, writes what the engine
//! produced and commits; the store never calls the engine.

use std::collections::HashMap;
use std::future::Future;

use rust_decimal::Decimal;
use tillfund_core::bonus::{BonusRule, BonusRuleSet};
use tillfund_core::{Amount, CustomerId, MemberCode, MerchantId, OrderId, PhoneNumber, TerminalId};

use crate::ledger::audit::{
    AuditCheckpoint, BalanceDrift, NextCheckpoint, ReferencesToRecall, SettlementCheck,
};
use crate::ledger::{
    Account, BatchNeeds, BatchState, BatchWrites, JournalEntry, PaidOrder, SettlementFigures,
};
use crate::model::{Clock, Customer, Merchant, Terminal};

mod backend;
pub mod cash_count_store;
pub mod cashier_store;
mod copy;
pub(crate) mod day_entries;
pub(crate) mod flows;
pub mod limit_store;
mod operator_store;
pub mod postgres;
mod proposal_store;
mod records;
pub mod redemption_code_store;
pub mod sqlite;
mod sqlx_error;
pub mod staff_store;
mod terminal_directory;
mod yield_pages;

pub use postgres::PgStore;
pub use records::{
    BindOutcome, BindingChange, EnrolOutcome, PinAttempt, PostingDue, PostingsDue, RegisterOutcome,
    RegistrationKey, StoreError, StoredDay, WalletAccrual, WalletEntry, YieldDay,
};
pub use sqlite::SqliteStore;
pub use yield_pages::AccruedDay;

pub use backend::{Backend, BackendAudit, BackendBatch};
pub use cash_count_store::{CashCountStore, StoredCashCount};
pub use cashier_store::{CashierDay, CashierKind, CashierRecord, CashierStore};
pub use copy::{CopyReport, copy_sqlite_to_postgres};
pub use flows::{FlowStore, Flows, TransferTotal};
pub use limit_store::{LimitStore, StoredLimits};
pub use operator_store::{OperatorRecord, OperatorStore, SessionLimits, TrailQuery};
pub use proposal_store::{Decision, ProposalRecord, ProposalStore};
pub use redemption_code_store::{
    IssueOutcome, RedemptionCodeRecord, RedemptionCodeStore, StoredRedemptionCode,
};
pub use staff_store::{PutStaffOutcome, StaffRecord, StaffStore, StoredStaff};
pub use terminal_directory::{ActivationCodeRecord, TerminalDirectory, TerminalSummary};

/// Asked at every commit of the ledger (SQLite: every commit of the ledger database;
/// PostgreSQL: every batch of the ledger writer); `false` rolls the commit back and fails
/// it, as a server that died at that moment would. The simulator's crashes; never set in a
/// server.
pub type CommitGate = std::sync::Arc<dyn Fn() -> bool + Send + Sync>;

/// The backend the server runs on: SQLite or PostgreSQL, picked by the database URL.
pub type ServerStore = Backend;

/// Secrets given out once (activation codes, session tokens) are stored only as hashes.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).to_vec()
}

/// A database URL fit for a message or a log line: the password replaced by `***` and the
/// query (which may carry one) cut off. The user name and the host stay: they say which
/// database is meant.
pub fn redacted_url(database_url: &str) -> String {
    let (url, query) = match database_url.split_once('?') {
        Some((url, _)) => (url, "?…"),
        None => (database_url, ""),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("{url}{query}");
    };
    // The last '@' ends the credentials: a password may hold '@' itself.
    match rest.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{query}"),
            None => format!("{scheme}://{credentials}@{host}{query}"),
        },
        None => format!("{url}{query}"),
    }
}

#[cfg(test)]
mod redacted_url_tests {
    use super::redacted_url;

    #[test]
    fn passwords_and_queries_never_reach_a_message() {
        let cases = [
            ("postgres://app:s3cret@db:5432/tillfund", "postgres://app:***@db:5432/tillfund"),
            ("postgres://app:p@ss@word@db/tillfund", "postgres://app:***@db/tillfund"),
            ("postgres://app@db/tillfund?password=s3cret", "postgres://app@db/tillfund?…"),
            ("postgress://app:s3cret@db/x", "postgress://app:***@db/x"),
            ("sqlite:///var/lib/tillfund/fund.sqlite", "sqlite:///var/lib/tillfund/fund.sqlite"),
        ];
        for (url, shown) in cases {
            assert_eq!(redacted_url(url), shown);
            assert!(!redacted_url(url).contains("s3cret") && !redacted_url(url).contains("word"));
        }
    }
}

/// The traits without their names, for code that calls a store directly (tools, tests):
/// `use fund_server::store::prelude::*;`.
pub mod prelude {
    pub use super::{
        AttemptStore as _, AuditRead as _, BatchTransaction as _, CashCountStore as _,
        CashierStore as _, FlowStore as _, LedgerStore as _, LimitStore as _, OperatorStore as _,
        PartyStore as _, ProposalStore as _, RedemptionCodeStore as _, ReportStore as _,
        StaffStore as _, Storage as _, TerminalDirectory as _, TerminalStore as _, YieldStore as _,
    };
}

/// A published bonus rule set, as the rules screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetVersion {
    pub version: u32,
    pub published_at_ms: i64,
    /// When the next version replaced it; `None` for the one in force.
    pub superseded_at_ms: Option<i64>,
    pub rules: usize,
}

/// Result of a storage call.
pub type Stored<T> = Result<T, StoreError>;

/// Everything the server needs of its database.
pub trait Storage:
    PartyStore
    + TerminalStore
    + AttemptStore
    + LedgerStore
    + YieldStore
    + ReportStore
    + OperatorStore
    + ProposalStore
    + LimitStore
    + CashCountStore
    + CashierStore
    + RedemptionCodeStore
    + StaffStore
    + TerminalDirectory
    + FlowStore
    + Clone
    + Send
    + Sync
    + 'static
{
    /// The clock every timestamp of this store and its callers comes from.
    fn clock(&self) -> &Clock;
    /// Brings the schema up to date; running it again changes nothing.
    fn migrate(&self) -> impl Future<Output = Stored<()>> + Send;
    /// Answers whether the database responds at all.
    fn ping(&self) -> impl Future<Output = Stored<()>> + Send;
    /// Makes what was written durable in the main data files (SQLite: a WAL checkpoint).
    fn checkpoint(&self) -> impl Future<Output = Stored<()>> + Send;
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// Merchants, customers, bindings, sessions and PIN attempts.
pub trait PartyStore {
    fn add_merchant(
        &self,
        merchant: &Merchant,
        now_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;
    fn merchant(
        &self,
        merchant_id: MerchantId,
    ) -> impl Future<Output = Stored<Option<Merchant>>> + Send;
    /// Writes a merchant's name, time zone and settlement account; false when there is no
    /// such merchant.
    fn update_merchant(&self, merchant: &Merchant) -> impl Future<Output = Stored<bool>> + Send;
    /// Merchants by name, at most `limit`.
    fn list_merchants(&self, limit: u32) -> impl Future<Output = Stored<Vec<Merchant>>> + Send;
    /// Registers a customer bound to the given merchants, all at once. The member code is
    /// drawn by `member_code`, drawn again on the rare collision. A registration key seen
    /// before answers `Replayed` (same fingerprint) or `KeyReused` and writes nothing.
    fn register_customer(
        &self,
        customer: &Customer,
        merchant_ids: &[MerchantId],
        member_code: impl FnMut() -> MemberCode + Send,
        idempotency: Option<&RegistrationKey>,
        now_ms: i64,
    ) -> impl Future<Output = Stored<RegisterOutcome>> + Send;
    fn customer(
        &self,
        customer_id: CustomerId,
    ) -> impl Future<Output = Stored<Option<Customer>>> + Send;
    fn customer_by_phone(
        &self,
        phone: &PhoneNumber,
    ) -> impl Future<Output = Stored<Option<Customer>>> + Send;
    /// Customers whose phone or member code is `exact`, or whose name contains `name_part`
    /// (case as stored), by name, at most `limit`: the operators' search.
    fn find_customers(
        &self,
        exact: &str,
        name_part: &str,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<Customer>>> + Send;
    /// Until when wrong PINs keep the wallet locked, if they lock it (the lock may have run
    /// out by now).
    fn pin_locked_until(
        &self,
        customer_id: CustomerId,
    ) -> impl Future<Output = Stored<Option<i64>>> + Send;
    /// Takes one PIN attempt before the PIN is checked, atomically, so that every request
    /// and every process agrees: an attempt counts as wrong until it proves right, the
    /// `limit`-th in a row locks the wallet until `lock_until_ms`, and no attempt is taken
    /// while it is locked. A lock that has run out starts the count again.
    fn take_pin_attempt(
        &self,
        customer_id: CustomerId,
        limit: i64,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> impl Future<Output = Stored<PinAttempt>> + Send;
    /// A right PIN starts the count again.
    fn reset_pin_failures(
        &self,
        customer_id: CustomerId,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// Binds or unbinds; a change is recorded for the merchant's counters to pull.
    fn set_binding(
        &self,
        customer_id: CustomerId,
        merchant_id: MerchantId,
        bound: bool,
        now_ms: i64,
    ) -> impl Future<Output = Stored<BindOutcome>> + Send;
    fn bound_merchants(
        &self,
        customer_id: CustomerId,
    ) -> impl Future<Output = Stored<Vec<Merchant>>> + Send;
    /// Binds and unbinds at a merchant after `after_sequence`, oldest first, at most `limit`.
    fn binding_changes(
        &self,
        merchant_id: MerchantId,
        after_sequence: i64,
        limit: i64,
    ) -> impl Future<Output = Stored<Vec<BindingChange>>> + Send;
    /// Stores a session under the hash of `token`.
    fn add_session(
        &self,
        token: &str,
        customer_id: CustomerId,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// The customer a live session token belongs to.
    fn session_customer(
        &self,
        token: &str,
        now_ms: i64,
    ) -> impl Future<Output = Stored<Option<CustomerId>>> + Send;
    /// Ends a session (sign-out): the token stops working at once.
    fn end_session(&self, token: &str) -> impl Future<Output = Stored<()>> + Send;
    /// Deletes at most `limit` sessions expired at `now_ms`; returns how many. Safe to run
    /// from every process at once: each deletes what is left.
    fn purge_expired_sessions(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> impl Future<Output = Stored<u64>> + Send;
}

/// Counters: activation codes, enrolment, sealed keys, request nonces, revocation.
pub trait TerminalStore {
    /// Stores a new activation code (only its hash); false when the merchant is unknown.
    fn add_activation_code(
        &self,
        merchant_id: MerchantId,
        code: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> impl Future<Output = Stored<bool>> + Send;
    /// Uses an activation code once: creates the terminal `new_terminal` makes for the
    /// code's merchant and remembers the counter's public key. The same public key asking
    /// again while the code is valid gets the same terminal back; anything else with a used
    /// code is `CodeUsed`.
    fn enrol_terminal(
        &self,
        code: &str,
        counter_public_key: &str,
        replaces: Option<TerminalId>,
        new_terminal: impl FnOnce(MerchantId, String) -> Terminal + Send,
        now_ms: i64,
    ) -> impl Future<Output = Stored<EnrolOutcome>> + Send;
    /// Adds an enrolled terminal directly (the demo seed and benchmarks).
    fn add_terminal(
        &self,
        terminal: &Terminal,
        now_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// Every terminal's stored key, for sealing keys stored before they were sealed.
    fn terminal_secrets(&self) -> impl Future<Output = Stored<Vec<(TerminalId, String)>>> + Send;
    fn replace_terminal_secret(
        &self,
        terminal_id: TerminalId,
        secret: &str,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// Accepts a signed request's nonce once: false when this terminal used it already.
    /// With `purge_before_ms`, nonces that expired before it are forgotten too.
    fn use_request_nonce(
        &self,
        terminal_id: TerminalId,
        nonce: &str,
        expires_at_ms: i64,
        purge_before_ms: Option<i64>,
    ) -> impl Future<Output = Stored<bool>> + Send;
    fn terminal(
        &self,
        terminal_id: TerminalId,
    ) -> impl Future<Output = Stored<Option<Terminal>>> + Send;
    /// False when there is no such terminal.
    fn revoke_terminal(
        &self,
        terminal_id: TerminalId,
        now_ms: i64,
    ) -> impl Future<Output = Stored<bool>> + Send;
}

/// Attempts counted per key in fixed windows, in the database so that every process of a
/// deployment counts into the same windows: the rate limits. `key` is a 32-byte hash the
/// caller makes of the limit and what it limits; the store never sees the value itself.
pub trait AttemptStore {
    /// Counts one attempt under `key` and answers how many its window now holds. A window
    /// that began `window_ms` or more before `now_ms` (or none at all) starts again at one,
    /// as does one begun more than `window_ms` after it (a clock set back); one begun a
    /// little after it (a request that read the clock first but came second) counts.
    /// Atomic: attempts made at once, by any process, are all counted. With
    /// `purge_before_ms`, windows that began before it are forgotten too.
    fn count_attempt(
        &self,
        key: &[u8; 32],
        now_ms: i64,
        window_ms: i64,
        purge_before_ms: Option<i64>,
    ) -> impl Future<Output = Stored<u64>> + Send;
    /// How many attempts `key`'s window holds at `now_ms`, counting none.
    fn attempts_in_window(
        &self,
        key: &[u8; 32],
        now_ms: i64,
        window_ms: i64,
    ) -> impl Future<Output = Stored<u64>> + Send;
}

/// One batch's write transaction: what `load` read cannot change before `commit` (the
/// implementation holds the locks that guarantee it). Dropped without `commit`, nothing of
/// the batch is written.
pub trait BatchTransaction: Send {
    /// Everything `needs` names, as it is now (see `BatchState`).
    fn load(&mut self, needs: &BatchNeeds) -> impl Future<Output = Stored<BatchState>> + Send;
    fn write(&mut self, writes: &BatchWrites) -> impl Future<Output = Stored<()>> + Send;
    fn commit(self) -> impl Future<Output = Stored<()>> + Send;
}

/// The ledger's storage: batches of commands, balances, bonus rules, paid orders.
pub trait LedgerStore {
    type Batch: BatchTransaction;
    /// Opens the write transaction of one batch of commands.
    fn begin_batch(&self) -> impl Future<Output = Stored<Self::Batch>> + Send;
    /// An account's balance; zero for an account that never moved.
    fn balance(&self, account: Account) -> impl Future<Output = Stored<Amount>> + Send;
    /// Every stored balance, by account.
    fn all_balances(&self) -> impl Future<Output = Stored<Vec<(Account, Amount)>>> + Send;
    /// The open reserve alert, if any.
    fn reserve_alert(&self) -> impl Future<Output = Stored<Option<String>>> + Send;
    /// The bonus rule set in force (version 0, no rules, before any is published).
    fn current_bonus_rules(&self) -> impl Future<Output = Stored<BonusRuleSet>> + Send;
    /// Publishes a new bonus rule set, superseding the current one.
    fn publish_bonus_rules(
        &self,
        rules: Vec<BonusRule>,
    ) -> impl Future<Output = Stored<BonusRuleSet>> + Send;
    /// The published bonus rule sets, newest first, at most `limit`.
    fn bonus_rule_versions(
        &self,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<RuleSetVersion>>> + Send;
    /// Who paid a counter's order, if anyone has.
    fn order_payer(
        &self,
        terminal_id: TerminalId,
        order_id: OrderId,
    ) -> impl Future<Output = Stored<Option<CustomerId>>> + Send;
    /// Orders paid at a merchant after journal entry `after_entry`, oldest first.
    fn paid_orders_after(
        &self,
        merchant_id: MerchantId,
        after_entry: i64,
        limit: i64,
    ) -> impl Future<Output = Stored<Vec<PaidOrder>>> + Send;
    /// How many journal entries there are of each code.
    fn entry_counts(&self) -> impl Future<Output = Stored<HashMap<String, i64>>> + Send;
    /// Runs for as long as the process: bumps `commits` each time another process sharing
    /// the database commits a batch, so long polls held here hear of payments made there.
    /// A backend with one process per database never returns and never bumps.
    fn follow_commits(
        &self,
        commits: tokio::sync::watch::Sender<u64>,
    ) -> impl Future<Output = ()> + Send;
}

/// Yield: the rate schedule, daily accruals and their posting.
pub trait YieldStore {
    /// Sets the annual rate from a day on (replacing a rate set for the same day).
    fn set_yield_rate(
        &self,
        effective_from: &str,
        annual_rate: Decimal,
        now_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// The schedule, oldest first.
    fn yield_rates(&self) -> impl Future<Output = Stored<Vec<(String, Decimal)>>> + Send;
    fn last_accrued_day(&self) -> impl Future<Output = Stored<Option<String>>> + Send;
    /// Days accrued but whose posting has not finished.
    fn unposted_days(&self) -> impl Future<Output = Stored<Vec<String>>> + Send;
    /// When the first journal entry was applied; `None` for an empty journal.
    fn first_applied_at_ms(&self) -> impl Future<Output = Stored<Option<i64>>> + Send;
    /// The last journal entry applied before `end_ms` (0 when none was).
    fn sequence_before(&self, end_ms: i64) -> impl Future<Output = Stored<i64>> + Send;
    /// Accrues one day for every wallet, once: `None` (and nothing written) when the day
    /// was accrued already. Each wallet's balance is taken as it was right after entry
    /// `through_sequence`; `accrue` turns it into the day's accrual (`None`: nothing that
    /// day). Wallets are read and written a page at a time, so memory stays bounded by the
    /// page and by what moved since `through_sequence`, however many wallets there are;
    /// the day, its accruals and the running totals commit together.
    fn record_accrual_day(
        &self,
        day: &str,
        through_sequence: i64,
        annual_rate: Decimal,
        accrue: impl FnMut(i64) -> Option<Decimal> + Send,
        now_ms: i64,
    ) -> impl Future<Output = Stored<Option<AccruedDay>>> + Send;
    /// Wallets with at least one whole minor unit accrued and not posted, among at most
    /// `limit` running totals after `after` in customer id order.
    fn yield_postings_due(
        &self,
        after: Option<CustomerId>,
        limit: u32,
    ) -> impl Future<Output = Stored<PostingsDue>> + Send;
    /// Records postings the ledger applied: `posted` rises to the floor it paid up to.
    fn record_yield_posted(
        &self,
        posted: &[(CustomerId, i64)],
    ) -> impl Future<Output = Stored<()>> + Send;
    fn mark_yield_day_posted(
        &self,
        day: &str,
        now_ms: i64,
    ) -> impl Future<Output = Stored<()>> + Send;
    /// A wallet's most recent accrual days, oldest first, at most `days`.
    fn yield_days(
        &self,
        customer_id: CustomerId,
        days: u32,
    ) -> impl Future<Output = Stored<Vec<YieldDay>>> + Send;
}

/// One consistent view of the ledger for the audit: every read sees the same instant.
pub trait AuditRead: Send {
    /// Entries after `after_sequence`, at most `limit`, with their transfers, in order. A
    /// row that does not read back is `StoreError::Corrupt`.
    fn journal_after(
        &mut self,
        after_sequence: i64,
        limit: i64,
    ) -> impl Future<Output = Stored<Vec<JournalEntry>>> + Send;
    /// Every entry up to `up_to_sequence` carrying one of the named top-up or order ids,
    /// with its transfers, in order (found by index, for the incremental audit).
    fn entries_carrying(
        &mut self,
        up_to_sequence: i64,
        ids: &ReferencesToRecall,
    ) -> impl Future<Output = Stored<Vec<JournalEntry>>> + Send;
    /// The closed days whose entry comes after `after_sequence`, and every close that had
    /// nothing to move (no entry), each with what its entries and its journal entry add
    /// up to. `0` is every closed day.
    fn settlement_checks(
        &mut self,
        after_sequence: i64,
    ) -> impl Future<Output = Stored<Vec<SettlementCheck>>> + Send;
    /// Every stored balance; a row that does not read back is its key in `Err`.
    fn balances(
        &mut self,
    ) -> impl Future<Output = Stored<Vec<Result<(Account, Amount), String>>>> + Send;
    /// Where the last passing audit stopped, if one did.
    fn checkpoint(&mut self) -> impl Future<Output = Stored<Option<AuditCheckpoint>>> + Send;
    /// The balances kept at the checkpoint of those of `accounts` it holds.
    fn checkpoint_balances(
        &mut self,
        accounts: &[Account],
    ) -> impl Future<Output = Stored<Vec<(Account, i64)>>> + Send;
    /// Every stored balance that differs from the one kept at the checkpoint, and every
    /// account only one of the two holds.
    fn balance_drift(&mut self) -> impl Future<Output = Stored<Vec<BalanceDrift>>> + Send;
    fn account_count(&mut self) -> impl Future<Output = Stored<u64>> + Send;
}

/// Reads for people: a merchant's day, a wallet's history, the audit's view.
pub trait ReportStore {
    type Audit: AuditRead;
    /// A merchant's day: closed, or the entries a close ending at `day_end_ms` would settle.
    fn stored_day(
        &self,
        merchant_id: MerchantId,
        day: &str,
        day_end_ms: i64,
    ) -> impl Future<Output = Stored<StoredDay>> + Send;
    /// The figures of one counter's entries recorded in `[start_ms, end_ms)`, settled by
    /// any close or by none: what that counter's own records of the day add up to.
    fn terminal_day(
        &self,
        merchant_id: MerchantId,
        terminal_id: TerminalId,
        start_ms: i64,
        end_ms: i64,
    ) -> impl Future<Output = Stored<SettlementFigures>> + Send;
    /// A wallet's latest journal entries, newest first, at most `limit`.
    fn wallet_history(
        &self,
        customer_id: CustomerId,
        limit: u32,
    ) -> impl Future<Output = Stored<Vec<WalletEntry>>> + Send;
    /// Opens the audit's consistent view.
    fn begin_audit(&self) -> impl Future<Output = Stored<Self::Audit>> + Send;
    /// Drops the checkpoint and its balances: after a failed full audit, the next audit
    /// replays everything again.
    fn forget_audit_checkpoint(&self) -> impl Future<Output = Stored<()>> + Send;
    /// Keeps a passing audit's checkpoint and balances, if the checkpoint is still the one
    /// it resumed after (`None`: none, or a full audit, which replaces any older one).
    /// False when a concurrent audit moved it first; nothing is written then.
    fn save_audit_checkpoint(
        &self,
        resumed_after: Option<i64>,
        next: &NextCheckpoint,
    ) -> impl Future<Output = Stored<bool>> + Send;
}
