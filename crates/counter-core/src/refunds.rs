//! Refunds of paid orders: online only (the server checks what the order may still give
//! back), and safe to retry. The key a refund is sent with is stored before it is sent and
//! kept until the server answers; a retry after a lost answer (the manager pressing Refund
//! again, or the sync worker) resends the same key, so the server refunds once. A new key
//! per press would refund twice whenever an answer is lost on the way back.

use tillfund_core::protocol::{ErrorCode, RefundBody};

use crate::client::{ClientError, ServerClient, TerminalCredentials};
use crate::counter::{Counter, CounterError, profile_amount};
use crate::error_code::CounterCode;
use crate::settlement::money;
use crate::staff::Cashier;
use crate::store::{LocalStore, REFUND_RESENDS_PER_ROUND_MAX, RefundAttempt};
use crate::sync::SyncError;
use tillfund_core::OrderId;

impl Counter {
    /// Refunds `amount_text` of a paid order; returns what the order has had refunded in
    /// all. When an earlier refund of this order is still unanswered, that one is resent
    /// first: if it was for another amount, the answer says so and nothing more is
    /// refunded, so that the manager decides again knowing it went through.
    pub async fn refund(
        &self,
        by: Option<&Cashier>,
        order_id: OrderId,
        amount_text: &str,
    ) -> Result<i64, CounterError> {
        let profile = self.profile().await?;
        let amount = profile_amount(&profile, amount_text)?.amount().minor_units();
        let attempt =
            self.store().begin_refund(order_id, amount, self.store().now_ms(), by).await?;
        let client = self.store().server_client(&profile.server_url)?;
        let sent = send_refund(self.store(), &client, &profile.credentials()?, &attempt).await;
        let answer = match sent {
            Ok(answer) => answer,
            // The refund may have gone through: say so, and that pressing again is safe.
            Err(SyncError::Server(error)) if !refused_for_good(&error) => {
                let amount = money(attempt.amount, &profile.currency);
                let message = match &error {
                    ClientError::Refused { message, .. } => format!(
                        "The server did not take this refund of {amount} now: {message} It \
                         waits, and is finished once that is put right; pressing Refund again \
                         is safe and refunds it once."
                    ),
                    _ => format!(
                        "The server's answer to this refund of {amount} did not arrive. It is \
                         finished as soon as the counter is online; pressing Refund again is \
                         safe and refunds it once."
                    ),
                };
                return Err(CounterError::Invalid { code: CounterCode::RefundUnanswered, message });
            }
            Err(error) => return Err(error.into()),
        };
        if attempt.amount != amount {
            return Err(CounterError::Invalid {
                code: CounterCode::EarlierRefundCompleted,
                message: format!(
                    "An earlier refund of {} on this order had not been answered; it has now gone \
                     through ({} refunded in all). Refund again if more is due.",
                    money(attempt.amount, &profile.currency),
                    money(answer.refunded_total, &profile.currency),
                ),
            });
        }
        Ok(answer.refunded_total)
    }
}

/// Sends one attempt and records the answer. A refusal means nothing was refunded and frees
/// the order; no answer, an unreadable one, a server error (5xx) or a replayed request may
/// hide a refund that was applied, so the attempt is kept for a resend under the same key.
pub(crate) async fn send_refund(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
    attempt: &RefundAttempt,
) -> Result<RefundBody, SyncError> {
    let cashier = attempt.cashier.as_ref().map(|cashier| cashier.staff_id);
    let sent = client
        .refund(credentials, attempt.order_id, attempt.amount, cashier, &attempt.refund_id)
        .await;
    match sent {
        Ok(answer) => {
            // The server's time of the refund is the day both sides count it in.
            let refunded_at_ms = answer.refunded_at_ms.unwrap_or_else(|| store.now_ms());
            store.finish_refund(attempt, answer.amount, refunded_at_ms).await?;
            Ok(answer)
        }
        Err(error) if refused_for_good(&error) => {
            store.drop_refund(attempt).await?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Whether an error proves the refund was not applied: the server decided on this refund
/// and refused it (400, 404, 409, 422: a known key would have been answered with its stored
/// outcome instead). A refusal of the envelope (401: clock, signature, a replayed copy; 403;
/// 408; 429) is no proof: the request was not looked at, and an earlier send under the same
/// key may have been applied. Neither is anything without an answer, or a 5xx.
pub(crate) fn refused_for_good(error: &ClientError) -> bool {
    match error {
        ClientError::Refused { status, code, .. } => {
            matches!(status, 400 | 404 | 409 | 422) && code != ErrorCode::RequestReplayed.as_str()
        }
        ClientError::Unreachable(_) | ClientError::Unreadable(_) => false,
    }
}

/// Whether the server looked at the refund and put it off (the service account cannot
/// cover it now): nothing was applied, so it is on neither side of the day.
pub(crate) fn deferred_by_server(error: &SyncError) -> bool {
    matches!(
        error,
        SyncError::Server(ClientError::Refused { code, .. })
            if code == ErrorCode::ServiceInsufficient.as_str()
                || code == ErrorCode::ReserveInsufficient.as_str()
    )
}

/// Resends the refunds whose answers were lost, so that the counter's refunds (and its day
/// report) match the server's even when nobody presses Refund again. Stops at the first
/// send without an answer: the server is not reachable and the rest would fail too.
pub(crate) async fn resend_unanswered_refunds(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
) -> Result<usize, SyncError> {
    let mut answered = 0;
    for attempt in store.unanswered_refunds(REFUND_RESENDS_PER_ROUND_MAX).await? {
        match send_refund(store, client, credentials, &attempt).await {
            Ok(_) => answered += 1,
            // Refused for good: dropped, nothing was refunded; the manager sees the order
            // as it is on the server.
            Err(SyncError::Server(error)) if refused_for_good(&error) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(answered)
}
