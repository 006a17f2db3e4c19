//! Reversing all or part of a top-up: the cash back out of the drawer, the principal out of
//! the wallet, the bonus clawed back in proportion.

use super::*;

impl Batch<'_> {
    pub(super) fn reverse_top_up(
        &mut self,
        reversal: &ReverseTopUp,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        // Only the counter that recorded the top-up reverses it: entry ids are per counter.
        let top_up_key = (reversal.terminal_id, reversal.top_up);
        let Some(top_up) = self.state.top_ups.get(&top_up_key).cloned() else {
            return Ok(Outcome::rejected("top_up_not_found", "No applied top-up has this number."));
        };
        if top_up.merchant_id != reversal.merchant_id {
            return Ok(Outcome::rejected(
                "top_up_of_another_merchant",
                "This top-up was taken at another store.",
            ));
        }
        let amount = reversal.amount.amount().minor_units();
        let remaining = top_up.amount - top_up.reversed_amount;
        if amount > remaining {
            return Ok(Outcome::rejected(
                "reversal_exceeds_top_up",
                format!(
                    "At most {} of this top-up can still be reversed.",
                    self.format(
                        Amount::from_minor_units(remaining)
                            .map_err(|error| Deferred::Overflow(error.to_string()))?
                    )
                ),
            ));
        }
        // Cumulative proportion, so reversing in parts claws back exactly the whole bonus.
        let reversed_after = top_up.reversed_amount + amount;
        let bonus_after = i64::try_from(
            i128::from(top_up.bonus) * i128::from(reversed_after) / i128::from(top_up.amount),
        )
        .map_err(|error| Deferred::Overflow(error.to_string()))?;
        let bonus = bonus_after - top_up.reversed_bonus;
        let customer_id = top_up.customer_id;
        let principal_held =
            self.balance(Account::Wallet(customer_id, Bucket::Principal))?.minor_units();
        let bonus_held = self.balance(Account::Wallet(customer_id, Bucket::Bonus))?.minor_units();
        if principal_held < amount || bonus_held < bonus {
            return Ok(Outcome::rejected(
                "wallet_insufficient",
                "The customer has already spent part of this top-up; it cannot be reversed in full now.",
            ));
        }
        if self.balance(Account::Drawer(top_up.merchant_id))?.minor_units() < amount {
            return Ok(Outcome::rejected(
                "drawer_insufficient",
                "The cash of this top-up has left the drawer (its day is closed); the operator must handle this reversal.",
            ));
        }
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
                terminal_id: Some(reversal.terminal_id),
                outbox_entry_id: Some(top_up.outbox_entry_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(account) => return guard_tripped(account),
        };
        self.posted_for_settlement.push((
            top_up.merchant_id,
            command.recorded_at_ms,
            (
                Some(reversal.terminal_id),
                UnsettledEntry::Reversal { sequence: entry_sequence, cash: amount, bonus },
            ),
        ));
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
        })
    }
}
