//! The wallet: balance split, member code, stores, yield chart and latest transactions.

use super::*;
use crate::ledger::EntryCode;
use crate::model::Merchant;
use crate::service::ErrorCode;

/// The daily yield as bars (exact accruals, in the currency's major units on hover), with
/// the total said in words for screen readers.
pub(super) fn yield_chart(
    days: &[crate::service::YieldDay],
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

pub(super) fn entry_label(code: EntryCode, text: &Words) -> String {
    match code {
        EntryCode::TopUp => text.entry_top_up.to_owned(),
        EntryCode::Payment => text.entry_payment.to_owned(),
        EntryCode::Refund => text.entry_refund.to_owned(),
        EntryCode::Yield => text.entry_yield.to_owned(),
        EntryCode::TopUpReversal => text.entry_reversal.to_owned(),
        other => escape_html(other.as_str()),
    }
}

pub(super) fn transactions_table(
    entries: &[crate::service::WalletEntry],
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
                label = entry_label(entry.code, text),
                merchant = escape_html(entry.merchant.as_deref().unwrap_or("")),
            )
        })
        .collect();
    format!(r#"<table id="transactions"><tbody>{rows}</tbody></table>"#)
}

pub(super) fn member_code_svg(code: &str) -> String {
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
<section><h2>{stores_label}</h2>{stores}</section>
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

/// The stores the customer is bound to, each with its remove button, and a form to add one
/// of the others.
fn stores_section(
    bound_merchants: &[Merchant],
    merchants: &[Merchant],
    csrf: &str,
    text: &Words,
) -> String {
    let bound: Vec<_> = bound_merchants.iter().map(|merchant| merchant.id).collect();
    let bound_items: String = bound_merchants
        .iter()
        .map(|merchant| {
            format!(
                r#"<li><span>{name}</span><form method="post" action="/wallet/stores">{csrf}{id}{action}<button type="submit" aria-label="{remove} {name}">{remove}</button></form></li>"#,
                name = escape_html(&merchant.name),
                csrf = hidden("csrf", csrf),
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
        .map(|merchant| {
            format!(r#"<option value="{}">{}</option>"#, merchant.id, escape_html(&merchant.name))
        })
        .collect();
    let add_form = if options.is_empty() {
        String::new()
    } else {
        format!(
            r#"<form method="post" action="/wallet/stores">{csrf}{action}<label>{add_store}<select name="merchant_id">{options}</select></label><button type="submit">{add}</button></form>"#,
            csrf = hidden("csrf", csrf),
            action = hidden("action", "add"),
            add_store = text.add_store,
            add = text.add,
        )
    };
    format!("{bound_list}{add_form}")
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
        assert!(member_code_svg("800000000011").starts_with("<svg"));
    }
}
