//! Every message that crosses the wire, declared once: the counter, the fund server and the
//! tests use these types, so a change to one breaks the other side at compile time.
//!
//! `mod.rs` holds the health report and the outbox push; `counter.rs` the rest of the
//! counter's API (enrolment, pulls, refunds, reversals, settlement), `customer.rs` the
//! customer's, `error.rs` the one error body, `operator.rs` the operators' (status, sign-in,
//! accounts, the trail). Request
//! fields that the server validates (ids, phones, amounts) stay text and integers here, so
//! that a bad one is refused with its own code (`order_id_invalid`, …) rather than as an
//! unreadable body; answers carry typed ids, which serialise to the same text.
//!
//! The counter records what happened in its outbox while offline and pushes the entries in
//! order; the server answers each entry on its own, so one bad entry never blocks the ones
//! behind it. Entry ids are made by the counter and resent unchanged on every retry, which is
//! what makes a retry safe: the server applies an id once and afterwards answers
//! [`EntryOutcome::AlreadyApplied`].

use serde::{Deserialize, Serialize};

use crate::{Amount, CustomerId, OutboxEntryId, PositiveAmount};

mod counter;
mod customer;
mod error;
mod operator;
mod operator_customers;
mod operator_dashboard;
mod operator_merchants;
mod operator_rules;
mod operator_settlements;
mod proposals;
mod redemption;
mod staff;

pub use counter::*;
pub use customer::*;
pub use error::{ErrorBody, ErrorCode};
pub use operator::{
    LedgerStatusBody, NewOperatorRequest, OperatorAccountBody, OperatorAccountsBody,
    OperatorAction, OperatorBody, OperatorRole, OperatorSessionBody, OperatorSignInRequest,
    PasswordChangeRequest, SecondFactorBody, SessionsEndedBody, TrailPageBody, TrailRecordBody,
};
pub use operator_customers::{CustomerDossierBody, CustomerSearchBody, WalletEntryBody};
pub use operator_dashboard::{
    AuditBody, AuditRunRequest, DashboardBody, DayBalanceBody, FlowBody, LastAuditBody,
    RefusedEntriesBody, SilentCounterBody,
};
pub use operator_merchants::{
    ActivationCodeBody, ActivationCodeState, CounterBody, IssuedActivationCodeBody,
    MerchantDetailBody, MerchantsBody, NewMerchantRequest,
};
pub use operator_rules::{RuleSetVersionBody, RulesBody, YieldRateBody};
pub use operator_settlements::{CashierDayBody, CounterDayBody, StoreDayBody, StoreDaysBody};
pub use proposals::{
    ChangeLineBody, DecisionRequest, NewProposalRequest, ProposalBody, ProposalStatus,
    ProposalsBody, ProposedChange,
};
pub use redemption::{
    REDEMPTION_CODE_DIGITS, REDEMPTION_CODE_LIFETIME_MS, REDEMPTION_CODES_LIVE_MAX, RedemptionBody,
    RedemptionCodeBody, RedemptionCodeRequest, RedemptionRequest,
};
pub use staff::{
    STAFF_CHANGES_PER_PULL_MAX, STAFF_NAME_MAX_CHARS, STAFF_PIN_HASH_MAX_CHARS,
    STAFF_PIN_HASH_MEMORY_KIB_MIN, STAFF_PIN_HASH_PASSES_MIN, STORE_STAFF_MAX, StaffChangeRequest,
    StaffChangesBody, StaffChangesQuery, StoreStaffBody, staff_path,
};

/// Bumped when a message changes shape in a way an older peer cannot read.
pub const PROTOCOL_VERSION: u32 = 1;

/// The most entries one push may carry; a counter with more sends several batches.
pub const PUSH_BATCH_SIZE_MAX: usize = 200;

/// The counter app's version, sent with every signed request so that operators see which
/// counters run what. Not signed: it informs, it decides nothing.
pub const APP_VERSION_HEADER: &str = "x-tillfund-app-version";

/// Path of the server's liveness and version report.
pub const HEALTH_PATH: &str = "/healthz";

/// What `GET /healthz` answers: enough for a counter to show "online, server 0.1.0" and to
/// notice that it speaks an older protocol than the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthReport {
    pub status: HealthStatus,
    pub server_version: String,
    pub protocol_version: u32,
    /// ISO 4217 code of the deployment's one currency.
    pub currency: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// The server answers and its database does too.
    Ok,
    /// The server answers but cannot reach its database; writes will fail.
    Degraded,
}

/// One recorded counter action, as it travels from the outbox to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: OutboxEntryId,
    /// Per-terminal, gap-free, starting at 1: the server uses it to see a missing entry.
    pub sequence: u64,
    /// When the cashier did it, in milliseconds since the Unix epoch, by the counter's clock.
    pub recorded_at_ms: i64,
    pub action: CounterAction,
    /// The member of the store's staff signed in at the counter who did it
    /// (`/v1/sync/staff`); absent from counters without staff on record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cashier: Option<crate::StaffId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CounterAction {
    /// Cash taken at the counter for a customer's wallet, with the bonus the counter showed.
    CashTopUp {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        customer_id: CustomerId,
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        amount: PositiveAmount,
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        bonus_shown: Amount,
        bonus_rule_version: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub entries: Vec<OutboxEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// One result per pushed entry, in the order they were sent.
    pub results: Vec<EntryResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryResult {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: OutboxEntryId,
    #[serde(flatten)]
    pub outcome: EntryOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EntryOutcome {
    Applied,
    AlreadyApplied,
    /// Refused for good; retrying the same entry will not help. `code` is stable, `message`
    /// tells the cashier what to do.
    Rejected {
        #[cfg_attr(feature = "openapi", schema(value_type = ErrorCode))]
        code: String,
        message: String,
    },
    /// Not decided now (for example the reserve cannot cover it yet); nothing was applied.
    /// The counter keeps the entry and sends it again later.
    RetryLater {
        #[cfg_attr(feature = "openapi", schema(value_type = ErrorCode))]
        code: String,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn outbox_entry_has_a_stable_json_shape() {
        let entry = OutboxEntry {
            id: "01900000-0000-7000-8000-000000000001".parse().unwrap(),
            sequence: 7,
            recorded_at_ms: 1_700_000_000_000,
            action: CounterAction::CashTopUp {
                customer_id: "01900000-0000-7000-8000-000000000002".parse().unwrap(),
                amount: PositiveAmount::parse("500.00", Currency::CNY).unwrap(),
                bonus_shown: Amount::parse("50.00", Currency::CNY).unwrap(),
                bonus_rule_version: Some(3),
            },
            cashier: None,
        };
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "01900000-0000-7000-8000-000000000001",
                "sequence": 7,
                "recorded_at_ms": 1_700_000_000_000_i64,
                "action": {
                    "type": "cash_top_up",
                    "customer_id": "01900000-0000-7000-8000-000000000002",
                    "amount": 50000,
                    "bonus_shown": 5000,
                    "bonus_rule_version": 3
                }
            })
        );
        assert_eq!(serde_json::from_value::<OutboxEntry>(json).unwrap(), entry);
        // Who did it travels beside the action when someone was signed in.
        let cashier: crate::StaffId = "01900000-0000-7000-8000-000000000003".parse().unwrap();
        let json = serde_json::to_value(OutboxEntry { cashier: Some(cashier), ..entry }).unwrap();
        assert_eq!(json["cashier"], "01900000-0000-7000-8000-000000000003");
    }

    #[test]
    fn a_zero_top_up_is_refused_when_read() {
        let json = serde_json::json!({
            "type": "cash_top_up",
            "customer_id": "01900000-0000-7000-8000-000000000002",
            "amount": 0,
            "bonus_shown": 0,
            "bonus_rule_version": null
        });
        assert!(serde_json::from_value::<CounterAction>(json).is_err());
    }

    #[test]
    fn outcomes_are_tagged() {
        let rejected = EntryOutcome::Rejected {
            code: "customer_not_bound".into(),
            message: "The customer is not bound to this store.".into(),
        };
        let json = serde_json::to_value(&rejected).unwrap();
        assert_eq!(json["outcome"], "rejected");
        assert_eq!(json["code"], "customer_not_bound");
        assert_eq!(
            serde_json::to_value(EntryOutcome::AlreadyApplied).unwrap(),
            serde_json::json!({"outcome": "already_applied"})
        );
    }
}
