//! A redemption: a wallet's principal and yield paid out as cash at a counter of a store it
//! is bound to. Bonus is never cash: it is clawed back in proportion to the principal taken
//! out, all of it when the last of the principal goes.

use super::*;

/// What a redemption will move, once its checks passed.
struct RedemptionPlan {
    principal: i64,
    earned: i64,
    bonus: i64,
}

impl Batch {
    pub(super) fn redeem(
        &mut self,
        redemption: &Redemption,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let RedemptionPlan { principal, earned, bonus } = match self.redemption_plan(redemption)? {
            Ok(plan) => plan,
            Err(refusal) => return Ok(refusal),
        };
        let customer_id = redemption.customer_id;
        let cash = redemption.amount.amount().minor_units();
        assert_eq!(principal + earned, cash, "a redemption pays out principal and yield only");
        let mut transfers = vec![Transfer {
            from: Account::Drawer(redemption.merchant_id),
            to: Account::World,
            amount: redemption.amount,
            code: TransferCode::Cash,
        }];
        for (bucket, code, minor_units) in [
            (Bucket::Principal, TransferCode::Principal, principal),
            (Bucket::Yield, TransferCode::Yield, earned),
            (Bucket::Bonus, TransferCode::Bonus, bonus),
        ] {
            if let Ok(amount) = PositiveAmount::try_from(minor_units) {
                transfers.push(Transfer {
                    from: Account::Wallet(customer_id, bucket),
                    to: Account::Reserve,
                    amount,
                    code,
                });
            }
        }
        let entry = NewEntry {
            code: EntryCode::Redemption,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(redemption.merchant_id),
                terminal_id: Some(redemption.terminal_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let settled = |sequence| UnsettledEntry::Redemption { sequence, cash, bonus };
        let entry_sequence =
            self.post_at_counter(entry, redemption.merchant_id, redemption.terminal_id, settled)?;
        let amount = |minor_units: i64| {
            Amount::from_minor_units(minor_units)
                .map_err(|error| Deferred::Overflow(error.to_string()))
        };
        Ok(Outcome::Redeemed {
            entry_sequence,
            customer_id,
            cash: redemption.amount.amount(),
            principal: amount(principal)?,
            yield_paid: amount(earned)?,
            bonus_clawed_back: amount(bonus)?,
            wallet_balance: self.wallet_balance(customer_id)?,
            redeemed_at_ms: command.recorded_at_ms,
        })
    }

    /// The redemption's plan, or why it is refused: a wallet bound to this store, principal
    /// and yield enough (the bonus never pays out), and the cash in the drawer today.
    fn redemption_plan(
        &self,
        redemption: &Redemption,
    ) -> Result<Result<RedemptionPlan, Outcome>, Deferred> {
        if redemption.only_if_made {
            // An earlier decision would have been answered from its idempotency record.
            return Ok(Err(Outcome::rejected(
                RejectCode::RedemptionNotMade,
                "This payout was not made, and now never will be.",
            )));
        }
        let customer_id = redemption.customer_id;
        if !self.state.existing_customers.contains(&customer_id) {
            return Ok(Err(Outcome::rejected(
                RejectCode::CustomerUnknown,
                "There is no customer with this id.",
            )));
        }
        if !self.state.bindings.contains(&(customer_id, redemption.merchant_id)) {
            return Ok(Err(Outcome::rejected(
                RejectCode::CustomerNotBound,
                "The wallet is not bound to this store: it is paid out only where it is bound.",
            )));
        }
        let [principal_held, bonus_held, earned_held] = self.wallet_split(customer_id)?;
        let cash = redemption.amount.amount().minor_units();
        if redemption.closes_wallet && cash != principal_held + earned_held {
            return Ok(Err(Outcome::rejected(
                RejectCode::WalletChanged,
                "The wallet changed since the closing code was given; the customer asks for a new code.",
            )));
        }
        let Some([principal, earned]) = split_proportionally(cash, [principal_held, earned_held])
        else {
            let payable = Amount::from_minor_units(principal_held + earned_held)
                .map_err(|error| Deferred::Overflow(error.to_string()))?;
            return Ok(Err(Outcome::rejected(
                RejectCode::RedemptionExceedsBalance,
                format!(
                    "At most {} can be paid out (principal and yield; bonus is never cash).",
                    self.format(payable)
                ),
            )));
        };
        // A closing wallet gives all its bonus back: none stays behind a closed door.
        let bonus = if redemption.closes_wallet {
            bonus_held
        } else {
            clawed_back(bonus_held, principal, principal_held)
                .ok_or_else(|| Deferred::Overflow("bonus clawed back".to_owned()))?
        };
        let drawer = self.balance(Account::Drawer(redemption.merchant_id))?.minor_units();
        let today = self.cash_within(
            redemption.merchant_id,
            redemption.day_start_ms,
            redemption.day_end_ms,
        )?;
        if drawer.min(today) < cash {
            return Ok(Err(Outcome::rejected(
                RejectCode::DrawerInsufficient,
                "The drawer has not taken enough cash today to pay this out (the cash of days not yet closed belongs to their close); pay out less, or later.",
            )));
        }
        Ok(Ok(RedemptionPlan { principal, earned, bonus }))
    }
}

/// The bonus that leaves with `principal` out of `principal_held`: in proportion, rounded
/// down, and all of it with the last of the principal, so partial redemptions add up to
/// exactly the bonus. Without principal there is nothing to claw back against.
fn clawed_back(bonus_held: i64, principal: i64, principal_held: i64) -> Option<i64> {
    if principal_held == 0 {
        return Some(0);
    }
    if principal == principal_held {
        return Some(bonus_held);
    }
    i64::try_from(i128::from(bonus_held) * i128::from(principal) / i128::from(principal_held)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bonus_leaves_in_proportion_and_wholly_with_the_last_principal() {
        assert_eq!(clawed_back(1_000, 5_000, 10_000), Some(500));
        assert_eq!(clawed_back(1_000, 3_333, 10_000), Some(333));
        assert_eq!(clawed_back(667, 6_667, 6_667), Some(667), "the rest with the rest");
        assert_eq!(clawed_back(1_000, 0, 10_000), Some(0), "yield only");
        assert_eq!(clawed_back(1_000, 0, 0), Some(0), "no principal left");
        // Parts add up to the whole, whatever the parts.
        let (mut principal_held, mut bonus_held) = (10_001_i64, 777_i64);
        for part in [1, 2_500, 3_333, 4_000, 167] {
            let taken = clawed_back(bonus_held, part, principal_held).unwrap();
            (principal_held, bonus_held) = (principal_held - part, bonus_held - taken);
        }
        assert_eq!((principal_held, bonus_held), (0, 0));
    }
}
