//! The server's use cases: what the HTTP API and the operator CLI call. Each method takes
//! parsed, typed input, enforces the rules that are not the ledger's (authentication, PIN
//! attempts, terminal ownership), and hands money operations to the ledger writer.
//! Nothing here knows HTTP; errors carry a stable code and a message for people.
//!
//! One file per idea, each adding its methods to `FundService`: `customers.rs` (sign-up,
//! PINs and their lock-out, sessions, wallet), `payments.rs`, `terminals.rs` (activation
//! codes, enrolment, sealed keys, signed requests), `outbox.rs` (the push), `corrections.rs`
//! (refunds, reversals), `attempts.rs` (rate limits shared across processes), `pulls.rs`
//! (paid orders by long poll, binding changes), `settlement.rs`, `yields.rs`, `operator.rs`
//! (merchants, reserve, rules, status), `operators.rs` (staff sign-in, sessions, roles, the
//! trail) and `operator_accounts.rs` (administering accounts), `error.rs`. This file holds the service, its settings and what the others share.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rand_core::{OsRng, RngCore};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tillfund_core::bonus::{BonusRule, BonusRuleSet};
use tillfund_core::ids::IdSource;
use tillfund_core::payment_token::{UnverifiedToken, confirmation_code};
use tillfund_core::protocol::{CounterAction, EntryOutcome, EntryResult, OutboxEntry};
use tillfund_core::signing::{RequestToSign, SignedFields, TerminalKey};
use tillfund_core::{
    Amount, CustomerId, DisplayName, MemberCode, MerchantId, OrderId, PaymentPin, PhoneNumber,
    PositiveAmount, TerminalId,
};

mod attempts;
mod audit;
mod cashiers;
mod command_line;
mod corrections;
mod customers;
mod dashboard;
mod error;
mod money_limits;
mod operator;
mod operator_accounts;
mod operator_customers;
mod operator_merchants;
mod operators;
mod outbox;
mod payments;
mod proposals;
mod proposed_changes;
mod pulls;
mod redemptions;
mod rules_overview;
mod settlement;
mod store_staff;
mod terminals;
mod yields;

/// Which records of the operators' trail to read.
pub use crate::store::CashierDay;
pub use crate::store::StoredCashCount;
pub use crate::store::StoredStaff;
pub use crate::store::TrailQuery;
/// Rows the wallet page shows, as the store reads them.
pub use crate::store::WalletEntry;
pub use crate::store::YieldDay;
pub use attempts::AttemptLimit;
pub use audit::{AuditScope, audit_store};
pub use customers::{
    CustomerView, NewWallet, WALLET_HISTORY_SHOWN, WalletActivity, WalletSummary, YIELD_DAYS_SHOWN,
    YieldConvention,
};
pub use dashboard::{
    AUDIT_DUE_AFTER_MS, Dashboard, LastAudit, REFUSED_WITHIN_MS, RESERVE_HISTORY_DAYS,
    RefusedAtCounter, SILENT_AFTER_MS, SilentCounter,
};
pub use error::ServiceError;
pub(crate) use error::internal;
use error::{deferred_error, locked_error, outcome_error, pin_check_error, reject_error_code};
pub use operator::LedgerStatus;
pub use operator_customers::{CUSTOMERS_FOUND_MAX, CustomerDossier, DOSSIER_ENTRIES_SHOWN};
pub use operator_merchants::{MerchantDetail, code_id};
pub use operators::{
    Caller, OperatorPolicy, OperatorSession, OperatorSummary, RequestSource, SecondFactorEnrolment,
    SignedInOperator, TRAIL_PAGE_MAX,
};
pub use outbox::RECORDED_AT_AGE_MS_MAX;
pub use payments::PaymentPreview;
pub use proposals::{NOTE_CHARS_MAX, PROPOSAL_TTL_MS, PROPOSALS_LISTED_MAX, ProposalView};
pub use proposed_changes::BONUS_SAMPLE_MAJOR_UNITS;
use pulls::LongPolls;
pub use rules_overview::{RULE_VERSIONS_LISTED_MAX, RulesOverview};
pub use settlement::{Settlement, StoreDay};
pub use terminals::{ACTIVATION_CODE_TTL_MS, AuthenticatedTerminal, Enrolment, SignedRequest};
pub use tillfund_core::protocol::ErrorCode;
pub use yields::{AccrualReport, DayAccrual, YieldPolicy};

use crate::credentials::PinHashCost;
use crate::ledger::audit::AuditReport;
use crate::ledger::{
    Account, Bucket, CashTopUp, Command, CommandKind, Decided, Deferred, IdempotencyKey,
    LedgerPolicy, Outcome, Payment, Refund, RejectCode, ServerSimBugs,
};
use crate::ledger_writer::{LedgerWriter, SubmitError};
use crate::model::{Customer, Merchant, Terminal};
use crate::pin_checker::PinChecker;
use crate::store::Storage;
use crate::store::{
    BindOutcome, BindingChange, EnrolOutcome, PinAttempt, RegisterOutcome, RegistrationKey,
    ServerStore, StoreError,
};
use crate::vault::{SecretsKey, is_sealed};

/// Settings of the use cases, with the defaults a deployment starts from.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub policy: LedgerPolicy,
    pub yield_policy: YieldPolicy,
    /// Wrong PINs in a row that lock a wallet.
    pub pin_attempts_max: i64,
    pub pin_lock_ms: i64,
    pub session_ttl_ms: i64,
    /// How far a counter's clock may be from the server's for a signed request.
    pub request_skew_ms: i64,
    pub activation_code_ttl_ms: i64,
    /// PIN checks running at once; each argon2 check holds 19 MiB, kept for reuse, so this
    /// also bounds the memory of PIN checks.
    pub pin_checks_concurrent_max: usize,
    pub pin_hash_cost: PinHashCost,
    /// Machine credential of the status endpoint, for monitoring (operators sign in with
    /// their own accounts); `None`: only signed-in operators read the status.
    pub operator_token: Option<String>,
    /// Operators' sign-in lock and sessions.
    pub operator_policy: OperatorPolicy,
    /// Seals terminal keys at rest.
    pub secrets_key: SecretsKey,
    /// Long polls for payments held open at once, per counter and in all.
    pub long_polls_per_terminal_max: usize,
    pub long_polls_total_max: usize,
    /// Where the server's new ids (merchants, counters, customers) come from: the system's
    /// UUIDv7, or the simulator's seeded source.
    pub ids: IdSource,
}

impl ServiceConfig {
    pub fn new(policy: LedgerPolicy) -> ServiceConfig {
        ServiceConfig {
            policy,
            yield_policy: YieldPolicy::default(),
            pin_attempts_max: 5,
            pin_lock_ms: 15 * 60 * 1000,
            session_ttl_ms: 30 * 24 * 60 * 60 * 1000,
            request_skew_ms: 5 * 60 * 1000,
            activation_code_ttl_ms: ACTIVATION_CODE_TTL_MS,
            pin_checks_concurrent_max: 4,
            pin_hash_cost: PinHashCost::RECOMMENDED,
            operator_token: None,
            operator_policy: OperatorPolicy::default(),
            // A fresh key per process: right for tests; the binary loads its key file.
            secrets_key: SecretsKey::generate(),
            long_polls_per_terminal_max: 4,
            long_polls_total_max: 1_000,
            ids: IdSource::system(),
        }
    }
}

/// SHA-256 of a request's canonical form, for idempotency fingerprints.
pub fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The use cases over any `Storage`; the server runs on `ServerStore`.
#[derive(Clone)]
pub struct FundService<S = ServerStore> {
    store: S,
    writer: LedgerWriter,
    config: Arc<ServiceConfig>,
    pin_checker: Arc<PinChecker>,
    signed_requests: Arc<AtomicU64>,
    /// Rate-limited attempts counted by this process, to purge ended windows now and then.
    attempts_counted: Arc<AtomicU64>,
    long_polls: Arc<LongPolls>,
    decoy_pin_hash: Arc<tokio::sync::OnceCell<String>>,
    pin_turns: Arc<PinTurns>,
}

/// One lock per wallet with a PIN check under way in this process; a wallet's entry goes
/// away with its last check, so the map holds only wallets being checked now.
#[derive(Debug, Default)]
struct PinTurns {
    wallets: std::sync::Mutex<std::collections::HashMap<CustomerId, Arc<tokio::sync::Mutex<()>>>>,
}

impl PinTurns {
    fn turn(self: &Arc<Self>, customer_id: CustomerId) -> WalletTurn {
        let mut wallets = self.wallets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let lock = wallets.entry(customer_id).or_default().clone();
        WalletTurn { turns: self.clone(), customer_id, lock }
    }
}

/// A wallet's place in line for its PIN checks; dropping the last one removes the entry.
struct WalletTurn {
    turns: Arc<PinTurns>,
    customer_id: CustomerId,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl WalletTurn {
    async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.lock().await
    }
}

impl Drop for WalletTurn {
    fn drop(&mut self) {
        let mut wallets =
            self.turns.wallets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Two references: the map's and this one. Then nobody else waits for this wallet.
        if Arc::strong_count(&self.lock) == 2 {
            wallets.remove(&self.customer_id);
        }
    }
}

/// The first millisecond after `day` in `zone` (the start of the next day there).
pub(crate) fn end_of_day_ms(
    zone: &jiff::tz::TimeZone,
    day: jiff::civil::Date,
) -> Result<i64, ServiceError> {
    let next = day.tomorrow().map_err(|error| internal(error.to_string()))?;
    let start = next.to_zoned(zone.clone()).map_err(|error| internal(error.to_string()))?;
    Ok(start.timestamp().as_millisecond())
}

impl<S: Storage> FundService<S> {
    /// Starts the ledger writer on the current runtime.
    pub fn start(store: S, config: ServiceConfig) -> FundService<S> {
        let writer = LedgerWriter::start(store.clone(), config.policy.clone());
        let pin_checker =
            Arc::new(PinChecker::new(config.pin_checks_concurrent_max, config.pin_hash_cost));
        FundService {
            store,
            writer,
            config: Arc::new(config),
            pin_checker,
            signed_requests: Arc::default(),
            attempts_counted: Arc::default(),
            long_polls: Arc::default(),
            decoy_pin_hash: Arc::default(),
            pin_turns: Arc::default(),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The time by the store's clock (the one every record of this service is made by).
    pub fn now_ms(&self) -> i64 {
        self.store.clock().now_ms()
    }

    async fn submit(&self, command: Command) -> Result<Outcome, ServiceError> {
        match self.writer.submit(command).await?.outcome {
            Outcome::Rejected { code, message } => Err(outcome_error(code, &message)),
            outcome => Ok(outcome),
        }
    }

    async fn active_terminal(&self, terminal_id: TerminalId) -> Result<Terminal, ServiceError> {
        let terminal = self.store.terminal(terminal_id).await?.ok_or_else(|| {
            ServiceError::new(ErrorCode::TerminalUnknown, "This counter is not enrolled.")
        })?;
        if terminal.revoked {
            return Err(ServiceError::new(
                ErrorCode::TerminalRevoked,
                "This counter's enrolment was revoked; ask the operator for a new activation code.",
            ));
        }
        Ok(terminal)
    }
}
