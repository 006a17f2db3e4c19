//! Opening a wallet: phone, name, PIN and the stores to bind.

use maud::{Markup, html};

use super::*;

pub(super) struct SignUpForm {
    pub(super) phone: String,
    pub(super) name: String,
    pub(super) pin: String,
    pub(super) pin_again: String,
    pub(super) csrf: String,
    /// Made with the page: a second submit of the same page creates one wallet.
    pub(super) form_id: String,
    /// One per ticked store (a repeated field, which is why the form is read as pairs).
    pub(super) store: Vec<String>,
}

impl SignUpForm {
    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> SignUpForm {
        let mut form = SignUpForm {
            phone: String::new(),
            name: String::new(),
            pin: String::new(),
            pin_again: String::new(),
            csrf: String::new(),
            form_id: String::new(),
            store: Vec::new(),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "phone" => form.phone = value,
                "name" => form.name = value,
                "pin" => form.pin = value,
                "pin_again" => form.pin_again = value,
                "csrf" => form.csrf = value,
                "form_id" => form.form_id = value,
                // Bounded by the number of stores there are; extra ones are ignored.
                "store" if form.store.len() < STORES_LISTED_MAX as usize => form.store.push(value),
                _ => {}
            }
        }
        form
    }
}

pub(super) struct SignUpValues<'a> {
    pub(super) phone: &'a str,
    pub(super) name: &'a str,
    pub(super) stores: &'a [String],
    pub(super) form_id: &'a str,
}

pub(super) async fn sign_up_body(
    state: &AppState,
    text: &Words,
    form_token: &str,
    values: &SignUpValues<'_>,
    message: Option<&str>,
) -> Result<Markup, ServiceError> {
    let merchants = state.service().merchants(STORES_LISTED_MAX).await?;
    Ok(html! {
        section {
            h1 { (text.sign_up) }
            @if let Some(message) = message { (problem(message)) }
            form method="post" action="/signup" {
                (hidden("csrf", form_token))
                (hidden("form_id", values.form_id))
                label { (text.phone) input name="phone" type="tel" inputmode="tel" autocomplete="tel" required maxlength="20" value=(values.phone); }
                label { (text.name) input name="name" autocomplete="name" required maxlength="40" value=(values.name); }
                label { (text.pin) input name="pin" type="password" inputmode="numeric" autocomplete="new-password" required minlength="6" maxlength="6" pattern="[0-9]{6}" aria-describedby="pin-hint"; }
                label { (text.pin_again) input name="pin_again" type="password" inputmode="numeric" autocomplete="new-password" required minlength="6" maxlength="6" pattern="[0-9]{6}"; }
                p class="hint" id="pin-hint" { (text.pin_hint) }
                fieldset {
                    legend { (text.stores) }
                    @for merchant in &merchants {
                        @let id = merchant.id.to_string();
                        label class="check" { input type="checkbox" name="store" value=(id) checked[values.stores.contains(&id)]; (merchant.name) }
                    }
                    p class="hint" { (text.stores_hint) }
                }
                button class="primary" type="submit" { (text.sign_up) }
            }
            p { a href="/signin" { (text.have_account) } }
        }
    })
}

pub(super) async fn sign_up_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    if visitor.session.is_some() {
        return redirect("/wallet", &[]);
    }
    let (token, cookie) = visitor.form_token();
    let text = visitor.words();
    let form_id = random_hex(16);
    let values = SignUpValues { phone: "", name: "", stores: &[], form_id: &form_id };
    match sign_up_body(&state, text, &token, &values, None).await {
        Ok(body) => {
            let mut page = visitor.page("/signup", text.sign_up, body);
            page.cookies.extend(cookie);
            page.into_response()
        }
        Err(error) => error_page(&visitor, &error),
    }
}

/// The sign-up form's fields as the core reads them, or what to tell the visitor.
fn parse_sign_up(
    form: &SignUpForm,
    text: &Words,
    language: Language,
) -> Result<(PhoneNumber, DisplayName, PaymentPin, Vec<MerchantId>), String> {
    let problem = |code, message: String| input_problem(code, message, language);
    let phone = PhoneNumber::parse(&form.phone)
        .map_err(|error| problem(error.code(), error.to_string()))?;
    let name =
        DisplayName::parse(&form.name).map_err(|error| problem(error.code(), error.to_string()))?;
    if form.pin != form.pin_again {
        return Err(text.pins_differ.to_owned());
    }
    let pin =
        PaymentPin::parse(&form.pin).map_err(|error| problem(error.code(), error.to_string()))?;
    let stores = form
        .store
        .iter()
        .map(|id| {
            id.parse::<MerchantId>()
                .map_err(|error| problem(ErrorCode::MerchantIdInvalid, error.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((phone, name, pin, stores))
}

pub(super) async fn sign_up(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = SignUpForm::from_pairs(pairs);
    let text = visitor.words();
    let (token, cookie) = visitor.form_token();
    let form_id = if form.form_id.len() == 32 { form.form_id.clone() } else { random_hex(16) };
    let values = SignUpValues {
        phone: &form.phone,
        name: &form.name,
        stores: &form.store,
        form_id: &form_id,
    };
    let again = async |message: &str, status: StatusCode| match sign_up_body(
        &state,
        text,
        &token,
        &values,
        Some(message),
    )
    .await
    {
        Ok(body) => {
            let mut page = visitor.page("/signup", text.sign_up, body).with_status(status);
            page.cookies.extend(cookie.clone());
            page.into_response()
        }
        Err(error) => error_page(&visitor, &error),
    };
    if !visitor.signed_out_form_is_ours(&form.csrf) {
        return again(text.form_expired, StatusCode::FORBIDDEN).await;
    }
    match state
        .service()
        .allow_attempt(&state.web_limits().sign_in_by_address, &visitor.ip.to_string())
        .await
    {
        Ok(true) => {}
        Ok(false) => return again(text.too_many, StatusCode::TOO_MANY_REQUESTS).await,
        Err(error) => return error_page(&visitor, &error),
    }
    let (phone, name, pin, stores) = match parse_sign_up(&form, text, visitor.language) {
        Ok(parsed) => parsed,
        Err(message) => return again(&message, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let key = format!("web-signup-{form_id}");
    if let Err(error) =
        state.service().register_customer(phone.clone(), name, pin.clone(), stores, &key).await
    {
        return again(&localized_problem(&error, visitor.language), status_of(&error)).await;
    }
    match state.service().sign_in(&phone, pin).await {
        Ok((session_token, _)) => {
            let session = session_cookie(&state, &visitor, &session_token);
            redirect("/wallet", &[session])
        }
        Err(error) => again(&localized_problem(&error, visitor.language), status_of(&error)).await,
    }
}
