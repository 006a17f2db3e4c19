//! Paying a counter's QR code: what it is for, the PIN, the confirmation code.

use super::*;
use crate::service::ErrorCode;

#[derive(Deserialize)]
pub(super) struct PayQuery {
    pub(super) t: String,
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
) -> Result<(String, StatusCode), ServiceError> {
    let text = visitor.words();
    let preview = state.service().payment_preview(token).await?;
    let currency = state.currency();
    let summary = format!(
        r#"<section><h1>{pay_title}</h1><p id="store">{store}</p><p class="big" id="amount">{amount}</p><p class="hint">{until_label} {until}</p></section>"#,
        pay_title = text.pay_title,
        store = escape_html(&preview.merchant.name),
        amount = money(preview.amount.amount(), currency),
        until_label = text.pay_until,
        until = local_time(preview.expires_at_ms, &preview.merchant.time_zone),
    );
    let signed_in = visitor.session.as_ref();
    if let Some(payer) = preview.paid_by {
        let mine = signed_in.is_some_and(|session| session.customer.id == payer);
        let note = if mine { text.paid_by_you } else { text.already_paid };
        return Ok((format!("{summary}{}", problem(note)), StatusCode::CONFLICT));
    }
    if preview.expired {
        return Ok((format!("{summary}{}", problem(text.expired)), StatusCode::GONE));
    }
    let Some(session) = signed_in else {
        let (form_token, _) = visitor.form_token();
        let next = format!("/pay?t={}", url_encode(token));
        let sign_in = sign_in_body(text, &form_token, &next, "", Some(text.sign_in_to_pay));
        return Ok((format!("{summary}{sign_in}"), StatusCode::OK));
    };
    let form = format!(
        r#"<section>{problem}<form method="post" action="/pay">{t}{csrf}{key}
<label>{pin_label}<input name="pin" type="password" inputmode="numeric" autocomplete="off" required minlength="6" maxlength="6" pattern="[0-9]{{6}}" autofocus></label>
<button class="primary" type="submit">{pay} {amount}</button></form></section>"#,
        problem = message.map(problem).unwrap_or_default(),
        t = hidden("t", token),
        csrf = hidden("csrf", &session.csrf),
        // One key per page: a double tap or a resubmitted form pays once.
        key = hidden("key", &random_hex(16)),
        pin_label = text.pin,
        pay = text.pay,
        amount = money(preview.amount.amount(), currency),
    );
    Ok((format!("{summary}{form}"), StatusCode::OK))
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
            let body = format!(
                r#"<section><h1>{paid_title}</h1><p class="big" id="paid-amount">{amount}</p>
<p class="done">{show_code}</p><p class="code" id="confirmation-code">{confirmation_code}</p>
<p class="hint">{balance_label}: <span id="new-balance">{balance}</span></p>
<p><a href="/wallet">{back}</a></p></section>"#,
                paid_title = text.paid_title,
                amount = money(amount, currency),
                show_code = text.show_code,
                balance_label = text.new_balance,
                balance = money(wallet_balance, currency),
                back = text.back_to_wallet,
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
