//! What the ledger is asked to do: the policy it decides under, and each command with the
//! idempotency key that makes it apply once.

use super::*;

/// Limits and settings the ledger enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPolicy {
    pub currency: Currency,
    /// Most a wallet may hold after a top-up (principal + bonus + yield).
    pub wallet_balance_cap: Amount,
    /// When the reserve falls under this, it is refilled from the service account.
    pub reserve_threshold: Amount,
    /// How much one refill moves; zero turns the monitor off.
    pub reserve_refill: Amount,
    /// Off everywhere but in the simulator's deliberately broken runs.
    pub sim_bugs: ServerSimBugs,
}

impl LedgerPolicy {
    /// CNY with the 5,000.00 cap Chinese rules set for named prepaid cards; the reserve
    /// monitor is off until the operator configures it.
    pub fn default_for(currency: Currency) -> LedgerPolicy {
        let scale = 10_i64.pow(currency.decimal_places());
        LedgerPolicy {
            currency,
            // 5,000 major units is within `Amount`'s range in every currency; were it not,
            // a zero cap refuses every top-up rather than allowing any.
            wallet_balance_cap: Amount::from_minor_units(5_000 * scale).unwrap_or(Amount::ZERO),
            reserve_threshold: Amount::ZERO,
            reserve_refill: Amount::ZERO,
            sim_bugs: ServerSimBugs::default(),
        }
    }
}

/// The limits operators change under four eyes. Once a version is stored it is what the
/// ledger enforces, whatever the server was started with: a restart with other flags
/// cannot undo an approved change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyLimits {
    pub wallet_balance_cap: Amount,
    pub reserve_threshold: Amount,
    pub reserve_refill: Amount,
}

impl LedgerPolicy {
    /// The limits of this policy.
    pub fn limits(&self) -> MoneyLimits {
        MoneyLimits {
            wallet_balance_cap: self.wallet_balance_cap,
            reserve_threshold: self.reserve_threshold,
            reserve_refill: self.reserve_refill,
        }
    }

    /// This policy with `limits` in place of its own.
    pub fn with_limits(&self, limits: MoneyLimits) -> LedgerPolicy {
        LedgerPolicy {
            wallet_balance_cap: limits.wallet_balance_cap,
            reserve_threshold: limits.reserve_threshold,
            reserve_refill: limits.reserve_refill,
            ..self.clone()
        }
    }
}

/// A client's idempotency key with a fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// Namespaced by who sent it, e.g. `terminal/<id>/outbox/<entry>`.
    pub key: String,
    /// SHA-256 of the canonical request; the same key with another request is refused.
    pub fingerprint: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub idempotency: IdempotencyKey,
    pub recorded_at_ms: i64,
    pub kind: CommandKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandKind {
    /// The operator moves money from the bank into the reserve.
    FundReserve {
        amount: PositiveAmount,
    },
    /// The operator moves money from the reserve back to the bank; never under the
    /// reserve's threshold.
    DefundReserve {
        amount: PositiveAmount,
    },
    CashTopUp(CashTopUp),
    Payment(Payment),
    Refund(Refund),
    /// Pays accrued yield from the reserve into a wallet's yield bucket.
    PostYield {
        customer_id: CustomerId,
        amount: PositiveAmount,
        day: String,
    },
    /// Gives cash back for all or part of a top-up: the principal returns to the reserve,
    /// the bonus is clawed back in proportion, and the cash leaves the drawer.
    ReverseTopUp(ReverseTopUp),
    /// Pays a wallet's principal and yield out as cash at a counter of a store it is bound
    /// to: the principal and yield return to the reserve, the bonus is clawed back in
    /// proportion to the principal, and the cash leaves the drawer.
    Redeem(Redemption),
    /// A wallet closing with no principal or yield gives its remaining bonus back to the
    /// reserve (refused if it is payable again by now).
    ForfeitBonus {
        customer_id: CustomerId,
    },
    /// Closes a merchant's business day: settles every entry of the merchant recorded
    /// before `day_end_ms` and not settled yet.
    CloseDay {
        merchant_id: MerchantId,
        day: String,
        day_end_ms: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashTopUp {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub outbox_entry_id: OutboxEntryId,
    pub customer_id: CustomerId,
    pub amount: PositiveAmount,
    pub bonus_shown: Amount,
    pub rule_set_version: Option<u32>,
}

/// A payment whose token was already verified (signature, expiry, currency) and whose PIN
/// was already checked; what is left is the ledger's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub claims: PaymentClaims,
    pub customer_id: CustomerId,
    /// Derived from the order with the terminal's key by the caller, which holds the key.
    pub confirmation_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseTopUp {
    pub merchant_id: MerchantId,
    /// The terminal that reverses (its idempotency key's).
    pub terminal_id: TerminalId,
    /// The terminal that took the top-up: `terminal_id`, or one it replaced at the same
    /// store by enrolling again. The top-up is keyed by it and the reversal's entry is
    /// posted under it, so every reversal of a top-up counts against it whoever sent it.
    pub top_up_terminal_id: TerminalId,
    /// The outbox entry that recorded the top-up.
    pub top_up: OutboxEntryId,
    pub amount: PositiveAmount,
    /// Start of the store's business day the reversal is recorded in: the cash of earlier
    /// days still unsettled belongs to their closes, so only the cash since then can pay
    /// a reversal out.
    pub day_start_ms: i64,
    /// End of that day: entries recorded after it (a counter whose clock runs ahead may
    /// push them a few minutes early) are the next day's cash, owed to its close.
    pub day_end_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub customer_id: CustomerId,
    /// Cash paid out: principal and yield together.
    pub amount: PositiveAmount,
    /// The store's business day it is recorded in: as with a reversal, only the cash taken
    /// since the day began can pay it out (earlier days' cash belongs to their closes).
    pub day_start_ms: i64,
    pub day_end_ms: i64,
    /// The code closes the wallet: it must pay out everything payable, and all the bonus
    /// goes back with it.
    pub closes_wallet: bool,
    /// Answer an earlier decision under this key, never pay now: reaching the engine
    /// means there was none, and "not made" is then stored as the decision.
    pub only_if_made: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub order_id: OrderId,
    pub amount: PositiveAmount,
}
