//! The operators' storage (accounts, sessions, the trail, proposals, the counters'
//! directory) on the chosen backend.

use tillfund_core::protocol::ProposalStatus;
use tillfund_core::{MerchantId, OperatorId, ProposalId, TerminalId};

use super::Backend;
use crate::operators::{NewTrailRecord, TrailRecord};
use crate::store::{ActivationCodeRecord, FlowStore, Flows, TerminalDirectory, TerminalSummary};
use crate::store::{
    Decision, OperatorRecord, OperatorStore, PinAttempt, ProposalRecord, ProposalStore,
    SessionLimits, Stored, TrailQuery,
};

impl OperatorStore for Backend {
    async fn add_operator(&self, operator: &OperatorRecord) -> Stored<bool> {
        each!(self, store => store.add_operator(operator).await)
    }

    async fn operator(&self, id: OperatorId) -> Stored<Option<OperatorRecord>> {
        each!(self, store => store.operator(id).await)
    }

    async fn operator_by_name(&self, name: &str) -> Stored<Option<OperatorRecord>> {
        each!(self, store => store.operator_by_name(name).await)
    }

    async fn list_operators(&self, limit: u32) -> Stored<Vec<OperatorRecord>> {
        each!(self, store => store.list_operators(limit).await)
    }

    async fn take_sign_in_attempt(
        &self,
        id: OperatorId,
        limit: i64,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> Stored<PinAttempt> {
        each!(self, store => store.take_sign_in_attempt(id, limit, now_ms, lock_until_ms).await)
    }

    async fn reset_sign_in_failures(&self, id: OperatorId) -> Stored<()> {
        each!(self, store => store.reset_sign_in_failures(id).await)
    }

    async fn use_totp_step(&self, id: OperatorId, step: i64) -> Stored<bool> {
        each!(self, store => store.use_totp_step(id, step).await)
    }

    async fn set_operator_disabled(&self, id: OperatorId, disabled: bool) -> Stored<bool> {
        each!(self, store => store.set_operator_disabled(id, disabled).await)
    }

    async fn set_operator_password(&self, id: OperatorId, password_hash: &str) -> Stored<bool> {
        each!(self, store => store.set_operator_password(id, password_hash).await)
    }

    async fn set_operator_totp(&self, id: OperatorId, totp_secret_sealed: &str) -> Stored<bool> {
        each!(self, store => store.set_operator_totp(id, totp_secret_sealed).await)
    }

    async fn add_operator_session(
        &self,
        token: &str,
        id: OperatorId,
        now_ms: i64,
        expires_at_ms: i64,
        limits: SessionLimits,
    ) -> Stored<()> {
        each!(self, store => store.add_operator_session(token, id, now_ms, expires_at_ms, limits).await)
    }

    async fn operator_session(
        &self,
        token: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Stored<Option<OperatorId>> {
        each!(self, store => store.operator_session(token, now_ms, idle_ms).await)
    }

    async fn end_operator_session(&self, token: &str) -> Stored<()> {
        each!(self, store => store.end_operator_session(token).await)
    }

    async fn end_operator_sessions(&self, id: OperatorId) -> Stored<u64> {
        each!(self, store => store.end_operator_sessions(id).await)
    }

    async fn append_trail(&self, record: &NewTrailRecord) -> Stored<TrailRecord> {
        each!(self, store => store.append_trail(record).await)
    }

    async fn trail(&self, query: &TrailQuery) -> Stored<Vec<TrailRecord>> {
        each!(self, store => store.trail(query).await)
    }

    async fn trail_after(&self, after_sequence: i64, limit: i64) -> Stored<Vec<TrailRecord>> {
        each!(self, store => store.trail_after(after_sequence, limit).await)
    }
}

impl ProposalStore for Backend {
    async fn add_proposal(&self, proposal: &ProposalRecord) -> Stored<()> {
        each!(self, store => store.add_proposal(proposal).await)
    }

    async fn proposal(&self, id: ProposalId) -> Stored<Option<ProposalRecord>> {
        each!(self, store => store.proposal(id).await)
    }

    async fn proposals(
        &self,
        status: Option<ProposalStatus>,
        limit: u32,
    ) -> Stored<Vec<ProposalRecord>> {
        each!(self, store => store.proposals(status, limit).await)
    }

    async fn decide_proposal(&self, id: ProposalId, decision: Decision<'_>) -> Stored<bool> {
        each!(self, store => store.decide_proposal(id, decision.clone()).await)
    }

    async fn finish_proposal(
        &self,
        id: ProposalId,
        to: ProposalStatus,
        outcome: &str,
    ) -> Stored<bool> {
        each!(self, store => store.finish_proposal(id, to, outcome).await)
    }
}

impl TerminalDirectory for Backend {
    async fn mark_terminal_seen(
        &self,
        terminal_id: TerminalId,
        now_ms: i64,
        app_version: Option<&str>,
        resolution_ms: i64,
    ) -> Stored<()> {
        each!(self, store => store.mark_terminal_seen(terminal_id, now_ms, app_version, resolution_ms).await)
    }

    async fn terminals_of(
        &self,
        merchant_id: MerchantId,
        limit: u32,
    ) -> Stored<Vec<TerminalSummary>> {
        each!(self, store => store.terminals_of(merchant_id, limit).await)
    }

    async fn activation_codes_of(
        &self,
        merchant_id: MerchantId,
        limit: u32,
    ) -> Stored<Vec<ActivationCodeRecord>> {
        each!(self, store => store.activation_codes_of(merchant_id, limit).await)
    }

    async fn cancel_activation_code(
        &self,
        merchant_id: MerchantId,
        code_hash: &[u8],
        now_ms: i64,
    ) -> Stored<bool> {
        each!(self, store => store.cancel_activation_code(merchant_id, code_hash, now_ms).await)
    }
}

impl FlowStore for Backend {
    async fn flows_between(&self, start_ms: i64, end_ms: i64) -> Stored<Flows> {
        each!(self, store => store.flows_between(start_ms, end_ms).await)
    }

    async fn refused_outbox_keys_since(&self, since_ms: i64, limit: u32) -> Stored<Vec<String>> {
        each!(self, store => store.refused_outbox_keys_since(since_ms, limit).await)
    }
}

impl crate::store::LimitStore for Backend {
    async fn money_limits(&self) -> Stored<Option<crate::store::StoredLimits>> {
        each!(self, store => store.money_limits().await)
    }

    async fn set_money_limits(
        &self,
        limits: crate::ledger::MoneyLimits,
        source: &str,
        now_ms: i64,
    ) -> Stored<i64> {
        each!(self, store => store.set_money_limits(limits, source, now_ms).await)
    }
}

impl crate::store::CashCountStore for Backend {
    async fn keep_cash_count(
        &self,
        merchant_id: tillfund_core::MerchantId,
        terminal_id: tillfund_core::TerminalId,
        day: &str,
        count: &tillfund_core::cash_count::CashCount,
        server_drawer_cash: i64,
        now_ms: i64,
    ) -> Stored<crate::store::StoredCashCount> {
        each!(self, store => {
            store
                .keep_cash_count(merchant_id, terminal_id, day, count, server_drawer_cash, now_ms)
                .await
        })
    }

    async fn cash_counts(
        &self,
        merchant_id: tillfund_core::MerchantId,
        day: &str,
    ) -> Stored<Vec<crate::store::StoredCashCount>> {
        each!(self, store => store.cash_counts(merchant_id, day).await)
    }
}

impl crate::store::CashierStore for Backend {
    async fn keep_cashier(&self, record: &crate::store::CashierRecord) -> Stored<()> {
        each!(self, store => store.keep_cashier(record).await)
    }

    async fn cashier_days(
        &self,
        merchant_id: MerchantId,
        start_ms: i64,
        end_ms: i64,
        limit: i64,
    ) -> Stored<Vec<crate::store::CashierDay>> {
        each!(self, store => store.cashier_days(merchant_id, start_ms, end_ms, limit).await)
    }
}

impl crate::store::RedemptionCodeStore for Backend {
    async fn issue_redemption_code(
        &self,
        record: &crate::store::RedemptionCodeRecord,
        daily_max: i64,
        live_max: i64,
    ) -> Stored<crate::store::IssueOutcome> {
        each!(self, store => store.issue_redemption_code(record, daily_max, live_max).await)
    }

    async fn redemption_codes(
        &self,
        customer_id: tillfund_core::CustomerId,
        merchant_id: MerchantId,
        now_ms: i64,
        attempt: &str,
        limit: i64,
    ) -> Stored<Vec<crate::store::StoredRedemptionCode>> {
        each!(self, store => {
            store.redemption_codes(customer_id, merchant_id, now_ms, attempt, limit).await
        })
    }

    async fn claim_redemption_code(&self, id: &str, attempt: &str) -> Stored<bool> {
        each!(self, store => store.claim_redemption_code(id, attempt).await)
    }

    async fn release_redemption_code(&self, id: &str, attempt: &str) -> Stored<()> {
        each!(self, store => store.release_redemption_code(id, attempt).await)
    }

    async fn close_wallet(
        &self,
        customer_id: tillfund_core::CustomerId,
        now_ms: i64,
    ) -> Stored<()> {
        each!(self, store => store.close_wallet(customer_id, now_ms).await)
    }

    async fn wallet_closed(&self, customer_id: tillfund_core::CustomerId) -> Stored<bool> {
        each!(self, store => store.wallet_closed(customer_id).await)
    }

    async fn mark_redemption_code_used(&self, id: &str, now_ms: i64) -> Stored<()> {
        each!(self, store => store.mark_redemption_code_used(id, now_ms).await)
    }
}

impl crate::store::StaffStore for Backend {
    async fn put_staff(
        &self,
        merchant_id: MerchantId,
        staff_id: tillfund_core::StaffId,
        record: &crate::store::StaffRecord,
        changed_by: TerminalId,
        limit: i64,
        now_ms: i64,
    ) -> Stored<crate::store::PutStaffOutcome> {
        each!(self, store => {
            store.put_staff(merchant_id, staff_id, record, changed_by, limit, now_ms).await
        })
    }

    async fn staff_changes(
        &self,
        merchant_id: MerchantId,
        after_sequence: i64,
        limit: i64,
    ) -> Stored<Vec<crate::store::StoredStaff>> {
        each!(self, store => store.staff_changes(merchant_id, after_sequence, limit).await)
    }
}
