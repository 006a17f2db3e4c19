//! What a batch reads before it decides (loaded in its write transaction) and what it hands
//! back to be written.

use super::*;

/// An applied top-up, as a reversal needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedTopUp {
    pub outbox_entry_id: OutboxEntryId,
    /// The counter that made the entry id: ids are that counter's, not global.
    pub terminal_id: TerminalId,
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub amount: i64,
    pub bonus: i64,
    pub reversed_amount: i64,
    pub reversed_bonus: i64,
}

/// A paid order, as refunds need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidOrder {
    pub order_id: OrderId,
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub customer_id: CustomerId,
    pub amount: PositiveAmount,
    /// What the payment took from principal, bonus and yield.
    pub paid_split: [i64; 3],
    /// What refunds have given back to principal, bonus and yield so far.
    pub refunded_split: [i64; 3],
    pub payment_entry: i64,
    pub paid_at_ms: i64,
}

impl PaidOrder {
    pub fn refunded_total(&self) -> i64 {
        self.refunded_split.iter().sum()
    }
}

/// One published bonus rule set and when it stopped being current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetRecord {
    pub rule_set: BonusRuleSet,
    pub published_at_ms: i64,
    pub superseded_at_ms: Option<i64>,
}

/// A stored answer to an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    pub fingerprint: [u8; 32],
    pub outcome: Outcome,
}

/// A paid order as the server knows it: the order id is made by a counter and means
/// something only together with that counter, so another store's counter that copies an id
/// off a QR code names a different order.
pub type OrderKey = (TerminalId, OrderId);

/// A top-up by the counter that recorded it and its outbox entry id.
pub type TopUpKey = (TerminalId, OutboxEntryId);

/// Which rows a batch must load before it runs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchNeeds {
    pub accounts: BTreeSet<Account>,
    pub customers: BTreeSet<CustomerId>,
    pub bindings: BTreeSet<(CustomerId, MerchantId)>,
    pub orders: BTreeSet<OrderKey>,
    pub top_ups: BTreeSet<TopUpKey>,
    pub idempotency_keys: BTreeSet<String>,
    pub rule_set_versions: BTreeSet<u32>,
    /// (merchant, day, end of the day) of each close in the batch.
    pub closes: BTreeSet<(MerchantId, String, i64)>,
    /// (merchant, start, end of the day) of each reversal and redemption in the batch: its
    /// unsettled entries recorded within the day are loaded (the cash that can pay it out).
    pub reversal_days: BTreeSet<(MerchantId, i64, i64)>,
}

impl BatchNeeds {
    pub fn of(commands: &[Command]) -> BatchNeeds {
        let mut needs = BatchNeeds::default();
        needs.accounts.extend([Account::World, Account::Reserve, Account::Service]);
        for command in commands {
            needs.idempotency_keys.insert(command.idempotency.key.clone());
            match &command.kind {
                CommandKind::FundReserve { .. } | CommandKind::DefundReserve { .. } => {}
                CommandKind::CashTopUp(top_up) => {
                    needs.accounts.insert(Account::Drawer(top_up.merchant_id));
                    needs.accounts.extend(Account::wallet_buckets(top_up.customer_id));
                    needs.customers.insert(top_up.customer_id);
                    needs.bindings.insert((top_up.customer_id, top_up.merchant_id));
                    needs.rule_set_versions.extend(top_up.rule_set_version);
                }
                CommandKind::Payment(payment) => {
                    needs.accounts.extend(Account::wallet_buckets(payment.customer_id));
                    needs.customers.insert(payment.customer_id);
                    needs.bindings.insert((payment.customer_id, payment.claims.merchant_id));
                    needs.orders.insert((payment.claims.terminal_id, payment.claims.order_id));
                }
                CommandKind::Refund(refund) => {
                    needs.orders.insert((refund.terminal_id, refund.order_id));
                }
                CommandKind::PostYield { customer_id, .. } => {
                    needs.accounts.extend(Account::wallet_buckets(*customer_id));
                }
                CommandKind::ReverseTopUp(reversal) => {
                    needs.accounts.insert(Account::Drawer(reversal.merchant_id));
                    needs.top_ups.insert((reversal.top_up_terminal_id, reversal.top_up));
                    needs.reversal_days.insert((
                        reversal.merchant_id,
                        reversal.day_start_ms,
                        reversal.day_end_ms,
                    ));
                }
                CommandKind::Redeem(redemption) => {
                    needs.accounts.insert(Account::Drawer(redemption.merchant_id));
                    needs.accounts.extend(Account::wallet_buckets(redemption.customer_id));
                    needs.customers.insert(redemption.customer_id);
                    needs.bindings.insert((redemption.customer_id, redemption.merchant_id));
                    needs.reversal_days.insert((
                        redemption.merchant_id,
                        redemption.day_start_ms,
                        redemption.day_end_ms,
                    ));
                }
                CommandKind::ForfeitBonus { customer_id } => {
                    needs.accounts.extend(Account::wallet_buckets(*customer_id));
                }
                CommandKind::CloseDay { merchant_id, day, day_end_ms } => {
                    needs.accounts.insert(Account::Drawer(*merchant_id));
                    needs.closes.insert((*merchant_id, day.clone(), *day_end_ms));
                }
            }
        }
        needs
    }
}

/// Everything a batch reads, loaded inside its write transaction.
#[derive(Debug, Clone)]
pub struct BatchState {
    /// Balances of every account the batch may touch, zero for one with no row yet. An
    /// account missing here was not loaded: touching it is refused as a bug.
    pub balances: HashMap<Account, Amount>,
    pub existing_customers: HashSet<CustomerId>,
    pub bindings: HashSet<(CustomerId, MerchantId)>,
    pub orders: HashMap<OrderKey, PaidOrder>,
    pub top_ups: HashMap<TopUpKey, AppliedTopUp>,
    pub idempotency: HashMap<String, StoredOutcome>,
    pub rule_sets: HashMap<u32, RuleSetRecord>,
    /// The rule set in force now; version 0 (no rules) when none was ever published.
    pub current_rule_set: BonusRuleSet,
    /// For each close in the batch, keyed by (merchant, day).
    pub unsettled: HashMap<(MerchantId, String), UnsettledDay>,
    /// The money limits stored last, if operators ever changed them.
    pub money_limits: Option<MoneyLimits>,
    /// Whether the reserve alert was open when the batch began: it is logged once when it
    /// opens, not on every operation while it stays open.
    pub reserve_alert_open: bool,
    /// For each reversal's day, keyed by (merchant, start of the day): the merchant's
    /// unsettled entries recorded since.
    pub unsettled_within_day: HashMap<(MerchantId, i64, i64), Vec<TerminalEntry>>,
    pub head_sequence: i64,
    pub head_hash: EntryHash,
    /// The time every entry of this batch is applied at: the server's clock, but never
    /// before the last entry's.
    pub applied_at_ms: i64,
}

/// What a batch did to the reserve alert.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum AlertChange {
    #[default]
    Unchanged,
    /// The reserve is under its threshold and the service account cannot refill it.
    Raised(String),
    /// The reserve is back at or above its threshold.
    Cleared,
}

/// What a batch produced, for the store to write in the same transaction.
#[derive(Debug, Default, Clone)]
pub struct BatchWrites {
    pub entries: Vec<JournalEntry>,
    /// Final balances of every account the batch changed.
    pub balances: Vec<(Account, Amount)>,
    pub new_orders: Vec<PaidOrder>,
    /// Orders whose refunded split changed, with the new split.
    pub refunded_orders: Vec<(OrderKey, [i64; 3])>,
    pub outcomes: Vec<(IdempotencyKey, Outcome)>,
    pub reserve_alert: AlertChange,
    /// Closed days: (merchant, day, close entry, figures, the entries it settled).
    pub settlements: Vec<ClosedDay>,
}
