//! The server's use cases: what the HTTP API and the operator CLI call. Each method takes
//! parsed, typed input, enforces the rules that are not the ledger's (authentication, PIN
//! attempts, terminal ownership), and hands money operations to the ledger writer.
//! Nothing here knows HTTP; errors carry a stable code and a message for people.

use std::sync::Arc;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rand_core::{OsRng, RngCore};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tillfund_core::bonus::{BonusRule, BonusRuleSet};
use tillfund_core::payment_token::{UnverifiedToken, confirmation_code};
use tillfund_core::protocol::{CounterAction, EntryOutcome, EntryResult, OutboxEntry};
use tillfund_core::signing::{NONCE_HEX_LENGTH, RequestToSign, TerminalKey};
use tillfund_core::{
    Amount, CustomerId, DisplayName, MemberCode, MerchantId, OrderId, PaymentPin, PhoneNumber,
    PositiveAmount, TerminalId,
};

mod settlement;
mod yields;

pub use settlement::Settlement;
pub use yields::{AccrualReport, DayAccrual, YieldPolicy};

use crate::credentials::PinHashCost;
use crate::ledger::audit::AuditReport;
use crate::ledger::{
    Account, Bucket, CashTopUp, Command, CommandKind, Decided, IdempotencyKey, LedgerPolicy,
    Outcome, Payment, Refund,
};
use crate::ledger_writer::{LedgerWriter, SubmitError};
use crate::model::{Customer, Merchant, Terminal};
use crate::pin_checker::PinChecker;
use crate::store::{
    BindOutcome, BindingChange, EnrolOutcome, PinAttempt, RegisterOutcome, RegistrationKey, Store,
    StoreError,
};
use crate::vault::{SecretsKey, is_sealed};

/// What kind of failure an error is; the HTTP layer maps each to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule; retrying it unchanged fails again.
    Invalid,
    /// Who is asking could not be established.
    Unauthenticated,
    /// Who is asking may not do this.
    Forbidden,
    NotFound,
    /// It conflicts with the current state (phone taken, key reused, already paid).
    Conflict,
    /// The wallet is locked after too many wrong PINs.
    Locked,
    /// Too many attempts; wait and try again.
    TooManyAttempts,
    /// Not possible now; the same request may succeed later.
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub kind: ErrorKind,
    /// Stable and machine-readable; see the OpenAPI description for the list.
    pub code: String,
    pub message: String,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> ServiceError {
        ServiceError { kind, code: code.to_owned(), message: message.into() }
    }

    pub fn invalid(code: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::new(ErrorKind::Invalid, code, message)
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> ServiceError {
        tracing::error!(%error, "storage error");
        ServiceError::new(
            ErrorKind::Unavailable,
            "storage_unavailable",
            "The server could not reach its database; nothing was changed. Try again.",
        )
    }
}

impl From<SubmitError> for ServiceError {
    fn from(error: SubmitError) -> ServiceError {
        match error {
            SubmitError::Deferred(deferred) => {
                let kind = match deferred.code() {
                    "idempotency_key_reused" => ErrorKind::Conflict,
                    "internal" | "amount_out_of_range" => ErrorKind::Internal,
                    _ => ErrorKind::Unavailable,
                };
                ServiceError::new(kind, deferred.code(), deferred.to_string())
            }
            SubmitError::Storage(message) => {
                tracing::error!(%message, "ledger storage error");
                ServiceError::new(
                    ErrorKind::Unavailable,
                    "storage_unavailable",
                    "The ledger could not write; nothing was changed. Try again.",
                )
            }
            SubmitError::ShuttingDown => ServiceError::new(
                ErrorKind::Unavailable,
                "shutting_down",
                "The server is restarting; nothing was changed. Try again.",
            ),
        }
    }
}

/// How long an activation code stays usable: long enough to walk it to the counter and type
/// it in, short enough that a code on a forgotten sticky note is dead by the next shift.
pub const ACTIVATION_CODE_TTL_MS: i64 = 2 * 60 * 60 * 1000;
/// The oldest an outbox entry may be when it reaches the server: a counter offline for
/// longer is not running a store, and an entry older than this is a clock or a forgery.
pub const RECORDED_AT_AGE_MS_MAX: i64 = 90 * 24 * 60 * 60 * 1000;
/// Signed requests between two purges of expired nonces.
const NONCE_PURGE_EVERY: u64 = 256;

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
    /// Bearer token of the operator's status endpoint; `None` turns the endpoint off.
    pub operator_token: Option<String>,
    /// Seals terminal keys at rest.
    pub secrets_key: SecretsKey,
    /// Long polls for payments held open at once, per counter and in all.
    pub long_polls_per_terminal_max: usize,
    pub long_polls_total_max: usize,
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
            // A fresh key per process: right for tests; the binary loads its key file.
            secrets_key: SecretsKey::generate(),
            long_polls_per_terminal_max: 4,
            long_polls_total_max: 1_000,
        }
    }
}

/// A customer as the API shows them; never the PIN hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerView {
    pub customer_id: CustomerId,
    pub phone: PhoneNumber,
    pub display_name: String,
    pub member_code: MemberCode,
}

impl From<&Customer> for CustomerView {
    fn from(customer: &Customer) -> CustomerView {
        CustomerView {
            customer_id: customer.id,
            phone: customer.phone.clone(),
            display_name: customer.display_name.clone(),
            member_code: customer.member_code.clone(),
        }
    }
}

/// Entries and yield days the wallet page shows.
pub const WALLET_HISTORY_SHOWN: u32 = 30;
pub const YIELD_DAYS_SHOWN: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletActivity {
    /// Newest first.
    pub entries: Vec<crate::store::WalletEntry>,
    /// Oldest first.
    pub days: Vec<crate::store::yields::YieldDay>,
    /// `None` before a week's balance has earned anything.
    pub annualized_7d_percent: Option<Decimal>,
}

/// What a payment code is for, shown before the customer enters the PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPreview {
    pub merchant: Merchant,
    pub amount: PositiveAmount,
    pub expires_at_ms: i64,
    pub expired: bool,
    /// Who paid it already, if anyone has.
    pub paid_by: Option<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletSummary {
    pub customer: CustomerView,
    pub principal: Amount,
    pub bonus: Amount,
    pub yield_earned: Amount,
    pub total: Amount,
    pub bound_merchants: Vec<Merchant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerStatus {
    pub reserve: Amount,
    pub service: Amount,
    pub reserve_threshold: Amount,
    pub reserve_refill: Amount,
    /// Set while the reserve is under its threshold and the service account cannot refill it.
    pub reserve_alert: Option<String>,
    pub last_yield_day: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Enrolment {
    pub terminal: Terminal,
    pub merchant: Merchant,
    /// The server's half of the key agreement; the counter derives the key from it.
    pub server_public_key: String,
}

/// The terminal behind a correctly signed request.
#[derive(Debug, Clone)]
pub struct AuthenticatedTerminal {
    pub terminal: Terminal,
    pub key: TerminalKey,
}

/// A counter request as it arrived: header values as sent, unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest<'a> {
    pub terminal_id: &'a str,
    pub timestamp_ms: &'a str,
    pub nonce: &'a str,
    pub signature: &'a str,
    /// Empty when the request has none.
    pub idempotency_key: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
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

/// 32 random bytes as hex: session tokens.
fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    tillfund_core::signing::encode_hex(&bytes)
}

/// Activation codes: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
/// in groups of four, e.g. `K7MQ-4XRT-9PWD`; about 60 bits.
fn random_activation_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = [0_u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let characters: Vec<char> = bytes
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect();
    characters.chunks(4).map(|chunk| chunk.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

fn random_member_code() -> MemberCode {
    MemberCode::from_body(OsRng.next_u64())
}

fn outcome_error(code: &str, message: &str) -> ServiceError {
    let kind = match code {
        "customer_unknown" | "order_not_found" | "top_up_not_found" => ErrorKind::NotFound,
        "order_already_paid" | "day_already_closed" => ErrorKind::Conflict,
        "order_of_another_merchant" | "top_up_of_another_merchant" => ErrorKind::Forbidden,
        _ => ErrorKind::Invalid,
    };
    ServiceError::new(kind, code, message)
}

#[derive(Clone)]
pub struct FundService {
    store: Store,
    writer: LedgerWriter,
    config: Arc<ServiceConfig>,
    pin_checker: Arc<PinChecker>,
    signed_requests: Arc<AtomicU64>,
    long_polls: Arc<LongPolls>,
    decoy_pin_hash: Arc<tokio::sync::OnceCell<String>>,
}

/// Long polls held open, in all and per terminal.
#[derive(Debug, Default)]
struct LongPolls {
    total: AtomicUsize,
    per_terminal: std::sync::Mutex<std::collections::HashMap<TerminalId, usize>>,
}

/// One held long poll; dropping it (answered, cancelled, or the client gone) frees its slot.
struct LongPollSlot {
    polls: Arc<LongPolls>,
    terminal_id: TerminalId,
}

impl Drop for LongPollSlot {
    fn drop(&mut self) {
        self.polls.total.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut per_terminal) = self.polls.per_terminal.lock() {
            if let Some(count) = per_terminal.get_mut(&self.terminal_id) {
                *count -= 1;
                if *count == 0 {
                    per_terminal.remove(&self.terminal_id);
                }
            }
        }
    }
}

impl FundService {
    /// Starts the ledger writer on the current runtime.
    pub fn start(store: Store, config: ServiceConfig) -> FundService {
        let writer = LedgerWriter::start(store.clone(), config.policy.clone());
        // An attempt counts as wrong until it proves right, so the checks a process runs at
        // once must stay under the lock-out limit: a customer's own concurrent right PINs
        // (a double tap, two tabs) must never add up to a lock.
        assert!(
            config.pin_checks_concurrent_max
                < usize::try_from(config.pin_attempts_max).unwrap_or(0),
            "pin_checks_concurrent_max must be below pin_attempts_max"
        );
        let pin_checker =
            Arc::new(PinChecker::new(config.pin_checks_concurrent_max, config.pin_hash_cost));
        FundService {
            store,
            writer,
            config: Arc::new(config),
            pin_checker,
            signed_requests: Arc::default(),
            long_polls: Arc::default(),
            decoy_pin_hash: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    // ---- customers ----

    pub async fn register_customer(
        &self,
        phone: PhoneNumber,
        display_name: DisplayName,
        pin: PaymentPin,
        merchant_ids: Vec<MerchantId>,
        idempotency_key: &str,
    ) -> Result<CustomerView, ServiceError> {
        const BOUND_AT_REGISTRATION_MAX: usize = 20;
        if merchant_ids.len() > BOUND_AT_REGISTRATION_MAX {
            return Err(ServiceError::invalid(
                "too_many_stores",
                format!("Choose at most {BOUND_AT_REGISTRATION_MAX} stores when signing up."),
            ));
        }
        let pin_hash = self.hash_pin(pin).await?;
        let customer = Customer {
            id: CustomerId::generate(),
            phone,
            display_name: display_name.as_str().to_owned(),
            member_code: random_member_code(),
            pin_hash,
            failed_pin_attempts: 0,
            locked_until_ms: None,
        };
        let mut sorted_merchants: Vec<String> =
            merchant_ids.iter().map(ToString::to_string).collect();
        sorted_merchants.sort();
        let key = RegistrationKey {
            key: format!("register/{idempotency_key}"),
            fingerprint: fingerprint(&[
                b"register",
                customer.phone.as_str().as_bytes(),
                customer.display_name.as_bytes(),
                sorted_merchants.join(",").as_bytes(),
            ]),
        };
        let now = self.store.clock().now_ms();
        match self
            .store
            .register_customer(&customer, &merchant_ids, random_member_code, Some(&key), now)
            .await?
        {
            RegisterOutcome::Registered(customer) => Ok(CustomerView::from(&customer)),
            RegisterOutcome::Replayed(customer_id) => {
                let customer = self.store.customer(customer_id).await?.ok_or_else(|| {
                    internal(format!("registration replay names missing customer {customer_id}"))
                })?;
                Ok(CustomerView::from(&customer))
            }
            RegisterOutcome::KeyReused => Err(ServiceError::new(
                ErrorKind::Conflict,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different sign-up.",
            )),
            RegisterOutcome::PhoneTaken => Err(ServiceError::new(
                ErrorKind::Conflict,
                "phone_taken",
                "A wallet with this phone number already exists; sign in instead.",
            )),
            RegisterOutcome::MerchantUnknown(merchant_id) => Err(ServiceError::invalid(
                "merchant_unknown",
                format!("There is no store with id {merchant_id}."),
            )),
        }
    }

    async fn hash_pin(&self, pin: PaymentPin) -> Result<String, ServiceError> {
        let turn = self.pin_checker.permit().await.map_err(pin_check_error)?;
        self.pin_checker.hash(&turn, pin).await.map_err(pin_check_error)
    }

    /// Checks a PIN with the lockout rules. The attempt is taken in the database before the
    /// hash is checked (`Store::take_pin_attempt`), so parallel guesses cannot get past the
    /// limit: a locked wallet refuses even the right PIN, the last allowed wrong PIN locks
    /// it, a right PIN starts the count again.
    pub async fn verify_pin(
        &self,
        customer: &Customer,
        pin: PaymentPin,
    ) -> Result<(), ServiceError> {
        let turn = self.pin_checker.permit().await.map_err(pin_check_error)?;
        let now = self.store.clock().now_ms();
        let limit = self.config.pin_attempts_max;
        let attempt = match self
            .store
            .take_pin_attempt(customer.id, limit, now, now + self.config.pin_lock_ms)
            .await?
        {
            PinAttempt::Locked { until_ms } => return Err(locked_error(until_ms, now)),
            PinAttempt::Taken { attempt, locks } => (attempt, locks),
        };
        let matches = self
            .pin_checker
            .verify(&turn, pin, customer.pin_hash.clone())
            .await
            .map_err(pin_check_error)?;
        if matches {
            // Still holding the turn: the count is back at zero before another check of
            // this process takes an attempt.
            self.store.reset_pin_failures(customer.id).await?;
            return Ok(());
        }
        drop(turn);
        let (number, locks) = attempt;
        if locks {
            return Err(locked_error(now + self.config.pin_lock_ms, now));
        }
        let left = (limit - number).max(0);
        Err(ServiceError::new(
            ErrorKind::Unauthenticated,
            "pin_wrong",
            format!("Wrong PIN; {left} tries left before the wallet locks."),
        ))
    }

    /// Phone and PIN for a session token (bearer) valid for the configured time.
    pub async fn sign_in(
        &self,
        phone: &PhoneNumber,
        pin: PaymentPin,
    ) -> Result<(String, CustomerView), ServiceError> {
        // An unknown phone and a wrong PIN answer alike, after the same argon2 work, so
        // sign-in does not tell which phone numbers have a wallet.
        let sign_in_failed = || {
            ServiceError::new(
                ErrorKind::Unauthenticated,
                "sign_in_failed",
                "The phone number or the PIN is wrong.",
            )
        };
        let Some(customer) = self.store.customer_by_phone(phone).await? else {
            let decoy = self.decoy_pin_hash().await?;
            let turn = self.pin_checker.permit().await.map_err(pin_check_error)?;
            let _ = self.pin_checker.verify(&turn, pin, decoy).await;
            return Err(sign_in_failed());
        };
        match self.verify_pin(&customer, pin).await {
            Err(error) if error.code == "pin_wrong" => return Err(sign_in_failed()),
            other => other?,
        }
        let token = random_token();
        let now = self.store.clock().now_ms();
        self.store.add_session(&token, customer.id, now, now + self.config.session_ttl_ms).await?;
        Ok((token, CustomerView::from(&customer)))
    }

    /// A PIN hash at this server's cost, made once, that no PIN is known to match: sign-in
    /// checks it for unknown phones so that they take as long as known ones.
    async fn decoy_pin_hash(&self) -> Result<String, ServiceError> {
        self.decoy_pin_hash
            .get_or_try_init(|| async {
                let mut digits = [0_u8; PaymentPin::LENGTH];
                OsRng.fill_bytes(&mut digits);
                let text: String = digits.iter().map(|byte| char::from(b'0' + byte % 10)).collect();
                let pin = PaymentPin::parse(&text).map_err(|error| internal(error.to_string()))?;
                self.hash_pin(pin).await
            })
            .await
            .cloned()
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.store.end_session(token).await?)
    }

    pub fn session_ttl_ms(&self) -> i64 {
        self.config.session_ttl_ms
    }

    pub async fn session_customer(&self, token: &str) -> Result<Customer, ServiceError> {
        let unauthenticated = || {
            ServiceError::new(
                ErrorKind::Unauthenticated,
                "session_invalid",
                "Sign in again: the session is unknown or has expired.",
            )
        };
        // Tokens are 64 hex characters; anything else is not worth a database look-up.
        if token.len() != 64 {
            return Err(unauthenticated());
        }
        let customer_id = self
            .store
            .session_customer(token, self.store.clock().now_ms())
            .await?
            .ok_or_else(unauthenticated)?;
        self.store.customer(customer_id).await?.ok_or_else(unauthenticated)
    }

    pub async fn wallet(&self, customer: &Customer) -> Result<WalletSummary, ServiceError> {
        let [principal, bonus, yield_earned] = {
            let mut amounts = [Amount::ZERO; 3];
            for (slot, bucket) in amounts.iter_mut().zip(Bucket::ALL) {
                *slot = self.store.balance(Account::Wallet(customer.id, bucket)).await?;
            }
            amounts
        };
        let total = principal
            .checked_add(bonus)
            .and_then(|sum| sum.checked_add(yield_earned))
            .map_err(|error| internal(error.to_string()))?;
        Ok(WalletSummary {
            customer: CustomerView::from(customer),
            principal,
            bonus,
            yield_earned,
            total,
            bound_merchants: self.store.bound_merchants(customer.id).await?,
        })
    }

    /// What the wallet page shows beside the balance: the latest entries, and the yield
    /// of the last days with its 7-day annualized rate (yield over balance, × 365).
    pub async fn wallet_activity(
        &self,
        customer: &Customer,
    ) -> Result<WalletActivity, ServiceError> {
        let entries = self.store.wallet_history(customer.id, WALLET_HISTORY_SHOWN).await?;
        let days = self.store.yield_days(customer.id, YIELD_DAYS_SHOWN).await?;
        let last_week = &days[days.len().saturating_sub(7)..];
        let balance: i64 = last_week.iter().map(|day| day.balance).sum();
        let accrued: Decimal = last_week.iter().map(|day| day.accrued).sum();
        let annualized_7d_percent = (balance > 0)
            .then(|| {
                accrued
                    .checked_div(Decimal::from(balance))
                    .and_then(|rate| rate.checked_mul(Decimal::from(365 * 100)))
                    .map(|percent| percent.round_dp(2))
            })
            .flatten();
        Ok(WalletActivity { entries, days, annualized_7d_percent })
    }

    pub async fn set_binding(
        &self,
        customer: &Customer,
        merchant_id: MerchantId,
        bound: bool,
    ) -> Result<(), ServiceError> {
        match self
            .store
            .set_binding(customer.id, merchant_id, bound, self.store.clock().now_ms())
            .await?
        {
            BindOutcome::Changed | BindOutcome::Unchanged => Ok(()),
            BindOutcome::MerchantUnknown => Err(ServiceError::new(
                ErrorKind::NotFound,
                "merchant_unknown",
                format!("There is no store with id {merchant_id}."),
            )),
        }
    }

    // ---- payments ----

    /// The customer pays the order in a counter's payment token, confirmed with the PIN.
    pub async fn pay(
        &self,
        customer: &Customer,
        token_text: &str,
        pin: PaymentPin,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let token = UnverifiedToken::parse(token_text)
            .map_err(|error| ServiceError::invalid(error.code(), error.to_string()))?;
        let terminal = self.active_terminal(token.terminal_id()).await.map_err(|_| {
            ServiceError::invalid(
                "token_bad_signature",
                "The payment code was not made by an enrolled counter.",
            )
        })?;
        let key = self.terminal_key(&terminal)?;
        let claims = token.verify(&key, self.store.clock().now_ms()).map_err(|error| {
            let kind = if error.code() == "token_expired" {
                ErrorKind::Conflict
            } else {
                ErrorKind::Invalid
            };
            ServiceError::new(kind, error.code(), error.to_string())
        })?;
        if claims.merchant_id != terminal.merchant_id {
            return Err(ServiceError::invalid(
                "token_bad_signature",
                "The payment code names another store.",
            ));
        }
        if claims.currency != self.config.policy.currency.code() {
            return Err(ServiceError::invalid(
                "currency_mismatch",
                format!(
                    "This server counts in {}, the payment code in {}.",
                    self.config.policy.currency, claims.currency
                ),
            ));
        }
        self.verify_pin(customer, pin).await?;
        let confirmation = confirmation_code(&key, claims.order_id, claims.amount);
        // The PIN is not part of the fingerprint: it must never be stored, even hashed.
        let fingerprint =
            fingerprint(&[b"pay", customer.id.to_string().as_bytes(), token_text.as_bytes()]);
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("customer/{}/pay/{idempotency_key}", customer.id),
                fingerprint,
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::Payment(Payment {
                claims,
                customer_id: customer.id,
                confirmation_code: confirmation,
            }),
        };
        self.submit(command).await
    }

    /// Reads a counter's payment code for the pay page: the signature is checked (a forged
    /// code shows nothing), the expiry only reported.
    pub async fn payment_preview(&self, token_text: &str) -> Result<PaymentPreview, ServiceError> {
        let token = UnverifiedToken::parse(token_text)
            .map_err(|error| ServiceError::invalid(error.code(), error.to_string()))?;
        let forged = || {
            ServiceError::invalid(
                "token_bad_signature",
                "The payment code was not made by an enrolled counter.",
            )
        };
        let terminal = self.active_terminal(token.terminal_id()).await.map_err(|_| forged())?;
        let key = self.terminal_key(&terminal)?;
        let claims = token.verify_signature(&key).map_err(|_| forged())?;
        if claims.merchant_id != terminal.merchant_id {
            return Err(forged());
        }
        let merchant = self.store.merchant(claims.merchant_id).await?.ok_or_else(forged)?;
        Ok(PaymentPreview {
            merchant,
            amount: claims.amount,
            expires_at_ms: claims.expires_at_ms,
            expired: self.store.clock().now_ms() >= claims.expires_at_ms,
            paid_by: self.store.order_payer(claims.terminal_id, claims.order_id).await?,
        })
    }

    async fn submit(&self, command: Command) -> Result<Outcome, ServiceError> {
        match self.writer.submit(command).await?.outcome {
            Outcome::Rejected { code, message } => Err(outcome_error(&code, &message)),
            outcome => Ok(outcome),
        }
    }

    // ---- terminals ----

    async fn active_terminal(&self, terminal_id: TerminalId) -> Result<Terminal, ServiceError> {
        let terminal = self.store.terminal(terminal_id).await?.ok_or_else(|| {
            ServiceError::new(
                ErrorKind::Unauthenticated,
                "terminal_unknown",
                "This counter is not enrolled.",
            )
        })?;
        if terminal.revoked {
            return Err(ServiceError::new(
                ErrorKind::Forbidden,
                "terminal_revoked",
                "This counter's enrolment was revoked; ask the operator for a new activation code.",
            ));
        }
        Ok(terminal)
    }

    pub async fn create_activation_code(
        &self,
        merchant_id: MerchantId,
    ) -> Result<(String, i64), ServiceError> {
        let code = random_activation_code();
        let now = self.store.clock().now_ms();
        let expires_at_ms = now + self.config.activation_code_ttl_ms;
        if !self.store.add_activation_code(merchant_id, &code, now, expires_at_ms).await? {
            return Err(ServiceError::new(
                ErrorKind::NotFound,
                "merchant_unknown",
                format!("There is no store with id {merchant_id}."),
            ));
        }
        Ok((code, expires_at_ms))
    }

    /// Enrols a counter with a one-time activation code by key agreement: the counter
    /// sends its X25519 public key, the server answers with its own, and both derive the
    /// terminal key, which is never sent. The same counter asking again with the same
    /// public key while the code is valid gets the same answer (its first was lost).
    pub async fn enrol(
        &self,
        activation_code: &str,
        label: &str,
        counter_public_key: &str,
    ) -> Result<Enrolment, ServiceError> {
        const CODE_LENGTH_MAX: usize = 32;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "label_invalid",
                "A counter label is 1 to 100 characters, without control characters.",
            ));
        }
        tillfund_core::enrolment::parse_public_key(counter_public_key).map_err(|_| {
            ServiceError::invalid(
                "public_key_invalid",
                "The counter's public key is 64 hexadecimal characters (X25519).",
            )
        })?;
        let code = activation_code.trim().to_uppercase();
        if code.len() > CODE_LENGTH_MAX {
            return Err(ServiceError::new(
                ErrorKind::NotFound,
                "activation_code_unknown",
                "This activation code is not valid; check it with the operator.",
            ));
        }
        let terminal_id = TerminalId::generate();
        let (server_public_key, key) =
            tillfund_core::enrolment::server_agree(&terminal_id.to_string(), counter_public_key)
                .map_err(|error| ServiceError::invalid("public_key_invalid", error.to_string()))?;
        let sealed = self
            .config
            .secrets_key
            .seal_terminal_key(terminal_id, &key)
            .map_err(|error| internal(error.to_string()))?;
        let now = self.store.clock().now_ms();
        let new_terminal = |merchant_id, receipt_prefix| Terminal {
            id: terminal_id,
            merchant_id,
            label: label.to_owned(),
            receipt_prefix,
            secret: sealed,
            server_public_key: Some(server_public_key),
            enrolled_at_ms: now,
            revoked: false,
        };
        match self.store.enrol_terminal(&code, counter_public_key, new_terminal, now).await? {
            EnrolOutcome::Enrolled { terminal, merchant } => {
                let server_public_key = terminal.server_public_key.clone().ok_or_else(|| {
                    internal(format!("enrolled terminal {} has no public key", terminal.id))
                })?;
                Ok(Enrolment { terminal: *terminal, merchant, server_public_key })
            }
            EnrolOutcome::CodeUnknown => Err(ServiceError::new(
                ErrorKind::NotFound,
                "activation_code_unknown",
                "This activation code is not valid; check it with the operator.",
            )),
            EnrolOutcome::CodeUsed => Err(ServiceError::new(
                ErrorKind::Conflict,
                "activation_code_used",
                "This activation code was already used; each code enrols one counter.",
            )),
            EnrolOutcome::CodeExpired => Err(ServiceError::new(
                ErrorKind::Conflict,
                "activation_code_expired",
                "This activation code has expired; ask the operator for a new one.",
            )),
        }
    }

    /// Seals terminal keys stored in plain text by an earlier version, and checks that the
    /// secrets key opens the sealed ones: a wrong key file is refused at start-up, not at
    /// the first request of every counter.
    pub async fn seal_stored_terminal_keys(&self) -> Result<usize, ServiceError> {
        let mut sealed_now = 0;
        for (terminal_id, secret) in self.store.terminal_secrets().await? {
            if is_sealed(&secret) {
                self.config.secrets_key.open_terminal_key(terminal_id, &secret).map_err(
                    |error| {
                        ServiceError::new(
                            ErrorKind::Internal,
                            "secrets_key_mismatch",
                            format!("the key of terminal {terminal_id} does not open: {error}"),
                        )
                    },
                )?;
                continue;
            }
            let key = TerminalKey::from_hex(&secret)
                .map_err(|_| internal(format!("terminal {terminal_id} has an unreadable key")))?;
            let sealed = self.seal_terminal_key(terminal_id, &key)?;
            self.store.replace_terminal_secret(terminal_id, &sealed).await?;
            sealed_now += 1;
        }
        Ok(sealed_now)
    }

    /// Seals a terminal key for storage (the demo seed and benchmarks add terminals so).
    pub fn seal_terminal_key(
        &self,
        terminal_id: TerminalId,
        key: &TerminalKey,
    ) -> Result<String, ServiceError> {
        self.config
            .secrets_key
            .seal_terminal_key(terminal_id, key)
            .map_err(|error| internal(error.to_string()))
    }

    fn terminal_key(&self, terminal: &Terminal) -> Result<TerminalKey, ServiceError> {
        self.config
            .secrets_key
            .open_terminal_key(terminal.id, &terminal.secret)
            .map_err(|error| internal(format!("terminal {}: {error}", terminal.id)))
    }

    /// Checks a counter request: its terminal, its clock against the server's, its
    /// signature over every field that changes its meaning, and that its nonce is new. Each
    /// signed request is accepted once; the same bytes sent again are refused.
    pub async fn authenticate_terminal(
        &self,
        request: SignedRequest<'_>,
    ) -> Result<AuthenticatedTerminal, ServiceError> {
        let unauthenticated = |code: &str, message: &str| {
            ServiceError::new(ErrorKind::Unauthenticated, code, message)
        };
        let terminal_id: TerminalId = request.terminal_id.parse().map_err(|_| {
            unauthenticated("signature_missing", "The request is not signed by a counter.")
        })?;
        let timestamp_ms: i64 = request.timestamp_ms.parse().map_err(|_| {
            unauthenticated("signature_missing", "The request has no valid timestamp.")
        })?;
        let nonce_valid = request.nonce.len() == NONCE_HEX_LENGTH
            && request.nonce.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if !nonce_valid {
            return Err(unauthenticated(
                "signature_missing",
                "The request has no valid nonce (32 lowercase hexadecimal characters).",
            ));
        }
        let now = self.store.clock().now_ms();
        // abs_diff: any i64 the client sends, i64::MIN included, is compared without overflow.
        if now.abs_diff(timestamp_ms) > self.config.request_skew_ms.unsigned_abs() {
            return Err(unauthenticated(
                "clock_skew",
                "The counter's clock is too far from the server's; set the time and retry.",
            ));
        }
        let terminal = self.active_terminal(terminal_id).await?;
        let key = self.terminal_key(&terminal)?;
        let to_verify = RequestToSign {
            method: request.method,
            path_and_query: request.path_and_query,
            terminal_id: request.terminal_id,
            timestamp_ms,
            nonce: request.nonce,
            idempotency_key: request.idempotency_key,
            body: request.body,
        };
        if !key.verify_request(&to_verify, request.signature) {
            return Err(unauthenticated(
                "signature_invalid",
                "The request signature does not match.",
            ));
        }
        // Only after the signature: nobody but the counter can spend its nonces. A nonce
        // is kept until its timestamp leaves the skew window, after which the clock check
        // refuses the request anyway.
        let expires_at_ms = timestamp_ms.max(now).saturating_add(self.config.request_skew_ms);
        let count = self.signed_requests.fetch_add(1, Ordering::Relaxed);
        let purge_before = (count % NONCE_PURGE_EVERY == 0).then_some(now);
        if !self
            .store
            .use_request_nonce(terminal_id, request.nonce, expires_at_ms, purge_before)
            .await?
        {
            return Err(unauthenticated(
                "request_replayed",
                "This signed request was already received; a counter signs every request anew.",
            ));
        }
        Ok(AuthenticatedTerminal { terminal, key })
    }

    /// Applies pushed outbox entries in order, each on its own: one refused entry never
    /// blocks the ones behind it.
    pub async fn push_outbox(
        &self,
        terminal: &AuthenticatedTerminal,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<EntryResult>, ServiceError> {
        let mut commands = Vec::with_capacity(entries.len());
        let mut refused = std::collections::HashMap::new();
        let received_at_ms = self.store.clock().now_ms();
        for entry in &entries {
            if let Err(rejection) = self.check_recorded_at(entry.recorded_at_ms, received_at_ms) {
                refused.insert(entry.id, rejection);
                continue;
            }
            let canonical =
                serde_json::to_vec(entry).map_err(|error| internal(error.to_string()))?;
            let command = match &entry.action {
                CounterAction::CashTopUp {
                    customer_id,
                    amount,
                    bonus_shown,
                    bonus_rule_version,
                } => Command {
                    idempotency: IdempotencyKey {
                        key: format!("terminal/{}/outbox/{}", terminal.terminal.id, entry.id),
                        fingerprint: fingerprint(&[b"outbox", &canonical]),
                    },
                    recorded_at_ms: entry.recorded_at_ms,
                    kind: CommandKind::CashTopUp(CashTopUp {
                        merchant_id: terminal.terminal.merchant_id,
                        terminal_id: terminal.terminal.id,
                        outbox_entry_id: entry.id,
                        customer_id: *customer_id,
                        amount: *amount,
                        bonus_shown: *bonus_shown,
                        rule_set_version: *bonus_rule_version,
                    }),
                },
            };
            commands.push(command);
        }
        let mut decisions = self.writer.submit_all(commands).await.into_iter();
        let mut results = Vec::with_capacity(entries.len());
        for entry in &entries {
            if let Some(rejection) = refused.remove(&entry.id) {
                results.push(EntryResult { id: entry.id, outcome: rejection });
                continue;
            }
            let Some(decision) = decisions.next() else {
                return Err(internal("the ledger answered fewer entries than were sent".into()));
            };
            let outcome = match decision {
                Ok(Decided { outcome: Outcome::Rejected { code, message }, .. }) => {
                    EntryOutcome::Rejected { code, message }
                }
                Ok(Decided { replayed: true, .. }) => EntryOutcome::AlreadyApplied,
                Ok(Decided { replayed: false, .. }) => EntryOutcome::Applied,
                Err(SubmitError::Deferred(deferred))
                    if deferred.code() == "idempotency_key_reused" =>
                {
                    EntryOutcome::Rejected {
                        code: deferred.code().to_owned(),
                        message: deferred.to_string(),
                    }
                }
                Err(error) => {
                    let error = ServiceError::from(error);
                    EntryOutcome::RetryLater { code: error.code, message: error.message }
                }
            };
            results.push(EntryResult { id: entry.id, outcome });
        }
        Ok(results)
    }

    /// A counter's clock is trusted within bounds: an entry cannot be recorded later than
    /// the server receives it (give or take the allowed skew), nor longer ago than a counter
    /// can have been offline. A counter may be offline for days, never in the future: an
    /// entry dated in the future would never be settled. (The bonus of an old entry is
    /// judged by the server's clock, see `Batch::bonus_for`, so backdating gains nothing.)
    fn check_recorded_at(
        &self,
        recorded_at_ms: i64,
        received_at_ms: i64,
    ) -> Result<(), EntryOutcome> {
        let skew = self.config.request_skew_ms;
        let earliest = received_at_ms.saturating_sub(RECORDED_AT_AGE_MS_MAX);
        let latest = received_at_ms.saturating_add(skew);
        if recorded_at_ms < earliest || recorded_at_ms > latest {
            return Err(EntryOutcome::Rejected {
                code: "recorded_at_out_of_range".to_owned(),
                message: "The entry's time is later than the server received it, or older than \
                          a counter can be offline (90 days); check the counter's clock."
                    .to_owned(),
            });
        }
        Ok(())
    }

    pub async fn refund(
        &self,
        terminal: &AuthenticatedTerminal,
        order_id: OrderId,
        amount: PositiveAmount,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let fingerprint = fingerprint(&[
            b"refund",
            order_id.to_string().as_bytes(),
            &amount.amount().minor_units().to_be_bytes(),
        ]);
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("terminal/{}/refund/{idempotency_key}", terminal.terminal.id),
                fingerprint,
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::Refund(Refund {
                merchant_id: terminal.terminal.merchant_id,
                terminal_id: terminal.terminal.id,
                order_id,
                amount,
            }),
        };
        self.submit(command).await
    }

    /// Gives back cash for all or part of a top-up recorded by a counter of this store.
    pub async fn reverse_top_up(
        &self,
        terminal: &AuthenticatedTerminal,
        top_up: tillfund_core::OutboxEntryId,
        amount: PositiveAmount,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("terminal/{}/reversal/{idempotency_key}", terminal.terminal.id),
                fingerprint: fingerprint(&[
                    b"reversal",
                    top_up.to_string().as_bytes(),
                    &amount.amount().minor_units().to_be_bytes(),
                ]),
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::ReverseTopUp(crate::ledger::ReverseTopUp {
                merchant_id: terminal.terminal.merchant_id,
                terminal_id: terminal.terminal.id,
                top_up,
                amount,
            }),
        };
        self.submit(command).await
    }

    /// Orders of the terminal's store paid after `after_entry`. With `wait` and nothing
    /// new, waits up to `wait` for the ledger to commit something first (long poll), so a
    /// counter hears of a payment within moments.
    pub async fn paid_orders(
        &self,
        terminal: &AuthenticatedTerminal,
        after_entry: i64,
        wait: std::time::Duration,
    ) -> Result<Vec<crate::ledger::PaidOrder>, ServiceError> {
        const PAID_ORDERS_PER_ANSWER_MAX: i64 = 500;
        let merchant_id = terminal.terminal.merchant_id;
        // A held poll is cheap but not free: each counter may hold a few, the server a
        // bounded number; past either, the answer comes at once (the counter polls again).
        let slot = if wait.is_zero() { None } else { self.long_poll_slot(terminal.terminal.id) };
        let wait = if slot.is_some() { wait } else { std::time::Duration::ZERO };
        let deadline = tokio::time::Instant::now() + wait;
        let mut commits = self.writer.commits();
        loop {
            commits.borrow_and_update();
            let orders = self
                .store
                .paid_orders_after(merchant_id, after_entry, PAID_ORDERS_PER_ANSWER_MAX)
                .await?;
            if !orders.is_empty() {
                return Ok(orders);
            }
            match tokio::time::timeout_at(deadline, commits.changed()).await {
                Ok(Ok(())) => continue,
                _ => return Ok(orders),
            }
        }
    }

    fn long_poll_slot(&self, terminal_id: TerminalId) -> Option<LongPollSlot> {
        let mut per_terminal = self.long_polls.per_terminal.lock().ok()?;
        let held = per_terminal.get(&terminal_id).copied().unwrap_or(0);
        if held >= self.config.long_polls_per_terminal_max {
            return None;
        }
        let total = self.long_polls.total.fetch_add(1, Ordering::SeqCst);
        if total >= self.config.long_polls_total_max {
            self.long_polls.total.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        per_terminal.insert(terminal_id, held + 1);
        Some(LongPollSlot { polls: self.long_polls.clone(), terminal_id })
    }

    pub async fn binding_changes(
        &self,
        terminal: &AuthenticatedTerminal,
        after_sequence: i64,
        limit: i64,
    ) -> Result<Vec<BindingChange>, ServiceError> {
        Ok(self.store.binding_changes(terminal.terminal.merchant_id, after_sequence, limit).await?)
    }

    // ---- operator ----

    pub async fn add_merchant(
        &self,
        name: &str,
        time_zone: &str,
    ) -> Result<Merchant, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::invalid(
                "merchant_name_invalid",
                "A store name is 1 to 100 characters.",
            ));
        }
        let time_zone = time_zone.trim();
        if time_zone.len() > 64 || jiff::tz::TimeZone::get(time_zone).is_err() {
            return Err(ServiceError::invalid(
                "time_zone_invalid",
                format!("'{time_zone}' is not an IANA time zone name such as Asia/Shanghai."),
            ));
        }
        let merchant = Merchant {
            id: MerchantId::generate(),
            name: name.to_owned(),
            time_zone: time_zone.to_owned(),
        };
        self.store.add_merchant(&merchant, self.store.clock().now_ms()).await?;
        Ok(merchant)
    }

    pub async fn fund_reserve(
        &self,
        amount: PositiveAmount,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("operator/fund/{idempotency_key}"),
                fingerprint: fingerprint(&[b"fund", &amount.amount().minor_units().to_be_bytes()]),
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::FundReserve { amount },
        };
        self.submit(command).await
    }

    pub async fn publish_bonus_rules(
        &self,
        rules: Vec<BonusRule>,
    ) -> Result<BonusRuleSet, ServiceError> {
        self.store.publish_bonus_rules(rules).await.map_err(|error| match error {
            StoreError::Invalid(rule_error) => {
                ServiceError::invalid(rule_error.code(), rule_error.to_string())
            }
            other => ServiceError::from(other),
        })
    }

    /// Checks the operator's bearer token in constant time.
    pub fn authenticate_operator(&self, token: &str) -> Result<(), ServiceError> {
        let Some(expected) = self.config.operator_token.as_deref() else {
            return Err(ServiceError::new(
                ErrorKind::NotFound,
                "operator_api_disabled",
                "The operator API is off: start the server with TILLFUND_OPERATOR_TOKEN set.",
            ));
        };
        let matches = expected.len() == token.len()
            && expected.bytes().zip(token.bytes()).fold(0_u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !matches {
            return Err(ServiceError::new(
                ErrorKind::Unauthenticated,
                "operator_token_invalid",
                "The operator token is wrong.",
            ));
        }
        Ok(())
    }

    /// The reserve's health, for the operator and for monitoring.
    pub async fn ledger_status(&self) -> Result<LedgerStatus, ServiceError> {
        Ok(LedgerStatus {
            reserve: self.store.balance(Account::Reserve).await?,
            service: self.store.balance(Account::Service).await?,
            reserve_threshold: self.config.policy.reserve_threshold,
            reserve_refill: self.config.policy.reserve_refill,
            reserve_alert: self.store.reserve_alert().await?,
            last_yield_day: self.store.last_accrued_day().await?,
        })
    }

    pub async fn audit(&self) -> Result<AuditReport, ServiceError> {
        Ok(self.store.audit().await?)
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

fn locked_error(locked_until_ms: i64, now_ms: i64) -> ServiceError {
    let minutes = ((locked_until_ms - now_ms) + 59_999) / 60_000;
    ServiceError::new(
        ErrorKind::Locked,
        "wallet_locked",
        format!("Too many wrong PINs: the wallet is locked for {minutes} more minutes."),
    )
}

pub(crate) fn internal(message: String) -> ServiceError {
    tracing::error!(%message, "internal error");
    ServiceError::new(ErrorKind::Internal, "internal", "The server failed; it has been logged.")
}

fn pin_check_error(error: crate::pin_checker::PinCheckError) -> ServiceError {
    match error {
        crate::pin_checker::PinCheckError::ShuttingDown => shutting_down(),
        other => internal(other.to_string()),
    }
}

fn shutting_down() -> ServiceError {
    ServiceError::new(
        ErrorKind::Unavailable,
        "shutting_down",
        "The server is restarting; try again.",
    )
}
