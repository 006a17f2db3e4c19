//! Signing in to the console with name, password and one-time code, and signing out.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{CONSOLE_FORM_COOKIE, ConsoleVisitor, console_cookie, redirect};
use crate::http::AppState;
use crate::http::web::security::{random_hex, same_secret};
use crate::service::{ErrorCode, ServiceError};

fn sign_in_form(
    visitor: &ConsoleVisitor,
    form_token: &str,
    name: &str,
    problem: Option<&str>,
) -> Markup {
    let words = visitor.words();
    html! {
        section {
            h1 { (words.sign_in) }
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            form method="post" action="/console/signin" {
                input type="hidden" name="form" value=(form_token);
                label { (words.name) input name="name" autocomplete="username" required value=(name); }
                label { (words.password) input name="password" type="password" autocomplete="current-password" required; }
                label {
                    (words.one_time_code)
                    input name="one_time_code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required aria-describedby="code-hint";
                    span.hint id="code-hint" { (words.one_time_code_hint) }
                }
                button.primary type="submit" { (words.sign_in) }
            }
        }
    }
}

/// The sign-in form; a signed-in operator goes to the dashboard.
pub async fn sign_in_page(visitor: ConsoleVisitor) -> Response {
    if visitor.session.is_some() {
        return redirect("/console", &[]);
    }
    let (token, cookie) = match &visitor.form_cookie {
        Some(token) => (token.clone(), Vec::new()),
        None => {
            let token = random_hex(16);
            let cookie = console_cookie(CONSOLE_FORM_COOKIE, &token, 60 * 60, visitor.tls);
            (token, vec![cookie])
        }
    };
    let body = sign_in_form(&visitor, &token, "", None);
    visitor.page_with(StatusCode::OK, "/console/signin", visitor.words().sign_in, body, &cookie)
}

#[derive(Deserialize)]
pub struct SignInForm {
    form: String,
    name: String,
    password: String,
    one_time_code: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Form(form): Form<SignInForm>,
) -> Response {
    let words = visitor.words();
    let ours =
        visitor.form_cookie.as_deref().is_some_and(|expected| same_secret(expected, &form.form));
    if !ours {
        let error = ServiceError::new(
            ErrorCode::FormExpired,
            "This form has expired; open the sign-in page again.",
        );
        return visitor.refusal(&error, "/console/signin");
    }
    // Wrong sign-ins count per address, as on the API.
    let failures = &state.web_limits().operator_failures_by_address;
    let address = visitor.source.0.clone();
    let result = match state.service().attempts_exhausted(failures, &address).await {
        Ok(true) => Err(ServiceError::new(
            ErrorCode::TooManyAttempts,
            "Too many attempts from here; wait a minute and try again.",
        )),
        Ok(false) => {
            state
                .service()
                .operator_sign_in(&form.name, &form.password, &form.one_time_code, &visitor.source)
                .await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(session) => {
            let seconds = state.service().config().operator_policy.session_ttl_ms / 1000;
            redirect("/console", &[visitor.session_cookie(&session.token, seconds)])
        }
        Err(error) => {
            if matches!(error.code, ErrorCode::OperatorSignInFailed | ErrorCode::OperatorLocked) {
                let _ = state.service().allow_attempt(failures, &address).await;
            }
            let problem = visitor.message(&error);
            let body = sign_in_form(&visitor, &form.form, &form.name, Some(&problem));
            visitor.page_with(
                crate::http::status_of(error.code),
                "/console/signin",
                words.sign_in,
                body,
                &[],
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    visitor: ConsoleVisitor,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/console/signin", &[visitor.cleared_session_cookie()]);
    };
    if let Some(refused) = visitor.refuse_foreign_form(&form.csrf, "/console") {
        return refused;
    }
    if let Err(error) =
        state.service().operator_sign_out(&session.operator, &session.token, &visitor.source).await
    {
        return visitor.refusal(&error, "/console");
    }
    redirect("/console/signin", &[visitor.cleared_session_cookie()])
}
