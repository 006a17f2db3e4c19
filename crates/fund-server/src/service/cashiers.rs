//! Who did it at the counter: the member a counter names on a top-up, refund, reversal or
//! close is kept beside the ledger once the action went through (`store::cashier_store`).

use tillfund_core::StaffId;

use super::{AuthenticatedTerminal, FundService};
use crate::store::{CashierKind, CashierRecord, Storage};

impl<S: Storage> FundService<S> {
    /// Keeps who did `record_id`, when the counter said. After the action, not in its
    /// transaction: who pressed the key moves no money, and a failure here must not turn a
    /// done refund into an error the counter would retry. Logged instead; the counter's
    /// own record keeps the name either way.
    pub(super) async fn keep_cashier(
        &self,
        terminal: &AuthenticatedTerminal,
        kind: CashierKind,
        record_id: String,
        cashier: Option<StaffId>,
        amount: i64,
        recorded_at_ms: i64,
    ) {
        let Some(staff_id) = cashier else { return };
        let record = CashierRecord {
            merchant_id: terminal.terminal.merchant_id,
            terminal_id: terminal.terminal.id,
            kind,
            record_id,
            staff_id,
            amount,
            recorded_at_ms,
        };
        if let Err(error) = self.store.keep_cashier(&record).await {
            tracing::warn!(%error, kind = kind.as_str(), "the cashier of a record was not kept");
        }
    }
}
