//! Every store's day in the console: figures, the drawer's cash and the net, closed or
//! open, and the same as CSV.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::frame::{ConsoleVisitor, redirect};
use crate::http::AppState;
use crate::http::operator_settlements::{csv_response, store_day_body, to_csv};
use crate::service::{ErrorCode, ServiceError};

#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<String>,
}

/// The day asked for, or yesterday by the server's clock (UTC): the day a close is for.
fn day_of(query: &DayQuery, now_ms: i64) -> Result<jiff::civil::Date, ServiceError> {
    match query.day.as_deref().filter(|text| !text.is_empty()) {
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| ServiceError::new(ErrorCode::DayInvalid, "A day is YYYY-MM-DD.")),
        None => jiff::Timestamp::from_millisecond(now_ms)
            .map(|now| now.to_zoned(jiff::tz::TimeZone::UTC).date())
            .and_then(|today| today.yesterday())
            .map_err(|error| ServiceError::new(ErrorCode::DayInvalid, error.to_string())),
    }
}

pub async fn settlements_page(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Query(query): Query<DayQuery>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let day = match day_of(&query, state.service().now_ms()) {
        Ok(day) => day,
        Err(error) => return visitor.refusal(&error, "/console/settlements"),
    };
    let stores = match state.service().store_days(&session.operator, &visitor.source, day).await {
        Ok(stores) => stores,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let counts: Vec<_> = stores
        .iter()
        .flat_map(|store| {
            store.cash_counts.iter().map(|count| {
                let label = store
                    .counter_labels
                    .iter()
                    .find(|(id, _)| *id == count.terminal_id)
                    .map_or_else(String::new, |(_, label)| label.clone());
                (store.merchant.name.clone(), label, count.clone())
            })
        })
        .collect();
    let labels: Vec<(tillfund_core::TerminalId, String)> =
        stores.iter().flat_map(|store| store.counter_labels.iter().cloned()).collect();
    let label_of = |terminal_id: &tillfund_core::TerminalId| {
        labels.iter().find(|(id, _)| id == terminal_id).map_or("", |(_, label)| label.as_str())
    };
    let days: Vec<_> = stores.into_iter().map(|store| store_day_body(&day, store)).collect();
    // Who did what: one line per store, counter and member.
    let shifts: Vec<_> = days
        .iter()
        .flat_map(|body| {
            body.counters.iter().flat_map(move |counter| {
                counter
                    .cashiers
                    .iter()
                    .map(move |cashier| (&body.name, counter.terminal_id, cashier))
            })
        })
        .collect();
    let currency = state.currency();
    let money = |units: i64| {
        tillfund_core::Amount::from_minor_units(units)
            .map_or_else(|_| units.to_string(), |amount| amount.format(currency))
    };
    let body = html! {
        h1 { (words.settlements) " · " (day) }
        section {
            form method="get" action="/console/settlements" {
                label { (words.day) input name="day" value=(day) required pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}"; }
                button type="submit" { (words.filter) }
            }
            p { a href={ "/console/settlements.csv?day=" (day) } download { (words.export_csv) } }
            div.scroll tabindex="0" { table {
                thead { tr {
                    th scope="col" { (words.store) }
                    th scope="col" { (words.state) }
                    th scope="col" { (words.top_ups) }
                    th scope="col" { (words.bonus) }
                    th scope="col" { (words.payments) }
                    th scope="col" { (words.refunds) }
                    th scope="col" { (words.paid_out) }
                    th scope="col" { (words.drawer_cash) }
                    th scope="col" { (words.net_owed) }
                } }
                tbody {
                    @for body in &days {
                        tr data-merchant=(body.merchant_id) {
                            td { (body.name) }
                            td { @if body.closed { (words.closed) } @else { (words.open) } }
                            td { (body.figures.top_up_count) " · " (money(body.figures.cash)) }
                            td { (money(body.figures.bonus)) }
                            td { (body.figures.payment_count) " · " (money(body.figures.payments)) }
                            td { (body.figures.refund_count) " · " (money(body.figures.refunds)) }
                            td { (body.figures.redemption_count) " · " (money(body.figures.redeemed_cash)) }
                            td { (money(body.drawer_cash)) }
                            td data-figure="net" { (money(body.net_owed_to_store)) }
                        }
                    }
                }
            } }
            p.hint { (words.amounts_in) " " (currency.code()) }
        }
        section {
            h2 { (words.by_cashier) }
            @if shifts.is_empty() {
                p.empty { (words.no_cashiers) }
            } @else {
                div.scroll tabindex="0" { table #cashier-days {
                    thead { tr {
                        th scope="col" { (words.store) }
                        th scope="col" { (words.counter) }
                        th scope="col" { (words.cashier) }
                        th scope="col" { (words.top_ups) }
                        th scope="col" { (words.refunds) }
                        th scope="col" { (words.given_back) }
                        th scope="col" { (words.paid_out) }
                        th scope="col" { (words.closed_the_day) }
                    } }
                    tbody {
                        @for (store, terminal_id, cashier) in &shifts {
                            tr data-terminal=(terminal_id) data-staff=(cashier.staff_id) {
                                td { (store) }
                                td { (label_of(terminal_id)) }
                                td {
                                    @match &cashier.name {
                                        Some(name) => (name),
                                        None => { (words.unknown_member) " " code { (cashier.staff_id) } }
                                    }
                                }
                                td { (cashier.top_up_count) " · " (money(cashier.top_ups)) }
                                td { (cashier.refund_count) " · " (money(cashier.refunds)) }
                                td { (cashier.reversal_count) " · " (money(cashier.reversed_cash)) }
                                td { (cashier.redemption_count) " · " (money(cashier.redeemed_cash)) }
                                td { @if cashier.closes > 0 { (words.yes) } }
                            }
                        }
                    }
                } }
            }
        }
        section {
            h2 { (words.drawer_counts) }
            @if counts.is_empty() {
                p.empty { (words.no_drawer_counts) }
            } @else {
                div.scroll tabindex="0" { table #drawer-counts {
                    thead { tr {
                        th scope="col" { (words.store) }
                        th scope="col" { (words.counter) }
                        th scope="col" { (words.expected_in_drawer) }
                        th scope="col" { (words.server_drawer_cash) }
                        th scope="col" { (words.counted) }
                        th scope="col" { (words.over_short) }
                        th scope="col" { (words.counted_by) }
                        th scope="col" { (words.note) }
                    } }
                    tbody {
                        @for (store, label, kept) in &counts {
                            @let count = &kept.count;
                            // What the drawer should hold by the server's entries of the
                            // counter's day, and the over/short against that: the counter's
                            // own figures are what it claims.
                            @let server_expected = count
                                .opening_float
                                .checked_add(kept.server_drawer_cash)
                                .and_then(|sum| sum.checked_sub(count.cash_dropped));
                            @let server_over_short =
                                server_expected.and_then(|expected| count.counted.checked_sub(expected));
                            tr data-terminal=(kept.terminal_id)
                                data-differs=(server_expected != Some(count.expected)) {
                                td { (store) }
                                td { (label) br; code { (kept.terminal_id) } }
                                td { (money(count.expected)) }
                                td { (server_expected.map_or_else(|| "—".to_owned(), money)) }
                                td { (money(count.counted)) }
                                td data-figure="over-short" {
                                    (money(count.over_short))
                                    @if server_over_short != Some(count.over_short) {
                                        " (" (words.by_the_server) " "
                                        (server_over_short.map_or_else(|| "—".to_owned(), money)) ")"
                                    }
                                }
                                td { (count.counted_by) }
                                td { (count.note.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                } }
            }
        }
    };
    visitor.page("/console/settlements", words.settlements, body)
}

pub async fn settlements_csv(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Query(query): Query<DayQuery>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let day = match day_of(&query, state.service().now_ms()) {
        Ok(day) => day,
        Err(error) => return visitor.refusal(&error, "/console/settlements"),
    };
    match state.service().store_days(&session.operator, &visitor.source, day).await {
        Ok(stores) => {
            let bodies: Vec<_> =
                stores.into_iter().map(|store| store_day_body(&day, store)).collect();
            csv_response(&day, &to_csv(&bodies, state.currency()))
        }
        Err(error) => visitor.refusal(&error, "/console/settlements"),
    }
}
