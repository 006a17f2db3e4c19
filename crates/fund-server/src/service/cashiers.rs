//! Who did it at the counter: the member a counter names on a top-up, refund, reversal or
//! close is kept beside the ledger once the action went through (`store::cashier_store`).

use tillfund_core::{MerchantId, StaffId, TerminalId};

use super::{AuthenticatedTerminal, FundService};
use crate::store::{CashierKind, CashierRecord, Storage};

impl AuthenticatedTerminal {
    /// Its store and itself: where what it records is filed.
    pub(super) fn place(&self) -> (MerchantId, TerminalId) {
        (self.terminal.merchant_id, self.terminal.id)
    }
}

impl<S: Storage> FundService<S> {
    /// Keeps who did `record_id`, when the counter said. After the action, not in its
    /// transaction: who pressed the key moves no money, and a failure here must not turn a
    /// done refund into an error the counter would retry. Logged instead; the counter's
    /// own record keeps the name either way.
    ///
    /// Filed under the counter whose figures hold the record: the sender's, except for a
    /// reversal of a top-up an earlier terminal of the counter took (`filed_under`).
    pub(super) async fn keep_cashier(
        &self,
        filed_under: (MerchantId, TerminalId),
        kind: CashierKind,
        record_id: String,
        cashier: Option<StaffId>,
        amount: i64,
        recorded_at_ms: i64,
    ) {
        let Some(staff_id) = cashier else { return };
        let record = CashierRecord {
            merchant_id: filed_under.0,
            terminal_id: filed_under.1,
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
