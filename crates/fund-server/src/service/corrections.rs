//! A manager's corrections at the counter: refunds of paid orders, reversals of top-ups.

use super::*;
use crate::store::Storage;

impl<S: Storage> FundService<S> {
    pub async fn refund(
        &self,
        terminal: &AuthenticatedTerminal,
        order_id: OrderId,
        amount: PositiveAmount,
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
        self.submit(command).await
    }

    /// Gives back cash for all or part of a top-up recorded by a counter of this store.
    pub async fn reverse_top_up(
        &self,
        terminal: &AuthenticatedTerminal,
        top_up: tillfund_core::OutboxEntryId,
        amount: PositiveAmount,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("terminal/{}/reversal/{idempotency_key}", terminal.terminal.id),
                fingerprint: fingerprint(&[
                    b"reversal",
                    top_up.to_string().as_bytes(),
                    &amount.amount().minor_units().to_be_bytes(),
                ]),
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::ReverseTopUp(crate::ledger::ReverseTopUp {
                merchant_id: terminal.terminal.merchant_id,
                terminal_id: terminal.terminal.id,
                top_up,
                amount,
            }),
        };
        self.submit(command).await
    }
}
