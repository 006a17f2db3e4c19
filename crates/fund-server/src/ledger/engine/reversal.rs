//! Reversing all or part of a top-up: the cash back out of the drawer, the principal out of
//! the wallet, the bonus clawed back in proportion.

use super::*;

/// What a reversal will move, once its checks passed.
struct ReversalPlan {
    top_up: AppliedTopUp,
    /// Principal and cash given back, minor units.
    amount: i64,
    /// Bonus clawed back by this reversal.
    bonus: i64,
    /// What all reversals of the top-up will have given back, this one included.
    reversed_after: i64,
    bonus_after: i64,
}

impl Batch {
    pub(super) fn reverse_top_up(
        &mut self,
        reversal: &ReverseTopUp,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let plan = match self.reversal_plan(reversal)? {
            Ok(plan) => plan,
            Err(refusal) => return Ok(refusal),
        };
        let ReversalPlan { top_up, amount, bonus, reversed_after, bonus_after } = plan;
        let customer_id = top_up.customer_id;
        let mut transfers = vec![
            Transfer {
                from: Account::Wallet(customer_id, Bucket::Principal),
                to: Account::Reserve,
                amount: reversal.amount,
                code: TransferCode::Principal,
            },
            Transfer {
                from: Account::Drawer(top_up.merchant_id),
                to: Account::World,
                amount: reversal.amount,
                code: TransferCode::Cash,
            },
        ];
        if let Ok(bonus) = PositiveAmount::try_from(bonus) {
            transfers.push(Transfer {
                from: Account::Wallet(customer_id, Bucket::Bonus),
                to: Account::Reserve,
                amount: bonus,
                code: TransferCode::Bonus,
            });
        }
        let entry = NewEntry {
            code: EntryCode::TopUpReversal,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(top_up.merchant_id),
                terminal_id: Some(reversal.top_up_terminal_id),
                outbox_entry_id: Some(top_up.outbox_entry_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let settled = |sequence| UnsettledEntry::Reversal { sequence, cash: amount, bonus };
        let entry_sequence =
            self.post_at_counter(entry, top_up.merchant_id, reversal.top_up_terminal_id, settled)?;
        let top_up_key = (reversal.top_up_terminal_id, reversal.top_up);
        if let Some(stored) = self.state.top_ups.get_mut(&top_up_key) {
            stored.reversed_amount = reversed_after;
            stored.reversed_bonus = bonus_after;
        }
        Ok(Outcome::TopUpReversed {
            entry_sequence,
            customer_id,
            amount: reversal.amount.amount(),
            bonus_clawed_back: Amount::from_minor_units(bonus)
                .map_err(|error| Deferred::Overflow(error.to_string()))?,
            wallet_balance: self.wallet_balance(customer_id)?,
            reversed_at_ms: Some(command.recorded_at_ms),
        })
    }

    /// The reversal's plan, or why it is refused: only the counter that took the top-up
    /// (under its terminal or one it replaced, `ReverseTopUp::top_up_terminal_id`) reverses it, at most what is left of it, and only while the wallet still holds it
    /// and the drawer the cash.
    fn reversal_plan(
        &self,
        reversal: &ReverseTopUp,
    ) -> Result<Result<ReversalPlan, Outcome>, Deferred> {
        // Entry ids are per counter: the key holds the counter that took it.
        let top_up_key = (reversal.top_up_terminal_id, reversal.top_up);
        let Some(top_up) = self.state.top_ups.get(&top_up_key).cloned() else {
            return Ok(Err(Outcome::rejected(
                RejectCode::TopUpNotFound,
                "No applied top-up has this number.",
            )));
        };
        if top_up.merchant_id != reversal.merchant_id {
            return Ok(Err(Outcome::rejected(
                RejectCode::TopUpOfAnotherMerchant,
                "This top-up was taken at another store.",
            )));
        }
        let overflow = |error: String| Deferred::Overflow(error);
        let amount = reversal.amount.amount().minor_units();
        let remaining = top_up.amount - top_up.reversed_amount;
        if amount > remaining {
            let remaining =
                Amount::from_minor_units(remaining).map_err(|error| overflow(error.to_string()))?;
            return Ok(Err(Outcome::rejected(
                RejectCode::ReversalExceedsTopUp,
                format!("At most {} of this top-up can still be reversed.", self.format(remaining)),
            )));
        }
        // Cumulative proportion, so reversing in parts claws back exactly the whole bonus.
        let reversed_after = top_up.reversed_amount + amount;
        let bonus_after = i64::try_from(
            i128::from(top_up.bonus) * i128::from(reversed_after) / i128::from(top_up.amount),
        )
        .map_err(|error| overflow(error.to_string()))?;
        let bonus = bonus_after - top_up.reversed_bonus;
        let customer_id = top_up.customer_id;
        let principal_held =
            self.balance(Account::Wallet(customer_id, Bucket::Principal))?.minor_units();
        let bonus_held = self.balance(Account::Wallet(customer_id, Bucket::Bonus))?.minor_units();
        if principal_held < amount || bonus_held < bonus {
            return Ok(Err(Outcome::rejected(
                RejectCode::WalletInsufficient,
                "The customer has already spent part of this top-up; it cannot be reversed in full now.",
            )));
        }
        // Every close settles all unsettled entries before its day's end, so the cash of
        // earlier days still open is owed to their closes: a reversal is paid out of the
        // cash taken today. Paid out of the whole drawer, it left an earlier day's close
        // short of its cash, and that day could never close (found by the simulator).
        let drawer = self.balance(Account::Drawer(top_up.merchant_id))?.minor_units();
        let today =
            self.cash_within(top_up.merchant_id, reversal.day_start_ms, reversal.day_end_ms)?;
        if drawer.min(today) < amount {
            return Ok(Err(Outcome::rejected(
                RejectCode::DrawerInsufficient,
                "The drawer has not taken enough cash today to give this back (the cash of days not yet closed belongs to their close); the operator must handle this reversal.",
            )));
        }
        Ok(Ok(ReversalPlan { top_up, amount, bonus, reversed_after, bonus_after }))
    }

    /// Drawer cash of the merchant's unsettled entries recorded in `[start_ms, end_ms)`:
    /// those loaded for the batch and those it posted, less what its closes settled.
    pub(super) fn cash_within(
        &self,
        merchant_id: MerchantId,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<i64, Deferred> {
        let key = (merchant_id, start_ms, end_ms);
        let Some(loaded) = self.state.unsettled_within_day.get(&key) else {
            return Err(Deferred::GuardTripped {
                account: format!("unsettled cash of {merchant_id} in its day (not loaded)"),
            });
        };
        let posted_here =
            self.posted_for_settlement.iter().filter(|(merchant, recorded_at_ms, _)| {
                *merchant == merchant_id && (start_ms..end_ms).contains(recorded_at_ms)
            });
        let mut figures = SettlementFigures::default();
        loaded
            .iter()
            .copied()
            .chain(posted_here.map(|(_, _, entry)| *entry))
            .filter(|(_, entry)| !self.settled_in_batch.contains(&entry.sequence()))
            .for_each(|(_, entry)| entry.add_to(&mut figures));
        Ok(figures.drawer_cash())
    }
}
