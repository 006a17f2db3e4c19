//! The customer wallet pages: sign up, sign in, the wallet (balance, member code, stores)
//! and the pay page a counter's QR code opens. Server-rendered HTML with plain forms: no
//! script, no framework, nothing from a CDN; they work on any phone browser.
//!
//! Every form carries a CSRF token: before sign-in the double-submit `tf_form` cookie,
//! after it a token derived from the session. The session cookie is HttpOnly, SameSite=Lax,
//! and Secure under TLS. Sign-in and PIN entry are rate limited per address and per
//! wallet, on top of the wallet's own lock-out after five wrong PINs.

pub(crate) mod page;
pub mod security;

use std::net::IpAddr;
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tillfund_core::{DisplayName, MerchantId, PaymentPin, PhoneNumber};

use self::page::{Page, Words, money, url_encode, words};
use self::security::{
    FORM_COOKIE, LANGUAGE_COOKIE, RateLimiter, SESSION_COOKIE, client_ip, cookie, over_tls,
    random_hex, same_secret, session_csrf, set_cookie,
};
use super::AppState;
use super::escape_html;
use super::wallet::Language;
use crate::ledger::Outcome;
use crate::model::Customer;
use crate::service::{ErrorKind, ServiceError};

/// Sign-in and sign-up attempts per address per minute, and per phone number.
const SIGN_IN_PER_MINUTE: u32 = 20;
const SIGN_IN_PER_PHONE_PER_MINUTE: u32 = 8;
/// Payment attempts (PIN entries) per wallet per minute.
const PAY_PER_MINUTE: u32 = 10;
/// Stores offered at sign-up and in the wallet.
const STORES_LISTED_MAX: u32 = 500;
const FORM_COOKIE_SECONDS: i64 = 24 * 60 * 60;
const LANGUAGE_COOKIE_SECONDS: i64 = 365 * 24 * 60 * 60;

const ENROL_PER_MINUTE: u32 = 10;
const OPERATOR_FAILURES_PER_MINUTE: u32 = 10;

/// The key a phone number is rate-limited under: its normalised form when it parses, so
/// `+86 138…`, `138-…` and `138…` share one count; its digits otherwise.
pub(crate) fn phone_limit_key(text: &str) -> String {
    match tillfund_core::PhoneNumber::parse(text) {
        Ok(phone) => phone.as_str().to_owned(),
        Err(_) => text.chars().filter(char::is_ascii_digit).take(32).collect(),
    }
}

/// The limits of the wallet pages and the JSON API, kept for the life of the process.
#[derive(Debug)]
pub struct WebLimits {
    pub(crate) sign_in_by_address: RateLimiter,
    pub(crate) sign_in_by_phone: RateLimiter,
    pub(crate) pay_by_wallet: RateLimiter,
    /// Enrolment attempts (activation codes tried) per address.
    pub(crate) enrol_by_address: RateLimiter,
    /// Wrong operator tokens per address.
    pub(crate) operator_failures_by_address: RateLimiter,
}

impl WebLimits {
    /// No limit at all: for load tests and benchmarks that measure the ledger, never for a
    /// server that faces the network.
    pub fn unlimited() -> WebLimits {
        WebLimits::scaled(u32::MAX)
    }

    /// Every per-minute limit multiplied by `factor` (at least 1): for many customers
    /// behind one address (a shop's Wi-Fi, a carrier's NAT), or a load test. The stored
    /// PIN lock-out is not affected.
    pub fn scaled(factor: u32) -> WebLimits {
        let minute = Duration::from_secs(60);
        let limit =
            |per_minute: u32| RateLimiter::new(per_minute.saturating_mul(factor.max(1)), minute);
        WebLimits {
            sign_in_by_address: limit(SIGN_IN_PER_MINUTE),
            sign_in_by_phone: limit(SIGN_IN_PER_PHONE_PER_MINUTE),
            pay_by_wallet: limit(PAY_PER_MINUTE),
            enrol_by_address: limit(ENROL_PER_MINUTE),
            operator_failures_by_address: limit(OPERATOR_FAILURES_PER_MINUTE),
        }
    }
}

impl Default for WebLimits {
    fn default() -> WebLimits {
        WebLimits::scaled(1)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signup", get(sign_up_page).post(sign_up))
        .route("/wallet", get(wallet_page))
        .route("/wallet/stores", post(change_store))
        .route("/pay", get(pay_page).post(pay))
        .route("/signout", post(sign_out))
        .route("/language", get(choose_language))
}

/// Who is asking: their language, connection, address, and session if signed in.
pub struct Visitor {
    language: Language,
    tls: bool,
    ip: IpAddr,
    form_cookie: Option<String>,
    session: Option<Session>,
}

struct Session {
    token: String,
    customer: Customer,
    csrf: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Visitor, std::convert::Infallible> {
        let language = match cookie(&parts.headers, LANGUAGE_COOKIE).as_deref() {
            Some("zh") => Language::Chinese,
            Some("en") => Language::English,
            _ => Language::from_headers(&parts.headers),
        };
        let mut session = None;
        if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
            // An unknown or expired session is simply signed out.
            if let Ok(customer) = state.service().session_customer(&token).await {
                let csrf = session_csrf(&token);
                session = Some(Session { token, customer, csrf });
            }
        }
        Ok(Visitor {
            language,
            tls: over_tls(&parts.headers),
            ip: client_ip(&parts.extensions),
            form_cookie: cookie(&parts.headers, FORM_COOKIE)
                .filter(|value| value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())),
            session,
        })
    }
}

impl Visitor {
    fn words(&self) -> &'static Words {
        words(self.language)
    }

    fn page(&self, path: &str, title: &str, body: String) -> Page {
        let mut page = Page::new(self.language, path, title, body);
        page.signed_in_csrf = self.session.as_ref().map(|session| session.csrf.clone());
        page
    }

    /// The token for a signed-out form, and the cookie to set when there is none yet.
    fn form_token(&self) -> (String, Option<String>) {
        match &self.form_cookie {
            Some(token) => (token.clone(), None),
            None => {
                let token = random_hex(16);
                let cookie =
                    set_cookie(FORM_COOKIE, &token, FORM_COOKIE_SECONDS, "Strict", self.tls);
                (token, Some(cookie))
            }
        }
    }

    fn signed_out_form_is_ours(&self, submitted: &str) -> bool {
        self.form_cookie.as_deref().is_some_and(|expected| same_secret(expected, submitted))
    }

    fn session_form_is_ours(&self, submitted: &str) -> bool {
        self.session.as_ref().is_some_and(|session| same_secret(&session.csrf, submitted))
    }
}

/// The session cookie for a fresh sign-in, living as long as the session.
fn session_cookie(state: &AppState, visitor: &Visitor, token: &str) -> String {
    let seconds = state.service().session_ttl_ms() / 1000;
    set_cookie(SESSION_COOKIE, token, seconds, "Lax", visitor.tls)
}

/// A 303 to `location`, setting `cookies`.
fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// Only a path on this site: never another host (`//evil`, `https://…`, `/\evil`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/wallet".to_owned(),
    }
}

fn status_of(error: &ServiceError) -> StatusCode {
    super::status_for(error.kind)
}

/// The errors a customer meets, in Chinese. English pages use the service's messages,
/// which are written for customers already; a code not listed here shows that message.
fn chinese_problem(code: &str) -> Option<&'static str> {
    Some(match code {
        "sign_in_failed" => "手机号或支付密码错误。",
        "pin_wrong" => "支付密码错误。连续输错 5 次，钱包将锁定 15 分钟。",
        "wallet_locked" => "支付密码错误次数过多，钱包已暂时锁定，请稍后再试。",
        "phone_taken" => "该手机号已开通钱包，请直接登录。",
        "phone_invalid" => "请输入正确的手机号。",
        "pin_invalid" => "支付密码必须是 6 位数字。",
        "display_name_invalid" => "请输入姓名（1 到 40 个字）。",
        "token_expired" => "付款码已过期，请让收银员重新生成。",
        "token_malformed" | "token_bad_signature" => "这不是有效的付款码。",
        "order_already_paid" => "该订单已付款。",
        "customer_not_bound" => "您的钱包尚未绑定该门店：请先在钱包中添加该门店。",
        "insufficient_funds" => "余额不足。",
        "merchant_unknown" => "没有这家门店。",
        _ => return None,
    })
}

/// A form field the core refused: its message, or the Chinese one for its code.
fn input_problem(code: &str, message: String, language: Language) -> String {
    match (language, chinese_problem(code)) {
        (Language::Chinese, Some(text)) => text.to_owned(),
        _ => message,
    }
}

/// What a failed action says on the page: the service's message (written for people),
/// except for internal errors, which are logged and not shown.
fn localized_problem(error: &ServiceError, language: Language) -> String {
    match (language, chinese_problem(&error.code)) {
        (Language::Chinese, Some(text)) if error.kind != ErrorKind::Internal => text.to_owned(),
        _ => problem_text(error),
    }
}

fn problem_text(error: &ServiceError) -> String {
    if error.kind == ErrorKind::Internal {
        tracing::error!(code = %error.code, message = %error.message, "wallet page");
        return "The server could not complete this; it has been logged. Please try again."
            .to_owned();
    }
    error.message.clone()
}

fn problem(message: &str) -> String {
    format!(r#"<p class="problem" role="alert" data-code="problem">{}</p>"#, escape_html(message))
}

fn hidden(name: &str, value: &str) -> String {
    format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape_html(value))
}

// ---- sign-in ----

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct SignInForm {
    phone: String,
    pin: String,
    csrf: String,
    next: Option<String>,
}

fn sign_in_body(
    text: &Words,
    form_token: &str,
    next: &str,
    phone: &str,
    message: Option<&str>,
) -> String {
    format!(
        r#"<section><h1>{sign_in}</h1>{problem}
<form method="post" action="/signin">
{csrf}{next}
<label>{phone_label}<input name="phone" type="tel" inputmode="tel" autocomplete="tel" required maxlength="20" value="{phone}"></label>
<label>{pin_label}<input name="pin" type="password" inputmode="numeric" autocomplete="current-password" required minlength="6" maxlength="6" pattern="[0-9]{{6}}"></label>
<button class="primary" type="submit">{sign_in}</button>
</form>
<p><a href="/signup">{no_account}</a></p></section>"#,
        sign_in = text.sign_in,
        problem = message.map(problem).unwrap_or_default(),
        csrf = hidden("csrf", form_token),
        next = hidden("next", next),
        phone_label = text.phone,
        pin_label = text.pin,
        phone = escape_html(phone),
        no_account = text.no_account,
    )
}

async fn sign_in_page(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
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

async fn sign_in(
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
    let phone_key = phone_limit_key(&form.phone);
    if !limits.sign_in_by_address.allow(&visitor.ip.to_string())
        || !limits.sign_in_by_phone.allow(&phone_key)
    {
        return again(text.too_many, StatusCode::TOO_MANY_REQUESTS);
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

// ---- sign-up ----

struct SignUpForm {
    phone: String,
    name: String,
    pin: String,
    pin_again: String,
    csrf: String,
    /// Made with the page: a second submit of the same page creates one wallet.
    form_id: String,
    /// One per ticked store (a repeated field, which is why the form is read as pairs).
    store: Vec<String>,
}

impl SignUpForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> SignUpForm {
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

struct SignUpValues<'a> {
    phone: &'a str,
    name: &'a str,
    stores: &'a [String],
    form_id: &'a str,
}

async fn sign_up_body(
    state: &AppState,
    text: &Words,
    form_token: &str,
    values: &SignUpValues<'_>,
    message: Option<&str>,
) -> Result<String, ServiceError> {
    let merchants = state.store().list_merchants(STORES_LISTED_MAX).await?;
    let stores: String = merchants
        .iter()
        .map(|merchant| {
            let id = merchant.id.to_string();
            let checked = if values.stores.contains(&id) { " checked" } else { "" };
            format!(
                r#"<label class="check"><input type="checkbox" name="store" value="{id}"{checked}>{}</label>"#,
                escape_html(&merchant.name)
            )
        })
        .collect();
    Ok(format!(
        r#"<section><h1>{sign_up}</h1>{problem}
<form method="post" action="/signup">
{csrf}{form_id}
<label>{phone_label}<input name="phone" type="tel" inputmode="tel" autocomplete="tel" required maxlength="20" value="{phone}"></label>
<label>{name_label}<input name="name" autocomplete="name" required maxlength="40" value="{name}"></label>
<label>{pin_label}<input name="pin" type="password" inputmode="numeric" autocomplete="new-password" required minlength="6" maxlength="6" pattern="[0-9]{{6}}" aria-describedby="pin-hint"></label>
<label>{pin_again}<input name="pin_again" type="password" inputmode="numeric" autocomplete="new-password" required minlength="6" maxlength="6" pattern="[0-9]{{6}}"></label>
<p class="hint" id="pin-hint">{pin_hint}</p>
<fieldset><legend>{stores_label}</legend>{stores}<p class="hint">{stores_hint}</p></fieldset>
<button class="primary" type="submit">{sign_up}</button>
</form>
<p><a href="/signin">{have_account}</a></p></section>"#,
        sign_up = text.sign_up,
        problem = message.map(problem).unwrap_or_default(),
        csrf = hidden("csrf", form_token),
        form_id = hidden("form_id", values.form_id),
        phone_label = text.phone,
        phone = escape_html(values.phone),
        name_label = text.name,
        name = escape_html(values.name),
        pin_label = text.pin,
        pin_again = text.pin_again,
        pin_hint = text.pin_hint,
        stores_label = text.stores,
        stores_hint = text.stores_hint,
        have_account = text.have_account,
    ))
}

async fn sign_up_page(State(state): State<AppState>, visitor: Visitor) -> Response {
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

async fn sign_up(
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
    if !state.web_limits().sign_in_by_address.allow(&visitor.ip.to_string()) {
        return again(text.too_many, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let invalid = |message: String| (message, StatusCode::UNPROCESSABLE_ENTITY);
    let parsed = (|| {
        let phone = PhoneNumber::parse(&form.phone).map_err(|error| {
            invalid(input_problem(error.code(), error.to_string(), visitor.language))
        })?;
        let name = DisplayName::parse(&form.name).map_err(|error| {
            invalid(input_problem(error.code(), error.to_string(), visitor.language))
        })?;
        if form.pin != form.pin_again {
            return Err(invalid(text.pins_differ.to_owned()));
        }
        let pin = PaymentPin::parse(&form.pin).map_err(|error| {
            invalid(input_problem(error.code(), error.to_string(), visitor.language))
        })?;
        let stores = form
            .store
            .iter()
            .map(|id| id.parse::<MerchantId>().map_err(|error| invalid(error.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((phone, name, pin, stores))
    })();
    let (phone, name, pin, stores) = match parsed {
        Ok(parsed) => parsed,
        Err((message, status)) => return again(&message, status).await,
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

// ---- the wallet ----

/// The daily yield as bars (exact accruals, in the currency's major units on hover), with
/// the total said in words for screen readers.
fn yield_chart(
    days: &[crate::store::yields::YieldDay],
    text: &Words,
    currency: tillfund_core::Currency,
) -> String {
    if days.iter().all(|day| day.accrued.is_zero()) {
        return format!(r#"<p class="hint">{}</p>"#, text.no_yield_yet);
    }
    let highest = days.iter().map(|day| day.accrued).max().unwrap_or_default();
    let width = 300_usize;
    let height = 90_usize;
    let slot = width / days.len().max(1);
    let scale = rust_decimal::Decimal::from(10_i64.pow(currency.decimal_places()));
    let mut bars = String::new();
    for (index, day) in days.iter().enumerate() {
        let ratio =
            if highest.is_zero() { rust_decimal::Decimal::ZERO } else { day.accrued / highest };
        let bar = usize::try_from((ratio * rust_decimal::Decimal::from(height)).round().mantissa())
            .unwrap_or(0)
            .max(1);
        let major = (day.accrued / scale).round_dp(4);
        bars.push_str(&format!(
            r#"<rect x="{x}" y="{y}" width="{w}" height="{bar}"><title>{day} {major}</title></rect>"#,
            x = index * slot,
            y = height - bar,
            w = slot.saturating_sub(1).max(1),
            day = escape_html(&day.day),
        ));
    }
    let first = days.first().map(|day| day.day.as_str()).unwrap_or_default();
    let last = days.last().map(|day| day.day.as_str()).unwrap_or_default();
    format!(
        r#"<div class="chart"><svg viewBox="0 0 {width} {label_height}" role="img" aria-label="{label} {first} – {last}">{bars}<text x="0" y="{text_y}">{first}</text><text x="{width}" y="{text_y}" text-anchor="end">{last}</text></svg></div>"#,
        label_height = height + 14,
        text_y = height + 11,
        label = text.yield_history,
        first = escape_html(first),
        last = escape_html(last),
    )
}

fn entry_label(code: &str, text: &Words) -> String {
    match code {
        "top_up" => text.entry_top_up.to_owned(),
        "payment" => text.entry_payment.to_owned(),
        "refund" => text.entry_refund.to_owned(),
        "yield" => text.entry_yield.to_owned(),
        "top_up_reversal" => text.entry_reversal.to_owned(),
        other => escape_html(other),
    }
}

fn transactions_table(
    entries: &[crate::store::WalletEntry],
    text: &Words,
    currency: tillfund_core::Currency,
    default_zone: &str,
) -> String {
    if entries.is_empty() {
        return format!(r#"<p class="hint">{}</p>"#, text.no_transactions);
    }
    let rows: String = entries
        .iter()
        .map(|entry| {
            let zone = entry.merchant_time_zone.as_deref().unwrap_or(default_zone);
            let when = jiff::Timestamp::from_millisecond(entry.applied_at_ms)
                .map(|at| {
                    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
                    at.to_zoned(zone).strftime("%m-%d %H:%M").to_string()
                })
                .unwrap_or_default();
            let change = tillfund_core::Amount::from_minor_units(entry.change)
                .map(|amount| amount.format(currency))
                .unwrap_or_default();
            let sign = if entry.change > 0 { "+" } else { "" };
            format!(
                r#"<tr><td>{when}</td><td>{label}<br><span class="hint">{merchant}</span></td><td class="amount">{sign}{change}</td></tr>"#,
                label = entry_label(&entry.code, text),
                merchant = escape_html(entry.merchant.as_deref().unwrap_or("")),
            )
        })
        .collect();
    format!(r#"<table id="transactions"><tbody>{rows}</tbody></table>"#)
}

fn member_code_svg(code: &str) -> String {
    match qrcode::QrCode::new(code.as_bytes()) {
        Ok(qr) => {
            let svg =
                qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
            // The renderer starts with an XML declaration, which HTML does not want.
            svg.find("<svg").map_or(svg.clone(), |start| svg[start..].to_owned())
        }
        Err(_) => String::new(),
    }
}

/// "800000000011" → "8000 0000 0011", easier to read out.
fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn wallet_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/signin?next=/wallet", &[]);
    };
    let text = visitor.words();
    let currency = state.currency();
    let body = async {
        let wallet = state.service().wallet(&session.customer).await?;
        let merchants = state.store().list_merchants(STORES_LISTED_MAX).await?;
        let bound: Vec<_> = wallet.bound_merchants.iter().map(|merchant| merchant.id).collect();
        let bound_items: String = wallet
            .bound_merchants
            .iter()
            .map(|merchant| {
                format!(
                    r#"<li><span>{name}</span><form method="post" action="/wallet/stores">{csrf}{id}{action}<button type="submit" aria-label="{remove} {name}">{remove}</button></form></li>"#,
                    name = escape_html(&merchant.name),
                    csrf = hidden("csrf", &session.csrf),
                    id = hidden("merchant_id", &merchant.id.to_string()),
                    action = hidden("action", "remove"),
                    remove = text.remove,
                )
            })
            .collect();
        let bound_list = if bound_items.is_empty() {
            format!(r#"<p class="hint">{}</p>"#, text.no_bound_stores)
        } else {
            format!(r#"<ul class="plain" id="stores">{bound_items}</ul>"#)
        };
        let options: String = merchants
            .iter()
            .filter(|merchant| !bound.contains(&merchant.id))
            .map(|merchant| format!(r#"<option value="{}">{}</option>"#, merchant.id, escape_html(&merchant.name)))
            .collect();
        let add_form = if options.is_empty() {
            String::new()
        } else {
            format!(
                r#"<form method="post" action="/wallet/stores">{csrf}{action}<label>{add_store}<select name="merchant_id">{options}</select></label><button type="submit">{add}</button></form>"#,
                csrf = hidden("csrf", &session.csrf),
                action = hidden("action", "add"),
                add_store = text.add_store,
                add = text.add,
            )
        };
        let member_code = wallet.customer.member_code.to_string();
        let activity = state.service().wallet_activity(&session.customer).await?;
        let default_zone = wallet
            .bound_merchants
            .first()
            .map_or("UTC".to_owned(), |merchant| merchant.time_zone.clone());
        let annualized = activity.annualized_7d_percent.map_or_else(String::new, |percent| {
            format!(r#"<p>{}: <strong id="annualized">{percent}%</strong></p>"#, text.annualized_7d)
        });
        Ok::<String, ServiceError>(format!(
            r#"<section aria-labelledby="balance"><h1 id="balance">{name}</h1>
<p class="hint">{balance_label}</p><p class="big" id="total">{total}</p>
<div class="split"><div>{principal_label}<strong id="principal">{principal}</strong></div><div>{bonus_label}<strong id="bonus">{bonus}</strong></div><div>{yield_label}<strong id="yield">{yield_earned}</strong></div></div>
</section>
<section><h2>{member_label}</h2><div class="qr" role="img" aria-label="{member_label} {member_code}">{qr}</div>
<p class="member" id="member-code">{member_grouped}</p><p class="hint">{member_hint}</p></section>
<section><h2>{stores_label}</h2>{bound_list}{add_form}</section>
<section><h2>{yield_history}</h2>{chart}{annualized}</section>
<section><h2>{transactions_label}</h2>{transactions}</section>"#,
            yield_history = text.yield_history,
            chart = yield_chart(&activity.days, text, currency),
            transactions_label = text.transactions,
            transactions = transactions_table(&activity.entries, text, currency, &default_zone),
            name = escape_html(&wallet.customer.display_name),
            balance_label = text.balance,
            total = money(wallet.total, currency),
            principal_label = text.principal,
            principal = wallet.principal.format(currency),
            bonus_label = text.bonus,
            bonus = wallet.bonus.format(currency),
            yield_label = text.yield_earned,
            yield_earned = wallet.yield_earned.format(currency),
            member_label = text.member_code,
            qr = member_code_svg(&member_code),
            member_grouped = grouped(&member_code),
            member_hint = text.member_code_hint,
            stores_label = text.your_stores,
        ))
    }
    .await;
    match body {
        Ok(body) => visitor.page("/wallet", text.title, body).into_response(),
        Err(error) => error_page(&visitor, &error),
    }
}

#[derive(Deserialize)]
struct StoreForm {
    csrf: String,
    merchant_id: String,
    action: String,
}

async fn change_store(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<StoreForm>,
) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/signin?next=/wallet", &[]);
    };
    if !visitor.session_form_is_ours(&form.csrf) {
        return forbidden(&visitor);
    }
    let bound = match form.action.as_str() {
        "add" => true,
        "remove" => false,
        _ => {
            return error_page(
                &visitor,
                &ServiceError::invalid("action_invalid", "Add or remove a store."),
            );
        }
    };
    let merchant_id = match form.merchant_id.parse::<MerchantId>() {
        Ok(id) => id,
        Err(error) => {
            return error_page(
                &visitor,
                &ServiceError::invalid("merchant_id_invalid", error.to_string()),
            );
        }
    };
    match state.service().set_binding(&session.customer, merchant_id, bound).await {
        Ok(()) => redirect("/wallet", &[]),
        Err(error) => error_page(&visitor, &error),
    }
}

// ---- paying a counter's QR code ----

#[derive(Deserialize)]
struct PayQuery {
    t: String,
}

#[derive(Deserialize)]
struct PayForm {
    t: String,
    pin: String,
    csrf: String,
    key: String,
}

fn local_time(ms: i64, time_zone: &str) -> String {
    let zone = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms)
        .map(|timestamp| timestamp.to_zoned(zone).strftime("%H:%M").to_string())
        .unwrap_or_default()
}

/// The pay page for `token`: what is being paid, then the PIN form, or why it cannot be paid.
async fn pay_body(
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

async fn pay_page(
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

async fn pay(
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
    if !state.web_limits().pay_by_wallet.allow(&session.customer.id.to_string()) {
        return again(text.too_many, StatusCode::TOO_MANY_REQUESTS).await;
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
            let error = ServiceError::new(
                ErrorKind::Internal,
                "internal",
                format!("payment answered {other:?}"),
            );
            again(&problem_text(&error), StatusCode::INTERNAL_SERVER_ERROR).await
        }
        Err(error) => again(&localized_problem(&error, visitor.language), status_of(&error)).await,
    }
}

// ---- sign-out, language, errors ----

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/", &[]);
    };
    if !visitor.session_form_is_ours(&form.csrf) {
        return forbidden(&visitor);
    }
    if let Err(error) = state.service().sign_out(&session.token).await {
        return error_page(&visitor, &error);
    }
    redirect("/", &[set_cookie(SESSION_COOKIE, "", 0, "Lax", visitor.tls)])
}

#[derive(Deserialize)]
struct LanguageQuery {
    to: String,
    back: Option<String>,
}

async fn choose_language(visitor: Visitor, Query(query): Query<LanguageQuery>) -> Response {
    let value = if query.to == "zh" { "zh" } else { "en" };
    let cookie = set_cookie(LANGUAGE_COOKIE, value, LANGUAGE_COOKIE_SECONDS, "Lax", visitor.tls);
    redirect(&safe_next(query.back.as_deref()), &[cookie])
}

fn forbidden(visitor: &Visitor) -> Response {
    let text = visitor.words();
    let body = format!(
        r#"<section>{}<p><a href="/wallet">{}</a></p></section>"#,
        problem(text.form_expired),
        text.back_to_wallet
    );
    visitor.page("/wallet", text.title, body).with_status(StatusCode::FORBIDDEN).into_response()
}

fn error_page(visitor: &Visitor, error: &ServiceError) -> Response {
    let text = visitor.words();
    let body = format!(
        r#"<section>{}<p><a href="/wallet">{}</a></p></section>"#,
        problem(&localized_problem(error, visitor.language)),
        text.back_to_wallet
    );
    visitor.page("/wallet", text.title, body).with_status(status_of(error)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_ever_a_path_on_this_site() {
        assert_eq!(safe_next(Some("/pay?t=abc")), "/pay?t=abc");
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "wallet", "/a\nb"]
        {
            assert_eq!(safe_next(Some(bad)), "/wallet", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/wallet");
    }

    #[test]
    fn member_codes_read_in_groups_of_four() {
        assert_eq!(grouped("800000000011"), "8000 0000 0011");
        assert!(member_code_svg("800000000011").starts_with("<svg"));
    }
}
