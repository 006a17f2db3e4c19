//! Yield worked by hand, on a real SQLite file, with the server's clock moved forward to
//! reach the end of the days and months being accrued.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, cny, minor, uuid_key};
use fund_server::ledger::LedgerPolicy;
use fund_server::ledger::yield_math::PostingInterval;
use fund_server::service::ServiceConfig;
use fund_server::store::prelude::*;
use jiff::ToSpan;
use jiff::civil::Date;
use rust_decimal::Decimal;
use std::str::FromStr;
use tillfund_core::Currency;

fn config(posting: PostingInterval, minimum: &str) -> ServiceConfig {
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.wallet_balance_cap = cny("50000.00");
    let mut config = ServiceConfig::new(policy);
    config.yield_policy.posting = posting;
    config.yield_policy.minimum_balance = cny(minimum);
    // The clock moves up to two months; sessions must outlive that.
    config.session_ttl_ms = 365 * 24 * 60 * 60 * 1000;
    config
}

/// The first day of the first month after `today`'s that has 31 days.
fn next_31_day_month(today: Date) -> Date {
    let mut first = today.first_of_month().checked_add(1.month()).unwrap();
    while first.days_in_month() != 31 {
        first = first.checked_add(1.month()).unwrap();
    }
    first
}

/// Moves the server's clock to noon of `day` in the platform's zone.
fn move_clock_to(server: &TestServer, day: Date) {
    let clock = server.service.store().clock();
    let noon = day
        .at(12, 0, 0, 0)
        .to_zoned(server.service.config().yield_policy.time_zone.clone())
        .unwrap()
        .timestamp()
        .as_millisecond();
    clock.advance(noon - clock.now_ms());
}

#[tokio::test]
async fn ten_thousand_held_31_days_at_3_65_percent_posted_at_month_end_is_31_00() {
    let server = TestServer::start_with_config(config(PostingInterval::Monthly, "0")).await;
    let month = next_31_day_month(server.service.business_today());
    server.service.set_yield_rate(month, Decimal::from_str("0.0365").unwrap()).await.unwrap();
    server.fund_reserve("100000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138010", &[merchant]).await;
    assert_eq!(
        counter.top_up(&uuid_key(), 1, &customer.customer_id, "10000.00", "0").await["outcome"],
        "applied"
    );

    // The day before the month ends: accrued, not posted.
    let last_day = month.last_of_month();
    move_clock_to(&server, last_day);
    server.service.accrue_through_yesterday().await.unwrap();
    assert_eq!(server.wallet(&customer).await["yield"], 0);

    // After the last day: one posting of exactly 31 × 1.00.
    move_clock_to(&server, last_day.tomorrow().unwrap());
    let report = server.service.accrue_through_yesterday().await.unwrap();
    assert_eq!(report.days.last().unwrap().posted, minor("31.00"));
    let wallet = server.wallet(&customer).await;
    assert_eq!(wallet["yield"], minor("31.00"));
    assert_eq!(wallet["total"], minor("10031.00"));

    // Idempotent: running again accrues and posts nothing more.
    let again = server.service.accrue_through_yesterday().await.unwrap();
    assert!(again.days.is_empty(), "{again:?}");
    assert_eq!(server.wallet(&customer).await["yield"], minor("31.00"));
    server.audit_passes().await;
}

#[tokio::test]
async fn a_mid_month_top_up_and_a_minimum_balance() {
    let server = TestServer::start_with_config(config(PostingInterval::Monthly, "100.00")).await;
    let month = next_31_day_month(server.service.business_today());
    server.service.set_yield_rate(month, Decimal::from_str("0.0365").unwrap()).await.unwrap();
    server.fund_reserve("100000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let saver = server.customer("13800138011", &[merchant]).await;
    let small = server.customer("13800138012", &[merchant]).await;

    // 1,000.00 from the 1st, another 1,000.00 on the 11th: 10 days at 0.10, 21 at 0.20.
    move_clock_to(&server, month);
    assert_eq!(
        counter.top_up(&uuid_key(), 1, &saver.customer_id, "1000.00", "0").await["outcome"],
        "applied"
    );
    // 99.99 is under the 100.00 minimum: no yield at all.
    assert_eq!(
        counter.top_up(&uuid_key(), 2, &small.customer_id, "99.99", "0").await["outcome"],
        "applied"
    );
    // Catch up to the 5th, then (after "downtime") to the end in one go.
    move_clock_to(&server, month.checked_add(5.days()).unwrap());
    server.service.accrue_through_yesterday().await.unwrap();
    move_clock_to(&server, month.checked_add(10.days()).unwrap());
    assert_eq!(
        counter.top_up(&uuid_key(), 3, &saver.customer_id, "1000.00", "0").await["outcome"],
        "applied"
    );
    move_clock_to(&server, month.last_of_month().tomorrow().unwrap());
    let report = server.service.accrue_through_yesterday().await.unwrap();
    assert_eq!(report.days.last().unwrap().day, month.last_of_month());

    assert_eq!(server.wallet(&saver).await["yield"], minor("5.20"));
    assert_eq!(server.wallet(&small).await["yield"], 0);
    server.audit_passes().await;
}

#[tokio::test]
async fn daily_posting_compounds_and_carries_fractions() {
    let server = TestServer::start_with_config(config(PostingInterval::Daily, "0")).await;
    let today = server.service.business_today();
    server.service.set_yield_rate(today, Decimal::from_str("0.0365").unwrap()).await.unwrap();
    server.fund_reserve("100000.00").await;
    let merchant = server.add_merchant("Shop").await;
    let counter = server.enrol(merchant).await;
    let customer = server.customer("13800138013", &[merchant]).await;
    // 1,234.56 accrues 12.3456 fen a day: posted 12, 12, then 13 as the carry passes a fen.
    assert_eq!(
        counter.top_up(&uuid_key(), 1, &customer.customer_id, "1234.56", "0").await["outcome"],
        "applied"
    );
    let mut posted = Vec::new();
    for day in 1..=3 {
        move_clock_to(&server, today.checked_add(day.days()).unwrap());
        let report = server.service.accrue_through_yesterday().await.unwrap();
        posted.push(report.days.iter().map(|day| day.posted).sum::<i64>());
    }
    assert_eq!(posted, vec![12, 12, 13]);
    assert_eq!(server.wallet(&customer).await["yield"], 37);
    // The wallet page: a bar a day, the 7-day annualized rate, the postings listed.
    let page = wallet_page(&server, "13800138013").await;
    assert_eq!(page.matches("</title></rect>").count(), 3, "{page}");
    assert!(page.contains("id=\"annualized\">3.65%<"), "{page}");
    // 万份收益: 3.65 % ÷ 365 on 10,000.00 is 1.00 a day, whatever the balance.
    assert!(page.contains("id=\"per-ten-thousand\">1.0000<"), "{page}");
    // The convention, stated: the day count, daily posting, compounding, the carry.
    for words in ["÷ 365", "every day in whole fen", "it compounds", "carried to the next"] {
        assert!(page.contains(words), "{words}: {page}");
    }
    assert_eq!(page.matches("<td>").count() / 2, 4, "a top-up and three postings: {page}");
    assert!(page.contains("Cash top-up") && page.contains("+0.13"), "{page}");
    server.audit_passes().await;
}

/// The wallet page as a signed-in browser sees it (PIN 123456, as `TestServer::customer`).
async fn wallet_page(server: &TestServer, phone: &str) -> String {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form_page = http.get(format!("{}/signin", server.url)).send().await.unwrap();
    let form_cookie =
        form_page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let html = form_page.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = &html[start..start + 32];
    let signed_in = http
        .post(format!("{}/signin", server.url))
        .header("cookie", &form_cookie)
        .form(&[("phone", phone), ("pin", "123456"), ("csrf", csrf), ("next", "/wallet")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let session =
        signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page =
        http.get(format!("{}/wallet", server.url)).header("cookie", session).send().await.unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test]
async fn a_day_that_is_not_over_is_refused() {
    let server = TestServer::start().await;
    let today = server.service.business_today();
    let error = server.service.accrue_through(today, today).await.unwrap_err();
    assert_eq!(error.code, fund_server::service::ErrorCode::DayNotOver);
}
