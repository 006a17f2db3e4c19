//! Four eyes in the console: what waits for approval (with what it changes), the forms to
//! propose each kind of change, and the decisions.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use tillfund_core::protocol::{ProposalStatus, ProposedChange};

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::operators::{Permission, allows};
use crate::service::{ErrorCode, ProposalView, ServiceError};

/// Decided proposals shown under the pending ones.
const DECIDED_SHOWN: usize = 20;

fn status_word(status: ProposalStatus) -> &'static str {
    match status {
        ProposalStatus::Pending => "pending",
        ProposalStatus::Approved => "approved",
        ProposalStatus::Applied => "applied",
        ProposalStatus::Failed => "failed",
        ProposalStatus::Rejected => "rejected",
        ProposalStatus::Withdrawn => "withdrawn",
        ProposalStatus::Expired => "expired",
    }
}

fn proposal_card(visitor: &ConsoleVisitor, view: &ProposalView) -> Markup {
    let words = visitor.words();
    let Some(session) = &visitor.session else { return html! {} };
    let record = &view.record;
    let own = record.proposer.operator_id == Some(session.operator.id);
    let may_decide = allows(session.operator.role, Permission::Approve) && !own;
    let id = record.id.to_string();
    html! {
        article data-proposal=(id) aria-labelledby={ "p-" (id) } {
            h3 id={ "p-" (id) } { (record.change.kind()) " · " span.status data-status=(status_word(view.status)) { (status_word(view.status)) } }
            p.hint {
                (words.proposed_by) " " strong { (record.proposer.name) } ", " (moment(record.proposed_at_ms))
                @if view.status == ProposalStatus::Pending { " · " (words.expires) " " (moment(record.expires_at_ms)) }
                @if let Some(decider) = &record.decider { " · " (status_word(view.status)) ": " strong { (decider.name) } }
                @if let Some(outcome) = &record.outcome { " · " (words.outcome) ": " (outcome) }
            }
            @if !record.note.is_empty() { p { (words.note) ": " (record.note) } }
            div.scroll tabindex="0" { table {
                thead { tr { th scope="col" { (words.what) } th scope="col" { (words.before) } th scope="col" { (words.after) } } }
                tbody {
                    @for line in &view.changes {
                        tr { td { (line.what) } td { (line.before) } td { (line.after) } }
                    }
                }
            } }
            @if view.status == ProposalStatus::Pending {
                @if may_decide {
                    div.decisions {
                        form method="post" action={ "/console/proposals/" (id) "/approve" } {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button.primary type="submit" data-action="approve" { (words.approve) }
                        }
                        form method="post" action={ "/console/proposals/" (id) "/reject" } {
                            input type="hidden" name="csrf" value=(session.csrf);
                            label { (words.note) input name="note" maxlength="500"; }
                            button.danger type="submit" data-action="reject" { (words.reject) }
                        }
                    }
                } @else if own {
                    p.hint { (words.yours_needs_another) }
                    form method="post" action={ "/console/proposals/" (id) "/withdraw" } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        button type="submit" data-action="withdraw" { (words.withdraw) }
                    }
                }
            }
        }
    }
}

pub async fn list(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let views = match state.service().proposals(&session.operator, &visitor.source, None).await {
        Ok(views) => views,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let (pending, decided): (Vec<_>, Vec<_>) =
        views.iter().partition(|view| view.status == ProposalStatus::Pending);
    let may_propose = allows(session.operator.role, Permission::Propose);
    let body = html! {
        h1 { (words.proposals) }
        @if may_propose {
            p { a href="/console/proposals/new" { (words.new_proposal) } }
        }
        section aria-labelledby="pending" {
            h2 id="pending" { (words.pending) }
            @if pending.is_empty() { p.hint { (words.nothing_pending) } }
            @for view in &pending { (proposal_card(&visitor, view)) }
        }
        section aria-labelledby="decided" {
            h2 id="decided" { (words.decided) }
            @for view in decided.iter().take(DECIDED_SHOWN) { (proposal_card(&visitor, view)) }
        }
    };
    visitor.page("/console/proposals", words.proposals, body)
}

/// One form per kind of change; the limits' form starts from the limits in force.
pub async fn new_page(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    if !allows(session.operator.role, Permission::Propose) {
        let body = html! { section { p.problem role="alert" { (words.role_cannot_propose) } } };
        return visitor.page("/console/proposals/new", words.new_proposal, body);
    }
    let (limits, rules) =
        match (state.service().money_limits().await, state.service().current_bonus_rules().await) {
            (Ok((limits, _)), Ok(rules)) => (limits, rules),
            (Err(error), _) | (_, Err(error)) => {
                return visitor.refusal(&error, "/console/proposals");
            }
        };
    // The rules in force are the draft to edit.
    let draft = serde_json::to_string_pretty(rules.rules()).unwrap_or_default();
    let currency = state.currency();
    let csrf = &session.csrf;
    let note = html! { label { (words.note) input name="note" maxlength="500"; } };
    let body = html! {
        h1 { (words.new_proposal) }
        section aria-labelledby="k-bonus" {
            h2 id="k-bonus" { (words.publish_bonus_rules) }
            form method="post" action="/console/proposals" data-kind="publish_bonus_rules" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="kind" value="publish_bonus_rules";
                label { (words.rules_json) textarea name="rules" required spellcheck="false" { (draft) } }
                label { (words.starts_at) input type="datetime-local" name="starts_at"; }
                p.hint { (words.starts_at_hint) }
                (note)
                button.primary type="submit" { (words.propose) }
            }
        }
        section aria-labelledby="k-yield" {
            h2 id="k-yield" { (words.set_yield_rate) }
            form method="post" action="/console/proposals" data-kind="set_yield_rate" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="kind" value="set_yield_rate";
                label { (words.effective_from) input name="effective_from" required placeholder="2026-12-01"; }
                label { (words.annual_percent) input name="annual_percent" inputmode="decimal" required; }
                (note)
                button.primary type="submit" { (words.propose) }
            }
        }
        section aria-labelledby="k-fund" {
            h2 id="k-fund" { (words.fund_reserve) }
            form method="post" action="/console/proposals" data-kind="fund_reserve" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="kind" value="fund_reserve";
                label { (words.amount) input name="amount" inputmode="decimal" required; }
                (note)
                button.primary type="submit" { (words.propose) }
            }
        }
        section aria-labelledby="k-defund" {
            h2 id="k-defund" { (words.defund_reserve) }
            form method="post" action="/console/proposals" data-kind="defund_reserve" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="kind" value="defund_reserve";
                label { (words.amount) input name="amount" inputmode="decimal" required; }
                (note)
                button.primary type="submit" { (words.propose) }
            }
        }
        section aria-labelledby="k-limits" {
            h2 id="k-limits" { (words.set_money_limits) }
            p.hint { (words.limits_hint) }
            form method="post" action="/console/proposals" data-kind="set_money_limits" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="kind" value="set_money_limits";
                label { (words.wallet_cap) input name="wallet_cap" inputmode="decimal" required value=(limits.wallet_balance_cap.format(currency)); }
                label { (words.threshold) input name="reserve_threshold" inputmode="decimal" required value=(limits.reserve_threshold.format(currency)); }
                label { (words.refill) input name="reserve_refill" inputmode="decimal" required value=(limits.reserve_refill.format(currency)); }
                (note)
                button.primary type="submit" { (words.propose) }
            }
        }
        section aria-labelledby="k-revoke" {
            h2 id="k-revoke" { (words.revoke_terminal) }
            form method="post" action="/console/proposals" data-kind="revoke_terminal" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="kind" value="revoke_terminal";
                label { (words.terminal_id) input name="terminal_id" required; }
                (note)
                button.primary type="submit" { (words.propose) }
            }
        }
        section aria-labelledby="k-unlock" {
            h2 id="k-unlock" { (words.unlock_customer) }
            form method="post" action="/console/proposals" data-kind="unlock_customer" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="kind" value="unlock_customer";
                label { (words.customer_id) input name="customer_id" required; }
                (note)
                button.primary type="submit" { (words.propose) }
            }
        }
    };
    visitor.page("/console/proposals/new", words.new_proposal, body)
}

#[derive(Deserialize)]
pub struct ProposeForm {
    csrf: String,
    kind: String,
    #[serde(default)]
    note: String,
    rules: Option<String>,
    effective_from: Option<String>,
    annual_percent: Option<String>,
    amount: Option<String>,
    terminal_id: Option<String>,
    customer_id: Option<String>,
    starts_at: Option<String>,
    wallet_cap: Option<String>,
    reserve_threshold: Option<String>,
    reserve_refill: Option<String>,
    merchant_id: Option<String>,
    name: Option<String>,
    time_zone: Option<String>,
    settlement_account: Option<String>,
}

/// The change a form asks for; a field that does not parse is refused as the API would.
fn change_of(
    form: ProposeForm,
    currency: tillfund_core::Currency,
    zone: &jiff::tz::TimeZone,
) -> Result<ProposedChange, ServiceError> {
    let field = |value: Option<String>| value.unwrap_or_default();
    let money = |value: Option<String>| {
        tillfund_core::Amount::parse(field(value).trim(), currency)
            .map(|amount| amount.minor_units())
            .map_err(|error| ServiceError::new(ErrorCode::AmountMalformed, error.to_string()))
    };
    Ok(match form.kind.as_str() {
        "publish_bonus_rules" => {
            let rules = serde_json::from_str(&field(form.rules)).map_err(|error| {
                ServiceError::new(
                    ErrorCode::BonusRuleInvalid,
                    format!("The rules are not a JSON list of rules: {error}."),
                )
            })?;
            let starts_at_ms = match form.starts_at.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(local_time_ms(text, zone)?),
            };
            ProposedChange::PublishBonusRules { rules, starts_at_ms }
        }
        "set_yield_rate" => ProposedChange::SetYieldRate {
            effective_from: field(form.effective_from),
            annual_percent: field(form.annual_percent),
        },
        "fund_reserve" => ProposedChange::FundReserve { amount: money(form.amount)? },
        "defund_reserve" => ProposedChange::DefundReserve { amount: money(form.amount)? },
        "set_money_limits" => ProposedChange::SetMoneyLimits {
            wallet_cap: money(form.wallet_cap)?,
            reserve_threshold: money(form.reserve_threshold)?,
            reserve_refill: money(form.reserve_refill)?,
        },
        "edit_merchant" => ProposedChange::EditMerchant {
            merchant_id: field(form.merchant_id),
            name: field(form.name),
            time_zone: field(form.time_zone),
            settlement_account: field(form.settlement_account),
        },
        "revoke_terminal" => {
            ProposedChange::RevokeTerminal { terminal_id: field(form.terminal_id) }
        }
        "unlock_customer" => {
            ProposedChange::UnlockCustomer { customer_id: field(form.customer_id) }
        }
        _ => {
            return Err(ServiceError::new(
                ErrorCode::BodyInvalid,
                "There is no such kind of change.",
            ));
        }
    })
}

pub async fn propose(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Form(form): Form<ProposeForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/proposals/new") {
        return refused;
    }
    let note = form.note.clone();
    let result = match change_of(form, state.currency(), state.service().platform_zone()) {
        Ok(change) => {
            state.service().propose(&session.operator, &visitor.source, change, &note).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(_) => redirect("/console/proposals", &[]),
        Err(error) => visitor.refusal(&error, "/console/proposals/new"),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

pub async fn decide(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/proposals") {
        return refused;
    }
    let Ok(id) = id.parse() else {
        let error = ServiceError::new(ErrorCode::ProposalUnknown, "There is no such proposal.");
        return visitor.refusal(&error, "/console/proposals");
    };
    let service = state.service();
    let (operator, source) = (&session.operator, &visitor.source);
    let result = match decision.as_str() {
        "approve" => service.approve_proposal(operator, source, id, &form.note).await,
        "reject" => service.reject_proposal(operator, source, id, &form.note).await,
        "withdraw" => service.withdraw_proposal(operator, source, id, &form.note).await,
        _ => Err(ServiceError::new(ErrorCode::NotFound, "There is nothing at this address.")),
    };
    match result {
        Ok(_) => redirect("/console/proposals", &[]),
        Err(error) => visitor.refusal(&error, "/console/proposals"),
    }
}

/// A `datetime-local` field's `YYYY-MM-DDTHH:MM` in the platform's time zone, as ms since
/// the epoch.
fn local_time_ms(text: &str, zone: &jiff::tz::TimeZone) -> Result<i64, ServiceError> {
    let invalid = || {
        ServiceError::new(
            ErrorCode::BonusRuleInvalid,
            format!(
                "'{}' is not a time (YYYY-MM-DD HH:MM).",
                text.chars().take(20).collect::<String>()
            ),
        )
    };
    let civil: jiff::civil::DateTime = text.replace(' ', "T").parse().map_err(|_| invalid())?;
    let zoned = civil.to_zoned(zone.clone()).map_err(|_| invalid())?;
    Ok(zoned.timestamp().as_millisecond())
}
