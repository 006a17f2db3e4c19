//! The counter's API besides the outbox push: enrolment, the pulls (bindings, payments),
//! refunds, top-up reversals and the day's settlement.

use serde::{Deserialize, Serialize};

use super::customer::{CustomerBody, MerchantBody};
use crate::settlement::SettlementFigures;
use crate::{OrderId, TerminalId};

/// Binding changes handed to a counter per pull.
pub const BINDING_CHANGES_PER_PULL_MAX: i64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolRequest {
    /// The one-time code from the operator, e.g. `K7MQ-4XRT-9PWD`.
    pub activation_code: String,
    /// A name for this counter, e.g. "Counter 2".
    pub label: String,
    /// The counter's X25519 public key, 64 hex characters. The terminal key is derived by
    /// both sides from the key agreement and never sent.
    pub public_key: String,
    /// A counter enrolling again: the terminal it was until now, which the server revokes
    /// once the new enrolment stands, so that the old key (in a backup, on a disk sold on)
    /// signs nothing more. Absent for a first enrolment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<ReplacedTerminal>,
}

/// The terminal an enrolment replaces, and the proof that the enrolling counter holds its
/// key: `TerminalKey::replacement_proof` over this enrolment's activation code (trimmed and
/// upper-cased, as the server reads it) and public key, so the proof is good for this
/// enrolment only. A retry of the enrolment must name the same terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplacedTerminal {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub terminal_id: TerminalId,
    /// HMAC-SHA256 under the replaced terminal's key, 64 hex characters.
    pub proof: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub terminal_id: TerminalId,
    /// The server's X25519 public key, 64 hex characters: the counter derives the terminal
    /// key from it with HKDF-SHA256 (see `tillfund_core::enrolment`).
    pub server_public_key: String,
    /// Prefix of this counter's receipt and order numbers.
    pub receipt_prefix: String,
    pub merchant: MerchantBody,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PaymentsQuery {
    /// The `next_after` of the previous answer; 0 the first time.
    #[serde(default)]
    pub after: i64,
    /// Wait up to this long (at most 10 000 ms) for a payment when there is none yet.
    #[serde(default)]
    pub wait_ms: u64,
}

impl PaymentsQuery {
    /// The path with this query, exactly as it is sent and signed.
    pub fn path(&self) -> String {
        format!("/v1/sync/payments?after={}&wait_ms={}", self.after, self.wait_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaidOrderBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub order_id: OrderId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub terminal_id: TerminalId,
    pub amount: i64,
    pub paid_at_ms: i64,
    pub entry_sequence: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaidOrdersBody {
    pub orders: Vec<PaidOrderBody>,
    /// Pass as `after` next time.
    pub next_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ChangesQuery {
    /// The `next_after` of the previous answer; 0 the first time.
    #[serde(default)]
    pub after: i64,
    #[serde(default = "default_changes_limit")]
    pub limit: i64,
}

fn default_changes_limit() -> i64 {
    BINDING_CHANGES_PER_PULL_MAX
}

impl ChangesQuery {
    /// The path with this query, exactly as it is sent and signed.
    pub fn path(&self) -> String {
        format!("/v1/sync/bindings?after={}&limit={}", self.after, self.limit)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BindingChangeBody {
    pub sequence: i64,
    /// True: bound to this store now; false: unbound.
    pub bound: bool,
    pub customer: CustomerBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BindingChangesBody {
    pub changes: Vec<BindingChangeBody>,
    /// Pass as `after` next time.
    pub next_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundRequest {
    pub order_id: String,
    /// Minor units; at most what was paid minus what was already refunded.
    pub amount: i64,
    /// The member of the store's staff signed in at the counter who did it
    /// (`/v1/sync/staff`); absent from counters without staff on record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cashier: Option<crate::StaffId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub order_id: OrderId,
    pub amount: i64,
    pub refunded_total: i64,
    pub wallet_balance: i64,
    pub entry_sequence: i64,
    /// When the server applied the refund, by its clock: the day the refund counts in.
    /// Absent from answers of servers from before it was sent.
    #[serde(default)]
    pub refunded_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReversalRequest {
    /// The outbox entry id under which the counter pushed the top-up.
    pub top_up_entry_id: String,
    /// The terminal that took the top-up, when it is not this one: a terminal this counter
    /// replaced by enrolling again at the same store (`replaces`). Absent: this terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub top_up_terminal_id: Option<crate::TerminalId>,
    /// Cash to give back, in minor units; at most the top-up less earlier reversals.
    pub amount: i64,
    /// The member of the store's staff signed in at the counter who did it
    /// (`/v1/sync/staff`); absent from counters without staff on record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cashier: Option<crate::StaffId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReversalBody {
    pub amount: i64,
    /// Bonus taken back in proportion to the amount reversed.
    pub bonus_clawed_back: i64,
    pub wallet_balance: i64,
    pub entry_sequence: i64,
    /// When the server applied the reversal, by its clock: the day it counts in.
    /// Absent from answers of servers from before it was sent.
    #[serde(default)]
    pub reversed_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DayQuery {
    /// Business day in the store's time zone, YYYY-MM-DD.
    pub day: String,
}

impl DayQuery {
    /// The settlement path with this query, exactly as it is sent and signed. A day is
    /// digits and dashes; anything else is percent-encoded so it cannot add parameters.
    pub fn settlement_path(&self) -> String {
        let day: String = self
            .day
            .bytes()
            .map(|byte| match byte {
                b'0'..=b'9' | b'-' => char::from(byte).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
        format!("/v1/terminal/settlement?day={day}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseDayRequest {
    /// Business day in the store's time zone, YYYY-MM-DD.
    pub day: String,
    /// The asking counter's drawer counted for the day, kept by the server per counter
    /// (once: a count is never replaced). Absent from counters that do not count.
    #[serde(default)]
    pub cash_count: Option<crate::cash_count::CashCount>,
    /// The manager signed in at the counter who closed the day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub closed_by: Option<crate::StaffId>,
}

/// A store's day as the server counts it; the counter keeps it with its closed days and
/// shows it beside its own records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettlementBody {
    pub day: String,
    pub closed: bool,
    /// The store's figures for the day; `cash` is what the store took for the platform.
    #[serde(flatten)]
    pub figures: SettlementFigures,
    /// Cash − reversed cash: what must be in the drawer.
    pub drawer_cash: i64,
    /// Payments − refunds − drawer cash: positive, the platform pays the store; negative, the
    /// store pays the platform.
    pub net_owed_to_store: i64,
    /// Journal entry of the close, when it moved money. (Absent from the days a counter
    /// kept before it was shown.)
    #[serde(default)]
    pub entry_sequence: Option<i64>,
    /// The part of these figures made at the asking counter. A close settles everything
    /// not settled before the day's end, so this also holds earlier days nobody closed.
    pub this_terminal: SettlementFigures,
    /// The asking counter's entries recorded within the day (by the store's clock),
    /// whichever close settles them: what its own records of the day must add up to.
    /// Absent from servers and kept days from before it was sent.
    #[serde(default)]
    pub this_terminal_in_day: Option<SettlementFigures>,
    /// The asking counter's drawer count for the day, as the server keeps it. Absent
    /// before the counter counted, and from servers that do not keep counts.
    #[serde(default)]
    pub this_terminal_count: Option<crate::cash_count::CashCount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_paths_are_the_ones_the_server_reads() {
        assert_eq!(
            PaymentsQuery { after: 7, wait_ms: 10_000 }.path(),
            "/v1/sync/payments?after=7&wait_ms=10000"
        );
        assert_eq!(
            ChangesQuery { after: 0, limit: BINDING_CHANGES_PER_PULL_MAX }.path(),
            "/v1/sync/bindings?after=0&limit=1000"
        );
        assert_eq!(
            DayQuery { day: "2026-12-04&x=1".into() }.settlement_path(),
            "/v1/terminal/settlement?day=2026-12-04%26%78%3D1"
        );
    }
}
