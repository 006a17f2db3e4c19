//! The dashboard: the reserve and the service fund against the threshold, the alert, the
//! last yield day, and what waits for approval.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use tillfund_core::protocol::ProposalStatus;

use super::frame::{ConsoleVisitor, redirect};
use crate::http::AppState;

pub async fn dashboard(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let service = state.service();
    let status = match service.ledger_status().await {
        Ok(status) => status,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let pending = match service
        .proposals(&session.operator, &visitor.source, Some(ProposalStatus::Pending))
        .await
    {
        Ok(pending) => pending.len(),
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let currency = state.currency();
    let money =
        |amount: tillfund_core::Amount| format!("{} {}", amount.format(currency), currency.code());
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
            @match &status.reserve_alert {
                Some(alert) => p.problem role="alert" { (words.alert) ": " (alert) },
                None => p.hint { (words.no_alert) },
            }
        }
        section aria-labelledby="waiting" {
            h2 id="waiting" { (words.pending) }
            p { a href="/console/proposals" data-figure="pending" { (pending) " · " (words.proposals) } }
        }
    };
    visitor.page("/console", words.dashboard, body)
}
