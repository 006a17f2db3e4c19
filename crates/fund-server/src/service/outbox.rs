//! A counter's outbox push: each entry applied once, its recorded time bounded.

use super::*;
use crate::store::{CashierKind, Storage};

/// The oldest an outbox entry may be when it reaches the server: a counter offline for
/// longer is not running a store, and an entry older than this is a clock or a forgery.
pub const RECORDED_AT_AGE_MS_MAX: i64 = 90 * 24 * 60 * 60 * 1000;

/// The ledger command of a counter's outbox entry, keyed by (counter, entry id) and
/// fingerprinted by the entry's canonical bytes.
fn outbox_command(
    terminal: &AuthenticatedTerminal,
    entry: &OutboxEntry,
    sim_bugs: ServerSimBugs,
    received_at_ms: i64,
) -> Result<Command, ServiceError> {
    let canonical = serde_json::to_vec(entry).map_err(|error| internal(error.to_string()))?;
    let mut key = format!("terminal/{}/outbox/{}", terminal.terminal.id, entry.id);
    if sim_bugs.outbox_idempotency_off() {
        key.push_str(&format!("/{received_at_ms}"));
    }
    let idempotency = IdempotencyKey { key, fingerprint: fingerprint(&[b"outbox", &canonical]) };
    let kind = match &entry.action {
        CounterAction::CashTopUp { customer_id, amount, bonus_shown, bonus_rule_version } => {
            CommandKind::CashTopUp(CashTopUp {
                merchant_id: terminal.terminal.merchant_id,
                terminal_id: terminal.terminal.id,
                outbox_entry_id: entry.id,
                customer_id: *customer_id,
                amount: *amount,
                bonus_shown: *bonus_shown,
                rule_set_version: *bonus_rule_version,
            })
        }
    };
    Ok(Command { idempotency, recorded_at_ms: entry.recorded_at_ms, kind })
}

impl<S: Storage> FundService<S> {
    /// Applies pushed outbox entries in order, each on its own: one refused entry never
    /// blocks the ones behind it.
    pub async fn push_outbox(
        &self,
        terminal: &AuthenticatedTerminal,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<EntryResult>, ServiceError> {
        let mut commands = Vec::with_capacity(entries.len());
        let mut refused = std::collections::HashMap::new();
        let received_at_ms = self.store.clock().now_ms();
        for entry in &entries {
            if let Err(rejection) = self.check_recorded_at(entry.recorded_at_ms, received_at_ms) {
                refused.insert(entry.id, rejection);
                continue;
            }
            commands.push(outbox_command(
                terminal,
                entry,
                self.config.policy.sim_bugs,
                received_at_ms,
            )?);
        }
        let mut decisions = self.writer.submit_all(commands).await.into_iter();
        let mut results = Vec::with_capacity(entries.len());
        for entry in &entries {
            if let Some(rejection) = refused.remove(&entry.id) {
                results.push(EntryResult { id: entry.id, outcome: rejection });
                continue;
            }
            let Some(decision) = decisions.next() else {
                return Err(internal("the ledger answered fewer entries than were sent".into()));
            };
            let outcome = match decision {
                Ok(Decided { outcome: Outcome::Rejected { code, message }, .. }) => {
                    let code = reject_error_code(code).as_str().to_owned();
                    EntryOutcome::Rejected { code, message }
                }
                Ok(Decided { replayed: true, .. }) => EntryOutcome::AlreadyApplied,
                Ok(Decided { replayed: false, .. }) => EntryOutcome::Applied,
                // A reused key is refused for good; anything else may pass on a retry.
                Err(SubmitError::Deferred(deferred @ Deferred::KeyReused { .. })) => {
                    let error = deferred_error(&deferred);
                    EntryOutcome::Rejected { code: error.code.to_string(), message: error.message }
                }
                Err(error) => {
                    let error = ServiceError::from(error);
                    EntryOutcome::RetryLater {
                        code: error.code.to_string(),
                        message: error.message,
                    }
                }
            };
            if matches!(outcome, EntryOutcome::Applied | EntryOutcome::AlreadyApplied) {
                let CounterAction::CashTopUp { amount, .. } = &entry.action;
                let (kind, id) = (CashierKind::TopUp, entry.id.to_string());
                let amount = amount.amount().minor_units();
                self.keep_cashier(
                    terminal.place(),
                    kind,
                    id,
                    entry.cashier,
                    amount,
                    entry.recorded_at_ms,
                )
                .await;
            }
            results.push(EntryResult { id: entry.id, outcome });
        }
        Ok(results)
    }

    /// A counter's clock is trusted within bounds: an entry cannot be recorded later than
    /// the server receives it (give or take the allowed skew), nor longer ago than a counter
    /// can have been offline. A counter may be offline for days, never in the future: an
    /// entry dated in the future would never be settled. (The bonus of an old entry is
    /// judged by the server's clock, see `Batch::bonus_for`, so backdating gains nothing.)
    pub(super) fn check_recorded_at(
        &self,
        recorded_at_ms: i64,
        received_at_ms: i64,
    ) -> Result<(), EntryOutcome> {
        let skew = self.config.request_skew_ms;
        let earliest = received_at_ms.saturating_sub(RECORDED_AT_AGE_MS_MAX);
        let latest = received_at_ms.saturating_add(skew);
        if recorded_at_ms < earliest || recorded_at_ms > latest {
            return Err(EntryOutcome::Rejected {
                code: ErrorCode::RecordedAtOutOfRange.to_string(),
                message: "The entry's time is later than the server received it, or older than \
                          a counter can be offline (90 days); check the counter's clock."
                    .to_owned(),
            });
        }
        Ok(())
    }
}
