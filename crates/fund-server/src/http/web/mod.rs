//! The customer wallet pages: sign up, sign in, the wallet (balance, member code, stores)
//! and the pay page a counter's QR code (or payment sound) opens. Server-rendered HTML with
//! plain forms: no script (but the Listen page's, `listen.rs`), no framework, nothing from a CDN; they work on any phone browser. The HTML is
//! written with maud's `html!`, which escapes every value; `PreEscaped` holds only markup the
//! server made itself (the stylesheet, the member code's QR drawing).
//!
//! Every form carries a CSRF token: before sign-in the double-submit `tf_form` cookie,
//! after it a token derived from the session. The session cookie is HttpOnly, SameSite=Lax,
//! and Secure under TLS. Sign-in and PIN entry are rate limited per address and per
//! wallet, on top of the wallet's own lock-out after five wrong PINs.
//!
//! One file per page or concern: `sign_in.rs`, `sign_up.rs`, `wallet_page.rs`, `pay.rs`,
//! `cash_out.rs` (a code to take money back as cash at a store), `listen.rs` (pay by sound:
//! the one page with script, under its own CSP);
//! `visitor.rs` (who is asking, cookies, redirects), `problems.rs` (refusals in the
//! visitor's language), `limits.rs` (rate limits, shared with the JSON API), `page.rs`
//! (the frame, stylesheet, headers and words), `security.rs` (cookies, CSRF, the limiter).
//! This file holds the routes, sign-out and the language switch.

pub(crate) mod page;
pub mod security;

use std::net::IpAddr;
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tillfund_core::{DisplayName, MerchantId, PaymentPin, PhoneNumber};

use self::page::{Page, Words, money, url_encode, words};
use self::security::{
    FORM_COOKIE, LANGUAGE_COOKIE, SESSION_COOKIE, client_ip, cookie, over_tls, random_hex,
    same_secret, session_csrf, set_cookie,
};
use super::AppState;
use super::wallet::Language;
use crate::ledger::Outcome;
use crate::model::Customer;
use crate::service::{ErrorCode, ServiceError};

mod cash_out;
mod limits;
mod listen;
mod pay;
mod problems;
mod sign_in;
mod sign_up;
mod visitor;
mod wallet_page;

use cash_out::{cash_out, cash_out_page};
pub use limits::WebLimits;
pub(crate) use limits::phone_limit_key;
use listen::{listen_decoder, listen_page, listen_script};
use pay::{pay, pay_page};
use problems::{
    error_page, forbidden, hidden, input_problem, localized_problem, problem, problem_text,
    status_of,
};
use sign_in::{sign_in, sign_in_body, sign_in_page};
use sign_up::{sign_up, sign_up_page};
pub use visitor::Visitor;
use visitor::{LANGUAGE_COOKIE_SECONDS, redirect, safe_next, session_cookie};
use wallet_page::{change_store, wallet_page};

/// Stores offered at sign-up and in the wallet.
const STORES_LISTED_MAX: u32 = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signup", get(sign_up_page).post(sign_up))
        .route("/wallet", get(wallet_page))
        .route("/wallet/stores", post(change_store))
        .route("/wallet/cash-out", get(cash_out_page).post(cash_out))
        .route("/pay", get(pay_page).post(pay))
        .route("/pay/listen", get(listen_page))
        .route("/assets/listen.js", get(listen_script))
        .route("/assets/listen-decoder.wasm", get(listen_decoder))
        .route("/signout", post(sign_out))
        .route("/language", get(choose_language))
}

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
}
