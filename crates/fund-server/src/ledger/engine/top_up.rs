//! A cash top-up: the cash into the store's drawer, principal and bonus from the reserve
//! into the wallet, the bonus by the rule set the counter showed (within the grace).

use super::*;

/// How long after a bonus rule set is superseded a counter that was offline may still
/// apply it: the customer was shown that bonus at the counter and keeps it.
pub const OFFLINE_RULE_GRACE_MS: i64 = 7 * 24 * 60 * 60 * 1000;

impl Batch {
    /// The bonus of a top-up. The counter's clock is honoured only as far as the server
    /// could have known: a named rule set counts while the server receives the top-up less
    /// than the grace after that set was superseded (server time, which a counter cannot
    /// move), and the rules' own validity is judged at the recorded time but never earlier
    /// than the grace before receipt. Backdating a top-up therefore cannot revive a
    /// promotion that ended longer ago than an honest offline counter could have shown it.
    pub(super) fn bonus_for(&self, top_up: &CashTopUp, recorded_at_ms: i64) -> Amount {
        let received_at_ms = self.state.applied_at_ms;
        let named = top_up.rule_set_version.and_then(|version| self.state.rule_sets.get(&version));
        let still_honoured = |record: &RuleSetRecord| {
            record.superseded_at_ms.is_none_or(|superseded| {
                received_at_ms < superseded.saturating_add(OFFLINE_RULE_GRACE_MS)
            })
        };
        let rule_set = match named {
            Some(record) if still_honoured(record) => &record.rule_set,
            _ => &self.state.current_rule_set,
        };
        let judged_at_ms = recorded_at_ms.max(received_at_ms.saturating_sub(OFFLINE_RULE_GRACE_MS));
        rule_set.quote(top_up.merchant_id, top_up.amount, judged_at_ms).bonus
    }

    pub(super) fn cash_top_up(
        &mut self,
        top_up: &CashTopUp,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let customer_id = top_up.customer_id;
        let bonus = self.bonus_for(top_up, command.recorded_at_ms);
        let amount = top_up.amount.amount();
        let overflow = |error: tillfund_core::MoneyError| Deferred::Overflow(error.to_string());
        let credit = amount.checked_add(bonus).map_err(overflow)?;
        if let Some(refusal) = self.top_up_refusal(top_up, credit)? {
            return Ok(refusal);
        }
        if self.balance(Account::Reserve)? < credit {
            self.refill_reserve(command.recorded_at_ms)?;
            if self.balance(Account::Reserve)? < credit {
                return Err(Deferred::ReserveInsufficient { needed: self.format(credit) });
            }
        }
        let transfers = top_up_transfers(top_up, bonus);
        let entry = NewEntry {
            code: EntryCode::TopUp,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(top_up.merchant_id),
                terminal_id: Some(top_up.terminal_id),
                outbox_entry_id: Some(top_up.outbox_entry_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let settled = |sequence| UnsettledEntry::TopUp {
            sequence,
            cash: amount.minor_units(),
            bonus: bonus.minor_units(),
        };
        let entry_sequence =
            self.post_at_counter(entry, top_up.merchant_id, top_up.terminal_id, settled)?;
        self.monitor_reserve(command.recorded_at_ms)?;
        Ok(Outcome::ToppedUp {
            entry_sequence,
            customer_id,
            amount,
            bonus,
            bonus_adjusted: bonus != top_up.bonus_shown,
            wallet_balance: self.wallet_balance(customer_id)?,
        })
    }

    /// Why this top-up must be refused, if it must: an unknown or unbound customer, or a
    /// wallet that `credit` (the cash and its bonus) would take over the cap.
    fn top_up_refusal(
        &self,
        top_up: &CashTopUp,
        credit: Amount,
    ) -> Result<Option<Outcome>, Deferred> {
        let customer_id = top_up.customer_id;
        if !self.state.existing_customers.contains(&customer_id) {
            return Ok(Some(Outcome::rejected(
                RejectCode::CustomerUnknown,
                "There is no customer with this id.",
            )));
        }
        if !self.state.bindings.contains(&(customer_id, top_up.merchant_id)) {
            return Ok(Some(Outcome::rejected(
                RejectCode::CustomerNotBound,
                "The customer is not bound to this store: give the cash back, or have the \
                 customer add this store in the wallet first.",
            )));
        }
        let overflow = |error: tillfund_core::MoneyError| Deferred::Overflow(error.to_string());
        let balance_before = self.wallet_balance(customer_id)?;
        let balance_after = balance_before.checked_add(credit).map_err(overflow)?;
        if balance_after > self.policy.wallet_balance_cap {
            let room =
                self.policy.wallet_balance_cap.checked_sub(balance_before).map_err(overflow)?;
            return Ok(Some(Outcome::rejected(
                RejectCode::WalletCapExceeded,
                format!(
                    "The wallet would hold {} with the bonus, above the cap of {}; it has room \
                     for {} including bonus. Give the cash back.",
                    self.format(balance_after),
                    self.format(self.policy.wallet_balance_cap),
                    self.format(room.max(Amount::ZERO)),
                ),
            )));
        }
        Ok(None)
    }
}

/// The cash into the store's drawer, the principal and the bonus from the reserve into the
/// wallet.
fn top_up_transfers(top_up: &CashTopUp, bonus: Amount) -> Vec<Transfer> {
    let customer_id = top_up.customer_id;
    let mut transfers = vec![
        Transfer {
            from: Account::World,
            to: Account::Drawer(top_up.merchant_id),
            amount: top_up.amount,
            code: TransferCode::Cash,
        },
        Transfer {
            from: Account::Reserve,
            to: Account::Wallet(customer_id, Bucket::Principal),
            amount: top_up.amount,
            code: TransferCode::Principal,
        },
    ];
    if let Ok(bonus) = PositiveAmount::new(bonus) {
        transfers.push(Transfer {
            from: Account::Reserve,
            to: Account::Wallet(customer_id, Bucket::Bonus),
            amount: bonus,
            code: TransferCode::Bonus,
        });
    }
    transfers
}
