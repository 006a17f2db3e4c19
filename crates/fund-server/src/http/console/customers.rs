//! Customers in the console: search by phone, member code or name, and one wallet. Every
//! read is recorded in the trail by the service.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::service::{ErrorCode, ServiceError};

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

pub async fn search(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Query(query): Query<SearchQuery>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let text = query.q.unwrap_or_default();
    let found = if text.trim().is_empty() {
        None
    } else {
        match state.service().search_customers(&session.operator, &visitor.source, &text).await {
            Ok(found) => Some(found),
            Err(error) => return visitor.refusal(&error, "/console/customers"),
        }
    };
    let body = html! {
        h1 { (words.customers) }
        section {
            form method="get" action="/console/customers" role="search" {
                label { (words.search_customers) input name="q" value=(text) maxlength="50" required; }
                button.primary type="submit" { (words.search) }
            }
            p.hint { (words.reads_are_recorded) }
        }
        @if let Some(found) = &found {
            section aria-labelledby="found" {
                h2 id="found" { (words.found) " " (found.len()) }
                div.scroll tabindex="0" { table {
                    thead { tr { th scope="col" { (words.name) } th scope="col" { (words.phone) } th scope="col" { (words.member_code) } } }
                    tbody {
                        @for customer in found {
                            tr {
                                td { a href={ "/console/customers/" (customer.customer_id) } { (customer.display_name) } }
                                td { (customer.phone.as_str()) }
                                td { (customer.member_code.to_string()) }
                            }
                        }
                    }
                } }
            }
        }
    };
    visitor.page("/console/customers", words.customers, body)
}

pub async fn dossier(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Path(id): Path<String>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let Ok(id) = id.parse() else {
        let error = ServiceError::new(ErrorCode::CustomerUnknown, "There is no such customer.");
        return visitor.refusal(&error, "/console/customers");
    };
    let dossier =
        match state.service().customer_dossier(&session.operator, &visitor.source, id).await {
            Ok(dossier) => dossier,
            Err(error) => return visitor.refusal(&error, "/console/customers"),
        };
    let currency = state.currency();
    let money =
        |amount: tillfund_core::Amount| format!("{} {}", amount.format(currency), currency.code());
    let minor = |units: i64| {
        tillfund_core::Amount::from_minor_units(units)
            .map_or_else(|_| units.to_string(), |amount| amount.format(currency))
    };
    let wallet = &dossier.wallet;
    let now = state.service().now_ms();
    let body = html! {
        h1 { (wallet.customer.display_name) }
        section aria-labelledby="who" {
            h2 id="who" { (words.customer) }
            p { (words.phone) ": " (wallet.customer.phone.as_str()) " · " (words.member_code) ": " (wallet.customer.member_code.to_string()) }
            @match dossier.locked_until_ms.filter(|until| *until > now) {
                Some(until) => p.problem { (words.locked_until) " " (moment(until)) " · " a href="/console/proposals/new" { (words.unlock_customer) } },
                None => p.hint { (words.not_locked) },
            }
        }
        section aria-labelledby="balances" {
            h2 id="balances" { (words.balance) }
            div.figures {
                div { (words.principal) strong { (money(wallet.principal)) } }
                div { (words.bonus) strong { (money(wallet.bonus)) } }
                div { (words.yield_earned) strong { (money(wallet.yield_earned)) } }
                div { (words.total) strong data-figure="total" { (money(wallet.total)) } }
            }
            p { (words.stores) ": " @for (index, merchant) in wallet.bound_merchants.iter().enumerate() { @if index > 0 { ", " } (merchant.name) } }
        }
        section aria-labelledby="history" {
            h2 id="history" { (words.history) }
            div.scroll tabindex="0" { table {
                thead { tr { th scope="col" { (words.when) } th scope="col" { (words.action) } th scope="col" { (words.store) } th scope="col" { (words.amount) } } }
                tbody {
                    @for entry in &dossier.entries {
                        tr { td { (moment(entry.applied_at_ms)) } td { (entry.code.as_str()) } td { (entry.merchant.as_deref().unwrap_or("—")) } td { (minor(entry.change)) } }
                    }
                }
            } }
        }
    };
    visitor.page("/console/customers", &wallet.customer.display_name, body)
}
