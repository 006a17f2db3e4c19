//! The money rules in force, for everyone to read: the bonus rule set with its bonus on
//! sample top-ups, the yield rate schedule, the wallet cap and the reserve's threshold and
//! refill. Each
//! changes by proposal.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use tillfund_core::{MerchantId, PositiveAmount};

use super::frame::{ConsoleVisitor, redirect};
use crate::http::AppState;
use crate::service::BONUS_SAMPLE_MAJOR_UNITS;

pub async fn rules_page(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    if visitor.session.is_none() {
        return redirect("/console/signin", &[]);
    }
    let words = visitor.words();
    let service = state.service();
    let (rules, rates, status) = match (
        service.current_bonus_rules().await,
        service.yield_rates().await,
        service.ledger_status().await,
    ) {
        (Ok(rules), Ok(rates), Ok(status)) => (rules, rates, status),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return visitor.refusal(&error, "/console");
        }
    };
    let currency = state.currency();
    let now = service.now_ms();
    let anywhere = MerchantId::generate();
    let rules_json = serde_json::to_string_pretty(rules.rules()).unwrap_or_default();
    let body = html! {
        h1 { (words.rules) }
        p { a href="/console/proposals/new" { (words.new_proposal) } }
        section aria-labelledby="bonus" {
            h2 id="bonus" { (words.publish_bonus_rules) " · " (words.version) " " (rules.version()) }
            div.scroll tabindex="0" { table {
                thead { tr { th scope="col" { (words.amount) } th scope="col" { (words.bonus) } } }
                tbody {
                    @for major in BONUS_SAMPLE_MAJOR_UNITS {
                        @if let Ok(amount) = PositiveAmount::parse(&major.to_string(), currency) {
                            tr { td { (amount.amount().format(currency)) " " (currency.code()) } td { (rules.quote(anywhere, amount, now).bonus.format(currency)) } }
                        }
                    }
                }
            } }
            details { summary { (words.rules_json) } pre { (rules_json) } }
        }
        section aria-labelledby="yield" {
            h2 id="yield" { (words.set_yield_rate) }
            @if rates.is_empty() { p.hint { "—" } }
            ul { @for (from, rate) in &rates { li { (from) ": " ((rate * rust_decimal::Decimal::from(100)).normalize()) "%" } } }
        }
        section aria-labelledby="reserve" {
            h2 id="reserve" { (words.reserve) }
            div.figures {
                div { (words.wallet_cap) strong { (status.wallet_balance_cap.format(currency)) " " (currency.code()) } }
                div { (words.threshold) strong { (status.reserve_threshold.format(currency)) " " (currency.code()) } }
                div { (words.refill) strong { (status.reserve_refill.format(currency)) " " (currency.code()) } }
            }
            @match status.limits_version {
                Some(version) => p.hint { (words.limits_version) " " (version) },
                None => p.hint { (words.settings_at_start) },
            }
        }
    };
    visitor.page("/console/rules", words.rules, body)
}
