//! The page around every console screen, the visitor (language, session, CSRF) and the
//! answers every screen shares: a redirect, a refusal page.

use axum::extract::{FromRequestParts, Query};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::words::{ConsoleWords, console_words};
use crate::http::AppState;
use crate::http::wallet::Language;
use crate::http::web::security::{
    LANGUAGE_COOKIE, client_ip, cookie, over_tls, same_secret, set_cookie,
};
use crate::service::{ErrorCode, RequestSource, ServiceError, SignedInOperator};

/// The console's session cookie: the operator's session token.
pub const OPERATOR_COOKIE: &str = "tf_operator";
/// Guards the sign-in form (double submit), as the wallet's `tf_form` does its own.
pub(super) const CONSOLE_FORM_COOKIE: &str = "tf_console_form";

const STYLE: &str = r#"
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 0; color: #1b2a33; background: #f3f5f8; font-size: 16px; }
header { background: #1d3557; color: #fff; padding: .7rem 1.2rem; display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .6rem; }
header a, header button.link { color: #fff; }
header nav { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
header .brand { font-weight: 700; font-size: 1.1rem; text-decoration: none; }
main { padding: 1rem 1.2rem 2rem; max-width: 64rem; margin: 0 auto; }
section { background: #fff; border-radius: .6rem; padding: 1rem 1.2rem; margin-bottom: 1rem; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .7rem; }
label { display: grid; gap: .3rem; margin-bottom: .8rem; color: #33414d; }
input, select, textarea { font-size: 1rem; padding: .55rem .65rem; border: 1px solid #8a99a8; border-radius: .4rem; font-family: inherit; }
textarea { min-height: 7rem; font-family: ui-monospace, monospace; }
input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #f2b705; outline-offset: 2px; }
button { font-size: 1rem; min-height: 2.6rem; padding: 0 1rem; border-radius: .4rem; border: 1px solid #1d3557; background: #fff; color: #1d3557; cursor: pointer; }
button.primary { background: #1d3557; color: #fff; }
button.danger { border-color: #a4201a; color: #a4201a; }
button.link { border: none; background: none; min-height: 0; padding: 0; text-decoration: underline; }
.problem { color: #8f1d17; font-weight: 600; background: #fdecea; padding: .6rem .8rem; border-radius: .4rem; }
.hint { color: #4a5866; font-size: .9rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .8rem; }
.figures div { background: #f3f5f8; border-radius: .4rem; padding: .6rem .8rem; }
.figures strong { display: block; font-size: 1.3rem; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
td, th { padding: .45rem .3rem; border-bottom: 1px solid #dde3ea; text-align: left; vertical-align: top; }
.decisions { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-top: .7rem; }
.decisions label { margin: 0; }
.status { font-weight: 700; }
.big { font-size: 1.8rem; letter-spacing: .08em; }
caption { text-align: left; padding: .3rem 0; }
svg.chart { width: 100%; height: auto; max-height: 12rem; margin: .8rem 0 .4rem; background: #f3f5f8; border-radius: .4rem; }
pre { white-space: pre-wrap; margin: 0; font-size: .85rem; }
a { color: #1d3557; }
"#;

/// Who is asking: language, connection, address, and the signed-in operator if any.
pub struct ConsoleVisitor {
    pub language: Language,
    pub tls: bool,
    pub source: RequestSource,
    pub form_cookie: Option<String>,
    pub session: Option<ConsoleSession>,
}

pub struct ConsoleSession {
    pub token: String,
    pub operator: SignedInOperator,
    pub csrf: String,
}

/// The CSRF token of a console session: derived from its token, which scripts cannot read.
fn console_csrf(token: &str) -> String {
    let digest =
        Sha256::new().chain_update(b"tillfund-console-csrf:").chain_update(token).finalize();
    tillfund_core::signing::encode_hex(&digest[..16])
}

impl FromRequestParts<AppState> for ConsoleVisitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let language = match cookie(&parts.headers, LANGUAGE_COOKIE).as_deref() {
            Some("zh") => Language::Chinese,
            Some("en") => Language::English,
            _ => Language::from_headers(&parts.headers),
        };
        let mut session = None;
        if let Some(token) = cookie(&parts.headers, OPERATOR_COOKIE) {
            // An ended session is simply signed out.
            if let Ok(operator) = state.service().signed_in_operator(&token).await {
                session = Some(ConsoleSession { csrf: console_csrf(&token), token, operator });
            }
        }
        Ok(ConsoleVisitor {
            language,
            tls: over_tls(&parts.headers),
            source: RequestSource(client_ip(&parts.extensions).to_string()),
            form_cookie: cookie(&parts.headers, CONSOLE_FORM_COOKIE)
                .filter(|value| value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())),
            session,
        })
    }
}

impl ConsoleVisitor {
    pub fn words(&self) -> &'static ConsoleWords {
        console_words(self.language)
    }

    pub fn form_is_ours(&self, submitted: &str) -> bool {
        self.session.as_ref().is_some_and(|session| same_secret(&session.csrf, submitted))
    }

    /// The refusal of a form that is not this session's (no token, another session's, or
    /// one from before a sign-out), pointing back to `back`; `None` for one of ours.
    pub fn refuse_foreign_form(&self, submitted: &str, back: &str) -> Option<Response> {
        if self.form_is_ours(submitted) {
            return None;
        }
        let error =
            ServiceError::new(ErrorCode::FormExpired, "This form has expired; reload the page.");
        Some(self.refusal(&error, back))
    }

    /// A message for people, in the visitor's language when the code has one.
    pub fn message(&self, error: &ServiceError) -> String {
        match self.language {
            Language::English => error.message.clone(),
            Language::Chinese => error.code.chinese().to_owned(),
        }
    }

    /// A whole page: the frame around `body`, with the console's headers.
    pub fn page(&self, path: &str, title: &str, body: Markup) -> Response {
        self.page_with(StatusCode::OK, path, title, body, &[])
    }

    pub fn page_with(
        &self,
        status: StatusCode,
        path: &str,
        title: &str,
        body: Markup,
        cookies: &[String],
    ) -> Response {
        let words = self.words();
        let other = match self.language {
            Language::English => "zh",
            Language::Chinese => "en",
        };
        let markup = html! {
            (DOCTYPE)
            html lang=(self.language.tag()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · " (words.console) }
                    // Unescaped: the stylesheet is this file's constant, no visitor text in it.
                    style { (maud::PreEscaped(STYLE)) }
                }
                body {
                    header {
                        a.brand href="/console" { (words.console) }
                        nav aria-label=(words.console) {
                            @if let Some(session) = &self.session {
                                a href="/console" { (words.dashboard) }
                                a href="/console/proposals" { (words.proposals) }
                                a href="/console/merchants" { (words.merchants) }
                                a href="/console/settlements" { (words.settlements) }
                                a href="/console/customers" { (words.customers) }
                                a href="/console/rules" { (words.rules) }
                                a href="/console/trail" { (words.trail) }
                                a href="/console/audit" { (words.audit) }
                                @if crate::operators::allows(session.operator.role, crate::operators::Permission::ManageOperators) {
                                    a href="/console/operators" { (words.accounts) }
                                }
                                span { (words.signed_in_as) " " strong { (session.operator.name) } " (" (session.operator.role.as_str()) ")" }
                                form method="post" action="/console/signout" {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    button.link type="submit" { (words.sign_out) }
                                }
                            }
                            a href={ "/console/language?to=" (other) "&back=" (crate::http::web::page::url_encode(path)) } lang=(other) { (words.other_language) }
                        }
                    }
                    main { (body) }
                }
            }
        };
        let mut response = (status, markup.into_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::http::web::page::CONTENT_POLICY),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        );
        headers
            .insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
        for cookie in cookies {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                headers.append(SET_COOKIE, value);
            }
        }
        response
    }

    /// A refusal as a page: what went wrong and the way back.
    pub fn refusal(&self, error: &ServiceError, back: &str) -> Response {
        let words = self.words();
        let body = html! {
            section {
                p.problem role="alert" { (self.message(error)) }
                p { a href=(back) { (words.back) } }
            }
        };
        let status = crate::http::status_of(error.code);
        self.page_with(status, back, words.console, body, &[])
    }

    /// The session cookie for a fresh sign-in, living as long as the session may.
    pub fn session_cookie(&self, token: &str, seconds: i64) -> String {
        console_cookie(OPERATOR_COOKIE, token, seconds, self.tls)
    }

    pub fn cleared_session_cookie(&self) -> String {
        console_cookie(OPERATOR_COOKIE, "", 0, self.tls)
    }
}

/// A console cookie: HttpOnly, SameSite=Strict, sent to `/console` only.
pub(super) fn console_cookie(name: &str, value: &str, seconds: i64, tls: bool) -> String {
    set_cookie(name, value, seconds, "Strict", tls).replacen("Path=/;", "Path=/console;", 1)
}

pub(crate) use crate::http::html::redirect;

#[derive(Deserialize)]
pub struct LanguageQuery {
    to: String,
    back: Option<String>,
}

/// Switches the language (the wallet's cookie, so a person has one choice) and goes back.
pub async fn choose_language(
    visitor: ConsoleVisitor,
    Query(query): Query<LanguageQuery>,
) -> Response {
    let value = if query.to == "zh" { "zh" } else { "en" };
    let cookie = set_cookie(LANGUAGE_COOKIE, value, 365 * 24 * 60 * 60, "Lax", visitor.tls);
    let back = query
        .back
        .filter(|path| {
            path.starts_with("/console")
                && !path.contains("//")
                && !path.chars().any(char::is_control)
        })
        .unwrap_or_else(|| "/console".to_owned());
    redirect(&back, &[cookie])
}

/// A readable moment in the visitor's time zone is not known: UTC, to the minute.
pub fn moment(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| at_ms.to_string())
}
