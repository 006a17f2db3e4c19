//! Taking money back as cash at a store (redemption): the customer picks a bound store and
//! an amount, confirms with the PIN and gets a one-time code to show that store's manager,
//! who pays it out at the counter within ten minutes.

use maud::{Markup, html};
use tillfund_core::PositiveAmount;

use super::pay::local_time;
use super::*;

#[derive(Deserialize)]
pub(super) struct CashOutForm {
    pub(super) csrf: String,
    pub(super) merchant_id: String,
    pub(super) amount: String,
    pub(super) pin: String,
    /// Set by the "close my wallet" form, whose amount is everything payable.
    #[serde(default)]
    pub(super) close: Option<String>,
}

/// The form: what can be paid out, the store, the amount, the PIN.
async fn cash_out_body(
    state: &AppState,
    visitor: &Visitor,
    customer: &Customer,
    csrf: &str,
    message: Option<&str>,
) -> Result<Markup, ServiceError> {
    let text = visitor.words();
    let currency = state.currency();
    let wallet = state.service().wallet(customer).await?;
    let payable = tillfund_core::Amount::from_minor_units(
        wallet.principal.minor_units() + wallet.yield_earned.minor_units(),
    )
    .unwrap_or(tillfund_core::Amount::ZERO);
    Ok(html! {
        section {
            h1 { (text.cash_out_title) }
            p { (text.cash_out_payable) ": " strong id="payable" { (money(payable, currency)) } }
            p class="hint" { (text.cash_out_intro) }
            @if let Some(message) = message { (problem(message)) }
            @if wallet.bound_merchants.is_empty() {
                p class="hint" { (text.no_bound_stores) }
            } @else {
                form method="post" action="/wallet/cash-out" {
                    (hidden("csrf", csrf))
                    label { (text.cash_out_store)
                        select name="merchant_id" required {
                            @for merchant in &wallet.bound_merchants {
                                option value=(merchant.id) { (merchant.name) }
                            }
                        }
                    }
                    label { (text.cash_out_amount) " (" (currency.code()) ")"
                        input name="amount" inputmode="decimal" autocomplete="off" required maxlength="16";
                    }
                    label { (text.pin) input name="pin" type="password" inputmode="numeric" autocomplete="off" required minlength="6" maxlength="6" pattern="[0-9]{6}"; }
                    button class="primary" type="submit" { (text.cash_out_get_code) }
                }
            }
        }
        section {
            h2 { (text.close_wallet_title) }
            p class="hint" { (text.close_wallet_intro) }
            form id="close-wallet" method="post" action="/wallet/cash-out" {
                (hidden("csrf", csrf))
                (hidden("close", "yes"))
                (hidden("amount", &payable.format(currency)))
                @if wallet.bound_merchants.is_empty() {
                    (hidden("merchant_id", ""))
                } @else {
                    label { (text.cash_out_store)
                        select name="merchant_id" required {
                            @for merchant in &wallet.bound_merchants {
                                option value=(merchant.id) { (merchant.name) }
                            }
                        }
                    }
                }
                label { (text.pin) input name="pin" type="password" inputmode="numeric" autocomplete="off" required minlength="6" maxlength="6" pattern="[0-9]{6}"; }
                label class="check" { input type="checkbox" name="understood" required; (text.close_wallet_understood) }
                button type="submit" { (text.close_wallet_button) }
            }
            p { a href="/wallet" { (text.back_to_wallet) } }
        }
    })
}

pub(super) async fn cash_out_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/signin?next=/wallet/cash-out", &[]);
    };
    let text = visitor.words();
    match cash_out_body(&state, &visitor, &session.customer, &session.csrf, None).await {
        Ok(body) => visitor.page("/wallet/cash-out", text.cash_out_title, body).into_response(),
        Err(error) => error_page(&visitor, &error),
    }
}

pub(super) async fn cash_out(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CashOutForm>,
) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/signin?next=/wallet/cash-out", &[]);
    };
    let text = visitor.words();
    let again = async |message: &str, status: StatusCode| match cash_out_body(
        &state,
        &visitor,
        &session.customer,
        &session.csrf,
        Some(message),
    )
    .await
    {
        Ok(body) => visitor
            .page("/wallet/cash-out", text.cash_out_title, body)
            .with_status(status)
            .into_response(),
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
    let closing = form.close.is_some();
    if closing {
        match closing_with_nothing_to_pay(&state, &visitor, session, &form).await {
            Some(Ok(response)) => return response,
            Some(Err(error)) => {
                return again(&localized_problem(&error, visitor.language), status_of(&error))
                    .await;
            }
            None => {}
        }
    }
    let parsed = form
        .merchant_id
        .parse::<MerchantId>()
        .map_err(|error| ServiceError::new(ErrorCode::MerchantIdInvalid, error.to_string()))
        .and_then(|merchant_id| {
            let amount = PositiveAmount::parse(form.amount.trim(), state.currency())
                .map_err(|error| ServiceError::new(error.code(), error.to_string()))?;
            let pin = PaymentPin::parse(&form.pin)
                .map_err(|error| ServiceError::new(error.code(), error.to_string()))?;
            Ok((merchant_id, amount, pin))
        });
    let (merchant_id, amount, pin) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            return again(&localized_problem(&error, visitor.language), status_of(&error)).await;
        }
    };
    let issued = state
        .service()
        .issue_redemption_code(&session.customer, merchant_id, amount, pin, closing)
        .await;
    match issued {
        Ok(code) => {
            let amount = tillfund_core::Amount::from_minor_units(code.amount)
                .unwrap_or(tillfund_core::Amount::ZERO);
            let body = html! {
                section {
                    h1 { (text.cash_out_title) }
                    p id="cash-out-store" { (code.merchant_name) }
                    p class="big" id="cash-out-amount" { (money(amount, state.currency())) }
                    p class="done" { (text.cash_out_show_code) }
                    p class="code" id="cash-out-code" { (code.code) }
                    p class="hint" { (text.cash_out_until) " " (local_time(code.expires_at_ms, &code.merchant_time_zone)) }
                    @if code.closes_wallet { p class="problem" id="closes-wallet" { (text.close_wallet_on_payout) } }
                    p { a href="/wallet" { (text.back_to_wallet) } }
                }
            };
            visitor.page("/wallet/cash-out", text.cash_out_title, body).into_response()
        }
        Err(error) => again(&localized_problem(&error, visitor.language), status_of(&error)).await,
    }
}

/// A wallet with nothing payable closes at once on the "close my wallet" form: no cash to
/// hand over, no store needed. `None` when there is something to pay out (the form goes on
/// to ask for a closing code).
async fn closing_with_nothing_to_pay(
    state: &AppState,
    visitor: &Visitor,
    session: &visitor::Session,
    form: &CashOutForm,
) -> Option<Result<Response, ServiceError>> {
    let amount = tillfund_core::Amount::parse(form.amount.trim(), state.currency()).ok()?;
    if amount.minor_units() != 0 {
        return None;
    }
    let pin = match PaymentPin::parse(&form.pin) {
        Ok(pin) => pin,
        Err(error) => return Some(Err(ServiceError::new(error.code(), error.to_string()))),
    };
    if let Err(error) = state.service().close_empty_wallet(&session.customer, pin).await {
        return Some(Err(error));
    }
    let text = visitor.words();
    let body = html! {
        section {
            h1 { (text.close_wallet_title) }
            p class="done" id="wallet-closed" { (text.close_wallet_done) }
            p { a href="/" { (text.title) } }
        }
    };
    let signed_out = set_cookie(SESSION_COOKIE, "", 0, "Lax", visitor.tls);
    let mut page = visitor.page("/wallet/cash-out", text.close_wallet_title, body);
    page.cookies.push(signed_out);
    Some(Ok(page.into_response()))
}
