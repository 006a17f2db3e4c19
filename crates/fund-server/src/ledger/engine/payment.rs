//! A payment: the wallet's buckets pay the order in proportion to their balances, once per
//! (counter, order).

use super::*;

impl Batch {
    pub(super) fn payment(
        &mut self,
        payment: &Payment,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let claims = &payment.claims;
        let customer_id = payment.customer_id;
        let order_key = (claims.terminal_id, claims.order_id);
        let amount = claims.amount.amount().minor_units();
        let taken = match self.payment_split(payment)? {
            Ok(taken) => taken,
            Err(refusal) => return Ok(refusal),
        };
        let transfers = wallet_transfers(customer_id, taken, Direction::ToService)?;
        let entry = NewEntry {
            code: EntryCode::Payment,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(claims.merchant_id),
                terminal_id: Some(claims.terminal_id),
                order_id: Some(claims.order_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let entry_sequence =
            self.post_at_counter(entry, claims.merchant_id, claims.terminal_id, |sequence| {
                UnsettledEntry::Payment { sequence, amount }
            })?;
        self.state.orders.insert(
            order_key,
            PaidOrder {
                order_id: claims.order_id,
                merchant_id: claims.merchant_id,
                terminal_id: claims.terminal_id,
                customer_id,
                amount: claims.amount,
                paid_split: taken,
                refunded_split: [0; 3],
                payment_entry: entry_sequence,
                paid_at_ms: command.recorded_at_ms,
            },
        );
        self.new_order_ids.push(order_key);
        Ok(Outcome::Paid {
            entry_sequence,
            order_id: claims.order_id,
            customer_id,
            amount: claims.amount.amount(),
            confirmation_code: payment.confirmation_code.clone(),
            wallet_balance: self.wallet_balance(customer_id)?,
        })
    }

    /// What each bucket of the wallet pays, or why the payment is refused: an unknown
    /// customer, an order paid already, a store the wallet is not bound to, a balance short
    /// of the amount.
    fn payment_split(&self, payment: &Payment) -> Result<Result<[i64; 3], Outcome>, Deferred> {
        let claims = &payment.claims;
        let customer_id = payment.customer_id;
        if !self.state.existing_customers.contains(&customer_id) {
            return Ok(Err(Outcome::rejected(
                RejectCode::CustomerUnknown,
                "There is no customer with this id.",
            )));
        }
        if self.state.orders.contains_key(&(claims.terminal_id, claims.order_id)) {
            return Ok(Err(Outcome::rejected(
                RejectCode::OrderAlreadyPaid,
                "This order has already been paid.",
            )));
        }
        if !self.state.bindings.contains(&(customer_id, claims.merchant_id)) {
            return Ok(Err(Outcome::rejected(
                RejectCode::CustomerNotBound,
                "Your wallet is not bound to this store. Add the store in your wallet, then pay.",
            )));
        }
        let split = self.wallet_split(customer_id)?;
        match split_proportionally(claims.amount.amount().minor_units(), split) {
            Some(taken) => Ok(Ok(taken)),
            None => Ok(Err(Outcome::rejected(
                RejectCode::InsufficientFunds,
                format!(
                    "Your balance of {} does not cover {}.",
                    self.format(self.wallet_balance(customer_id)?),
                    self.format(claims.amount.amount())
                ),
            ))),
        }
    }
}
