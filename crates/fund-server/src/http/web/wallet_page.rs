//! The wallet: balance split, member code, stores, yield chart and latest transactions.

use maud::{Markup, display, html};
use rust_decimal::Decimal;

use super::*;
use crate::ledger::EntryCode;
use crate::model::Merchant;
use crate::service::{
    ErrorCode, WalletActivity, WalletEntry, WalletSummary, YieldConvention, YieldDay,
};

/// The yield chart's drawing, in SVG units: the width the bars share and the tallest bar.
const CHART_WIDTH: usize = 300;
const CHART_BAR_HEIGHT_MAX: usize = 90;

/// One day's bar in the yield chart.
struct Bar<'a> {
    x: usize,
    y: usize,
    width: usize,
    height: usize,
    day: &'a str,
    /// The day's accrual in the currency's major units, shown on hover.
    major: Decimal,
}

/// Each day's bar, scaled so that the best day is the tallest (at least one unit tall).
fn bars(days: &[YieldDay], currency: tillfund_core::Currency) -> Vec<Bar<'_>> {
    let highest = days.iter().map(|day| day.accrued).max().unwrap_or_default();
    let slot = CHART_WIDTH / days.len().max(1);
    let scale = Decimal::from(10_i64.pow(currency.decimal_places()));
    days.iter()
        .enumerate()
        .map(|(index, day)| {
            let ratio = if highest.is_zero() { Decimal::ZERO } else { day.accrued / highest };
            let height = (ratio * Decimal::from(CHART_BAR_HEIGHT_MAX)).round().mantissa();
            let height = usize::try_from(height).unwrap_or(0).max(1);
            Bar {
                x: index * slot,
                y: CHART_BAR_HEIGHT_MAX - height,
                width: slot.saturating_sub(1).max(1),
                height,
                day: &day.day,
                major: (day.accrued / scale).round_dp(4),
            }
        })
        .collect()
}

/// The daily yield as bars (exact accruals, in the currency's major units on hover), with
/// the total said in words for screen readers.
pub(super) fn yield_chart(
    days: &[YieldDay],
    text: &Words,
    currency: tillfund_core::Currency,
) -> Markup {
    if days.iter().all(|day| day.accrued.is_zero()) {
        return html! { p class="hint" { (text.no_yield_yet) } };
    }
    let first = days.first().map(|day| day.day.as_str()).unwrap_or_default();
    let last = days.last().map(|day| day.day.as_str()).unwrap_or_default();
    let text_y = CHART_BAR_HEIGHT_MAX + 11;
    html! {
        div class="chart" {
            svg viewBox={ "0 0 " (CHART_WIDTH) " " (CHART_BAR_HEIGHT_MAX + 14) } role="img" aria-label={ (text.yield_history) " " (first) " – " (last) } {
                @for bar in bars(days, currency) {
                    rect x=(bar.x) y=(bar.y) width=(bar.width) height=(bar.height) { title { (bar.day) " " (display(bar.major)) } }
                }
                text x="0" y=(text_y) { (first) }
                text x=(CHART_WIDTH) y=(text_y) text-anchor="end" { (last) }
            }
        }
    }
}

pub(super) fn entry_label(code: EntryCode, text: &Words) -> &'static str {
    match code {
        EntryCode::TopUp => text.entry_top_up,
        EntryCode::Payment => text.entry_payment,
        EntryCode::Refund => text.entry_refund,
        EntryCode::Yield => text.entry_yield,
        EntryCode::TopUpReversal => text.entry_reversal,
        EntryCode::Redemption => text.entry_redemption,
        EntryCode::BonusForfeiture => text.entry_bonus_forfeiture,
        other => other.as_str(),
    }
}

/// When an entry was applied, in its store's time zone (or the wallet's first store's).
fn entry_time(entry: &WalletEntry, default_zone: &str) -> String {
    let zone = entry.merchant_time_zone.as_deref().unwrap_or(default_zone);
    jiff::Timestamp::from_millisecond(entry.applied_at_ms)
        .map(|at| {
            let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
            at.to_zoned(zone).strftime("%m-%d %H:%M").to_string()
        })
        .unwrap_or_default()
}

/// What an entry changed, signed: "+100.00", "-38.50".
fn entry_change(entry: &WalletEntry, currency: tillfund_core::Currency) -> String {
    let change = tillfund_core::Amount::from_minor_units(entry.change)
        .map(|amount| amount.format(currency))
        .unwrap_or_default();
    let sign = if entry.change > 0 { "+" } else { "" };
    format!("{sign}{change}")
}

pub(super) fn transactions_table(
    entries: &[WalletEntry],
    text: &Words,
    currency: tillfund_core::Currency,
    default_zone: &str,
) -> Markup {
    if entries.is_empty() {
        return html! { p class="hint" { (text.no_transactions) } };
    }
    html! {
        table id="transactions" { tbody {
            @for entry in entries {
                tr {
                    td { (entry_time(entry, default_zone)) }
                    td { (entry_label(entry.code, text)) br; span class="hint" { (entry.merchant.as_deref().unwrap_or("")) } }
                    td class="amount" { (entry_change(entry, currency)) }
                }
            }
        } }
    }
}

pub(super) fn member_code_svg(code: &str) -> Markup {
    crate::http::html::qr_svg(code, 200)
}

/// "800000000011" → "8000 0000 0011", easier to read out.
pub(super) fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) async fn wallet_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/signin?next=/wallet", &[]);
    };
    let text = visitor.words();
    let currency = state.currency();
    let body = async {
        let wallet = state.service().wallet(&session.customer).await?;
        let merchants = state.service().merchants(STORES_LISTED_MAX).await?;
        let stores = stores_section(&wallet.bound_merchants, &merchants, &session.csrf, text);
        let activity = state.service().wallet_activity(&session.customer).await?;
        Ok::<Markup, ServiceError>(wallet_body(&wallet, &activity, stores, text, currency))
    }
    .await;
    match body {
        Ok(body) => visitor.page("/wallet", text.title, body).into_response(),
        Err(error) => error_page(&visitor, &error),
    }
}

/// The convention the yield follows, in the visitor's words.
fn yield_rule(
    convention: &YieldConvention,
    text: &Words,
    currency: tillfund_core::Currency,
) -> String {
    let posting = match convention.posting {
        crate::ledger::yield_math::PostingInterval::Daily => text.posting_daily,
        crate::ledger::yield_math::PostingInterval::Monthly => text.posting_monthly,
    };
    text.yield_rule
        .replace("{zone}", &convention.time_zone)
        .replace("{days}", &convention.days_a_year.to_string())
        .replace("{posting}", posting)
        .replace("{minimum}", &convention.minimum_balance.format(currency))
        .replace("{currency}", currency.code())
}

/// The wallet's sections: balance, member code, stores, yield, transactions.
fn wallet_body(
    wallet: &WalletSummary,
    activity: &WalletActivity,
    stores: Markup,
    text: &Words,
    currency: tillfund_core::Currency,
) -> Markup {
    let member_code = wallet.customer.member_code.to_string();
    let default_zone = wallet
        .bound_merchants
        .first()
        .map_or("UTC".to_owned(), |merchant| merchant.time_zone.clone());
    html! {
        section aria-labelledby="balance" {
            h1 id="balance" { (wallet.customer.display_name) }
            p class="hint" { (text.balance) }
            p class="big" id="total" { (money(wallet.total, currency)) }
            div class="split" {
                div { (text.principal) strong id="principal" { (wallet.principal.format(currency)) } }
                div { (text.bonus) strong id="bonus" { (wallet.bonus.format(currency)) } }
                div { (text.yield_earned) strong id="yield" { (wallet.yield_earned.format(currency)) } }
            }
            p { a id="pay-by-sound" href="/pay/listen" { (text.pay_by_sound_link) } }
            p { a id="cash-out" href="/wallet/cash-out" { (text.cash_out_link) } }
        }
        section {
            h2 { (text.member_code) }
            div class="qr" role="img" aria-label={ (text.member_code) " " (member_code) } { (member_code_svg(&member_code)) }
            p class="member" id="member-code" { (grouped(&member_code)) }
            p class="hint" { (text.member_code_hint) }
        }
        section { h2 { (text.your_stores) } (stores) }
        section {
            h2 { (text.yield_history) }
            (yield_chart(&activity.days, text, currency))
            @if let Some(percent) = activity.annualized_7d_percent {
                p { (text.annualized_7d) ": " strong id="annualized" { (display(percent)) "%" } }
            }
            @if let Some(major) = activity.per_ten_thousand {
                p { (text.per_ten_thousand) ": " strong id="per-ten-thousand" { (display(major)) } " " (currency.code()) }
            }
            details id="yield-convention" {
                summary { (text.yield_how) }
                p { (yield_rule(&activity.convention, text, currency)) }
            }
        }
        section {
            h2 { (text.transactions) }
            (transactions_table(&activity.entries, text, currency, &default_zone))
        }
    }
}

/// The stores the customer is bound to, each with its remove button, and a form to add one
/// of the others.
fn stores_section(
    bound_merchants: &[Merchant],
    merchants: &[Merchant],
    csrf: &str,
    text: &Words,
) -> Markup {
    let unbound: Vec<&Merchant> = merchants
        .iter()
        .filter(|merchant| !bound_merchants.iter().any(|bound| bound.id == merchant.id))
        .collect();
    html! {
        @if bound_merchants.is_empty() {
            p class="hint" { (text.no_bound_stores) }
        } @else {
            ul class="plain" id="stores" {
                @for merchant in bound_merchants {
                    li {
                        span { (merchant.name) }
                        form method="post" action="/wallet/stores" {
                            (hidden("csrf", csrf))
                            (hidden("merchant_id", &merchant.id.to_string()))
                            (hidden("action", "remove"))
                            button type="submit" aria-label={ (text.remove) " " (merchant.name) } { (text.remove) }
                        }
                    }
                }
            }
        }
        @if !unbound.is_empty() {
            form method="post" action="/wallet/stores" {
                (hidden("csrf", csrf))
                (hidden("action", "add"))
                label {
                    (text.add_store)
                    select name="merchant_id" {
                        @for merchant in &unbound { option value=(merchant.id.to_string()) { (merchant.name) } }
                    }
                }
                button type="submit" { (text.add) }
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct StoreForm {
    pub(super) csrf: String,
    pub(super) merchant_id: String,
    pub(super) action: String,
}

pub(super) async fn change_store(
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
                &ServiceError::new(ErrorCode::ActionInvalid, "Add or remove a store."),
            );
        }
    };
    let merchant_id = match form.merchant_id.parse::<MerchantId>() {
        Ok(id) => id,
        Err(error) => {
            return error_page(
                &visitor,
                &ServiceError::new(ErrorCode::MerchantIdInvalid, error.to_string()),
            );
        }
    };
    match state.service().set_binding(&session.customer, merchant_id, bound).await {
        Ok(()) => redirect("/wallet", &[]),
        Err(error) => error_page(&visitor, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_codes_read_in_groups_of_four() {
        assert_eq!(grouped("800000000011"), "8000 0000 0011");
        assert!(member_code_svg("800000000011").into_string().starts_with("<svg"));
    }
}
