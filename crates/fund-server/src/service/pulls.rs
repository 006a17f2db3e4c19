//! What counters pull: paid orders (by long poll, capped) and binding changes.

use super::*;
use crate::store::Storage;

/// Long polls held open, in all and per terminal.
#[derive(Debug, Default)]
pub(super) struct LongPolls {
    total: AtomicUsize,
    per_terminal: std::sync::Mutex<std::collections::HashMap<TerminalId, usize>>,
}

/// One held long poll; dropping it (answered, cancelled, or the client gone) frees its slot.
pub(super) struct LongPollSlot {
    polls: Arc<LongPolls>,
    terminal_id: TerminalId,
}

impl Drop for LongPollSlot {
    fn drop(&mut self) {
        self.polls.total.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut per_terminal) = self.polls.per_terminal.lock() {
            if let Some(count) = per_terminal.get_mut(&self.terminal_id) {
                *count -= 1;
                if *count == 0 {
                    per_terminal.remove(&self.terminal_id);
                }
            }
        }
    }
}

impl<S: Storage> FundService<S> {
    /// Orders of the terminal's store paid after `after_entry`. With `wait` and nothing
    /// new, waits up to `wait` for the ledger to commit something first (long poll), so a
    /// counter hears of a payment within moments.
    pub async fn paid_orders(
        &self,
        terminal: &AuthenticatedTerminal,
        after_entry: i64,
        wait: std::time::Duration,
    ) -> Result<Vec<crate::ledger::PaidOrder>, ServiceError> {
        const PAID_ORDERS_PER_ANSWER_MAX: i64 = 500;
        let merchant_id = terminal.terminal.merchant_id;
        // A held poll is cheap but not free: each counter may hold a few, the server a
        // bounded number; past either, the answer comes at once (the counter polls again).
        let slot = if wait.is_zero() { None } else { self.long_poll_slot(terminal.terminal.id) };
        let wait = if slot.is_some() { wait } else { std::time::Duration::ZERO };
        let deadline = tokio::time::Instant::now() + wait;
        let mut commits = self.writer.commits();
        loop {
            commits.borrow_and_update();
            let orders = self
                .store
                .paid_orders_after(merchant_id, after_entry, PAID_ORDERS_PER_ANSWER_MAX)
                .await?;
            if !orders.is_empty() {
                return Ok(orders);
            }
            match tokio::time::timeout_at(deadline, commits.changed()).await {
                Ok(Ok(())) => continue,
                _ => return Ok(orders),
            }
        }
    }

    pub(super) fn long_poll_slot(&self, terminal_id: TerminalId) -> Option<LongPollSlot> {
        let mut per_terminal = self.long_polls.per_terminal.lock().ok()?;
        let held = per_terminal.get(&terminal_id).copied().unwrap_or(0);
        if held >= self.config.long_polls_per_terminal_max {
            return None;
        }
        let total = self.long_polls.total.fetch_add(1, Ordering::SeqCst);
        if total >= self.config.long_polls_total_max {
            self.long_polls.total.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        per_terminal.insert(terminal_id, held + 1);
        Some(LongPollSlot { polls: self.long_polls.clone(), terminal_id })
    }

    pub async fn binding_changes(
        &self,
        terminal: &AuthenticatedTerminal,
        after_sequence: i64,
        limit: i64,
    ) -> Result<Vec<BindingChange>, ServiceError> {
        Ok(self.store.binding_changes(terminal.terminal.merchant_id, after_sequence, limit).await?)
    }
}
