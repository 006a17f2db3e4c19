//! The dashboard: the reserve and the service fund against the threshold with the reserve
//! of the last 30 days drawn, today's flows, the alerts (the reserve, counters silent for
//! more than a day, counters' entries refused in the last day, an audit that found
//! problems or none for two days) and what waits for approval.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::service::AUDIT_DUE_AFTER_MS;

const CHART_WIDTH: i64 = 600;
const CHART_HEIGHT: i64 = 160;

/// The reserve's end-of-day balances as a line, with the threshold dashed. Numbers only:
/// nothing typed by anyone reaches this SVG.
fn reserve_chart(days: &[(jiff::civil::Date, i64)], threshold: i64, label: &str) -> Markup {
    let highest = days.iter().map(|(_, balance)| *balance).chain([threshold, 1]).max().unwrap_or(1);
    let lowest = days.iter().map(|(_, balance)| *balance).chain([0]).min().unwrap_or(0);
    let span = (highest - lowest).max(1);
    let last = days.len().max(2) as i64 - 1;
    let y = |value: i64| CHART_HEIGHT - (value - lowest) * (CHART_HEIGHT - 10) / span - 5;
    let points: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(index, (_, balance))| {
            format!("{},{}", index as i64 * CHART_WIDTH / last, y(*balance))
        })
        .collect();
    html! {
        svg.chart viewBox={ "0 0 " (CHART_WIDTH) " " (CHART_HEIGHT) } preserveAspectRatio="none" role="img" aria-label=(label) {
            line x1="0" x2=(CHART_WIDTH) y1=(y(threshold)) y2=(y(threshold)) stroke="#a4201a" stroke-dasharray="6 4" {}
            polyline points=(points.join(" ")) fill="none" stroke="#1d3557" stroke-width="3" {}
        }
    }
}

pub async fn dashboard(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let board = match state.service().dashboard(&session.operator, &visitor.source).await {
        Ok(board) => board,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let currency = state.currency();
    let money =
        |amount: tillfund_core::Amount| format!("{} {}", amount.format(currency), currency.code());
    let minor = |units: i64| {
        tillfund_core::Amount::from_minor_units(units).map_or_else(|_| units.to_string(), &money)
    };
    let status = &board.status;
    let flows = &board.today_flows;
    let now = state.service().now_ms();
    let figure = |code: &str| {
        let (entries, amount) = flows.total(code);
        format!("{entries} · {}", minor(amount))
    };
    let body = html! {
        h1 { (words.dashboard) }
        section aria-labelledby="funds" {
            h2 id="funds" { (words.reserve) " · " (words.service) }
            div.figures {
                div { (words.reserve) strong data-figure="reserve" { (money(status.reserve)) } }
                div { (words.service) strong data-figure="service" { (money(status.service)) } }
                div { (words.threshold) strong { (money(status.reserve_threshold)) } }
                div { (words.refill) strong { (money(status.reserve_refill)) } }
                div { (words.last_yield_day) strong { (status.last_yield_day.as_deref().unwrap_or("—")) } }
            }
            (reserve_chart(&board.reserve_by_day, status.reserve_threshold.minor_units(), words.reserve_chart))
            details {
                summary { (words.reserve_chart) }
                div.scroll tabindex="0" { table {
                    thead { tr { th scope="col" { (words.day) } th scope="col" { (words.reserve) } } }
                    tbody { @for (day, balance) in &board.reserve_by_day { tr { td { (day) } td { (minor(*balance)) } } } }
                } }
            }
        }
        section aria-labelledby="alerts" {
            h2 id="alerts" { (words.alerts) }
            @if let Some(alert) = &status.reserve_alert {
                p.problem role="alert" data-alert="reserve" { (words.alert) ": " (alert) }
            }
            @for silent in &board.silent_counters {
                p.problem data-alert="silent" {
                    (silent.merchant) " · " (silent.label) ": " (words.silent) " ("
                    @match silent.last_seen_ms { Some(seen) => (moment(seen)), None => "—" }
                    ")"
                }
            }
            @for refused in &board.refused_entries {
                p.problem data-alert="refused" {
                    (refused.merchant) " · " (refused.label) ": " (refused.refused) " " (words.refused_entries)
                }
            }
            @match &board.last_audit {
                Some(audit) if audit.outcome != "ok" => p.problem role="alert" data-alert="audit" {
                    (words.last_audit_failed) " (" (moment(audit.at_ms)) ", " (audit.by) "): " (audit.detail) " · " a href="/console/audit" { (words.audit) }
                },
                Some(audit) if now - audit.at_ms > AUDIT_DUE_AFTER_MS => p.problem data-alert="audit-due" {
                    (words.audit_due) " (" (moment(audit.at_ms)) ") · " a href="/console/audit" { (words.audit) }
                },
                None => p.problem data-alert="audit-due" { (words.audit_never) " · " a href="/console/audit" { (words.audit) } },
                Some(_) => {},
            }
            @if status.reserve_alert.is_none() && board.silent_counters.is_empty() && board.refused_entries.is_empty() && board.last_audit.as_ref().is_some_and(|audit| audit.outcome == "ok" && now - audit.at_ms <= AUDIT_DUE_AFTER_MS) {
                p.hint { (words.no_alert) }
            }
            p { a href="/console/proposals" data-figure="pending" { (board.pending_proposals) " · " (words.pending) } }
        }
        section aria-labelledby="today" {
            h2 id="today" { (words.today) " · " (board.today) }
            div.figures {
                div { (words.top_ups) strong data-figure="cash" { (figure("cash")) } }
                div { (words.bonus) strong { (figure("bonus")) } }
                div { (words.payments) strong { (figure("payment")) } }
                div { (words.refunds) strong { (figure("refund")) } }
                div { (words.yield_earned) strong { (figure("yield")) } }
            }
        }
    };
    visitor.page("/console", words.dashboard, body)
}
