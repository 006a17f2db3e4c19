//! Reversing a top-up: the manager gives back cash for all or part of one of this counter's
//! top-ups (the cashier keyed 500 for 50, the customer changed their mind). Online only, as
//! refunds are: the server decides what the top-up may still give back and claws the bonus
//! back in proportion. Safe to retry for the same reasons and in the same way as refunds
//! (`refunds.rs`): the key is stored before it is sent and kept until the server answers.
//! The counter app lists recent top-ups (`recent_top_ups`) on its Top-up screen, where a
//! manager reverses one.

use tillfund_core::protocol::ReversalBody;
use tillfund_core::{OutboxEntryId, TerminalId};

use crate::client::{ServerClient, TerminalCredentials};
use crate::counter::{Counter, CounterError, profile_amount};
use crate::error_code::CounterCode;
use crate::refunds::refused_for_good;
use crate::settlement::money;
use crate::staff::Cashier;
use crate::store::{
    CounterProfile, EarlierTerminal, LocalStore, REVERSAL_RESENDS_PER_ROUND_MAX, RecentTopUp,
    ReversalApplied, ReversalAttempt, TopUpStatus,
};
use crate::sync::SyncError;

/// What a reversal gave back, as the receipt and the manager see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReversalDone {
    /// Cash given back, minor units.
    pub amount: i64,
    pub bonus_clawed_back: i64,
    /// What all reversals of this top-up have given back.
    pub reversed_total: i64,
    pub wallet_balance: i64,
}

impl Counter {
    /// This counter's newest top-ups with what was given back of each: the list a manager
    /// picks a top-up to reverse from.
    pub async fn recent_top_ups(&self, limit: i64) -> Result<Vec<RecentTopUp>, CounterError> {
        let profile = self.profile().await?;
        let earlier = self.store().earlier_terminals().await?;
        let mut top_ups = self.store().recent_top_ups(limit).await?;
        for top_up in &mut top_ups {
            top_up.earlier_enrolment =
                taken_under(&profile, &earlier, &top_up.receipt_number) == TakenUnder::Elsewhere;
        }
        Ok(top_ups)
    }

    /// Gives back `amount_text` in cash for the top-up `entry_id`. When an earlier reversal
    /// of it is still unanswered, that one is resent first: if it was for another amount,
    /// the answer says so and nothing more is reversed, so that the manager decides again
    /// knowing it went through.
    pub async fn reverse_top_up(
        &self,
        by: Option<&Cashier>,
        entry_id: OutboxEntryId,
        amount_text: &str,
    ) -> Result<ReversalDone, CounterError> {
        let profile = self.profile().await?;
        let amount = profile_amount(&profile, amount_text)?.amount().minor_units();
        let top_up = self.store().top_up(entry_id).await?.ok_or(CounterError::Invalid {
            code: CounterCode::TopUpNotFound,
            message: CounterCode::TopUpNotFound.english().to_owned(),
        })?;
        // The server keys a top-up by the terminal that sent it: one taken before this
        // counter was enrolled again is reversed naming that terminal, which the server
        // accepts only from the terminal that replaced it at the same store.
        let earlier = self.store().earlier_terminals().await?;
        if taken_under(&profile, &earlier, &top_up.receipt_number) == TakenUnder::Elsewhere {
            let code = CounterCode::TopUpOfEarlierEnrolment;
            return Err(CounterError::Invalid { code, message: code.english().to_owned() });
        }
        let refusal = match top_up.status {
            TopUpStatus::Confirmed => None,
            TopUpStatus::Pending => Some(CounterCode::TopUpNotSynced),
            TopUpStatus::Rejected => Some(CounterCode::TopUpNotApplied),
        };
        if let Some(code) = refusal {
            return Err(CounterError::Invalid { code, message: code.english().to_owned() });
        }
        let attempt =
            self.store().begin_reversal(entry_id, amount, self.store().now_ms(), by).await?;
        let client = self.store().server_client(&profile.server_url)?;
        let sent = send_reversal(self.store(), &client, &profile.credentials()?, &attempt).await;
        let answer = match sent {
            Ok(answer) => answer,
            Err(SyncError::Server(error)) if !refused_for_good(&error) => {
                let amount = money(attempt.amount, &profile.currency);
                return Err(CounterError::Invalid {
                    code: CounterCode::ReversalUnanswered,
                    message: format!(
                        "The server's answer to this reversal of {amount} did not arrive: {error}. \
                         It is finished as soon as the counter is online; pressing Reverse again \
                         is safe and gives it back once."
                    ),
                });
            }
            Err(error) => return Err(error.into()),
        };
        let reversed_total = self.store().reversed_of(entry_id).await?;
        if attempt.amount != amount {
            return Err(CounterError::Invalid {
                code: CounterCode::EarlierReversalCompleted,
                message: format!(
                    "An earlier reversal of {} on this top-up had not been answered; it has now \
                     gone through ({} given back in all). Reverse again if more is due.",
                    money(attempt.amount, &profile.currency),
                    money(reversed_total, &profile.currency),
                ),
            });
        }
        Ok(ReversalDone {
            amount: answer.amount,
            bonus_clawed_back: answer.bonus_clawed_back,
            reversed_total,
            wallet_balance: answer.wallet_balance,
        })
    }
}

/// Under which terminal a top-up was taken, as far as reversing it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TakenUnder {
    ThisTerminal,
    /// A terminal this counter was at the same store on the same server: the server
    /// accepts the reversal from the terminal that replaced it.
    Replaced(TerminalId),
    /// Another store's or server's, or an enrolment this counter has no record of.
    Elsewhere,
}

impl TakenUnder {
    /// The terminal the request names: none for this terminal's own top-ups.
    fn named(self) -> Option<TerminalId> {
        match self {
            TakenUnder::Replaced(terminal_id) => Some(terminal_id),
            TakenUnder::ThisTerminal | TakenUnder::Elsewhere => None,
        }
    }
}

/// Each terminal has its own receipt prefix, which starts every receipt number it gives.
fn taken_under(
    profile: &CounterProfile,
    earlier: &[EarlierTerminal],
    receipt_number: &str,
) -> TakenUnder {
    let of = |prefix: &str| {
        receipt_number.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('-'))
    };
    if of(&profile.receipt_prefix) {
        return TakenUnder::ThisTerminal;
    }
    // Each fund server numbers its own prefixes: the same prefix on another server is
    // another terminal, so only this server's and store's are looked at.
    earlier
        .iter()
        .find(|terminal| {
            of(&terminal.receipt_prefix)
                && terminal.server_url == profile.server_url
                && terminal.merchant_id == profile.merchant_id
        })
        .map_or(TakenUnder::Elsewhere, |terminal| TakenUnder::Replaced(terminal.terminal_id))
}

/// The terminal a reversal of `entry_id` names, read afresh for every send: a resend is the
/// same request as the first send, since an unanswered reversal holds enrolling again back.
async fn top_up_terminal(
    store: &LocalStore,
    entry_id: OutboxEntryId,
) -> Result<Option<TerminalId>, SyncError> {
    let (Some(profile), Some(top_up)) = (store.profile().await?, store.top_up(entry_id).await?)
    else {
        return Ok(None);
    };
    let earlier = store.earlier_terminals().await?;
    // Elsewhere cannot wait here (`reverse_top_up` refuses it before an attempt is made);
    // named as this terminal's, the server would answer top_up_not_found and drop it.
    Ok(taken_under(&profile, &earlier, &top_up.receipt_number).named())
}

/// Sends one attempt and records the answer. A refusal on the merits means nothing was
/// given back and frees the top-up; anything else keeps the attempt for a resend.
pub(crate) async fn send_reversal(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
    attempt: &ReversalAttempt,
) -> Result<ReversalBody, SyncError> {
    let cashier = attempt.cashier.as_ref().map(|cashier| cashier.staff_id);
    let taken_by = top_up_terminal(store, attempt.entry_id).await?;
    let sent = client.reverse_top_up(
        credentials,
        taken_by,
        attempt.entry_id,
        attempt.amount,
        cashier,
        &attempt.reversal_id,
    );
    match sent.await {
        Ok(answer) => {
            let applied = ReversalApplied {
                amount: answer.amount,
                bonus_clawed_back: answer.bonus_clawed_back,
                // The server's time of the reversal is the day both sides count it in.
                reversed_at_ms: answer.reversed_at_ms.unwrap_or_else(|| store.now_ms()),
            };
            store.finish_reversal(attempt, applied).await?;
            Ok(answer)
        }
        Err(error) if refused_for_good(&error) => {
            store.drop_reversal(attempt).await?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Resends the reversals whose answers were lost, so that the counter's drawer figures
/// match the server's even when nobody presses Reverse again. Stops at the first send
/// without an answer: the server is not reachable and the rest would fail too.
pub(crate) async fn resend_unanswered_reversals(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
) -> Result<usize, SyncError> {
    let mut answered = 0;
    for attempt in store.unanswered_reversals(REVERSAL_RESENDS_PER_ROUND_MAX).await? {
        match send_reversal(store, client, credentials, &attempt).await {
            Ok(_) => answered += 1,
            Err(SyncError::Server(error)) if refused_for_good(&error) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(answered)
}
