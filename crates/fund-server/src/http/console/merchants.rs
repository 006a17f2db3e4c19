//! Merchants in the console: their counters (last contact, app version), activation codes
//! (issue one, shown once; cancel one), and a new store. Editing a store (its settlement
//! account above all) and revoking a counter are proposals.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use tillfund_core::protocol::ActivationCodeState;

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::http::operator_merchants::merchant_detail_body;
use crate::operators::{Permission, allows};
use crate::service::{ErrorCode, ServiceError};

/// A counter not heard from for this long is shown as silent.
const SILENT_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

pub async fn list(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let details = match state.service().merchant_details(&session.operator, &visitor.source).await {
        Ok(details) => details,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let now = state.service().now_ms();
    let may_work = allows(session.operator.role, Permission::DayToDay);
    let may_propose = allows(session.operator.role, Permission::Propose);
    let body = html! {
        h1 { (words.merchants) }
        @for detail in details {
            @let merchant = merchant_detail_body(detail, now);
            section data-merchant=(merchant.merchant_id) aria-labelledby={ "m-" (merchant.merchant_id) } {
                h2 id={ "m-" (merchant.merchant_id) } { (merchant.name) " " span.hint { (merchant.time_zone) } }
                p { (words.settlement_account) ": "
                    @if merchant.settlement_account.is_empty() { span.hint { "—" } } @else { (merchant.settlement_account) } }
                @if may_propose {
                    details {
                        summary { (words.edit_merchant) }
                        p.hint { (words.edit_merchant_hint) }
                        form method="post" action="/console/proposals" data-kind="edit_merchant" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            input type="hidden" name="kind" value="edit_merchant";
                            input type="hidden" name="merchant_id" value=(merchant.merchant_id);
                            label { (words.name) input name="name" required maxlength="100" value=(merchant.name); }
                            label { (words.time_zone) input name="time_zone" required maxlength="64" value=(merchant.time_zone); }
                            label { (words.settlement_account) input name="settlement_account" maxlength="80" value=(merchant.settlement_account); }
                            label { (words.note) input name="note" maxlength="500"; }
                            button.primary type="submit" { (words.propose) }
                        }
                    }
                }
                div.scroll tabindex="0" { table {
                    caption.hint { (words.counters) }
                    thead { tr { th scope="col" { (words.counter) } th scope="col" { (words.last_contact) } th scope="col" { (words.app_version) } th scope="col" { (words.state) } } }
                    tbody {
                        @for counter in &merchant.counters {
                            tr data-counter=(counter.terminal_id) {
                                td { (counter.label) " " span.hint { (counter.receipt_prefix) " · " (counter.terminal_id) } }
                                td {
                                    @match counter.last_seen_ms {
                                        Some(seen) if now - seen > SILENT_AFTER_MS => strong.problem { (moment(seen)) " · " (words.silent) },
                                        Some(seen) => (moment(seen)),
                                        None => "—",
                                    }
                                }
                                td { (counter.app_version.as_deref().unwrap_or("—")) }
                                td {
                                    @if counter.revoked_at_ms.is_some() { (words.revoked) }
                                    @else {
                                        (words.active)
                                        @if may_work { " · " a href="/console/proposals/new" { (words.revoke_terminal) } }
                                    }
                                }
                            }
                        }
                    }
                } }
                div.scroll tabindex="0" { table {
                    caption.hint { (words.activation_codes) }
                    thead { tr { th scope="col" { (words.issued) } th scope="col" { (words.expires) } th scope="col" { (words.state) } } }
                    tbody {
                        @for code in &merchant.activation_codes {
                            tr {
                                td { (moment(code.created_at_ms)) }
                                td { (moment(code.expires_at_ms)) }
                                td {
                                    (code_state_word(&visitor, code.state))
                                    @if code.state == ActivationCodeState::Waiting && may_work {
                                        form method="post" action={ "/console/merchants/" (merchant.merchant_id) "/codes/" (code.code_id) "/cancel" } {
                                            input type="hidden" name="csrf" value=(session.csrf);
                                            button.danger type="submit" { (words.cancel) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
                @if may_work {
                    form method="post" action={ "/console/merchants/" (merchant.merchant_id) "/codes" } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        button.primary type="submit" data-action="issue-code" { (words.issue_code) }
                    }
                }
            }
        }
        @if may_work {
            section aria-labelledby="new-merchant" {
                h2 id="new-merchant" { (words.add_merchant) }
                form method="post" action="/console/merchants" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label { (words.name) input name="name" required maxlength="100"; }
                    label { (words.time_zone) input name="time_zone" required value="Asia/Shanghai"; }
                    button.primary type="submit" { (words.add_merchant) }
                }
            }
        }
    };
    visitor.page("/console/merchants", words.merchants, body)
}

fn code_state_word(visitor: &ConsoleVisitor, state: ActivationCodeState) -> &'static str {
    let words = visitor.words();
    match state {
        ActivationCodeState::Waiting => words.waiting,
        ActivationCodeState::Used => words.used,
        ActivationCodeState::Expired => words.expired,
        ActivationCodeState::Cancelled => words.cancelled,
    }
}

#[derive(Deserialize)]
pub struct NewMerchantForm {
    csrf: String,
    name: String,
    time_zone: String,
}

pub async fn add(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Form(form): Form<NewMerchantForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/merchants") {
        return refused;
    }
    match state
        .service()
        .operator_add_merchant(&session.operator, &visitor.source, &form.name, &form.time_zone)
        .await
    {
        Ok(_) => redirect("/console/merchants", &[]),
        Err(error) => visitor.refusal(&error, "/console/merchants"),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Issues a code and shows it this once.
pub async fn issue_code(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/merchants") {
        return refused;
    }
    let Ok(id) = id.parse() else {
        let error = ServiceError::new(ErrorCode::MerchantUnknown, "There is no such store.");
        return visitor.refusal(&error, "/console/merchants");
    };
    match state
        .service()
        .operator_issue_activation_code(&session.operator, &visitor.source, id)
        .await
    {
        Ok((code, expires_at_ms)) => {
            let body = html! {
                h1 { (words.issue_code) }
                section {
                    p { (words.code_shown_once) }
                    p.big { code data-activation-code { (code) } }
                    p { (words.expires) " " (moment(expires_at_ms)) }
                    p { a href="/console/merchants" { (words.back) } }
                }
            };
            visitor.page("/console/merchants", words.issue_code, body)
        }
        Err(error) => visitor.refusal(&error, "/console/merchants"),
    }
}

pub async fn cancel_code(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Path((id, code)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/merchants") {
        return refused;
    }
    let Ok(id) = id.parse() else {
        let error = ServiceError::new(ErrorCode::MerchantUnknown, "There is no such store.");
        return visitor.refusal(&error, "/console/merchants");
    };
    match state
        .service()
        .operator_cancel_activation_code(&session.operator, &visitor.source, id, &code)
        .await
    {
        Ok(()) => redirect("/console/merchants", &[]),
        Err(error) => visitor.refusal(&error, "/console/merchants"),
    }
}
