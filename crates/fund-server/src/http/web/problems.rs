//! Refusals as people read them: in their language, on the page they were on.

use maud::{Markup, html};

use super::*;

pub(super) fn status_of(error: &ServiceError) -> StatusCode {
    crate::http::status_of(error.code)
}

/// A form field the core refused: its message, or in Chinese the table's text for its code.
pub(super) fn input_problem(code: ErrorCode, message: String, language: Language) -> String {
    match language {
        Language::Chinese => code.chinese().to_owned(),
        Language::English => message,
    }
}

/// What a failed action says on the page: the service's message (written for people, with
/// the particulars) or in Chinese the table's text for its code; an internal error is
/// logged and not explained.
pub(super) fn localized_problem(error: &ServiceError, language: Language) -> String {
    match language {
        Language::Chinese if !error.is_internal() => error.code.chinese().to_owned(),
        _ => problem_text(error),
    }
}

pub(super) fn problem_text(error: &ServiceError) -> String {
    if error.is_internal() {
        tracing::error!(code = %error.code, message = %error.message, "wallet page");
        return "The server could not complete this; it has been logged. Please try again."
            .to_owned();
    }
    error.message.clone()
}

/// A refusal on the page, read out by screen readers as soon as it shows.
pub(super) fn problem(message: &str) -> Markup {
    html! { p class="problem" role="alert" data-code="problem" { (message) } }
}

pub(super) fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

/// A refusal and the way back to the wallet.
fn refusal_body(message: &str, text: &Words) -> Markup {
    html! {
        section {
            (problem(message))
            p { a href="/wallet" { (text.back_to_wallet) } }
        }
    }
}

pub(super) fn forbidden(visitor: &Visitor) -> Response {
    let text = visitor.words();
    let body = refusal_body(text.form_expired, text);
    visitor.page("/wallet", text.title, body).with_status(StatusCode::FORBIDDEN).into_response()
}

pub(super) fn error_page(visitor: &Visitor, error: &ServiceError) -> Response {
    let text = visitor.words();
    let body = refusal_body(&localized_problem(error, visitor.language), text);
    visitor.page("/wallet", text.title, body).with_status(status_of(error)).into_response()
}
