//! A manager's corrections at the counter: refunds of paid orders, reversals of top-ups.

use super::*;
use crate::store::{CashierKind, Storage};

impl<S: Storage> FundService<S> {
    pub async fn refund(
        &self,
        terminal: &AuthenticatedTerminal,
        order_id: OrderId,
        amount: PositiveAmount,
        cashier: Option<tillfund_core::StaffId>,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let fingerprint = fingerprint(&[
            b"refund",
            order_id.to_string().as_bytes(),
            &amount.amount().minor_units().to_be_bytes(),
        ]);
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("terminal/{}/refund/{idempotency_key}", terminal.terminal.id),
                fingerprint,
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::Refund(Refund {
                merchant_id: terminal.terminal.merchant_id,
                terminal_id: terminal.terminal.id,
                order_id,
                amount,
            }),
        };
        let outcome = self.submit(command).await?;
        if let Outcome::Refunded { amount, refunded_at_ms, .. } = &outcome {
            let at_ms = refunded_at_ms.unwrap_or_else(|| self.store.clock().now_ms());
            let (kind, key) = (CashierKind::Refund, idempotency_key.to_owned());
            self.keep_cashier(terminal.place(), kind, key, cashier, amount.minor_units(), at_ms)
                .await;
        }
        Ok(outcome)
    }

    /// The start and end of the business day at the counter's store that `at_ms` falls in.
    pub(super) async fn business_day_ms(
        &self,
        terminal: &AuthenticatedTerminal,
        at_ms: i64,
    ) -> Result<(i64, i64), ServiceError> {
        let zone = self.merchant_zone(terminal).await?;
        let day = jiff::Timestamp::from_millisecond(at_ms)
            .map_err(|error| internal(error.to_string()))?
            .to_zoned(zone.clone())
            .date();
        let start = day
            .to_zoned(zone.clone())
            .map_err(|error| internal(error.to_string()))?
            .timestamp()
            .as_millisecond();
        Ok((start, end_of_day_ms(&zone, day)?))
    }

    /// Gives back cash for all or part of a top-up recorded by a counter of this store.
    pub async fn reverse_top_up(
        &self,
        terminal: &AuthenticatedTerminal,
        taken_by: Option<TerminalId>,
        top_up: tillfund_core::OutboxEntryId,
        amount: PositiveAmount,
        cashier: Option<tillfund_core::StaffId>,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let recorded_at_ms = self.store.clock().now_ms();
        let (day_start_ms, day_end_ms) = self.business_day_ms(terminal, recorded_at_ms).await?;
        let mut parts = vec![
            b"reversal".to_vec(),
            top_up.to_string().into_bytes(),
            amount.amount().minor_units().to_be_bytes().to_vec(),
        ];
        let top_up_terminal_id = match taken_by {
            None => terminal.terminal.id,
            Some(taken_by) if taken_by == terminal.terminal.id => terminal.terminal.id,
            Some(taken_by) => {
                // Only a terminal this counter replaced at this store: the lineage follows
                // first replacements only, so a copy of an old key that enrolled apart
                // reverses nothing of it, nor does another counter of the store.
                if !self.lineage(terminal).await?.contains(&taken_by) {
                    return Err(ServiceError::new(
                        ErrorCode::TopUpNotFound,
                        "No top-up of this counter has this number.",
                    ));
                }
                // The same key reused for another terminal's top-up is another request.
                parts.push(taken_by.to_string().into_bytes());
                taken_by
            }
        };
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("terminal/{}/reversal/{idempotency_key}", terminal.terminal.id),
                fingerprint: fingerprint(&parts),
            },
            recorded_at_ms,
            kind: CommandKind::ReverseTopUp(crate::ledger::ReverseTopUp {
                merchant_id: terminal.terminal.merchant_id,
                terminal_id: terminal.terminal.id,
                top_up_terminal_id,
                top_up,
                amount,
                day_start_ms,
                day_end_ms,
            }),
        };
        let outcome = self.submit(command).await?;
        if let Outcome::TopUpReversed { amount, reversed_at_ms, .. } = &outcome {
            let at_ms = reversed_at_ms.unwrap_or(recorded_at_ms);
            let (kind, key) = (CashierKind::Reversal, idempotency_key.to_owned());
            // Beside the reversal's figures: under the terminal that took the top-up.
            let filed_under = (terminal.terminal.merchant_id, top_up_terminal_id);
            self.keep_cashier(filed_under, kind, key, cashier, amount.minor_units(), at_ms).await;
        }
        Ok(outcome)
    }
}
