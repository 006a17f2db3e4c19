//! Paying a customer out in cash (redemption): a manager's act, online only, against the
//! one-time code the customer's wallet gave them for this store and amount. The code is
//! kept before it is sent and until the server answers, so a lost answer is finished by a
//! resend (the manager pressing again, the sync worker, the close), which the server
//! answers with the same payout: a code pays out once.

use serde::Serialize;
use sqlx::Row;
use tillfund_core::protocol::{REDEMPTION_CODE_DIGITS, RedemptionBody, RedemptionRequest};

use crate::client::{ServerClient, TerminalCredentials};
use crate::counter::{Counter, CounterError, profile_amount};
use crate::error_code::CounterCode;
use crate::receipt::{Receipt, fit_columns};
use crate::refunds::refused_for_good;
use crate::settlement::money;
use crate::staff::Cashier;
use crate::store::{LocalStore, LocalStoreError, cashier_from_row};
use crate::sync::SyncError;

/// Most unanswered payouts resent in one round.
const RESENDS_PER_ROUND_MAX: i64 = 20;

/// What the drawer paid out and what the wallet gave up, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RedemptionDone {
    pub customer_name: String,
    pub cash: i64,
    pub principal: i64,
    pub yield_paid: i64,
    pub bonus_clawed_back: i64,
    pub wallet_balance: i64,
    /// The customer closed the wallet with this payout: it is gone from every store.
    pub wallet_closed: bool,
    /// The server's journal entry: what the receipt is printed from.
    pub entry_sequence: i64,
}

/// A payout sent (or about to be) whose answer has not arrived.
#[derive(Debug, Clone)]
struct RedemptionAttempt {
    attempt_id: String,
    code: String,
    customer_id: String,
    amount: i64,
    cashier: Option<Cashier>,
}

fn read(error: sqlx::Error) -> LocalStoreError {
    LocalStoreError::from(error)
}

impl Counter {
    /// Pays `amount_text` out to the customer (member code or phone) against their code.
    pub async fn redeem(
        &self,
        by: Option<&Cashier>,
        customer: &str,
        code: &str,
        amount_text: &str,
    ) -> Result<RedemptionDone, CounterError> {
        let profile = self.profile().await?;
        let amount = profile_amount(&profile, amount_text)?.amount().minor_units();
        let customer = self.find_bound_customer(customer).await?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != REDEMPTION_CODE_DIGITS || !code.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(CounterError::Invalid {
                code: CounterCode::RedemptionCodeInvalid,
                message: "The customer's code is the 8 digits their wallet shows.".to_owned(),
            });
        }
        let attempt =
            self.redemption_attempt(&code, &customer.customer_id.to_string(), amount, by).await?;
        let client = self.store().server_client(&profile.server_url)?;
        let sent =
            send_redemption(self.store(), &client, &profile.credentials()?, &attempt, false).await;
        match sent {
            Ok(answer) => Ok(RedemptionDone {
                customer_name: customer.display_name,
                cash: answer.cash,
                principal: answer.principal,
                yield_paid: answer.yield_paid,
                bonus_clawed_back: answer.bonus_clawed_back,
                wallet_balance: answer.wallet_balance,
                wallet_closed: answer.wallet_closed,
                entry_sequence: answer.entry_sequence,
            }),
            Err(SyncError::Server(error)) if !refused_for_good(&error) => {
                Err(CounterError::Invalid {
                    code: CounterCode::RedemptionUnanswered,
                    message: format!(
                        "The server's answer to this payout of {} did not arrive: {error}. Do \
                         not hand over the cash yet; pressing Pay out again with the same code \
                         is safe and pays it once.",
                        money(amount, &profile.currency)
                    ),
                })
            }
            Err(error) => Err(error.into()),
        }
    }
}

impl Counter {
    /// The slip for a payout: cash handed over, what of it was principal and yield, the
    /// bonus taken back, who paid it out. The customer signs nothing: their code was the
    /// confirmation.
    pub async fn redemption_receipt(&self, entry_sequence: i64) -> Result<Receipt, CounterError> {
        let profile = self.profile().await?;
        let row = sqlx::query(
            "SELECT r.cash, r.principal, r.yield_paid, r.bonus_clawed_back, r.cashier_name, \
                    c.display_name, c.member_code \
             FROM redemptions r LEFT JOIN customers c ON c.customer_id = r.customer_id \
             WHERE r.entry_sequence = ?",
        )
        .bind(entry_sequence)
        .fetch_optional(self.store().pool())
        .await
        .map_err(read)?
        .ok_or(CounterError::Invalid {
            code: CounterCode::RedemptionNotFound,
            message: "There is no such payout at this counter.".to_owned(),
        })?;
        let amount = |column: &str| -> Result<String, CounterError> {
            Ok(money(row.try_get::<i64, _>(column).map_err(read)?, &profile.currency))
        };
        let mut lines = vec![("Entry".to_owned(), entry_sequence.to_string())];
        if let Some(name) = row.try_get::<Option<String>, _>("display_name").map_err(read)? {
            lines.push(("Customer".to_owned(), name));
        }
        if let Some(code) = row.try_get::<Option<String>, _>("member_code").map_err(read)? {
            let tail = code.get(code.len().saturating_sub(4)..).unwrap_or_default().to_owned();
            lines.push(("Member".to_owned(), format!("****{tail}")));
        }
        lines.push(("Cash paid out".to_owned(), amount("cash")?));
        lines.push(("  principal".to_owned(), amount("principal")?));
        lines.push(("  yield".to_owned(), amount("yield_paid")?));
        lines.push(("Bonus taken back".to_owned(), amount("bonus_clawed_back")?));
        if let Some(name) = row.try_get::<Option<String>, _>("cashier_name").map_err(read)? {
            lines.push(("Cashier".to_owned(), fit_columns(&name, 22)));
        }
        Ok(Receipt {
            title: "CASH OUT".to_owned(),
            store: profile.merchant_name,
            lines,
            qr: None,
            footer: "Paid out of your wallet".to_owned(),
        })
    }
}

impl Counter {
    /// The attempt to send for this press: the one still waiting with this code (pressing
    /// again after a lost answer pays once), or a new one. A waiting attempt with this code
    /// for another customer or amount is not replaced: its payout may have been made.
    async fn redemption_attempt(
        &self,
        code: &str,
        customer_id: &str,
        amount: i64,
        by: Option<&Cashier>,
    ) -> Result<RedemptionAttempt, CounterError> {
        // IMMEDIATE: two presses at once share one attempt.
        let mut transaction =
            self.store().pool().begin_with("BEGIN IMMEDIATE").await.map_err(read)?;
        let waiting = sqlx::query(
            "SELECT attempt_id, code, customer_id, amount, cashier_id, cashier_name \
             FROM redemption_attempts WHERE code = ?",
        )
        .bind(code)
        .fetch_optional(&mut *transaction)
        .await
        .map_err(read)?;
        if let Some(row) = waiting {
            let attempt = attempt_from_row(&row)?;
            if attempt.customer_id != customer_id || attempt.amount != amount {
                return Err(CounterError::Invalid {
                    code: CounterCode::RedemptionWaiting,
                    message: "A payout with this code waits for the server's answer: press \
                              again with the same customer and amount, or wait for the sync."
                        .to_owned(),
                });
            }
            return Ok(attempt);
        }
        let attempt = RedemptionAttempt {
            attempt_id: tillfund_core::OrderId::generate_from(&self.store().env().ids).to_string(),
            code: code.to_owned(),
            customer_id: customer_id.to_owned(),
            amount,
            cashier: by.cloned(),
        };
        sqlx::query(
            "INSERT INTO redemption_attempts (attempt_id, code, customer_id, amount, \
             started_at_ms, cashier_id, cashier_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&attempt.attempt_id)
        .bind(&attempt.code)
        .bind(&attempt.customer_id)
        .bind(attempt.amount)
        .bind(self.store().now_ms())
        .bind(by.map(|cashier| cashier.staff_id.to_string()))
        .bind(by.map(|cashier| cashier.name.clone()))
        .execute(&mut *transaction)
        .await
        .map_err(read)?;
        transaction.commit().await.map_err(read)?;
        Ok(attempt)
    }
}

fn attempt_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<RedemptionAttempt, LocalStoreError> {
    Ok(RedemptionAttempt {
        attempt_id: row.try_get("attempt_id").map_err(read)?,
        code: row.try_get("code").map_err(read)?,
        customer_id: row.try_get("customer_id").map_err(read)?,
        amount: row.try_get("amount").map_err(read)?,
        cashier: cashier_from_row(row)?,
    })
}

/// Sends one attempt and records the answer: a payout joins the day's redemptions and the
/// attempt is forgotten; a refusal for good forgets it; anything else keeps it for a resend.
async fn send_redemption(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
    attempt: &RedemptionAttempt,
    only_if_made: bool,
) -> Result<RedemptionBody, SyncError> {
    let request = RedemptionRequest {
        customer_id: attempt.customer_id.clone(),
        code: attempt.code.clone(),
        amount: attempt.amount,
        cashier: attempt.cashier.as_ref().map(|cashier| cashier.staff_id),
        attempt_id: attempt.attempt_id.clone(),
        only_if_made,
    };
    let sent = client.redeem(credentials, &request).await;
    match sent {
        Ok(answer) => {
            let mut transaction = store.pool().begin().await.map_err(read)?;
            sqlx::query(
                "INSERT INTO redemptions (entry_sequence, customer_id, cash, principal, \
                 yield_paid, bonus_clawed_back, redeemed_at_ms, cashier_id, cashier_name) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entry_sequence) DO NOTHING",
            )
            .bind(answer.entry_sequence)
            .bind(&attempt.customer_id)
            .bind(answer.cash)
            .bind(answer.principal)
            .bind(answer.yield_paid)
            .bind(answer.bonus_clawed_back)
            .bind(answer.redeemed_at_ms)
            .bind(attempt.cashier.as_ref().map(|cashier| cashier.staff_id.to_string()))
            .bind(attempt.cashier.as_ref().map(|cashier| cashier.name.clone()))
            .execute(&mut *transaction)
            .await
            .map_err(read)?;
            forget(&mut transaction, &attempt.attempt_id).await?;
            transaction.commit().await.map_err(read)?;
            Ok(answer)
        }
        Err(error) if refused_for_good(&error) => {
            forget(&mut *store.pool().acquire().await.map_err(read)?, &attempt.attempt_id).await?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

async fn forget(
    connection: &mut sqlx::SqliteConnection,
    attempt_id: &str,
) -> Result<(), LocalStoreError> {
    sqlx::query("DELETE FROM redemption_attempts WHERE attempt_id = ?")
        .bind(attempt_id)
        .execute(connection)
        .await
        .map_err(read)?;
    Ok(())
}

/// Asks about the payouts whose answers were lost, so that the day's redemptions here
/// match the server's: one the server made is recorded, one it never made is closed for
/// good and dropped (never paid now: the customer may have left without the cash). Stops
/// at the first send without an answer.
pub(crate) async fn resend_unanswered_redemptions(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
) -> Result<usize, SyncError> {
    let rows = sqlx::query(
        "SELECT attempt_id, code, customer_id, amount, cashier_id, cashier_name \
         FROM redemption_attempts ORDER BY started_at_ms, attempt_id LIMIT ?",
    )
    .bind(RESENDS_PER_ROUND_MAX)
    .fetch_all(store.pool())
    .await
    .map_err(read)?;
    let mut answered = 0;
    for row in &rows {
        let attempt = attempt_from_row(row)?;
        match send_redemption(store, client, credentials, &attempt, true).await {
            Ok(_) => answered += 1,
            Err(SyncError::Server(error)) if refused_for_good(&error) => answered += 1,
            Err(error) => return Err(error),
        }
    }
    Ok(answered)
}
