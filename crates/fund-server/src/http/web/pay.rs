//! Paying a counter's QR code: what it is for, the PIN, the confirmation code.

use maud::{Markup, html};

use super::*;
use crate::service::ErrorCode;

#[derive(Deserialize)]
pub(super) struct PayQuery {
    pub(super) t: String,
    /// `sound` when the Listen page heard the token: a token that is not a payment code is
    /// then a misheard burst, answered with "listen again" (`listen.rs`).
    pub(super) via: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PayForm {
    pub(super) t: String,
    pub(super) pin: String,
    pub(super) csrf: String,
    pub(super) key: String,
}

pub(super) fn local_time(ms: i64, time_zone: &str) -> String {
    let zone = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms)
        .map(|timestamp| timestamp.to_zoned(zone).strftime("%H:%M").to_string())
        .unwrap_or_default()
}

/// The pay page for `token`: what is being paid, then the PIN form, or why it cannot be paid.
pub(super) async fn pay_body(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
    message: Option<&str>,
) -> Result<(Markup, StatusCode), ServiceError> {
    let text = visitor.words();
    let preview = state.service().payment_preview(token).await?;
    let amount = money(preview.amount.amount(), state.currency());
    let summary = html! {
        section {
            h1 { (text.pay_title) }
            p id="store" { (preview.merchant.name) }
            p class="hint" id="counter" { (text.counter) " " (preview.counter_prefix) " · " (preview.counter_label) }
            p class="big" id="amount" { (amount) }
            p class="hint" { (text.pay_until) " " (local_time(preview.expires_at_ms, &preview.merchant.time_zone)) }
        }
    };
    let signed_in = visitor.session.as_ref();
    if let Some(payer) = preview.paid_by {
        let mine = signed_in.is_some_and(|session| session.customer.id == payer);
        let note = if mine { text.paid_by_you } else { text.already_paid };
        return Ok((html! { (summary) (problem(note)) }, StatusCode::CONFLICT));
    }
    if preview.expired {
        return Ok((html! { (summary) (problem(text.expired)) }, StatusCode::GONE));
    }
    let Some(session) = signed_in else {
        let (form_token, _) = visitor.form_token();
        let next = format!("/pay?t={}", url_encode(token));
        let sign_in = sign_in_body(text, &form_token, &next, "", Some(text.sign_in_to_pay));
        return Ok((html! { (summary) (sign_in) }, StatusCode::OK));
    };
    let form = html! {
        section {
            @if let Some(message) = message { (problem(message)) }
            form method="post" action="/pay" {
                (hidden("t", token))
                (hidden("csrf", &session.csrf))
                // One key per page: a double tap or a resubmitted form pays once.
                (hidden("key", &random_hex(16)))
                label { (text.pin) input name="pin" type="password" inputmode="numeric" autocomplete="off" required minlength="6" maxlength="6" pattern="[0-9]{6}" autofocus; }
                button class="primary" type="submit" { (text.pay) " " (amount) }
            }
        }
    };
    Ok((html! { (summary) (form) }, StatusCode::OK))
}

/// The answer to a payment made: the amount, the code the cashier checks, the new balance.
fn paid_body(text: &Words, amount: &str, confirmation_code: &str, balance: &str) -> Markup {
    html! {
        section {
            h1 { (text.paid_title) }
            p class="big" id="paid-amount" { (amount) }
            p class="done" { (text.show_code) }
            p class="code" id="confirmation-code" { (confirmation_code) }
            p class="hint" { (text.new_balance) ": " span id="new-balance" { (balance) } }
            p { a href="/wallet" { (text.back_to_wallet) } }
        }
    }
}

pub(super) async fn pay_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<PayQuery>,
) -> Response {
    let text = visitor.words();
    let (_, cookie) = visitor.form_token();
    let path = format!("/pay?t={}", url_encode(&query.t));
    match pay_body(&state, &visitor, &query.t, None).await {
        Ok((body, status)) => {
            let mut page = visitor.page(&path, text.pay_title, body).with_status(status);
            if visitor.session.is_none() {
                page.cookies.extend(cookie);
            }
            page.into_response()
        }
        Err(error)
            if query.via.as_deref() == Some("sound")
                && matches!(
                    error.code,
                    ErrorCode::TokenMalformed | ErrorCode::TokenBadSignature
                ) =>
        {
            let body = super::listen::not_a_payment_body(&visitor);
            visitor.page(&path, text.pay_title, body).with_status(status_of(&error)).into_response()
        }
        Err(error) => error_page(&visitor, &error),
    }
}

pub(super) async fn pay(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<PayForm>,
) -> Response {
    let text = visitor.words();
    let path = format!("/pay?t={}", url_encode(&form.t));
    let Some(session) = &visitor.session else {
        return redirect(&format!("/signin?next={}", url_encode(&path)), &[]);
    };
    let again = async |message: &str, status: StatusCode| match pay_body(
        &state,
        &visitor,
        &form.t,
        Some(message),
    )
    .await
    {
        Ok((body, page_status)) => {
            let status = if page_status == StatusCode::OK { status } else { page_status };
            visitor.page(&path, text.pay_title, body).with_status(status).into_response()
        }
        Err(error) => error_page(&visitor, &error),
    };
    if !visitor.session_form_is_ours(&form.csrf) {
        return again(text.form_expired, StatusCode::FORBIDDEN).await;
    }
    match state
        .service()
        .allow_attempt(&state.web_limits().pay_by_wallet, &session.customer.id.to_string())
        .await
    {
        Ok(true) => {}
        Ok(false) => return again(text.too_many, StatusCode::TOO_MANY_REQUESTS).await,
        Err(error) => return error_page(&visitor, &error),
    }
    let pin = match PaymentPin::parse(&form.pin) {
        Ok(pin) => pin,
        Err(error) => {
            return again(
                &input_problem(error.code(), error.to_string(), visitor.language),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let key = if form.key.len() == 32 { form.key.clone() } else { random_hex(16) };
    match state.service().pay(&session.customer, &form.t, pin, &format!("web-{key}")).await {
        Ok(Outcome::Paid { amount, confirmation_code, wallet_balance, .. }) => {
            let currency = state.currency();
            let body = paid_body(
                text,
                &money(amount, currency),
                &confirmation_code,
                &money(wallet_balance, currency),
            );
            visitor.page(&path, text.paid_title, body).into_response()
        }
        Ok(other) => {
            let error =
                ServiceError::new(ErrorCode::Internal, format!("payment answered {other:?}"));
            again(&problem_text(&error), StatusCode::INTERNAL_SERVER_ERROR).await
        }
        Err(error) => again(&localized_problem(&error, visitor.language), status_of(&error)).await,
    }
}
