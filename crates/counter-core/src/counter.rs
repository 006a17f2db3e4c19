//! What the cashier does at the counter, offline-first: enrol once, look customers up in
//! the local cache, preview the bonus, record cash top-ups.

use std::path::Path;

use tillfund_core::protocol::ErrorCode;
use tillfund_core::{Amount, Currency, MemberCode, PhoneNumber, PositiveAmount};

use crate::client::ClientError;
use crate::error_code::CounterCode;
use crate::staff::Cashier;
use crate::store::{
    CachedCustomer, CounterProfile, LocalStore, LocalStoreError, NewTopUp, TopUpRecord,
};

/// Errors the counter shows the cashier: a stable code and a message.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error("this counter is not enrolled yet: enter the server address and an activation code")]
    NotEnrolled,
    /// The counter refuses it.
    #[error("{message}")]
    Invalid { code: CounterCode, message: String },
    /// The core refuses a field the cashier keyed (an amount, a phone number).
    #[error("{message}")]
    Field { code: ErrorCode, message: String },
    #[error(
        "no customer of this store has this member code or phone number (the list was last updated from the server when online)"
    )]
    CustomerNotFound,
    #[error("{name} is not bound to this store: the customer can add it in the wallet")]
    CustomerNotBound { name: String },
    #[error("sign in with your PIN first")]
    SignInRequired,
    #[error("only a manager may do this: ask a manager to sign in")]
    ManagerRequired,
    #[error("wrong PIN: {attempts_left} more {} before this member is locked out", if *attempts_left == 1 { "try" } else { "tries" })]
    StaffPinWrong { attempts_left: i64 },
    #[error("too many wrong PINs: locked for {minutes} minutes, or a manager resets the PIN")]
    StaffLocked { minutes: i64 },
    #[error(transparent)]
    Server(#[from] ClientError),
    #[error(transparent)]
    Local(#[from] LocalStoreError),
}

impl From<crate::sync::SyncError> for CounterError {
    fn from(error: crate::sync::SyncError) -> CounterError {
        match error {
            crate::sync::SyncError::Server(error) => CounterError::Server(error),
            crate::sync::SyncError::Local(error) => CounterError::Local(error),
            crate::sync::SyncError::NotEnrolled => CounterError::NotEnrolled,
        }
    }
}

impl CounterError {
    pub fn code(&self) -> &str {
        match self {
            CounterError::NotEnrolled => CounterCode::NotEnrolled.as_str(),
            CounterError::Invalid { code, .. } => code.as_str(),
            CounterError::Field { code, .. } => code.as_str(),
            CounterError::CustomerNotFound => CounterCode::CustomerNotFound.as_str(),
            CounterError::CustomerNotBound { .. } => CounterCode::CustomerNotBound.as_str(),
            CounterError::SignInRequired => CounterCode::SignInRequired.as_str(),
            CounterError::ManagerRequired => CounterCode::ManagerRequired.as_str(),
            CounterError::StaffPinWrong { .. } => CounterCode::StaffPinWrong.as_str(),
            CounterError::StaffLocked { .. } => CounterCode::StaffLocked.as_str(),
            CounterError::Server(error) => error.code(),
            CounterError::Local(_) => CounterCode::LocalStorageFailed.as_str(),
        }
    }

    /// The refusal in Chinese, from the tables of the counter, the server and the core;
    /// `None` for a code none of them has (a newer server's), whose message is shown.
    pub fn chinese(&self) -> Option<&'static str> {
        crate::error_code::chinese_text(self.code())
    }
}

/// Reads an amount the cashier keyed, in the currency the counter enrolled with.
pub(crate) fn profile_amount(
    profile: &CounterProfile,
    amount_text: &str,
) -> Result<PositiveAmount, CounterError> {
    let currency = Currency::from_code(&profile.currency).map_err(|error| {
        CounterError::Invalid { code: CounterCode::CurrencyUnsupported, message: error.to_string() }
    })?;
    PositiveAmount::parse(amount_text, currency)
        .map_err(|error| CounterError::Field { code: error.code(), message: error.to_string() })
}

/// The system clock, for what has no `CounterEnv` at hand (staff sign-in, the print queue).
pub fn now_ms() -> i64 {
    tillfund_core::clock::system_now_ms()
}

/// The counter: its local store and who it is.
#[derive(Debug, Clone)]
pub struct Counter {
    store: LocalStore,
}

/// What the cashier sees before taking the cash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpPreview {
    pub customer: CachedCustomer,
    pub amount: PositiveAmount,
    pub bonus: Amount,
    pub rule_version: u32,
}

impl Counter {
    pub async fn open(database_path: &Path) -> Result<Counter, CounterError> {
        Ok(Counter { store: LocalStore::open(database_path).await? })
    }

    /// As `open`, reading time, ids and the server through `env` (the simulator's).
    pub async fn open_with(
        database_path: &Path,
        env: crate::transport::CounterEnv,
    ) -> Result<Counter, CounterError> {
        Ok(Counter { store: LocalStore::open_with(database_path, env).await? })
    }

    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    pub async fn profile(&self) -> Result<CounterProfile, CounterError> {
        self.store.profile().await?.ok_or(CounterError::NotEnrolled)
    }

    /// Enrols a counter that is not enrolled yet (first run) with an activation code and
    /// keeps the result. An enrolled counter is enrolled again only by a manager, through
    /// `re_enrol` (`re_enrolment.rs`), which says what happens to what it holds.
    pub async fn enrol(
        &self,
        server_url: &str,
        activation_code: &str,
        label: &str,
    ) -> Result<CounterProfile, CounterError> {
        if let Some(profile) = self.store.profile().await? {
            return Err(CounterError::Invalid {
                code: CounterCode::AlreadyEnrolled,
                message: format!(
                    "This counter is enrolled already (terminal {} of {}); a manager enrols it \
                     again in Settings.",
                    profile.terminal_id, profile.merchant_name
                ),
            });
        }
        self.enrol_with_code(server_url, activation_code, label, None).await
    }

    /// The enrolment itself: the terminal key comes from a key agreement and never crosses
    /// the wire; a lost answer is asked for again with the same public key inside
    /// `ServerClient::enrol`. Refused while anything waits for the server
    /// (`WaitingForServer`): it was signed or keyed under the terminal it was made with.
    pub(crate) async fn enrol_with_code(
        &self,
        server_url: &str,
        activation_code: &str,
        label: &str,
        replaces: Option<&crate::client::TerminalCredentials>,
    ) -> Result<CounterProfile, CounterError> {
        let server_url = server_url.trim();
        if !(server_url.starts_with("http://") || server_url.starts_with("https://")) {
            return Err(CounterError::Invalid {
                code: CounterCode::ServerUrlInvalid,
                message: format!("'{server_url}' is not a server address; it starts with https://"),
            });
        }
        let waiting = self.waiting_for_server().await?;
        if !waiting.is_empty() {
            return Err(CounterError::Invalid {
                code: CounterCode::UnsyncedEntries,
                message: waiting.refusal(),
            });
        }
        let client = self.store.server_client(server_url)?;
        let code = activation_code.trim().to_uppercase();
        let enrolment = client.enrol(&code, label, replaces).await?;
        self.store.save_enrolment(client.base_url(), &enrolment).await?;
        // The store's staff at once, so that a new counter of a store with staff offers
        // sign-in rather than "the first manager" (the server refuses a second first
        // manager anyway). Offline now, the sync worker pulls them soon.
        if let Err(error) = crate::staff_sync::sync_staff(&self.store).await {
            tracing::info!(%error, "staff not pulled at enrolment; the next sync does");
        }
        self.profile().await
    }

    /// Finds the customer (member code as scanned or typed, or phone number) in the cache
    /// and computes the bonus from the cached rules. Works with no network.
    pub async fn preview_top_up(
        &self,
        customer: &str,
        amount_text: &str,
    ) -> Result<TopUpPreview, CounterError> {
        let profile = self.profile().await?;
        let amount = profile_amount(&profile, amount_text)?;
        let cached = self.find_bound_customer(customer).await?;
        let rules = self.store.bonus_rules().await?;
        let quote = rules.quote(profile.merchant_id, amount, self.store.now_ms());
        Ok(TopUpPreview {
            customer: cached,
            amount,
            bonus: quote.bonus,
            rule_version: quote.rule_set_version,
        })
    }

    /// The customer in the cache by member code (as scanned or typed) or phone number,
    /// bound to this store.
    pub(crate) async fn find_bound_customer(
        &self,
        customer: &str,
    ) -> Result<CachedCustomer, CounterError> {
        // Twelve digits are a member code (a scanner or a typist); anything else a phone.
        let compact: String = customer.chars().filter(|c| !c.is_whitespace()).collect();
        let looks_like_member_code = compact.len() == MemberCode::LENGTH
            && compact.bytes().all(|byte| byte.is_ascii_digit());
        let invalid = |code: ErrorCode, message: String| CounterError::Field { code, message };
        let key = if looks_like_member_code {
            MemberCode::parse(&compact)
                .map_err(|error| invalid(error.code(), error.to_string()))?
                .to_string()
        } else {
            PhoneNumber::parse(customer)
                .map_err(|error| invalid(error.code(), error.to_string()))?
                .to_string()
        };
        let cached = self.store.find_customer(&key).await?.ok_or(CounterError::CustomerNotFound)?;
        if !cached.bound {
            return Err(CounterError::CustomerNotBound { name: cached.display_name });
        }
        Ok(cached)
    }

    /// Records the top-up the cashier took cash for; it waits in the outbox until the server
    /// confirms it.
    pub async fn record_top_up(
        &self,
        by: Option<&Cashier>,
        preview: &TopUpPreview,
    ) -> Result<TopUpRecord, CounterError> {
        let profile = self.profile().await?;
        let rule_version = (preview.rule_version > 0).then_some(preview.rule_version);
        Ok(self
            .store
            .record_top_up(
                &profile.receipt_prefix,
                NewTopUp {
                    customer_id: preview.customer.customer_id,
                    amount: preview.amount,
                    bonus_shown: preview.bonus,
                    rule_version,
                    recorded_at_ms: self.store.now_ms(),
                    cashier: by,
                },
            )
            .await?)
    }
}
