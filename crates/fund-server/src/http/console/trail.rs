//! The operators' trail in the console: the latest records, filtered by action, and the
//! same as CSV.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use tillfund_core::protocol::OperatorAction;

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::http::trail_export::{EXPORT_RECORDS_MAX, export};
use crate::service::{Caller, TRAIL_PAGE_MAX, TrailQuery};

/// Records the page shows.
const RECORDS_SHOWN: u32 = 200;

#[derive(Deserialize)]
pub struct TrailFilter {
    action: Option<String>,
}

impl TrailFilter {
    fn action(&self) -> Option<OperatorAction> {
        self.action.as_deref().and_then(|text| text.parse().ok())
    }
}

pub async fn trail_page(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Query(filter): Query<TrailFilter>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let action = filter.action();
    let query = TrailQuery { action, limit: RECORDS_SHOWN, ..TrailQuery::default() };
    let caller = Caller::Operator(session.operator.clone());
    let records = match state.service().operator_trail(&caller, &visitor.source, query).await {
        Ok(records) => records,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let csv = match action {
        Some(action) => format!("/console/trail.csv?action={}", action.as_str()),
        None => "/console/trail.csv".to_owned(),
    };
    let body = html! {
        h1 { (words.trail) }
        section {
            form method="get" action="/console/trail" {
                label {
                    (words.filter)
                    select name="action" {
                        option value="" { (words.all) }
                        @for candidate in OperatorAction::ALL {
                            option value=(candidate.as_str()) selected[action == Some(*candidate)] { (candidate.as_str()) }
                        }
                    }
                }
                button type="submit" { (words.filter) }
            }
            p { a href=(csv) download { (words.export_csv) } }
            div.scroll tabindex="0" { table {
                thead {
                    tr {
                        th scope="col" { "#" }
                        th scope="col" { (words.when) }
                        th scope="col" { (words.who) }
                        th scope="col" { (words.from_where) }
                        th scope="col" { (words.action) }
                        th scope="col" { (words.subject) }
                        th scope="col" { (words.outcome) }
                    }
                }
                tbody {
                    @for record in &records {
                        tr data-action=(record.record.action.as_str()) {
                            td { (record.sequence) }
                            td { (moment(record.record.at_ms)) }
                            td { (record.record.actor.name) }
                            td { (record.record.source) }
                            td { (record.record.action.as_str()) }
                            td { (record.record.subject) @if !record.record.detail.is_empty() { pre { (record.record.detail) } } }
                            td { (record.record.outcome) }
                        }
                    }
                }
            } }
        }
    };
    visitor.page("/console/trail", words.trail, body)
}

pub async fn trail_csv(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Query(filter): Query<TrailFilter>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let caller = Caller::Operator(session.operator.clone());
    let query =
        TrailQuery { action: filter.action(), limit: TRAIL_PAGE_MAX, ..TrailQuery::default() };
    match export(&state, &caller, &visitor.source, query, EXPORT_RECORDS_MAX).await {
        Ok(csv) => csv,
        Err(error) => visitor.refusal(&error, "/console/trail"),
    }
}
