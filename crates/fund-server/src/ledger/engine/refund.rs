//! A refund: back to the buckets in proportion to what of the order is not yet refunded.

use super::*;

impl Batch {
    pub(super) fn refund(
        &mut self,
        refund: &Refund,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        // Only the counter that made the order refunds it: its id is that counter's.
        let order_key = (refund.terminal_id, refund.order_id);
        let Some(order) = self.state.orders.get(&order_key).cloned() else {
            return Ok(Outcome::rejected(
                RejectCode::OrderNotFound,
                "No paid order has this number.",
            ));
        };
        if order.merchant_id != refund.merchant_id {
            return Ok(Outcome::rejected(
                RejectCode::OrderOfAnotherMerchant,
                "This order was paid at another store.",
            ));
        }
        let remaining_split: [i64; 3] = if self.policy.sim_bugs.refund_ignores_refunded() {
            order.paid_split
        } else {
            std::array::from_fn(|index| order.paid_split[index] - order.refunded_split[index])
        };
        let remaining: i64 = remaining_split.iter().sum();
        let amount = refund.amount.amount().minor_units();
        let Some(returned) = split_proportionally(amount, remaining_split) else {
            let remaining = Amount::from_minor_units(remaining)
                .map_err(|error| Deferred::Overflow(error.to_string()))?;
            return Ok(Outcome::rejected(
                RejectCode::RefundExceedsPaid,
                format!("At most {} of this order can still be refunded.", self.format(remaining)),
            ));
        };
        let customer_id = order.customer_id;
        let transfers = wallet_transfers(customer_id, returned, Direction::FromService)?;
        let entry = NewEntry {
            code: EntryCode::Refund,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                merchant_id: Some(order.merchant_id),
                terminal_id: Some(refund.terminal_id),
                order_id: Some(order.order_id),
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers,
        };
        let entry_sequence = match self.post(entry)? {
            Ok(sequence) => sequence,
            Err(Account::Service) => return Err(Deferred::ServiceInsufficient),
            Err(account) => return guard_tripped(account),
        };
        self.posted_for_settlement.push((
            order.merchant_id,
            command.recorded_at_ms,
            (Some(refund.terminal_id), UnsettledEntry::Refund { sequence: entry_sequence, amount }),
        ));
        let refunded_split: [i64; 3] =
            std::array::from_fn(|index| order.refunded_split[index] + returned[index]);
        let refunded_total: i64 = refunded_split.iter().sum();
        if let Some(stored) = self.state.orders.get_mut(&order_key) {
            stored.refunded_split = refunded_split;
        }
        self.refunded_order_ids.insert(order_key);
        Ok(Outcome::Refunded {
            entry_sequence,
            order_id: order.order_id,
            amount: refund.amount.amount(),
            refunded_total: Amount::from_minor_units(refunded_total)
                .map_err(|error| Deferred::Overflow(error.to_string()))?,
            wallet_balance: self.wallet_balance(customer_id)?,
            refunded_at_ms: Some(command.recorded_at_ms),
        })
    }
}
