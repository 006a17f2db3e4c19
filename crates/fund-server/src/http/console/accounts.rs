//! Operators' accounts in the console (administrators): the list with each account's
//! state, a new account (its second factor shown once, as a QR code and as text), and
//! disabling, enabling and a new second factor.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use tillfund_core::protocol::OperatorRole;

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::service::{Caller, ErrorCode, SecondFactorEnrolment, ServiceError};

fn second_factor_page(visitor: &ConsoleVisitor, enrolment: &SecondFactorEnrolment) -> Response {
    let words = visitor.words();
    let body = html! {
        h1 { (words.second_factor) " · " (enrolment.operator.name) }
        section {
            p { (words.second_factor_once) }
            div role="img" aria-label=(words.second_factor) { (crate::http::html::qr_svg(&enrolment.provisioning_uri, 220)) }
            p { (words.secret) ": " code data-secret { (enrolment.totp_secret) } }
            p { a href="/console/operators" { (words.back) } }
        }
    };
    visitor.page("/console/operators", words.second_factor, body)
}

pub async fn list(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let caller = Caller::Operator(session.operator.clone());
    let accounts = match state.service().operators(&caller, &visitor.source).await {
        Ok(accounts) => accounts,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let now = state.service().now_ms();
    let body = html! {
        h1 { (words.accounts) }
        section aria-labelledby="list" {
            h2 id="list" { (words.accounts) }
            div.scroll tabindex="0" { table {
                thead { tr { th scope="col" { (words.name) } th scope="col" { (words.role) } th scope="col" { (words.state) } th scope="col" { (words.since) } th scope="col" { span.hint { (words.actions) } } } }
                tbody {
                    @for account in &accounts {
                        tr data-operator=(account.name) {
                            td { (account.name) }
                            td { (account.role.as_str()) }
                            td {
                                @if account.disabled { (words.disabled) }
                                @else if let Some(until) = account.locked_until_ms.filter(|until| *until > now) { (words.locked_until) " " (moment(until)) }
                                @else { (words.active) }
                            }
                            td { (moment(account.created_at_ms)) }
                            td {
                                div.decisions {
                                    @let action = if account.disabled { "enable" } else { "disable" };
                                    @let label = if account.disabled { words.enable } else { words.disable };
                                    @if account.id != session.operator.id {
                                        form method="post" action={ "/console/operators/" (account.id) "/" (action) } {
                                            input type="hidden" name="csrf" value=(session.csrf);
                                            button type="submit" data-action=(action) { (label) " " span.hint { (account.name) } }
                                        }
                                    }
                                    form method="post" action={ "/console/operators/" (account.id) "/second-factor" } {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        button type="submit" data-action="second-factor" { (words.new_second_factor) " " span.hint { (account.name) } }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        section aria-labelledby="add" {
            h2 id="add" { (words.add_account) }
            form method="post" action="/console/operators" {
                input type="hidden" name="csrf" value=(session.csrf);
                label { (words.name) input name="name" required autocomplete="off"; }
                label {
                    (words.role)
                    select name="role" {
                        @for role in OperatorRole::ALL { option value=(role.as_str()) { (role.as_str()) } }
                    }
                }
                label { (words.first_password) input name="password" type="password" required minlength="12" autocomplete="new-password"; }
                button.primary type="submit" { (words.add_account) }
            }
        }
    };
    visitor.page("/console/operators", words.accounts, body)
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    csrf: String,
    name: String,
    role: String,
    password: String,
}

pub async fn add(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Form(form): Form<NewAccountForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/operators") {
        return refused;
    }
    let Ok(role) = form.role.parse::<OperatorRole>() else {
        let error = ServiceError::new(ErrorCode::BodyInvalid, "There is no such role.");
        return visitor.refusal(&error, "/console/operators");
    };
    let caller = Caller::Operator(session.operator.clone());
    match state
        .service()
        .add_operator(&caller, &visitor.source, &form.name, role, &form.password)
        .await
    {
        Ok(enrolment) => second_factor_page(&visitor, &enrolment),
        Err(error) => visitor.refusal(&error, "/console/operators"),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn act(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console/operators") {
        return refused;
    }
    let Ok(id) = id.parse() else {
        let error = ServiceError::new(ErrorCode::OperatorUnknown, "There is no such operator.");
        return visitor.refusal(&error, "/console/operators");
    };
    let caller = Caller::Operator(session.operator.clone());
    let service = state.service();
    let result = match action.as_str() {
        "disable" => service.set_operator_disabled(&caller, &visitor.source, id, true).await,
        "enable" => service.set_operator_disabled(&caller, &visitor.source, id, false).await,
        "second-factor" => {
            return match service.reset_operator_second_factor(&caller, &visitor.source, id).await {
                Ok(enrolment) => second_factor_page(&visitor, &enrolment),
                Err(error) => visitor.refusal(&error, "/console/operators"),
            };
        }
        _ => Err(ServiceError::new(ErrorCode::NotFound, "There is nothing at this address.")),
    };
    match result {
        Ok(()) => redirect("/console/operators", &[]),
        Err(error) => visitor.refusal(&error, "/console/operators"),
    }
}
