//! Drives the `Auditor` over one consistent view of the store: the whole journal, or only
//! what was appended since the last passing audit, which then leaves a new checkpoint.

use crate::ledger::audit::{AuditReport, Auditor};
use crate::store::{AuditRead, ReportStore, StoreError};

/// Journal entries the audit reads per round trip.
const AUDIT_CHUNK_ENTRIES: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    /// Every entry from the first; every stored balance against the replay.
    Full,
    /// The entries after the last passing audit's checkpoint (every entry when there is
    /// none), the closes made since and every close without an entry; every stored
    /// balance against the checkpoint's plus what they moved. An entry or a close before
    /// the checkpoint edited since is only found by `Full`.
    SinceCheckpoint,
}

/// Audits the store (see `ledger::audit` for what is checked) and, when it passes, keeps
/// where it stopped for the next incremental audit.
pub async fn audit_store<S: ReportStore>(
    store: &S,
    scope: AuditScope,
    now_ms: i64,
) -> Result<AuditReport, StoreError> {
    let mut view = store.begin_audit().await?;
    let checkpoint = match scope {
        AuditScope::Full => None,
        AuditScope::SinceCheckpoint => view.checkpoint().await?,
    };
    let mut auditor = match checkpoint {
        Some(checkpoint) => {
            let mut auditor = Auditor::resume(checkpoint);
            let entry = view.journal_after(checkpoint.sequence - 1, 1).await?;
            auditor.check_checkpoint_entry(
                entry.first().filter(|entry| entry.sequence == checkpoint.sequence),
            );
            auditor
        }
        None => Auditor::new(),
    };
    let mut after_sequence = checkpoint.map_or(0, |checkpoint| checkpoint.sequence);
    loop {
        let entries = match view.journal_after(after_sequence, AUDIT_CHUNK_ENTRIES).await {
            Ok(entries) => entries,
            Err(StoreError::Corrupt(problem)) => {
                auditor.problem(format!("after entry {after_sequence}: unreadable: {problem}"));
                break;
            }
            Err(error) => return Err(error),
        };
        let Some(last) = entries.last() else { break };
        after_sequence = last.sequence;
        if let Some(checkpoint) = checkpoint {
            let ids = auditor.references_to_recall(&entries);
            let earlier = match view.entries_carrying(checkpoint.sequence, &ids).await {
                Ok(earlier) => earlier,
                Err(StoreError::Corrupt(problem)) => {
                    auditor.problem(format!("an earlier entry is unreadable: {problem}"));
                    break;
                }
                Err(error) => return Err(error),
            };
            auditor.recall(&earlier);
            let accounts = auditor.accounts_to_seed(&entries);
            let found = view.checkpoint_balances(&accounts).await?;
            auditor.seed_balances(&accounts, &found);
        }
        for entry in &entries {
            auditor.check_entry(entry);
        }
    }
    let after = checkpoint.map_or(0, |checkpoint| checkpoint.sequence);
    for check in view.settlement_checks(after).await? {
        auditor.check_settlement(&check);
    }
    let (report, next) = if checkpoint.is_some() {
        let drift = view.balance_drift().await?;
        let account_count = view.account_count().await?;
        auditor.finish_resumed(&drift, account_count, now_ms)
    } else {
        let mut balances = Vec::new();
        let mut unreadable = Vec::new();
        for row in view.balances().await? {
            match row {
                Ok(balance) => balances.push(balance),
                Err(key) => unreadable.push(key),
            }
        }
        for key in unreadable {
            auditor.problem(format!("account row '{key}' is unreadable"));
        }
        auditor.finish(&balances, now_ms)
    };
    drop(view);
    if let Some(next) = next {
        // Another audit may have moved the checkpoint meanwhile; then it stays as it left it.
        store
            .save_audit_checkpoint(checkpoint.map(|checkpoint| checkpoint.sequence), &next)
            .await?;
    } else if scope == AuditScope::Full && !report.passed() {
        // What an earlier pass verified is in doubt: the next audit replays everything.
        store.forget_audit_checkpoint().await?;
    }
    Ok(report)
}
