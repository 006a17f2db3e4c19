//! Redemption: the customer confirms on the phone (the PIN, then a one-time code for a store
//! and an amount), the store's manager keys the code in at a counter, and the ledger pays
//! principal and yield out of that counter's drawer (`ledger::engine::redemption`).
//!
//! A code is eight random digits kept as a hash, for one store, one amount and ten minutes;
//! a customer holds at most three at once and asks for no more than a full wallet (the
//! balance cap) in 24 hours, decided under a lock per customer. Wrong codes are counted in
//! the database per customer, so a counter cannot guess its way through them. The code's id
//! is the ledger's idempotency key: a code pays out once, and a counter's retry of a used
//! code gets the same answer.

use rand_core::{OsRng, RngCore};
use tillfund_core::protocol::{REDEMPTION_CODE_DIGITS, REDEMPTION_CODE_LIFETIME_MS};
use tillfund_core::protocol::{REDEMPTION_CODES_LIVE_MAX, RedemptionCodeBody};
use tillfund_core::{CustomerId, MerchantId, PaymentPin, PositiveAmount, StaffId};

use super::*;
use crate::store::{CashierKind, IssueOutcome, RedemptionCodeRecord, Storage};

/// Tries at a customer's codes for one store in a window, right or wrong: counted before
/// the code is looked at, in the database, so parallel guesses cannot pass the limit.
const TRIES_MAX: u32 = 8;
const TRIES_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// Codes looked at per redemption: the live ones and the one the attempt holds.
const CODES_READ_MAX: i64 = 20;
/// A counter's attempt id: its own uuid, or anything as short and plain.
const ATTEMPT_ID_MAX: usize = 64;

fn tries_limit() -> AttemptLimit {
    AttemptLimit::new("redemption-code", TRIES_MAX, TRIES_WINDOW)
}

fn same_in_constant_time(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left.bytes().zip(right.bytes()).fold(0_u8, |differ, (a, b)| differ | (a ^ b)) == 0
}

fn new_code() -> String {
    let mut bytes = [0_u8; 8];
    OsRng.fill_bytes(&mut bytes);
    let value = u64::from_le_bytes(bytes) % 10_u64.pow(REDEMPTION_CODE_DIGITS as u32);
    format!("{value:0width$}", width = REDEMPTION_CODE_DIGITS)
}

impl<S: Storage> FundService<S> {
    /// The code's digest under the deployment's key, with its id: the database alone does
    /// not give 8 digits back, however fast one guesses.
    fn code_hash(&self, id: &str, code: &str) -> String {
        let digest = self.config.secrets_key.keyed_digest(&[
            b"tillfund-redemption-code",
            id.as_bytes(),
            code.as_bytes(),
        ]);
        tillfund_core::signing::encode_hex(&digest)
    }

    /// A closed wallet asks for nothing more.
    async fn refuse_closed(&self, customer_id: CustomerId) -> Result<(), ServiceError> {
        if self.store.wallet_closed(customer_id).await? {
            return Err(ServiceError::new(ErrorCode::WalletClosed, "This wallet is closed."));
        }
        Ok(())
    }

    /// Principal, bonus and yield of a wallet now, minor units.
    async fn wallet_buckets(&self, customer_id: CustomerId) -> Result<[i64; 3], ServiceError> {
        let mut buckets = [0; 3];
        for (slot, bucket) in buckets.iter_mut().zip(crate::ledger::Bucket::ALL) {
            let account = crate::ledger::Account::Wallet(customer_id, bucket);
            *slot = self.store.balance(account).await?.minor_units();
        }
        Ok(buckets)
    }

    /// Closes the wallet: unbound from every store (the counters hear it with their next
    /// binding pull, so they take no more top-ups for it), signed out, no more sign-in.
    /// Each step may run again: a retried payout finishes what a crash left half done.
    /// Answers whether it closed: a top-up that landed between the closing payout and the
    /// unbinding leaves the wallet unbound but open, so its owner can still take it out.
    pub async fn close_wallet(&self, customer_id: CustomerId) -> Result<bool, ServiceError> {
        let now = self.store.clock().now_ms();
        for merchant in self.store.bound_merchants(customer_id).await? {
            self.store.set_binding(customer_id, merchant.id, false, now).await?;
        }
        let [principal, _, earned] = self.wallet_buckets(customer_id).await?;
        if principal + earned != 0 {
            tracing::warn!(%customer_id, "money arrived while the wallet closed; left open");
            return Ok(false);
        }
        self.store.close_wallet(customer_id, now).await?;
        Ok(true)
    }

    /// Closes a wallet with nothing payable at once (after the PIN): no cash to hand over,
    /// so no counter is needed. Bonus left without principal (payments split across the
    /// buckets, so a few fen can stay) goes back to the reserve first, in the ledger.
    pub async fn close_empty_wallet(
        &self,
        customer: &Customer,
        pin: PaymentPin,
    ) -> Result<(), ServiceError> {
        self.verify_pin(customer, pin).await?;
        self.refuse_closed(customer.id).await?;
        let [principal, _, earned] = self.wallet_buckets(customer.id).await?;
        if principal + earned != 0 {
            return Err(ServiceError::new(
                ErrorCode::WalletChanged,
                "The wallet holds money: it is paid out at a store before it closes.",
            ));
        }
        // A key of its own for each closing: after a close left open (money arrived), the
        // next one forfeits what bonus came with that money too.
        let attempt = tillfund_core::OutboxEntryId::generate();
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("customer/{}/bonus-forfeiture/{attempt}", customer.id),
                fingerprint: fingerprint(&[
                    b"bonus-forfeiture",
                    customer.id.to_string().as_bytes(),
                ]),
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::ForfeitBonus { customer_id: customer.id },
        };
        match self.submit(command).await? {
            Outcome::BonusForfeited { amount, .. } if amount.minor_units() > 0 => {
                tracing::info!(customer_id = %customer.id, minor_units = amount.minor_units(), "bonus forfeited at closing");
            }
            _ => {}
        }
        if !self.close_wallet(customer.id).await? {
            return Err(ServiceError::new(
                ErrorCode::WalletChanged,
                "Money arrived as the wallet was closing: it stays open (no store any more). \
                 Sign in, cash it out at a store, then close it.",
            ));
        }
        Ok(())
    }

    fn format_amount(&self, minor_units: i64) -> String {
        let currency = self.config.policy.currency;
        Amount::from_minor_units(minor_units).map_or_else(
            |_| minor_units.to_string(),
            |amount| format!("{} {currency}", amount.format(currency)),
        )
    }

    /// The customer asks to take `amount` out as cash at a store the wallet is bound to;
    /// answers the code to show the manager there. With `close_wallet`, `amount` is all
    /// that is payable and paying it out closes the wallet.
    pub async fn issue_redemption_code(
        &self,
        customer: &Customer,
        merchant_id: MerchantId,
        amount: PositiveAmount,
        pin: PaymentPin,
        close_wallet: bool,
    ) -> Result<RedemptionCodeBody, ServiceError> {
        self.verify_pin(customer, pin).await?;
        self.refuse_closed(customer.id).await?;
        let merchant = self
            .store
            .bound_merchants(customer.id)
            .await?
            .into_iter()
            .find(|merchant| merchant.id == merchant_id)
            .ok_or_else(|| {
                ServiceError::new(
                    ErrorCode::CustomerNotBound,
                    "Cash is paid out only at a store the wallet is bound to.",
                )
            })?;
        let wallet = self.wallet(customer).await?;
        let payable = wallet.principal.minor_units() + wallet.yield_earned.minor_units();
        let minor_units = amount.amount().minor_units();
        if close_wallet && minor_units != payable {
            return Err(ServiceError::new(
                ErrorCode::WalletChanged,
                format!(
                    "Closing pays out everything payable, now {}; ask again.",
                    self.format_amount(payable)
                ),
            ));
        }
        if minor_units > payable {
            return Err(ServiceError::new(
                ErrorCode::RedemptionExceedsBalance,
                format!(
                    "At most {} can be paid out: principal and yield (bonus is never cash).",
                    self.format_amount(payable)
                ),
            ));
        }
        let now = self.store.clock().now_ms();
        let code = new_code();
        let id = super::customers::random_token();
        let record = RedemptionCodeRecord {
            code_hash: self.code_hash(&id, &code),
            id,
            customer_id: customer.id,
            merchant_id,
            amount: minor_units,
            issued_at_ms: now,
            expires_at_ms: now + REDEMPTION_CODE_LIFETIME_MS,
            closes_wallet: close_wallet,
        };
        // A full wallet may always be paid out within a day, and no more.
        let (limits, _) = self.money_limits().await?;
        let daily_max = limits.wallet_balance_cap.minor_units();
        match self
            .store
            .issue_redemption_code(&record, daily_max, REDEMPTION_CODES_LIVE_MAX)
            .await?
        {
            IssueOutcome::Issued => Ok(RedemptionCodeBody {
                code,
                merchant_name: merchant.name,
                merchant_time_zone: merchant.time_zone,
                amount: minor_units,
                expires_at_ms: record.expires_at_ms,
                closes_wallet: close_wallet,
            }),
            IssueOutcome::DailyLimitReached { issued } => Err(ServiceError::new(
                ErrorCode::RedemptionDailyLimit,
                format!(
                    "Cash of {} has been asked for in the last 24 hours; at most {} a day.",
                    self.format_amount(issued),
                    self.format_amount(daily_max)
                ),
            )),
            IssueOutcome::TooManyLive => Err(ServiceError::new(
                ErrorCode::RedemptionCodesLive,
                "This wallet holds three unused codes; use one or let them expire (10 minutes).",
            )),
        }
    }

    /// A manager pays the customer out at a counter against their code; answers whether
    /// the payout closed the wallet. `attempt_id` is the counter's id for this press: one
    /// attempt at a time holds a code (so a code pays out once, whichever counters press),
    /// the same attempt sent again is answered with its first answer, and `only_if_made`
    /// asks only for that answer, recording "not made" when there was none.
    #[allow(clippy::too_many_arguments)]
    pub async fn redeem(
        &self,
        terminal: &AuthenticatedTerminal,
        customer_id: CustomerId,
        code: &str,
        amount: PositiveAmount,
        cashier: Option<StaffId>,
        attempt_id: &str,
        only_if_made: bool,
    ) -> Result<(Outcome, bool), ServiceError> {
        if code.len() != REDEMPTION_CODE_DIGITS || !code.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ServiceError::new(
                ErrorCode::RedemptionCodeInvalid,
                "A redemption code is 8 digits.",
            ));
        }
        if attempt_id.is_empty()
            || attempt_id.len() > ATTEMPT_ID_MAX
            || !attempt_id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        {
            return Err(ServiceError::new(
                ErrorCode::RedemptionAttemptInvalid,
                "A payout's attempt id is 1 to 64 letters, digits or dashes.",
            ));
        }
        let merchant_id = terminal.terminal.merchant_id;
        // Per customer and store: a counter of another store cannot lock anyone out here.
        if !self.allow_attempt(&tries_limit(), &format!("{customer_id}/{merchant_id}")).await? {
            return Err(ServiceError::new(
                ErrorCode::TooManyAttempts,
                "Too many tries at this wallet's codes; the customer asks for a new code in 15 minutes.",
            ));
        }
        let now = self.store.clock().now_ms();
        let minor_units = amount.amount().minor_units();
        // Attempt ids are the counter's: scoped by it.
        let attempt = format!("{}/{attempt_id}", terminal.terminal.id);
        let codes = self
            .store
            .redemption_codes(customer_id, merchant_id, now, &attempt, CODES_READ_MAX)
            .await?;
        let stored = codes.into_iter().find(|stored| {
            let expected = self.code_hash(&stored.record.id, code);
            same_in_constant_time(&expected, &stored.record.code_hash)
                && stored.record.amount == minor_units
        });
        let Some(stored) = stored else {
            return Err(ServiceError::new(
                ErrorCode::RedemptionCodeWrong,
                "This code does not match a live code of this customer for this store and amount.",
            ));
        };
        if !self.store.claim_redemption_code(&stored.record.id, &attempt).await? {
            return Err(ServiceError::new(
                ErrorCode::RedemptionCodeUsed,
                "This code was used at another counter or in another attempt; the customer asks for a new code.",
            ));
        }
        // An expired code is never newly paid: its attempt only learns what happened.
        let expired = stored.used_at_ms.is_none() && stored.record.expires_at_ms <= now;
        let (day_start_ms, day_end_ms) = self.business_day_ms(terminal, now).await?;
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("redemption/{attempt}/{}", stored.record.id),
                fingerprint: fingerprint(&[
                    b"redemption",
                    customer_id.to_string().as_bytes(),
                    merchant_id.to_string().as_bytes(),
                    &minor_units.to_be_bytes(),
                ]),
            },
            recorded_at_ms: now,
            kind: CommandKind::Redeem(crate::ledger::Redemption {
                merchant_id,
                terminal_id: terminal.terminal.id,
                customer_id,
                amount,
                day_start_ms,
                day_end_ms,
                closes_wallet: stored.record.closes_wallet,
                only_if_made: only_if_made || expired,
            }),
        };
        let outcome = self.writer.submit(command).await?.outcome;
        match &outcome {
            Outcome::Redeemed { cash, redeemed_at_ms, .. } => {
                self.store.mark_redemption_code_used(&stored.record.id, now).await?;
                // Run on every answer of a closing payout: a retry finishes a close that a
                // crash left half done.
                let closed = if stored.record.closes_wallet {
                    self.close_wallet(customer_id).await?
                } else {
                    false
                };
                let (kind, id) = (CashierKind::Redemption, stored.record.id.clone());
                self.keep_cashier(
                    terminal.place(),
                    kind,
                    id,
                    cashier,
                    cash.minor_units(),
                    *redeemed_at_ms,
                )
                .await;
                Ok((outcome.clone(), closed))
            }
            Outcome::Rejected { code, message } => {
                // Refused for good: the code is free for another attempt (while it lives).
                self.store.release_redemption_code(&stored.record.id, &attempt).await?;
                Err(super::error::outcome_error(*code, message))
            }
            other => Err(internal(format!("redemption answered {other:?}"))),
        }
    }
}
