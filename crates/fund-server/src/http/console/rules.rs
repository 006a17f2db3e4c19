//! The money rules in force, for everyone to read: the bonus rule set with its bonus on
//! sample top-ups and its earlier versions, the yield rate schedule, the wallet cap and the reserve's threshold and
//! refill. Each
//! changes by proposal.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use tillfund_core::{MerchantId, PositiveAmount};

use super::frame::{ConsoleVisitor, moment, redirect};
use crate::http::AppState;
use crate::service::BONUS_SAMPLE_MAJOR_UNITS;

pub async fn rules_page(State(state): State<AppState>, visitor: ConsoleVisitor) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return redirect("/console/signin", &[]);
    };
    let words = visitor.words();
    let service = state.service();
    let overview = match service.rules_overview(&session.operator, &visitor.source).await {
        Ok(overview) => overview,
        Err(error) => return visitor.refusal(&error, "/console"),
    };
    let rules = &overview.bonus_rules;
    let currency = state.currency();
    let now = service.now_ms();
    let anywhere = MerchantId::generate();
    let rules_json = serde_json::to_string_pretty(rules.rules()).unwrap_or_default();
    let money =
        |amount: tillfund_core::Amount| format!("{} {}", amount.format(currency), currency.code());
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
                            tr { td { (money(amount.amount())) } td { (rules.quote(anywhere, amount, now).bonus.format(currency)) } }
                        }
                    }
                }
            } }
            details { summary { (words.rules_json) } pre { (rules_json) } }
            @if !overview.versions.is_empty() {
                div.scroll tabindex="0" { table data-table="versions" {
                    caption.hint { (words.versions) }
                    thead { tr { th scope="col" { (words.version) } th scope="col" { (words.published) } th scope="col" { (words.superseded) } th scope="col" { (words.rule_count) } } }
                    tbody {
                        @for version in &overview.versions {
                            tr {
                                td { (version.version) }
                                td { (moment(version.published_at_ms)) }
                                td { @match version.superseded_at_ms { Some(at) => (moment(at)), None => (words.in_force) } }
                                td { (version.rules) }
                            }
                        }
                    }
                } }
            }
        }
        section aria-labelledby="yield" {
            h2 id="yield" { (words.set_yield_rate) }
            @if overview.yield_rates.is_empty() { p.hint { "—" } }
            ul { @for (from, rate) in &overview.yield_rates { li { (from) ": " ((rate * rust_decimal::Decimal::from(100)).normalize()) "%" } } }
        }
        section aria-labelledby="reserve" {
            h2 id="reserve" { (words.reserve) }
            div.figures {
                div { (words.wallet_cap) strong { (money(overview.limits.wallet_balance_cap)) } }
                div { (words.threshold) strong { (money(overview.limits.reserve_threshold)) } }
                div { (words.refill) strong { (money(overview.limits.reserve_refill)) } }
            }
            @match overview.limits_version {
                Some(version) => p.hint { (words.limits_version) " " (version) },
                None => p.hint { (words.settings_at_start) },
            }
        }
    };
    visitor.page("/console/rules", words.rules, body)
}
