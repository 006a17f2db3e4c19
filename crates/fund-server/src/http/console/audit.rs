//! The ledger's audit from the console (approvers and administrators): run it, see what it
//! checked, every problem it found, and where the journal's hash chain now ends.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::operators::{Permission, allows};

fn run_forms(visitor: &ConsoleVisitor, csrf: &str) -> Markup {
    let words = visitor.words();
    html! {
        div.decisions {
            form method="post" action="/console/audit" {
                input type="hidden" name="csrf" value=(csrf);
                button.primary type="submit" data-action="audit" { (words.run_audit) }
            }
            form method="post" action="/console/audit" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="full" value="1";
                button type="submit" data-action="audit-full" { (words.run_full_audit) }
            }
        }
        p.hint { (words.audit_hint) }
    }
}

pub async fn audit_page(visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let body = html! {
        h1 { (words.audit) }
        section {
            @if allows(session.operator.role, Permission::RunAudit) {
                (run_forms(&visitor, &session.csrf))
            } @else {
                p.hint { (words.audit_not_for_role) }
            }
        }
    };
    visitor.page("/console/audit", words.audit, body)
}

#[derive(Deserialize)]
pub struct AuditForm {
    csrf: String,
    full: Option<String>,
}

pub async fn run(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Form(form): Form<AuditForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/audit") {
        return refused;
    }
    let full = form.full.is_some();
    let (report, head) =
        match state.service().operator_audit(&session.operator, &visitor.source, full).await {
            Ok(result) => result,
            Err(error) => return visitor.refusal(&error, "/console/audit"),
        };
    let body = html! {
        h1 { (words.audit) }
        section aria-labelledby="result" {
            h2 id="result" data-audit=(if report.passed() { "passed" } else { "failed" }) {
                @if report.passed() { (words.audit_passed) } @else { (words.audit_failed) " " (report.problems_found) }
            }
            div.figures {
                div { (words.entries_checked) strong { (report.entries_checked) } }
                div { (words.accounts_checked) strong { (report.accounts_checked) } }
                div { (words.trail_checked) strong { (report.trail_records_checked) } }
            }
            @if let Some(checkpoint) = &report.resumed_after {
                p.hint { (words.resumed_after) " " (checkpoint.sequence) " (" (moment(checkpoint.audited_at_ms)) ")" }
            }
            @if !report.problems.is_empty() {
                ul { @for problem in &report.problems { li.problem { (problem) } } }
            }
            @if let Some(head) = head {
                p { (words.chain_head) ": " (head.sequence) " · " code { (tillfund_core::signing::encode_hex(&head.hash)) } }
            }
        }
        section { (run_forms(&visitor, &session.csrf)) }
    };
    visitor.page("/console/audit", words.audit, body)
}
