//! Signing in with phone and PIN.

use maud::{Markup, html};

use super::*;

#[derive(Deserialize)]
pub(super) struct NextQuery {
    pub(super) next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    pub(super) phone: String,
    pub(super) pin: String,
    pub(super) csrf: String,
    pub(super) next: Option<String>,
}

pub(super) fn sign_in_body(
    text: &Words,
    form_token: &str,
    next: &str,
    phone: &str,
    message: Option<&str>,
) -> Markup {
    html! {
        section {
            h1 { (text.sign_in) }
            @if let Some(message) = message { (problem(message)) }
            form method="post" action="/signin" {
                (hidden("csrf", form_token))
                (hidden("next", next))
                label { (text.phone) input name="phone" type="tel" inputmode="tel" autocomplete="tel" required maxlength="20" value=(phone); }
                label { (text.pin) input name="pin" type="password" inputmode="numeric" autocomplete="current-password" required minlength="6" maxlength="6" pattern="[0-9]{6}"; }
                button class="primary" type="submit" { (text.sign_in) }
            }
            p { a href="/signup" { (text.no_account) } }
        }
    }
}

pub(super) async fn sign_in_page(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    if visitor.session.is_some() {
        return redirect(&next, &[]);
    }
    let (token, cookie) = visitor.form_token();
    let text = visitor.words();
    let mut page =
        visitor.page("/signin", text.sign_in, sign_in_body(text, &token, &next, "", None));
    page.cookies.extend(cookie);
    page.into_response()
}

pub(super) async fn sign_in(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<SignInForm>,
) -> Response {
    let text = visitor.words();
    let next = safe_next(form.next.as_deref());
    let (token, cookie) = visitor.form_token();
    let again = |message: &str, status: StatusCode| {
        let mut page = visitor
            .page(
                "/signin",
                text.sign_in,
                sign_in_body(text, &token, &next, &form.phone, Some(message)),
            )
            .with_status(status);
        page.cookies.extend(cookie.clone());
        page.into_response()
    };
    if !visitor.signed_out_form_is_ours(&form.csrf) {
        return again(text.form_expired, StatusCode::FORBIDDEN);
    }
    let limits = state.web_limits();
    let counted = async {
        let service = state.service();
        Ok::<_, ServiceError>(
            service.allow_attempt(&limits.sign_in_by_address, &visitor.ip.to_string()).await?
                && service
                    .allow_attempt(&limits.sign_in_by_phone, &phone_limit_key(&form.phone))
                    .await?,
        )
    };
    match counted.await {
        Ok(true) => {}
        Ok(false) => return again(text.too_many, StatusCode::TOO_MANY_REQUESTS),
        Err(error) => return error_page(&visitor, &error),
    }
    let phone = match PhoneNumber::parse(&form.phone) {
        Ok(phone) => phone,
        Err(error) => {
            return again(
                &input_problem(error.code(), error.to_string(), visitor.language),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let pin = match PaymentPin::parse(&form.pin) {
        Ok(pin) => pin,
        Err(error) => {
            return again(
                &input_problem(error.code(), error.to_string(), visitor.language),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match state.service().sign_in(&phone, pin).await {
        Ok((session_token, _)) => {
            let session = session_cookie(&state, &visitor, &session_token);
            redirect(&next, &[session])
        }
        Err(error) => again(&localized_problem(&error, visitor.language), status_of(&error)),
    }
}
