//! The reserve: funding from outside, yield postings paid from it, and the monitor that
//! refills it from the service account or raises the alert.

use super::*;

impl Batch {
    pub(super) fn fund_reserve(
        &mut self,
        amount: PositiveAmount,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let entry = NewEntry {
            code: EntryCode::Fund,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences::default(),
            transfers: vec![Transfer {
                from: Account::World,
                to: Account::Reserve,
                amount,
                code: TransferCode::Fund,
            }],
        };
        match self.post(entry)? {
            Ok(entry_sequence) => {
                // Funded, but still under the threshold: refill, or raise the alert now,
                // not at the next operation that draws on the reserve.
                self.monitor_reserve(command.recorded_at_ms)?;
                self.clear_reserve_alert_if_recovered()?;
                Ok(Outcome::Funded { entry_sequence, amount: amount.amount() })
            }
            Err(account) => guard_tripped(account),
        }
    }

    pub(super) fn defund_reserve(
        &mut self,
        amount: PositiveAmount,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let reserve = self.balance(Account::Reserve)?;
        let threshold = self.policy.reserve_threshold;
        let after = reserve.minor_units() - amount.amount().minor_units();
        if after < threshold.minor_units() {
            let most =
                Amount::from_minor_units((reserve.minor_units() - threshold.minor_units()).max(0))
                    .map_err(|error| Deferred::Overflow(error.to_string()))?;
            return Ok(Outcome::rejected(
                RejectCode::ReserveUnderThreshold,
                format!(
                    "The reserve holds {} and must keep its threshold of {}: at most {} can be taken out.",
                    self.format(reserve),
                    self.format(threshold),
                    self.format(most)
                ),
            ));
        }
        let entry = NewEntry {
            code: EntryCode::Defund,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences::default(),
            transfers: vec![Transfer {
                from: Account::Reserve,
                to: Account::World,
                amount,
                code: TransferCode::Defund,
            }],
        };
        match self.post(entry)? {
            Ok(entry_sequence) => Ok(Outcome::Defunded { entry_sequence, amount: amount.amount() }),
            Err(account) => guard_tripped(account),
        }
    }

    pub(super) fn post_yield(
        &mut self,
        customer_id: CustomerId,
        amount: PositiveAmount,
        day: &str,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        if self.balance(Account::Reserve)? < amount.amount() {
            self.refill_reserve(command.recorded_at_ms)?;
            if self.balance(Account::Reserve)? < amount.amount() {
                return Err(Deferred::ReserveInsufficient { needed: self.format(amount.amount()) });
            }
        }
        let entry = NewEntry {
            code: EntryCode::Yield,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                customer_id: Some(customer_id),
                business_day: Some(day.to_owned()),
                ..EntryReferences::default()
            },
            transfers: vec![Transfer {
                from: Account::Reserve,
                to: Account::Wallet(customer_id, Bucket::Yield),
                amount,
                code: TransferCode::Yield,
            }],
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(account) => return guard_tripped(account),
        };
        self.monitor_reserve(command.recorded_at_ms)?;
        Ok(Outcome::YieldPosted { entry_sequence, customer_id, amount: amount.amount() })
    }

    /// After an operation that drew on the reserve: refill it once if it is under the
    /// threshold, or raise the alert when the service account cannot cover the refill.
    pub(super) fn monitor_reserve(&mut self, recorded_at_ms: i64) -> Result<(), Deferred> {
        if self.balance(Account::Reserve)? < self.policy.reserve_threshold {
            self.refill_reserve(recorded_at_ms)?;
        }
        Ok(())
    }

    pub(super) fn refill_reserve(&mut self, recorded_at_ms: i64) -> Result<(), Deferred> {
        let Ok(refill) = PositiveAmount::new(self.policy.reserve_refill) else {
            return Ok(());
        };
        let entry = NewEntry {
            code: EntryCode::Refill,
            recorded_at_ms,
            references: EntryReferences::default(),
            transfers: vec![Transfer {
                from: Account::Service,
                to: Account::Reserve,
                amount: refill,
                code: TransferCode::Refill,
            }],
        };
        match self.post(entry)? {
            Ok(_) => self.clear_reserve_alert_if_recovered()?,
            Err(_) => {
                let message = format!(
                    "reserve is {} (threshold {}) and the service account holds {}, less than \
                     the refill of {}: fund the reserve",
                    self.format(self.balance(Account::Reserve)?),
                    self.format(self.policy.reserve_threshold),
                    self.format(self.balance(Account::Service)?),
                    self.format(self.policy.reserve_refill),
                );
                // Logged as an error when the alert opens; while it stays open the hourly
                // chores remind at a bounded rate instead of every operation logging it.
                let already_raised = self.state.reserve_alert_open
                    || matches!(self.writes.reserve_alert, AlertChange::Raised(_));
                if already_raised {
                    tracing::debug!(%message, "reserve monitor: alert still open");
                } else {
                    tracing::error!(%message, "reserve monitor: alert raised");
                }
                self.writes.reserve_alert = AlertChange::Raised(message);
            }
        }
        Ok(())
    }

    pub(super) fn clear_reserve_alert_if_recovered(&mut self) -> Result<(), Deferred> {
        if self.balance(Account::Reserve)? >= self.policy.reserve_threshold {
            self.writes.reserve_alert = AlertChange::Cleared;
        }
        Ok(())
    }
}
