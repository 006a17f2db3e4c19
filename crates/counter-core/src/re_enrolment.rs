//! Enrolling a counter again, by a manager, from Settings: after the operator revoked it,
//! when its key is suspected, or when the machine moves to another store.
//!
//! What the counter owes the server is tied to the terminal it was made under: outbox
//! entries are signed with its key when they are sent, and the server keys a refund or a
//! reversal by terminal and idempotency key (`terminal/<id>/reversal/<key>`). Resent under
//! a new terminal, an entry or a correction whose answer was lost would be applied a second
//! time; dropped, it would never be applied. So the counter is enrolled again only when
//! nothing waits: no outbox entry, no unanswered refund, reversal or cash-out (the server
//! scopes a payout's attempt by terminal), and no payment code a
//! customer could still pay (its token names the old terminal; paid after a move to
//! another store, the counter would never hear of it).
//!
//! What is kept: the local history (top-ups, orders, refunds, reversals, closed days, print
//! jobs: the record of what this machine took, never deleted) and the staff (the people at
//! this machine; the manager who enrols it again stays signed in). What is cleared: the
//! customer cache, the bonus rules and the bindings cursor (refilled by the next sync), and
//! on a move to another store the payments cursor too.

use tillfund_core::{MerchantId, TerminalId};

use crate::counter::{Counter, CounterError};
use crate::staff::{Role, StaffSession};
use crate::store::{CounterProfile, LocalStoreError};

/// What waits for the server under the current terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitingForServer {
    pub outbox_entries: i64,
    pub unanswered_refunds: i64,
    pub unanswered_reversals: i64,
    /// Payouts whose answer has not arrived: their attempts are the old terminal's.
    pub unanswered_redemptions: i64,
    /// Payment codes not paid, cancelled or expired.
    pub open_payment_codes: i64,
}

impl WaitingForServer {
    pub fn is_empty(&self) -> bool {
        *self == WaitingForServer::default()
    }

    /// The refusal in words: what waits, and what the manager does about it.
    pub fn refusal(&self) -> String {
        let counted = |count: i64, one: &str, many: &str| match count {
            0 => None,
            1 => Some(format!("1 {one}")),
            count => Some(format!("{count} {many}")),
        };
        let parts: Vec<String> = [
            counted(self.outbox_entries, "top-up", "top-ups"),
            counted(self.unanswered_refunds, "refund", "refunds"),
            counted(self.unanswered_reversals, "top-up reversal", "top-up reversals"),
            counted(self.unanswered_redemptions, "cash-out", "cash-outs"),
            counted(self.open_payment_codes, "open payment code", "open payment codes"),
        ]
        .into_iter()
        .flatten()
        .collect();
        format!(
            "{} still {} for the server under this counter's current enrolment: go online and \
             let them sync (cancel an open payment code or let it expire), then enrol again.",
            parts.join(", "),
            if parts.len() == 1 && parts[0].starts_with("1 ") { "waits" } else { "wait" }
        )
    }
}

/// What enrolling again did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReEnrolment {
    pub profile: CounterProfile,
    pub previous_terminal_id: TerminalId,
    pub previous_merchant_id: MerchantId,
    /// The new code belongs to another store than the counter served before.
    pub store_changed: bool,
}

fn local(error: sqlx::Error) -> CounterError {
    CounterError::Local(LocalStoreError::from(error))
}

impl Counter {
    /// Counts what waits for the server; see the module's comment for why each matters.
    pub async fn waiting_for_server(&self) -> Result<WaitingForServer, CounterError> {
        let pool = self.store().pool();
        let count = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.map_err(local)
        };
        let open_payment_codes = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM orders WHERE status = 'created' AND expires_at_ms > ?",
        )
        .bind(self.store().now_ms())
        .fetch_one(pool)
        .await
        .map_err(local)?;
        Ok(WaitingForServer {
            outbox_entries: count("SELECT count(*) FROM outbox WHERE state = 'pending'").await?,
            unanswered_refunds: count("SELECT count(*) FROM refund_attempts").await?,
            unanswered_reversals: count("SELECT count(*) FROM reversal_attempts").await?,
            unanswered_redemptions: count("SELECT count(*) FROM redemption_attempts").await?,
            open_payment_codes,
        })
    }

    /// Enrols this counter again with a new activation code: a manager's act. Refused
    /// while anything waits for the server (`unsynced_entries`, saying what waits).
    pub async fn re_enrol(
        &self,
        by: &StaffSession,
        server_url: &str,
        activation_code: &str,
        label: &str,
    ) -> Result<ReEnrolment, CounterError> {
        if !by.role.allows(Role::Manager) {
            return Err(CounterError::ManagerRequired);
        }
        let before = self.profile().await?;
        // The terminal this counter was until now: the server revokes it with the new
        // enrolment, so that its key (in a backup of this database) signs nothing more. A
        // counter moved to another fund server names nothing: that server never knew it.
        let replaced = before.credentials().map_err(CounterError::Local)?;
        let same_server = server_url.trim().trim_end_matches('/') == before.server_url;
        let replaces = same_server.then_some(&replaced);
        let profile = self.enrol_with_code(server_url, activation_code, label, replaces).await?;
        assert_ne!(profile.terminal_id, before.terminal_id, "an activation code makes a terminal");
        tracing::warn!(
            previous_terminal = %before.terminal_id,
            terminal = %profile.terminal_id,
            by = %by.name,
            "counter enrolled again"
        );
        Ok(ReEnrolment {
            store_changed: profile.merchant_id != before.merchant_id,
            previous_terminal_id: before.terminal_id,
            previous_merchant_id: before.merchant_id,
            profile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_says_what_waits() {
        let waiting = WaitingForServer {
            outbox_entries: 2,
            unanswered_reversals: 1,
            open_payment_codes: 1,
            ..WaitingForServer::default()
        };
        assert!(!waiting.is_empty());
        assert!(
            waiting.refusal().starts_with(
                "2 top-ups, 1 top-up reversal, 1 open payment code still wait for the server"
            ),
            "{}",
            waiting.refusal()
        );
        let one = WaitingForServer { unanswered_refunds: 1, ..WaitingForServer::default() };
        assert!(one.refusal().starts_with("1 refund still waits for the server"));
        assert!(WaitingForServer::default().is_empty());
        // A payout's attempt is the old terminal's on the server: it waits too.
        let payout = WaitingForServer { unanswered_redemptions: 1, ..WaitingForServer::default() };
        assert!(payout.refusal().starts_with("1 cash-out still waits for the server"));
    }
}
