//! The sync worker: pulls what the server changed (bindings, bonus rules, and beside the
//! round the store's staff, `staff_sync`) and pushes the outbox in order, in batches, on a timer, with capped and jittered backoff after errors.

use std::time::Duration;

use tillfund_core::protocol::{EntryOutcome, PUSH_BATCH_SIZE_MAX};

use crate::client::{ClientError, ServerClient};
use crate::store::{LocalStore, LocalStoreError};

/// Pause between rounds when everything is in sync.
pub const IDLE_INTERVAL: Duration = Duration::from_secs(2);
/// First pause after a failure; doubled each failure up to `BACKOFF_MAX`.
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Pages of binding changes taken per round, so one round stays short.
const BINDING_PAGES_PER_ROUND_MAX: usize = 20;

/// What one round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// Entries were pushed and answered (some may be left for the next round).
    Done { pushed: usize },
    /// Nothing to push.
    Empty,
    /// The counter has no enrolment yet: nothing to sync with.
    NotEnrolled,
    /// The server could not be reached or refused the round; nothing was marked.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Server(#[from] ClientError),
    #[error(transparent)]
    Local(#[from] LocalStoreError),
    #[error("this counter is not enrolled")]
    NotEnrolled,
}

/// One round: pull bindings and rules, then push pending entries until none is left or
/// the server stops answering.
pub async fn sync_round(store: &LocalStore) -> RoundOutcome {
    sync_round_in_batches_of(store, PUSH_BATCH_SIZE_MAX).await
}

/// As `sync_round`, pushing at most `batch_size` entries per request (the benchmark's
/// baseline pushes one at a time).
pub async fn sync_round_in_batches_of(store: &LocalStore, batch_size: usize) -> RoundOutcome {
    match try_sync_round(store, batch_size.clamp(1, PUSH_BATCH_SIZE_MAX)).await {
        Ok(0) => RoundOutcome::Empty,
        Ok(pushed) => RoundOutcome::Done { pushed },
        Err(SyncError::NotEnrolled) => RoundOutcome::NotEnrolled,
        Err(error) => RoundOutcome::Failed(error.to_string()),
    }
}

async fn try_sync_round(store: &LocalStore, batch_size: usize) -> Result<usize, SyncError> {
    let profile = store.profile().await?.ok_or(SyncError::NotEnrolled)?;
    let credentials = profile.credentials()?;
    let client = store.server_client(&profile.server_url)?;

    for _ in 0..BINDING_PAGES_PER_ROUND_MAX {
        let cursor = store.bindings_cursor().await?;
        let page = client.binding_changes(&credentials, cursor).await?;
        let empty = page.changes.is_empty();
        store.apply_binding_changes(&page.changes, page.next_after).await?;
        if empty {
            break;
        }
    }
    let rules = client.bonus_rules(&credentials).await?;
    store.save_bonus_rules(&rules, store.now_ms()).await?;
    pull_paid_orders(store, &client, &credentials, 0).await?;
    // A refund the server defers (its service account cannot cover it yet) must not hold
    // the top-ups behind it: what stays unanswered is resent next round.
    if let Err(error) =
        crate::refunds::resend_unanswered_refunds(store, &client, &credentials).await
    {
        tracing::info!(%error, "unanswered refunds wait for the next round");
    }
    if let Err(error) =
        crate::reversals::resend_unanswered_reversals(store, &client, &credentials).await
    {
        tracing::info!(%error, "unanswered reversals wait for the next round");
    }
    if let Err(error) =
        crate::redemptions::resend_unanswered_redemptions(store, &client, &credentials).await
    {
        tracing::info!(%error, "unanswered payouts wait for the next round");
    }

    let mut pushed = 0;
    loop {
        let batch = store.pending_entries(i64::try_from(batch_size).unwrap_or(1)).await?;
        if batch.is_empty() {
            // The Sync screen's "last sync": everything pulled, nothing left to push.
            store.set_setting("last_synced_ms", &store.now_ms().to_string()).await?;
            return Ok(pushed);
        }
        let entries: Vec<_> = batch.iter().map(|pending| pending.entry.clone()).collect();
        if store.env().sim_bugs.ack_before_answer() {
            let assumed: Vec<_> = entries
                .iter()
                .map(|entry| tillfund_core::protocol::EntryResult {
                    id: entry.id,
                    outcome: EntryOutcome::Applied,
                })
                .collect();
            store.record_push_results(&assumed, store.now_ms()).await?;
        }
        let response = client.push(&credentials, entries).await?;
        store.record_push_results(&response.results, store.now_ms()).await?;
        let deferred = response
            .results
            .iter()
            .filter(|result| matches!(result.outcome, EntryOutcome::RetryLater { .. }))
            .count();
        pushed += response.results.len() - deferred;
        // Entries the server could not decide now wait for the next round.
        if deferred > 0 || response.results.len() < batch.len() {
            return Ok(pushed);
        }
    }
}

/// Applies orders the server reports paid since the cursor; returns how many.
async fn pull_paid_orders(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &crate::client::TerminalCredentials,
    wait_ms: u64,
) -> Result<usize, SyncError> {
    let cursor = store.payments_cursor().await?;
    let page = client.paid_orders(credentials, cursor, wait_ms).await?;
    let paid: Vec<_> = page.orders.iter().map(|order| (order.order_id, order.paid_at_ms)).collect();
    store.apply_paid_orders(&paid, page.next_after).await?;
    Ok(paid.len())
}

/// Most pages of payments fetched in one catch-up; more wait for the payment listener.
const CATCH_UP_PAGES_MAX: usize = 50;

/// Fetches, without waiting, every payment the server has that this counter has not seen
/// yet (up to `CATCH_UP_PAGES_MAX` pages); returns how many were applied.
pub(crate) async fn catch_up_paid_orders(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &crate::client::TerminalCredentials,
) -> Result<usize, SyncError> {
    let mut applied = 0;
    for _ in 0..CATCH_UP_PAGES_MAX {
        let fetched = pull_paid_orders(store, client, credentials, 0).await?;
        if fetched == 0 {
            break;
        }
        applied += fetched;
    }
    Ok(applied)
}

/// How long the server may hold a payments request open; under the client's timeout.
pub const PAYMENT_WAIT_MS: u64 = 8_000;

/// Listens for payments while online: a long poll that the server answers the moment an
/// order of this store is paid, so the cashier sees "paid" within a second. Falls back to
/// retrying with backoff while the server cannot be reached.
pub async fn run_payment_listener(store: LocalStore) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let result = async {
            let profile = store.profile().await?.ok_or(SyncError::NotEnrolled)?;
            let credentials = profile.credentials()?;
            let client = store.server_client(&profile.server_url)?;
            pull_paid_orders(&store, &client, &credentials, PAYMENT_WAIT_MS).await
        }
        .await;
        match result {
            Ok(_) => backoff = BACKOFF_MIN,
            Err(error) => {
                tracing::debug!(%error, "payment listener: will retry");
                tokio::time::sleep(jittered(backoff)).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Runs rounds forever: promptly while there is work, every `IDLE_INTERVAL` when idle,
/// and with doubling, jittered pauses after failures.
pub async fn run_sync_worker(store: LocalStore) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let outcome = sync_round(&store).await;
        // The store's staff beside the round (not in it: the simulator drives rounds and
        // has no staff); a failure here waits for the next round like any other.
        if !matches!(outcome, RoundOutcome::NotEnrolled | RoundOutcome::Failed(_))
            && let Err(error) = crate::staff_sync::sync_staff(&store).await
        {
            tracing::info!(%error, "staff list not synced; will retry");
        }
        let pause = match outcome {
            RoundOutcome::Done { .. } | RoundOutcome::Empty | RoundOutcome::NotEnrolled => {
                backoff = BACKOFF_MIN;
                IDLE_INTERVAL
            }
            RoundOutcome::Failed(reason) => {
                tracing::info!(%reason, "sync round failed; will retry");
                let pause = jittered(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                pause
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// Between half and all of `duration`, so counters that lost the server together do not
/// all come back in the same instant.
fn jittered(duration: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let fraction = 0.5 + f64::from(nanos % 1000) / 2000.0;
    duration.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_half_and_whole() {
        for _ in 0..100 {
            let pause = jittered(Duration::from_secs(10));
            assert!(
                pause >= Duration::from_secs(5) && pause <= Duration::from_secs(10),
                "{pause:?}"
            );
        }
    }
}
