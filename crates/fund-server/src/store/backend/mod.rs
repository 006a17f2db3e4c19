//! The backend a server runs on, chosen by its database URL at start: SQLite (the
//! embedded default) or PostgreSQL (several processes on one database). Every trait call
//! goes to the chosen one; this file holds no storage logic, only the choice.

use std::collections::HashMap;

use rust_decimal::Decimal;
use tillfund_core::bonus::{BonusRule, BonusRuleSet};
use tillfund_core::{Amount, CustomerId, MemberCode, MerchantId, OrderId, PhoneNumber, TerminalId};

use super::postgres::{PgAuditRead, PgBatch};
use super::sqlite::{SqliteAuditRead, SqliteBatch};
use super::*;
use crate::ledger::audit::{
    AuditCheckpoint, BalanceDrift, NextCheckpoint, ReferencesToRecall, SettlementCheck,
};
use crate::ledger::{
    Account, BatchNeeds, BatchState, BatchWrites, JournalEntry, PaidOrder, SettlementFigures,
};
use crate::model::{Clock, Customer, Merchant, Terminal};

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Backend {
    /// Connects to `sqlite://PATH` or `postgres://…`.
    pub async fn connect(database_url: &str) -> Stored<Backend> {
        if PgStore::accepts(database_url) {
            return Ok(Backend::Postgres(PgStore::connect(database_url).await?));
        }
        Ok(Backend::Sqlite(SqliteStore::connect(database_url).await?))
    }

    /// The same store reading time from `clock` (the simulator's, or a test's).
    pub fn with_clock(self, clock: crate::model::Clock) -> Backend {
        match self {
            Backend::Sqlite(store) => Backend::Sqlite(store.with_clock(clock)),
            Backend::Postgres(store) => Backend::Postgres(store.with_clock(clock)),
        }
    }

    /// The backend's name, for the log and the health report.
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Runs `$body` with `$store` bound to what the chosen backend holds (`Backend` by
/// default, or the enum named first).
macro_rules! each {
    ($self:ident, $store:ident => $body:expr) => {
        each!(Backend, $self, $store => $body)
    };
    ($enum:ident, $self:ident, $store:ident => $body:expr) => {
        match $self {
            $enum::Sqlite($store) => $body,
            $enum::Postgres($store) => $body,
        }
    };
}

// After `each!`, which it uses.
mod operators;

/// A batch on the chosen backend.
pub enum BackendBatch {
    Sqlite(SqliteBatch),
    Postgres(PgBatch),
}

impl BatchTransaction for BackendBatch {
    async fn load(&mut self, needs: &BatchNeeds) -> Stored<BatchState> {
        each!(BackendBatch, self, batch => batch.load(needs).await)
    }

    async fn write(&mut self, writes: &BatchWrites) -> Stored<()> {
        each!(BackendBatch, self, batch => batch.write(writes).await)
    }

    async fn commit(self) -> Stored<()> {
        each!(BackendBatch, self, batch => batch.commit().await)
    }
}

/// The audit's view on the chosen backend.
pub enum BackendAudit {
    Sqlite(SqliteAuditRead),
    Postgres(PgAuditRead),
}

impl AuditRead for BackendAudit {
    async fn journal_after(
        &mut self,
        after_sequence: i64,
        limit: i64,
    ) -> Stored<Vec<JournalEntry>> {
        each!(BackendAudit, self, view => view.journal_after(after_sequence, limit).await)
    }

    async fn entries_carrying(
        &mut self,
        up_to_sequence: i64,
        ids: &ReferencesToRecall,
    ) -> Stored<Vec<JournalEntry>> {
        each!(BackendAudit, self, view => view.entries_carrying(up_to_sequence, ids).await)
    }

    async fn settlement_checks(&mut self, after_sequence: i64) -> Stored<Vec<SettlementCheck>> {
        each!(BackendAudit, self, view => view.settlement_checks(after_sequence).await)
    }

    async fn balances(&mut self) -> Stored<Vec<Result<(Account, Amount), String>>> {
        each!(BackendAudit, self, view => view.balances().await)
    }

    async fn checkpoint(&mut self) -> Stored<Option<AuditCheckpoint>> {
        each!(BackendAudit, self, view => view.checkpoint().await)
    }

    async fn checkpoint_balances(&mut self, accounts: &[Account]) -> Stored<Vec<(Account, i64)>> {
        each!(BackendAudit, self, view => view.checkpoint_balances(accounts).await)
    }

    async fn balance_drift(&mut self) -> Stored<Vec<BalanceDrift>> {
        each!(BackendAudit, self, view => view.balance_drift().await)
    }

    async fn account_count(&mut self) -> Stored<u64> {
        each!(BackendAudit, self, view => view.account_count().await)
    }
}

impl Storage for Backend {
    fn clock(&self) -> &Clock {
        each!(self, store => store.clock())
    }

    async fn migrate(&self) -> Stored<()> {
        each!(self, store => store.migrate().await)
    }

    async fn close(&self) {
        each!(self, store => store.close().await)
    }

    async fn ping(&self) -> Stored<()> {
        each!(self, store => store.ping().await)
    }

    async fn checkpoint(&self) -> Stored<()> {
        each!(self, store => store.checkpoint().await)
    }
}

impl PartyStore for Backend {
    async fn register_customer(
        &self,
        customer: &Customer,
        merchant_ids: &[MerchantId],
        member_code: impl FnMut() -> MemberCode + Send,
        idempotency: Option<&RegistrationKey>,
        now_ms: i64,
    ) -> Stored<RegisterOutcome> {
        each!(self, store => {
            store.register_customer(customer, merchant_ids, member_code, idempotency, now_ms).await
        })
    }

    async fn add_merchant(&self, merchant: &Merchant, now_ms: i64) -> Stored<()> {
        each!(self, store => store.add_merchant(merchant, now_ms).await)
    }

    async fn merchant(&self, merchant_id: MerchantId) -> Stored<Option<Merchant>> {
        each!(self, store => store.merchant(merchant_id).await)
    }

    async fn update_merchant(&self, merchant: &Merchant) -> Stored<bool> {
        each!(self, store => store.update_merchant(merchant).await)
    }

    async fn list_merchants(&self, limit: u32) -> Stored<Vec<Merchant>> {
        each!(self, store => store.list_merchants(limit).await)
    }

    async fn customer(&self, customer_id: CustomerId) -> Stored<Option<Customer>> {
        each!(self, store => store.customer(customer_id).await)
    }

    async fn customer_by_phone(&self, phone: &PhoneNumber) -> Stored<Option<Customer>> {
        each!(self, store => store.customer_by_phone(phone).await)
    }

    async fn find_customers(
        &self,
        exact: &str,
        name_part: &str,
        limit: u32,
    ) -> Stored<Vec<Customer>> {
        each!(self, store => store.find_customers(exact, name_part, limit).await)
    }

    async fn pin_locked_until(&self, customer_id: CustomerId) -> Stored<Option<i64>> {
        each!(self, store => store.pin_locked_until(customer_id).await)
    }

    async fn take_pin_attempt(
        &self,
        customer_id: CustomerId,
        limit: i64,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> Stored<PinAttempt> {
        each!(self, store => store.take_pin_attempt(customer_id, limit, now_ms, lock_until_ms).await)
    }

    async fn reset_pin_failures(&self, customer_id: CustomerId) -> Stored<()> {
        each!(self, store => store.reset_pin_failures(customer_id).await)
    }

    async fn set_binding(
        &self,
        customer_id: CustomerId,
        merchant_id: MerchantId,
        bound: bool,
        now_ms: i64,
    ) -> Stored<BindOutcome> {
        each!(self, store => store.set_binding(customer_id, merchant_id, bound, now_ms).await)
    }

    async fn bound_merchants(&self, customer_id: CustomerId) -> Stored<Vec<Merchant>> {
        each!(self, store => store.bound_merchants(customer_id).await)
    }

    async fn binding_changes(
        &self,
        merchant_id: MerchantId,
        after_sequence: i64,
        limit: i64,
    ) -> Stored<Vec<BindingChange>> {
        each!(self, store => store.binding_changes(merchant_id, after_sequence, limit).await)
    }

    async fn add_session(
        &self,
        token: &str,
        customer_id: CustomerId,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Stored<()> {
        each!(self, store => store.add_session(token, customer_id, now_ms, expires_at_ms).await)
    }

    async fn session_customer(&self, token: &str, now_ms: i64) -> Stored<Option<CustomerId>> {
        each!(self, store => store.session_customer(token, now_ms).await)
    }

    async fn end_session(&self, token: &str) -> Stored<()> {
        each!(self, store => store.end_session(token).await)
    }

    async fn purge_expired_sessions(&self, now_ms: i64, limit: i64) -> Stored<u64> {
        each!(self, store => store.purge_expired_sessions(now_ms, limit).await)
    }
}

impl TerminalStore for Backend {
    async fn enrol_terminal(
        &self,
        code: &str,
        counter_public_key: &str,
        replaces: Option<TerminalId>,
        new_terminal: impl FnOnce(MerchantId, String) -> Terminal + Send,
        now_ms: i64,
    ) -> Stored<EnrolOutcome> {
        each!(self, store => {
            store.enrol_terminal(code, counter_public_key, replaces, new_terminal, now_ms).await
        })
    }

    async fn add_activation_code(
        &self,
        merchant_id: MerchantId,
        code: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Stored<bool> {
        each!(self, store => store.add_activation_code(merchant_id, code, now_ms, expires_at_ms).await)
    }

    async fn add_terminal(&self, terminal: &Terminal, now_ms: i64) -> Stored<()> {
        each!(self, store => store.add_terminal(terminal, now_ms).await)
    }

    async fn terminal_secrets(&self) -> Stored<Vec<(TerminalId, String)>> {
        each!(self, store => store.terminal_secrets().await)
    }

    async fn replace_terminal_secret(&self, terminal_id: TerminalId, secret: &str) -> Stored<()> {
        each!(self, store => store.replace_terminal_secret(terminal_id, secret).await)
    }

    async fn use_request_nonce(
        &self,
        terminal_id: TerminalId,
        nonce: &str,
        expires_at_ms: i64,
        purge_before_ms: Option<i64>,
    ) -> Stored<bool> {
        each!(self, store => store.use_request_nonce(terminal_id, nonce, expires_at_ms, purge_before_ms).await)
    }

    async fn terminal(&self, terminal_id: TerminalId) -> Stored<Option<Terminal>> {
        each!(self, store => store.terminal(terminal_id).await)
    }

    async fn revoke_terminal(&self, terminal_id: TerminalId, now_ms: i64) -> Stored<bool> {
        each!(self, store => store.revoke_terminal(terminal_id, now_ms).await)
    }
}

impl AttemptStore for Backend {
    async fn count_attempt(
        &self,
        key: &[u8; 32],
        now_ms: i64,
        window_ms: i64,
        purge_before_ms: Option<i64>,
    ) -> Stored<u64> {
        each!(self, store => store.count_attempt(key, now_ms, window_ms, purge_before_ms).await)
    }

    async fn attempts_in_window(&self, key: &[u8; 32], now_ms: i64, window_ms: i64) -> Stored<u64> {
        each!(self, store => store.attempts_in_window(key, now_ms, window_ms).await)
    }
}

impl LedgerStore for Backend {
    type Batch = BackendBatch;

    async fn follow_commits(&self, commits: tokio::sync::watch::Sender<u64>) {
        each!(self, store => store.follow_commits(commits).await)
    }

    async fn begin_batch(&self) -> Stored<BackendBatch> {
        Ok(match self {
            Backend::Sqlite(store) => BackendBatch::Sqlite(store.begin_batch().await?),
            Backend::Postgres(store) => BackendBatch::Postgres(store.begin_batch().await?),
        })
    }

    async fn balance(&self, account: Account) -> Stored<Amount> {
        each!(self, store => store.balance(account).await)
    }

    async fn all_balances(&self) -> Stored<Vec<(Account, Amount)>> {
        each!(self, store => store.all_balances().await)
    }

    async fn reserve_alert(&self) -> Stored<Option<String>> {
        each!(self, store => store.reserve_alert().await)
    }

    async fn current_bonus_rules(&self) -> Stored<BonusRuleSet> {
        each!(self, store => store.current_bonus_rules().await)
    }

    async fn bonus_rule_versions(&self, limit: u32) -> Stored<Vec<crate::store::RuleSetVersion>> {
        each!(self, store => store.bonus_rule_versions(limit).await)
    }

    async fn publish_bonus_rules(&self, rules: Vec<BonusRule>) -> Stored<BonusRuleSet> {
        each!(self, store => store.publish_bonus_rules(rules).await)
    }

    async fn order_payer(
        &self,
        terminal_id: TerminalId,
        order_id: OrderId,
    ) -> Stored<Option<CustomerId>> {
        each!(self, store => store.order_payer(terminal_id, order_id).await)
    }

    async fn paid_orders_after(
        &self,
        merchant_id: MerchantId,
        after_entry: i64,
        limit: i64,
    ) -> Stored<Vec<PaidOrder>> {
        each!(self, store => store.paid_orders_after(merchant_id, after_entry, limit).await)
    }

    async fn entry_counts(&self) -> Stored<HashMap<String, i64>> {
        each!(self, store => store.entry_counts().await)
    }
}

impl YieldStore for Backend {
    async fn set_yield_rate(
        &self,
        effective_from: &str,
        annual_rate: Decimal,
        now_ms: i64,
    ) -> Stored<()> {
        each!(self, store => store.set_yield_rate(effective_from, annual_rate, now_ms).await)
    }

    async fn yield_rates(&self) -> Stored<Vec<(String, Decimal)>> {
        each!(self, store => store.yield_rates().await)
    }

    async fn last_accrued_day(&self) -> Stored<Option<String>> {
        each!(self, store => store.last_accrued_day().await)
    }

    async fn unposted_days(&self) -> Stored<Vec<String>> {
        each!(self, store => store.unposted_days().await)
    }

    async fn first_applied_at_ms(&self) -> Stored<Option<i64>> {
        each!(self, store => store.first_applied_at_ms().await)
    }

    async fn sequence_before(&self, end_ms: i64) -> Stored<i64> {
        each!(self, store => store.sequence_before(end_ms).await)
    }

    async fn record_accrual_day(
        &self,
        day: &str,
        through_sequence: i64,
        annual_rate: Decimal,
        accrue: impl FnMut(i64) -> Option<Decimal> + Send,
        now_ms: i64,
    ) -> Stored<Option<AccruedDay>> {
        each!(self, store => {
            store.record_accrual_day(day, through_sequence, annual_rate, accrue, now_ms).await
        })
    }

    async fn yield_postings_due(
        &self,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Stored<PostingsDue> {
        each!(self, store => store.yield_postings_due(after, limit).await)
    }

    async fn record_yield_posted(&self, posted: &[(CustomerId, i64)]) -> Stored<()> {
        each!(self, store => store.record_yield_posted(posted).await)
    }

    async fn mark_yield_day_posted(&self, day: &str, now_ms: i64) -> Stored<()> {
        each!(self, store => store.mark_yield_day_posted(day, now_ms).await)
    }

    async fn yield_days(&self, customer_id: CustomerId, days: u32) -> Stored<Vec<YieldDay>> {
        each!(self, store => store.yield_days(customer_id, days).await)
    }
}

impl ReportStore for Backend {
    type Audit = BackendAudit;

    async fn begin_audit(&self) -> Stored<BackendAudit> {
        Ok(match self {
            Backend::Sqlite(store) => BackendAudit::Sqlite(store.begin_audit().await?),
            Backend::Postgres(store) => BackendAudit::Postgres(store.begin_audit().await?),
        })
    }

    async fn forget_audit_checkpoint(&self) -> Stored<()> {
        each!(self, store => store.forget_audit_checkpoint().await)
    }

    async fn save_audit_checkpoint(
        &self,
        resumed_after: Option<i64>,
        next: &NextCheckpoint,
    ) -> Stored<bool> {
        each!(self, store => store.save_audit_checkpoint(resumed_after, next).await)
    }

    async fn stored_day(
        &self,
        merchant_id: MerchantId,
        day: &str,
        day_end_ms: i64,
    ) -> Stored<StoredDay> {
        each!(self, store => store.stored_day(merchant_id, day, day_end_ms).await)
    }

    async fn terminal_day(
        &self,
        merchant_id: MerchantId,
        terminal_id: TerminalId,
        start_ms: i64,
        end_ms: i64,
    ) -> Stored<SettlementFigures> {
        each!(self, store => store.terminal_day(merchant_id, terminal_id, start_ms, end_ms).await)
    }

    async fn wallet_history(
        &self,
        customer_id: CustomerId,
        limit: u32,
    ) -> Stored<Vec<WalletEntry>> {
        each!(self, store => store.wallet_history(customer_id, limit).await)
    }
}
