//! The operators' console: server-rendered pages for the platform's staff, built with maud
//! (HTML written in Rust and checked when it compiles; every value is escaped unless
//! marked otherwise, which no page does). No script, no CDN, English and 中文.
//!
//! Sign-in takes the same three factors as the API and sets `tf_operator` (HttpOnly,
//! SameSite=Strict, Path=/console, Secure under TLS) to the session token; every form
//! carries a CSRF token derived from it. What a role may do is the service's decision:
//! pages only leave out what would be refused.
//!
//! `frame.rs` (the page around every screen, headers, the visitor), `words.rs`,
//! `sign_in.rs`, `dashboard.rs`, `proposals.rs`, `trail.rs`, `customers.rs`, `merchants.rs`,
//! `settlements.rs`, `rules.rs`, `audit.rs`, `accounts.rs`.

mod accounts;
mod audit;
mod customers;
mod dashboard;
mod frame;
mod merchants;
mod proposals;
mod rules;
mod settlements;
mod sign_in;
mod trail;
mod words;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard::dashboard))
        .route("/console/signin", get(sign_in::sign_in_page).post(sign_in::sign_in))
        .route("/console/signout", post(sign_in::sign_out))
        .route("/console/language", get(frame::choose_language))
        .route("/console/proposals", get(proposals::list).post(proposals::propose))
        .route("/console/proposals/new", get(proposals::new_page))
        .route("/console/proposals/{id}/{decision}", post(proposals::decide))
        .route("/console/trail", get(trail::trail_page))
        .route("/console/rules", get(rules::rules_page))
        .route("/console/settlements", get(settlements::settlements_page))
        .route("/console/settlements.csv", get(settlements::settlements_csv))
        .route("/console/audit", get(audit::audit_page).post(audit::run))
        .route("/console/operators", get(accounts::list).post(accounts::add))
        .route("/console/operators/{id}/{action}", post(accounts::act))
        .route("/console/merchants", get(merchants::list).post(merchants::add))
        .route("/console/merchants/{id}/codes", post(merchants::issue_code))
        .route("/console/merchants/{id}/codes/{code}/cancel", post(merchants::cancel_code))
        .route("/console/customers", get(customers::search))
        .route("/console/customers/{id}", get(customers::dossier))
        .route("/console/trail.csv", get(trail::trail_csv))
}
