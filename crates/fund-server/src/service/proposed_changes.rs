//! The changes operators propose for four eyes: each checked when proposed and again when
//! approved, described as before → after lines for the approver, and applied. Applying is
//! idempotent for every kind (funding and defunding by the proposal's key, money limits by
//! the proposal as their source; revoking, unlocking and
//! setting a day's rate by nature; publishing the same rules again makes an identical
//! version), so an approval cut off before it was marked applied is safe to apply again.

use jiff::civil::Date;
use tillfund_core::protocol::{ChangeLineBody, ProposedChange};
use tillfund_core::{CustomerId, ProposalId};

use super::*;

/// How far ahead a bonus rule set may be scheduled to start.
pub const SCHEDULED_START_WITHIN_MS: i64 = 366 * 24 * 60 * 60 * 1000;

/// Top-up amounts, in major units, on which a proposed bonus rule set is shown.
pub const BONUS_SAMPLE_MAJOR_UNITS: [i64; 5] = [100, 500, 1_000, 2_000, 5_000];

/// A proposed change whose every field was checked.
#[derive(Debug, Clone)]
pub(super) enum CheckedChange {
    /// The set to publish (for a scheduled start, the rules in force until it and the new
    /// ones after it, as made when checked), with the start.
    PublishBonusRules {
        set: BonusRuleSet,
        starts_at_ms: Option<i64>,
    },
    SetYieldRate {
        from: Date,
        annual_rate: Decimal,
    },
    FundReserve(PositiveAmount),
    DefundReserve(PositiveAmount),
    SetMoneyLimits(crate::ledger::MoneyLimits),
    EditMerchant(Merchant),
    RevokeTerminal(Terminal),
    UnlockCustomer(Customer),
}

fn line(
    what: impl Into<String>,
    before: impl Into<String>,
    after: impl Into<String>,
) -> ChangeLineBody {
    ChangeLineBody { what: what.into(), before: before.into(), after: after.into() }
}

fn percent(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::from(100)).normalize())
}

impl<S: Storage> FundService<S> {
    /// Checks every field of `change` against the rules and the store as they are now.
    /// As [`Self::check_change`], for an approval being finished after it was cut off: a
    /// scheduled start that has passed meanwhile is no reason to refuse what was approved.
    /// The set is built as at approval (the rules in force until the start, the new ones
    /// from it), so its new rules are in force from now; built again after a first apply
    /// that published it, it quotes the same.
    pub(super) async fn check_change_to_finish(
        &self,
        change: &ProposedChange,
    ) -> Result<CheckedChange, ServiceError> {
        if let ProposedChange::PublishBonusRules { rules, starts_at_ms: Some(start) } = change
            && *start <= self.store.clock().now_ms()
        {
            let invalid = |error: tillfund_core::bonus::RuleError| {
                ServiceError::new(error.code(), error.to_string())
            };
            let current = self.store.current_bonus_rules().await?;
            let rules = BonusRuleSet::scheduled(current.rules(), rules, *start);
            let set = BonusRuleSet::new(0, rules).map_err(invalid)?;
            return Ok(CheckedChange::PublishBonusRules { set, starts_at_ms: Some(*start) });
        }
        self.check_change(change).await
    }

    pub(super) async fn check_change(
        &self,
        change: &ProposedChange,
    ) -> Result<CheckedChange, ServiceError> {
        let target_unknown = |what: &str| {
            ServiceError::new(ErrorCode::ProposalTargetUnknown, format!("There is no {what}."))
        };
        Ok(match change {
            ProposedChange::PublishBonusRules { rules, starts_at_ms } => {
                let invalid = |error: tillfund_core::bonus::RuleError| {
                    ServiceError::new(error.code(), error.to_string())
                };
                // The proposed rules alone must hold, whatever they are combined with.
                BonusRuleSet::new(0, rules.clone()).map_err(invalid)?;
                let rules = match *starts_at_ms {
                    None => rules.clone(),
                    Some(start) => {
                        let now = self.store.clock().now_ms();
                        if start <= now || start > now + SCHEDULED_START_WITHIN_MS {
                            return Err(ServiceError::new(
                                ErrorCode::BonusRuleInvalid,
                                "A scheduled start is in the future, within a year.",
                            ));
                        }
                        let current = self.store.current_bonus_rules().await?;
                        BonusRuleSet::scheduled(current.rules(), rules, start)
                    }
                };
                let set = BonusRuleSet::new(0, rules).map_err(invalid)?;
                CheckedChange::PublishBonusRules { set, starts_at_ms: *starts_at_ms }
            }
            ProposedChange::SetYieldRate { effective_from, annual_percent } => {
                let from: Date = effective_from.trim().parse().map_err(|_| {
                    ServiceError::new(
                        ErrorCode::DayInvalid,
                        format!(
                            "'{}' is not a day (YYYY-MM-DD).",
                            effective_from.chars().take(20).collect::<String>()
                        ),
                    )
                })?;
                let annual_rate = crate::ledger::yield_math::parse_annual_percentage(
                    annual_percent,
                )
                .ok_or_else(|| {
                    ServiceError::new(
                        ErrorCode::YieldRateInvalid,
                        "An annual rate is a percentage from 0 to 100, e.g. 2.5.",
                    )
                })?;
                CheckedChange::SetYieldRate { from, annual_rate }
            }
            ProposedChange::FundReserve { amount } => {
                let amount = PositiveAmount::try_from(*amount).map_err(|error| {
                    ServiceError::new(ErrorCode::AmountNotPositive, error.to_string())
                })?;
                CheckedChange::FundReserve(amount)
            }
            ProposedChange::DefundReserve { amount } => {
                let amount = PositiveAmount::try_from(*amount).map_err(|error| {
                    ServiceError::new(ErrorCode::AmountNotPositive, error.to_string())
                })?;
                CheckedChange::DefundReserve(amount)
            }
            ProposedChange::SetMoneyLimits { wallet_cap, reserve_threshold, reserve_refill } => {
                let invalid = || {
                    ServiceError::new(
                        ErrorCode::MoneyLimitInvalid,
                        "A wallet cap is more than zero, a reserve threshold and refill zero or more.",
                    )
                };
                if *wallet_cap <= 0 || *reserve_threshold < 0 || *reserve_refill < 0 {
                    return Err(invalid());
                }
                let amount = |minor: i64| Amount::from_minor_units(minor).map_err(|_| invalid());
                let limits = crate::ledger::MoneyLimits {
                    wallet_balance_cap: amount(*wallet_cap)?,
                    reserve_threshold: amount(*reserve_threshold)?,
                    reserve_refill: amount(*reserve_refill)?,
                };
                CheckedChange::SetMoneyLimits(limits)
            }
            ProposedChange::EditMerchant { merchant_id, name, time_zone, settlement_account } => {
                let id: MerchantId =
                    merchant_id.trim().parse().map_err(|_| target_unknown("such store"))?;
                let current =
                    self.store.merchant(id).await?.ok_or_else(|| target_unknown("such store"))?;
                let edited = FundService::<S>::checked_merchant_fields(
                    id,
                    name,
                    time_zone,
                    settlement_account,
                )?;
                // Days are cut in the store's zone: a close after a change would cut the
                // entries that reversals and closes counted under the old one differently.
                if edited.time_zone != current.time_zone {
                    let open = match self.store.stored_day(id, "9999-12-31", i64::MAX).await? {
                        crate::store::StoredDay::Open(day) => !day.entries.is_empty(),
                        crate::store::StoredDay::Closed { .. } => false,
                    };
                    if open {
                        return Err(ServiceError::new(
                            ErrorCode::MerchantDaysOpen,
                            "A store's time zone changes only when every day of it is closed: close its open days first.",
                        ));
                    }
                }
                CheckedChange::EditMerchant(edited)
            }
            ProposedChange::RevokeTerminal { terminal_id } => {
                let id: TerminalId =
                    terminal_id.trim().parse().map_err(|_| target_unknown("such counter"))?;
                let terminal =
                    self.store.terminal(id).await?.ok_or_else(|| target_unknown("such counter"))?;
                CheckedChange::RevokeTerminal(terminal)
            }
            ProposedChange::UnlockCustomer { customer_id } => {
                let id: CustomerId =
                    customer_id.trim().parse().map_err(|_| target_unknown("such customer"))?;
                let customer = self
                    .store
                    .customer(id)
                    .await?
                    .ok_or_else(|| target_unknown("such customer"))?;
                CheckedChange::UnlockCustomer(customer)
            }
        })
    }

    /// A moment as operators read it: in the platform's time zone, to the minute.
    fn platform_time(&self, at_ms: i64) -> Result<String, ServiceError> {
        let zone = self.config.yield_policy.time_zone.clone();
        Ok(jiff::Timestamp::from_millisecond(at_ms)
            .map_err(|error| internal(error.to_string()))?
            .to_zoned(zone)
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string())
    }

    /// Refuses a proposal that would change nothing now. Asked when proposing only: an
    /// approval finishing an application cut off after it stored the limits must go on.
    pub(super) async fn check_changes_something(
        &self,
        change: &CheckedChange,
    ) -> Result<(), ServiceError> {
        if let CheckedChange::SetMoneyLimits(limits) = change
            && *limits == self.money_limits().await?.0
        {
            return Err(ServiceError::new(
                ErrorCode::MoneyLimitInvalid,
                "These are the limits in force already: the proposal would change nothing.",
            ));
        }
        if let CheckedChange::EditMerchant(edited) = change
            && self.store.merchant(edited.id).await?.as_ref() == Some(edited)
        {
            return Err(ServiceError::new(
                ErrorCode::BodyInvalid,
                "The store is like this already: the proposal would change nothing.",
            ));
        }
        Ok(())
    }

    /// What the change would do now, as before → after lines.
    pub(super) async fn describe_change(
        &self,
        change: &CheckedChange,
    ) -> Result<Vec<ChangeLineBody>, ServiceError> {
        let currency = self.config.policy.currency;
        Ok(match change {
            CheckedChange::PublishBonusRules { set: proposed, starts_at_ms } => {
                let current = self.store.current_bonus_rules().await?;
                let mut lines = vec![
                    line(
                        "bonus rule set",
                        format!("version {}", current.version()),
                        format!("version {}", current.version() + 1),
                    ),
                    line(
                        "rules",
                        current.rules().len().to_string(),
                        proposed.rules().len().to_string(),
                    ),
                ];
                // At a store no rule names, when the new rules start (now, or the scheduled
                // start): what every store gives at least.
                let anywhere = MerchantId::generate();
                let at = starts_at_ms.unwrap_or_else(|| self.store.clock().now_ms());
                let from = match starts_at_ms {
                    Some(start) => {
                        let shown = self.platform_time(*start)?;
                        lines.push(line("new rules start", "—", shown.clone()));
                        format!(" from {shown}")
                    }
                    None => String::new(),
                };
                for major in BONUS_SAMPLE_MAJOR_UNITS {
                    let Ok(amount) = PositiveAmount::parse(&major.to_string(), currency) else {
                        continue;
                    };
                    let before = current.quote(anywhere, amount, at).bonus;
                    let after = proposed.quote(anywhere, amount, at).bonus;
                    lines.push(line(
                        format!(
                            "bonus on a top-up of {} {currency} at any store{from}",
                            amount.amount().format(currency)
                        ),
                        before.format(currency),
                        after.format(currency),
                    ));
                }
                lines
            }
            CheckedChange::SetYieldRate { from, annual_rate } => {
                let day = from.to_string();
                let in_force = self
                    .store
                    .yield_rates()
                    .await?
                    .into_iter()
                    .rev()
                    .find(|(effective, _)| *effective <= day)
                    .map_or_else(
                        || "none".to_owned(),
                        |(effective, rate)| format!("{} (since {effective})", percent(rate)),
                    );
                vec![line(format!("annual yield rate from {day}"), in_force, percent(*annual_rate))]
            }
            CheckedChange::FundReserve(amount) => {
                let reserve = self.store.balance(crate::ledger::Account::Reserve).await?;
                let after = reserve.checked_add(amount.amount()).unwrap_or(reserve);
                let mut lines =
                    vec![line("reserve", reserve.format(currency), after.format(currency))];
                // Still under the threshold after funding, the ledger refills the reserve
                // from the service account at once (`monitor_reserve`): say so, with what it
                // would move as things stand.
                let (limits, _) = self.money_limits().await?;
                if after < limits.reserve_threshold && limits.reserve_refill.is_positive() {
                    let service = self.store.balance(crate::ledger::Account::Service).await?;
                    let refilled = after.checked_add(limits.reserve_refill).unwrap_or(after);
                    let outcome = if service >= limits.reserve_refill {
                        format!(
                            "{}, refilled by {} from the service account",
                            refilled.format(currency),
                            limits.reserve_refill.format(currency)
                        )
                    } else {
                        format!(
                            "{}, under the threshold: the service account ({}) cannot refill it, the alert is raised",
                            after.format(currency),
                            service.format(currency)
                        )
                    };
                    lines.push(line(
                        format!(
                            "reserve under its threshold of {}",
                            limits.reserve_threshold.format(currency)
                        ),
                        after.format(currency),
                        outcome,
                    ));
                }
                lines
            }
            CheckedChange::DefundReserve(amount) => {
                let reserve = self.store.balance(crate::ledger::Account::Reserve).await?;
                let after = reserve.checked_sub(amount.amount()).unwrap_or(reserve);
                let (limits, _) = self.money_limits().await?;
                vec![
                    line("reserve", reserve.format(currency), after.format(currency)),
                    line(
                        "reserve threshold (kept)",
                        limits.reserve_threshold.format(currency),
                        limits.reserve_threshold.format(currency),
                    ),
                ]
            }
            CheckedChange::SetMoneyLimits(proposed) => {
                let (current, _) = self.money_limits().await?;
                [
                    ("wallet cap", current.wallet_balance_cap, proposed.wallet_balance_cap),
                    ("reserve threshold", current.reserve_threshold, proposed.reserve_threshold),
                    ("reserve refill", current.reserve_refill, proposed.reserve_refill),
                ]
                .into_iter()
                .map(|(what, before, after)| {
                    line(what, before.format(currency), after.format(currency))
                })
                .collect()
            }
            CheckedChange::EditMerchant(edited) => {
                let current = self.store.merchant(edited.id).await?;
                let current = current.as_ref();
                let field = |value: Option<&str>| match value {
                    Some("") => "(none)".to_owned(),
                    Some(value) => value.to_owned(),
                    None => "(none)".to_owned(),
                };
                let shown = |value: &str| field(Some(value));
                [
                    ("name", current.map(|m| m.name.as_str()), edited.name.as_str()),
                    ("time zone", current.map(|m| m.time_zone.as_str()), edited.time_zone.as_str()),
                    (
                        "settlement account",
                        current.map(|m| m.settlement_account.as_str()),
                        edited.settlement_account.as_str(),
                    ),
                ]
                .into_iter()
                .filter(|(_, before, after)| *before != Some(*after))
                .map(|(what, before, after)| {
                    line(format!("store {}: {what}", edited.id), field(before), shown(after))
                })
                .collect()
            }
            CheckedChange::RevokeTerminal(terminal) => {
                let merchant = self.store.merchant(terminal.merchant_id).await?;
                let store_name = merchant
                    .map_or_else(|| terminal.merchant_id.to_string(), |merchant| merchant.name);
                let state = if terminal.revoked { "revoked" } else { "enrolled" };
                vec![line(
                    format!("counter '{}' of {store_name} ({})", terminal.label, terminal.id),
                    state,
                    "revoked",
                )]
            }
            CheckedChange::UnlockCustomer(customer) => vec![line(
                format!("wrong-PIN lock of wallet {}", customer.member_code),
                "as it stands",
                "lifted; five more tries",
            )],
        })
    }

    /// Applies an approved change; the proposal's id keys what is not idempotent by nature.
    pub(super) async fn apply_change(
        &self,
        id: ProposalId,
        change: CheckedChange,
    ) -> Result<(), ServiceError> {
        match change {
            CheckedChange::PublishBonusRules { set, .. } => {
                self.publish_bonus_rules(set.rules().to_vec()).await?;
            }
            CheckedChange::SetYieldRate { from, annual_rate } => {
                self.set_yield_rate(from, annual_rate).await?;
            }
            CheckedChange::FundReserve(amount) => {
                self.fund_reserve(amount, &format!("proposal/{id}")).await?;
            }
            CheckedChange::DefundReserve(amount) => {
                self.defund_reserve(amount, &format!("proposal/{id}")).await?;
            }
            CheckedChange::SetMoneyLimits(limits) => {
                self.set_money_limits(limits, &format!("proposal/{id}")).await?;
            }
            CheckedChange::EditMerchant(edited) => {
                if !self.store.update_merchant(&edited).await? {
                    return Err(ServiceError::new(
                        ErrorCode::ProposalTargetUnknown,
                        "There is no such store.",
                    ));
                }
            }
            CheckedChange::RevokeTerminal(terminal) => self.revoke_terminal(terminal.id).await?,
            CheckedChange::UnlockCustomer(customer) => {
                self.store.reset_pin_failures(customer.id).await?;
            }
        }
        Ok(())
    }
}
