//! Customers: sign-up, PINs with their lock-out, sessions, the wallet and its stores.

use super::*;
use crate::store::Storage;

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
    pub entries: Vec<WalletEntry>,
    /// Oldest first.
    pub days: Vec<YieldDay>,
    /// `None` before a week's balance has earned anything.
    pub annualized_7d_percent: Option<Decimal>,
    /// The last accrued day's yield on 10,000 of the currency (万份收益), in major units,
    /// to four places; `None` before a day's balance has earned anything.
    pub per_ten_thousand: Option<Decimal>,
    /// How yield is counted, for the customer to check the figures.
    pub convention: YieldConvention,
}

/// How yield is counted, as the wallet page states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YieldConvention {
    /// The days' zone (IANA name).
    pub time_zone: String,
    /// 365 or 360: a day earns the annual rate divided by this.
    pub days_a_year: u32,
    pub posting: crate::ledger::yield_math::PostingInterval,
    /// A day whose end-of-day balance is under this earns nothing.
    pub minimum_balance: Amount,
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

/// 32 random bytes as hex: session tokens.
pub(super) fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    tillfund_core::signing::encode_hex(&bytes)
}

pub(super) fn random_member_code() -> MemberCode {
    MemberCode::from_body(OsRng.next_u64())
}

/// Who a new wallet will be: its id and the member code tried first (another is drawn if
/// that one is taken).
#[derive(Debug, Clone)]
pub struct NewWallet {
    pub customer_id: CustomerId,
    pub member_code: MemberCode,
}

impl NewWallet {
    pub fn random() -> NewWallet {
        NewWallet { customer_id: CustomerId::generate(), member_code: random_member_code() }
    }
}

/// Sessions deleted per statement: short transactions, whatever the backlog.
const SESSIONS_PURGED_PER_ROUND: i64 = 10_000;
/// Rounds per purge: a million sessions an hour, more than sign-ins can create.
const SESSIONS_PURGE_ROUNDS_MAX: usize = 100;

impl<S: Storage> FundService<S> {
    /// Sign-up: a new wallet bound to the chosen stores.
    pub async fn register_customer(
        &self,
        phone: PhoneNumber,
        display_name: DisplayName,
        pin: PaymentPin,
        merchant_ids: Vec<MerchantId>,
        idempotency_key: &str,
    ) -> Result<CustomerView, ServiceError> {
        let wallet = NewWallet::random();
        self.register_customer_as(wallet, phone, display_name, pin, merchant_ids, idempotency_key)
            .await
    }

    /// Sign-up with the wallet's id and first member code chosen by the caller (the demo
    /// seed's fixed wallet).
    pub async fn register_customer_as(
        &self,
        wallet: NewWallet,
        phone: PhoneNumber,
        display_name: DisplayName,
        pin: PaymentPin,
        merchant_ids: Vec<MerchantId>,
        idempotency_key: &str,
    ) -> Result<CustomerView, ServiceError> {
        const BOUND_AT_REGISTRATION_MAX: usize = 20;
        if merchant_ids.len() > BOUND_AT_REGISTRATION_MAX {
            return Err(ServiceError::new(
                ErrorCode::TooManyStores,
                format!("Choose at most {BOUND_AT_REGISTRATION_MAX} stores when signing up."),
            ));
        }
        let pin_hash = self.hash_pin(pin).await?;
        let customer = Customer {
            id: wallet.customer_id,
            phone,
            display_name: display_name.as_str().to_owned(),
            member_code: wallet.member_code,
            pin_hash,
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
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was already used for a different sign-up.",
            )),
            RegisterOutcome::PhoneTaken => Err(ServiceError::new(
                ErrorCode::PhoneTaken,
                "A wallet with this phone number already exists; sign in instead.",
            )),
            RegisterOutcome::MerchantUnknown(merchant_id) => Err(ServiceError::new(
                ErrorCode::MerchantUnknown,
                format!("There is no store with id {merchant_id}."),
            )),
        }
    }

    pub(super) async fn hash_pin(&self, pin: PaymentPin) -> Result<String, ServiceError> {
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
        // One check at a time per wallet in this process: an attempt counts as wrong until
        // it proves right, so a customer's own concurrent right PINs (a double tap, two
        // tabs) must never add up to a lock. Other wallets are not held up.
        let wallet_turn = self.pin_turns.turn(customer.id);
        let _wallet_turn = wallet_turn.lock().await;
        let now = self.store.clock().now_ms();
        let limit = self.config.pin_attempts_max;
        let attempt = match self
            .store
            .take_pin_attempt(customer.id, limit, now, now + self.config.pin_lock_ms)
            .await?
        {
            PinAttempt::Locked { until_ms } => {
                return Err(locked_error(until_ms, now, self.platform_zone()));
            }
            PinAttempt::Taken { attempt, locks } => (attempt, locks),
        };
        let matches = {
            // The argon2 turn is held for the hash alone: it bounds memory, not the wallet.
            let turn = self.pin_checker.permit().await.map_err(pin_check_error)?;
            self.pin_checker
                .verify(&turn, pin, customer.pin_hash.clone())
                .await
                .map_err(pin_check_error)?
        };
        if matches {
            self.store.reset_pin_failures(customer.id).await?;
            return Ok(());
        }
        let (number, locks) = attempt;
        if locks {
            return Err(locked_error(now + self.config.pin_lock_ms, now, self.platform_zone()));
        }
        let left = (limit - number).max(0);
        Err(ServiceError::new(
            ErrorCode::PinWrong,
            format!(
                "Wrong PIN; {left} {} left before the wallet locks.",
                if left == 1 { "try" } else { "tries" }
            ),
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
        let sign_in_failed =
            || ServiceError::new(ErrorCode::SignInFailed, "The phone number or the PIN is wrong.");
        let Some(customer) = self.store.customer_by_phone(phone).await? else {
            let decoy = self.decoy_pin_hash().await?;
            let turn = self.pin_checker.permit().await.map_err(pin_check_error)?;
            let _ = self.pin_checker.verify(&turn, pin, decoy).await;
            return Err(sign_in_failed());
        };
        match self.verify_pin(&customer, pin).await {
            Err(error) if error.code == ErrorCode::PinWrong => return Err(sign_in_failed()),
            other => other?,
        }
        // Told only to whoever knows the PIN.
        if self.store.wallet_closed(customer.id).await? {
            return Err(ServiceError::new(ErrorCode::WalletClosed, "This wallet is closed."));
        }
        let token = random_token();
        let now = self.store.clock().now_ms();
        self.store.add_session(&token, customer.id, now, now + self.config.session_ttl_ms).await?;
        Ok((token, CustomerView::from(&customer)))
    }

    /// A PIN hash at this server's cost, made once, that no PIN is known to match: sign-in
    /// checks it for unknown phones so that they take as long as known ones.
    pub(super) async fn decoy_pin_hash(&self) -> Result<String, ServiceError> {
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

    /// Deletes sessions that have expired, in rounds of `SESSIONS_PURGED_PER_ROUND`, at
    /// most `SESSIONS_PURGE_ROUNDS_MAX` rounds (a larger backlog is left to the next hour);
    /// returns how many. `serve` runs it every hour in every process.
    pub async fn purge_expired_sessions(&self) -> Result<u64, ServiceError> {
        let now_ms = self.store.clock().now_ms();
        let mut purged = 0;
        for _ in 0..SESSIONS_PURGE_ROUNDS_MAX {
            let round =
                self.store.purge_expired_sessions(now_ms, SESSIONS_PURGED_PER_ROUND).await?;
            purged += round;
            if round < SESSIONS_PURGED_PER_ROUND as u64 {
                break;
            }
        }
        Ok(purged)
    }

    pub fn session_ttl_ms(&self) -> i64 {
        self.config.session_ttl_ms
    }

    pub async fn session_customer(&self, token: &str) -> Result<Customer, ServiceError> {
        let unauthenticated = || {
            ServiceError::new(
                ErrorCode::SessionInvalid,
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

    /// What the wallet page shows beside the balance: the latest entries, the yield of the
    /// last days with its 7-day annualized rate (the week's yield over the week's balances,
    /// × the days of the year counted) and the last day's yield per 10,000, and how yield is
    /// counted.
    pub async fn wallet_activity(
        &self,
        customer: &Customer,
    ) -> Result<WalletActivity, ServiceError> {
        let entries = self.store.wallet_history(customer.id, WALLET_HISTORY_SHOWN).await?;
        let days = self.store.yield_days(customer.id, YIELD_DAYS_SHOWN).await?;
        let last_week = &days[days.len().saturating_sub(7)..];
        let balance: i64 = last_week.iter().map(|day| day.balance).sum();
        let accrued: Decimal = last_week.iter().map(|day| day.accrued).sum();
        let policy = &self.config.yield_policy;
        let divisor = policy.day_count.divisor();
        let annualized_7d_percent = (balance > 0)
            .then(|| {
                accrued
                    .checked_div(Decimal::from(balance))
                    .and_then(|rate| rate.checked_mul(divisor * Decimal::from(100)))
                    .map(|percent| percent.round_dp(2))
            })
            .flatten();
        let per_ten_thousand = days
            .iter()
            .rev()
            .find(|day| day.balance > 0)
            .and_then(|day| day.accrued.checked_div(Decimal::from(day.balance)))
            .and_then(|rate| rate.checked_mul(Decimal::from(10_000)))
            .map(|major| major.round_dp(4));
        let convention = YieldConvention {
            time_zone: policy.time_zone.iana_name().unwrap_or("UTC").to_owned(),
            days_a_year: u32::try_from(divisor.mantissa()).unwrap_or(365),
            posting: policy.posting,
            minimum_balance: policy.minimum_balance,
        };
        Ok(WalletActivity { entries, days, annualized_7d_percent, per_ten_thousand, convention })
    }

    pub async fn set_binding(
        &self,
        customer: &Customer,
        merchant_id: MerchantId,
        bound: bool,
    ) -> Result<(), ServiceError> {
        if bound && self.store.wallet_closed(customer.id).await? {
            return Err(ServiceError::new(ErrorCode::WalletClosed, "This wallet is closed."));
        }
        match self
            .store
            .set_binding(customer.id, merchant_id, bound, self.store.clock().now_ms())
            .await?
        {
            BindOutcome::Changed | BindOutcome::Unchanged => Ok(()),
            BindOutcome::MerchantUnknown => Err(ServiceError::new(
                ErrorCode::MerchantUnknown,
                format!("There is no store with id {merchant_id}."),
            )),
        }
    }
}
