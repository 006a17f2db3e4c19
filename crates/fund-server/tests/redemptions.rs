//! Redemption through the API, on SQLite and (with `TILLFUND_TEST_DATABASE=postgres`) on
//! PostgreSQL: the customer's PIN gives a one-time code for a store and an amount; a counter
//! of that store pays out against it once (principal and yield, the bonus clawed back in
//! proportion, the drawer paying only from the day's cash); a wrong, foreign, expired or
//! reused code pays nothing; wrong codes are counted; the day's close counts the payout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Customer, TestServer, minor};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Runs the requests at once (polled together, so the server sees them concurrently) and
/// collects their answers in order.
async fn all_at_once<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Bonus rules: `bonus` on every top-up of at least `minimum`.
async fn bonus_from(server: &TestServer, minimum: &str, bonus: &str) {
    let rules = json!([{
        "merchant_id": null, "valid_from_ms": 0, "valid_until_ms": null,
        "formula": {"type": "tiers", "tiers": [{"minimum": minor(minimum), "bonus": minor(bonus)}]}
    }]);
    server.service.publish_bonus_rules(serde_json::from_value(rules).unwrap()).await.unwrap();
}

async fn ask(
    server: &TestServer,
    customer: &Customer,
    merchant: &str,
    amount: &str,
    pin: &str,
) -> (StatusCode, Value) {
    let bearer = format!("Bearer {}", customer.token);
    server
        .send(
            Method::POST,
            "/v1/wallet/redemption-codes",
            json!({"merchant_id": merchant, "amount": minor(amount), "pin": pin}),
            &[("authorization", &bearer)],
        )
        .await
}

/// Pays out against `code`, as a new press of Pay out (its own attempt id).
async fn redeem(
    counter: &common::Counter,
    customer: &Customer,
    code: &str,
    amount: &str,
) -> (StatusCode, Value) {
    redeem_as(counter, customer, code, amount, &common::uuid_key(), false).await
}

async fn redeem_as(
    counter: &common::Counter,
    customer: &Customer,
    code: &str,
    amount: &str,
    attempt_id: &str,
    only_if_made: bool,
) -> (StatusCode, Value) {
    let body = json!({"customer_id": customer.customer_id, "code": code, "amount": minor(amount),
        "attempt_id": attempt_id, "only_if_made": only_if_made});
    counter.signed(Method::POST, "/v1/terminal/redemptions", body, &[]).await
}

#[tokio::test]
async fn a_customer_is_paid_out_once_against_a_code_and_the_bonus_stays_behind() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    bonus_from(&server, "1000.00", "100.00").await;
    let shop = server.add_merchant("Shop").await;
    let other = server.add_merchant("Other").await;
    let till = server.enrol(shop).await;
    let other_till = server.enrol(other).await;
    let customer = server.customer("13800138070", &[shop]).await;
    let top_up =
        till.top_up(&common::uuid_key(), 1, &customer.customer_id, "1000.00", "100.00").await;
    assert_eq!(top_up["outcome"], "applied");
    let shop_id = shop.to_string();

    // Asking needs the PIN, a bound store and no more than principal and yield.
    let other_id = other.to_string();
    for (merchant, amount, pin, code) in [
        (&shop_id, "400.00", "000000", "pin_wrong"),
        (&other_id, "400.00", "123456", "customer_not_bound"),
        (&shop_id, "1000.01", "123456", "redemption_exceeds_balance"),
        (&shop_id, "0", "123456", "amount_not_positive"),
    ] {
        let (status, body) = ask(&server, &customer, merchant, amount, pin).await;
        assert_eq!(body["code"], code, "{status} {body}");
    }
    let (status, issued) = ask(&server, &customer, &shop_id, "400.00", "123456").await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let code = issued["code"].as_str().unwrap().to_owned();
    assert_eq!((code.len(), issued["merchant_name"].as_str()), (8, Some("Shop")));

    // Another store's counter, another amount, another code: nothing is paid.
    let wrong = if code == "00000000" { "00000001" } else { "00000000" };
    for (counter, code, amount, expected) in [
        (&other_till, code.as_str(), "400.00", "redemption_code_wrong"),
        (&till, code.as_str(), "399.00", "redemption_code_wrong"),
        (&till, wrong, "400.00", "redemption_code_wrong"),
        (&till, "1234", "400.00", "redemption_code_invalid"),
    ] {
        let (status, body) = redeem(counter, &customer, code, amount).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(expected))
        );
    }
    assert_eq!(server.wallet(&customer).await["principal"], minor("1000.00"));

    // The right code pays 400.00 out: 40% of the principal, so 40% of the bonus goes too.
    let (status, paid) = redeem_as(&till, &customer, &code, "400.00", "press-1", false).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(
        (paid["cash"].clone(), paid["principal"].clone()),
        (json!(minor("400.00")), json!(minor("400.00")))
    );
    assert_eq!(paid["bonus_clawed_back"], minor("40.00"));
    assert_eq!(paid["wallet_balance"], minor("660.00"));
    // The same attempt sent again (a lost answer), or asked about, answers the same payout.
    let (status, again) = redeem_as(&till, &customer, &code, "400.00", "press-1", false).await;
    assert_eq!((status, &again), (StatusCode::OK, &paid));
    let (status, asked) = redeem_as(&till, &customer, &code, "400.00", "press-1", true).await;
    assert_eq!((status, &asked), (StatusCode::OK, &paid));
    // A new press, here or at another counter of the store, pays nothing: the code is used.
    let second_till = server.enrol(shop).await;
    for counter in [&till, &second_till] {
        let (status, body) = redeem(counter, &customer, &code, "400.00").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("redemption_code_used"))
        );
    }
    assert_eq!(server.wallet(&customer).await["principal"], minor("600.00"));

    // The rest: the last of the principal takes the last of the bonus.
    let (_, issued) = ask(&server, &customer, &shop_id, "600.00", "123456").await;
    let (status, rest) = redeem(&till, &customer, issued["code"].as_str().unwrap(), "600.00").await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(rest["bonus_clawed_back"], minor("60.00"));
    assert_eq!(rest["wallet_balance"], 0);

    // The day's figures count both payouts; the drawer holds what is left of the cash.
    let day = jiff::Timestamp::from_millisecond(server.service.now_ms())
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let (status, settlement) = till
        .signed(Method::POST, "/v1/terminal/settlement/close", json!({"day": day.to_string()}), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{settlement}");
    // The figures are flattened into the body; the drawer paid out all it took.
    let figures = &settlement;
    assert_eq!(settlement["drawer_cash"], 0);
    assert_eq!(
        (figures["redemption_count"].clone(), figures["redeemed_cash"].clone()),
        (json!(2), json!(minor("1000.00")))
    );
    assert_eq!(figures["redeemed_bonus"], minor("100.00"));
    server.audit_passes().await;
}

#[tokio::test]
async fn codes_are_limited_and_wrong_ones_counted() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let shop = server.add_merchant("Shop").await;
    let till = server.enrol(shop).await;
    let customer = server.customer("13800138071", &[shop]).await;
    till.top_up(&common::uuid_key(), 1, &customer.customer_id, "3000.00", "0").await;
    let shop_id = shop.to_string();

    // At most three unused codes at once.
    for _ in 0..3 {
        assert_eq!(ask(&server, &customer, &shop_id, "10.00", "123456").await.0, StatusCode::OK);
    }
    let (_, refused) = ask(&server, &customer, &shop_id, "10.00", "123456").await;
    assert_eq!(refused["code"], "redemption_codes_live");

    // Eight tries and the wallet's codes at this store are closed to counters for a while,
    // even the right one; counted in the database, so eight at once cannot pass either.
    let tries = (0..8).map(|_| redeem(&till, &customer, "99999999", "10.00"));
    for (_, body) in all_at_once(tries).await {
        assert!(matches!(body["code"].as_str(), Some("redemption_code_wrong")), "{body}");
    }
    let (status, body) = redeem(&till, &customer, "99999999", "10.00").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
}

#[tokio::test]
async fn a_full_wallet_a_day_and_no_more() {
    let server = TestServer::start().await;
    server.fund_reserve("20000.00").await;
    let shop = server.add_merchant("Shop").await;
    let till = server.enrol(shop).await;
    let customer = server.customer("13800138072", &[shop]).await;
    till.top_up(&common::uuid_key(), 1, &customer.customer_id, "5000.00", "0").await;
    let shop_id = shop.to_string();
    let (_, first) = ask(&server, &customer, &shop_id, "3000.00", "123456").await;
    let (status, _) = redeem(&till, &customer, first["code"].as_str().unwrap(), "3000.00").await;
    assert_eq!(status, StatusCode::OK);
    till.top_up(&common::uuid_key(), 2, &customer.customer_id, "3000.00", "0").await;
    // 3,000 paid + 2,000 asked = the 5,000 cap: allowed; one cent more is not.
    let (status, body) = ask(&server, &customer, &shop_id, "2000.01", "123456").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("redemption_daily_limit"))
    );
    assert_eq!(ask(&server, &customer, &shop_id, "2000.00", "123456").await.0, StatusCode::OK);
}

#[tokio::test]
async fn closing_a_wallet_pays_everything_out_and_the_wallet_is_gone() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    bonus_from(&server, "100.00", "10.00").await;
    let shop = server.add_merchant("Shop").await;
    let till = server.enrol(shop).await;
    let customer = server.customer("13800138073", &[shop]).await;
    till.top_up(&common::uuid_key(), 1, &customer.customer_id, "300.00", "10.00").await;
    let bearer = format!("Bearer {}", customer.token);
    let close = |amount: i64| {
        let body = json!({"merchant_id": shop.to_string(), "amount": amount, "pin": "123456",
            "close_wallet": true});
        let bearer = bearer.clone();
        let server = &server;
        async move {
            server
                .send(
                    Method::POST,
                    "/v1/wallet/redemption-codes",
                    body,
                    &[("authorization", &bearer)],
                )
                .await
        }
    };
    // Closing pays out everything payable, not less.
    let (status, refused) = close(minor("299.99")).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::CONFLICT, Some("wallet_changed")));
    let (status, issued) = close(minor("300.00")).await;
    assert_eq!(
        (status, issued["closes_wallet"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{issued}"
    );
    let (status, paid) = redeem(&till, &customer, issued["code"].as_str().unwrap(), "300.00").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(
        (paid["wallet_closed"].as_bool(), paid["bonus_clawed_back"].clone()),
        (Some(true), json!(minor("10.00")))
    );
    assert_eq!(paid["wallet_balance"], 0);

    // Signed out, no sign-in, no store, no top-up.
    let (status, _) =
        server.send(Method::GET, "/v1/wallet", Value::Null, &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, refused) = server
        .send(Method::POST, "/v1/sessions", json!({"phone": customer.phone, "pin": "123456"}), &[])
        .await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::CONFLICT, Some("wallet_closed")));
    let (status, changes) =
        till.signed(Method::GET, "/v1/sync/bindings?after=0&limit=100", Value::Null, &[]).await;
    assert_eq!(status, StatusCode::OK, "{changes}");
    let last = changes["changes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["customer"]["customer_id"].as_str(), last["bound"].as_bool()),
        (Some(customer.customer_id.as_str()), Some(false)),
        "{last}"
    );
    let refused = till.top_up(&common::uuid_key(), 2, &customer.customer_id, "50.00", "0").await;
    assert_eq!(
        (refused["outcome"].as_str(), refused["code"].as_str()),
        (Some("rejected"), Some("customer_not_bound"))
    );

    // A wallet with nothing payable closes at once, without a code.
    let empty = server.customer("13800138074", &[shop]).await;
    let bearer = format!("Bearer {}", empty.token);
    let (status, closed) = close_at_once(&server, &empty, shop).await;
    assert_eq!((status, closed["code"].as_str()), (StatusCode::OK, Some("")), "{closed}");
    let (status, _) =
        server.send(Method::GET, "/v1/wallet", Value::Null, &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.audit_passes().await;
}

/// Asks to close a wallet with nothing payable: done at once, without a code.
async fn close_at_once(
    server: &TestServer,
    customer: &Customer,
    shop: tillfund_core::MerchantId,
) -> (StatusCode, Value) {
    let bearer = format!("Bearer {}", customer.token);
    let body = json!({"merchant_id": shop.to_string(), "amount": 0, "pin": "123456", "close_wallet": true});
    server
        .send(Method::POST, "/v1/wallet/redemption-codes", body, &[("authorization", &bearer)])
        .await
}

/// Payments split across the buckets in proportion, so a wallet can keep a few fen of bonus
/// with nothing payable. Closing it gives that bonus back to the reserve: a closed wallet
/// holds nothing.
#[tokio::test]
async fn closing_an_empty_wallet_gives_its_last_bonus_back_to_the_reserve() {
    use fund_server::ledger::{Account, Bucket};
    use fund_server::store::prelude::*;

    let server = TestServer::start().await;
    server.fund_reserve("1000.00").await;
    bonus_from(&server, "0.01", "0.01").await;
    let shop = server.add_merchant("Shop").await;
    let till = server.enrol(shop).await;
    let customer = server.customer("13800138075", &[shop]).await;
    till.top_up(&common::uuid_key(), 1, &customer.customer_id, "0.01", "0.01").await;
    // 0.01 paid from 0.01 principal and 0.01 bonus: the tie goes to the principal.
    let (_, token) = till.payment_token("0.01");
    let (status, paid) = server.pay(&customer, &token, "123456", "pay-last-fen").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    let wallet = server.wallet(&customer).await;
    assert_eq!((wallet["principal"].as_i64(), wallet["bonus"].as_i64()), (Some(0), Some(1)));
    let store = server.service.store();
    let reserve_before = store.balance(Account::Reserve).await.unwrap();

    let (status, closed) = close_at_once(&server, &customer, shop).await;
    assert_eq!(
        (status, closed["closes_wallet"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{closed}"
    );
    let customer_id = customer.customer_id.parse().unwrap();
    for bucket in [Bucket::Principal, Bucket::Bonus, Bucket::Yield] {
        let held = store.balance(Account::Wallet(customer_id, bucket)).await.unwrap();
        assert_eq!(held.minor_units(), 0, "{bucket:?} left in a closed wallet");
    }
    let reserve_after = store.balance(Account::Reserve).await.unwrap();
    assert_eq!(reserve_after.minor_units() - reserve_before.minor_units(), 1, "the fen is back");
    server.audit_passes().await;
}

/// The counter's background resend after a lost answer only asks: an attempt that never
/// reached the server is then closed for good (the customer may have left without the
/// cash), and the same attempt arriving late pays nothing; a refused attempt frees the code
/// for the manager's next press.
#[tokio::test]
async fn a_resend_only_asks_and_a_refusal_frees_the_code() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let shop = server.add_merchant("Shop").await;
    let till = server.enrol(shop).await;
    let customer = server.customer("13800138075", &[shop]).await;
    till.top_up(&common::uuid_key(), 1, &customer.customer_id, "100.00", "0").await;
    let shop_id = shop.to_string();
    let (_, issued) = ask(&server, &customer, &shop_id, "50.00", "123456").await;
    let code = issued["code"].as_str().unwrap().to_owned();

    // The lost press is only asked about: not made, and never made after.
    let (status, body) = redeem_as(&till, &customer, &code, "50.00", "lost", true).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("redemption_not_made"))
    );
    let (status, body) = redeem_as(&till, &customer, &code, "50.00", "lost", false).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("redemption_not_made"))
    );
    assert_eq!(server.wallet(&customer).await["principal"], minor("100.00"));
    // The manager presses again (a new attempt): the code still pays, once.
    let (status, paid) = redeem(&till, &customer, &code, "50.00").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(server.wallet(&customer).await["principal"], minor("50.00"));

    // A second code pays while the drawer still holds the day's cash.
    let (_, issued) = ask(&server, &customer, &shop_id, "50.00", "123456").await;
    let code = issued["code"].as_str().unwrap().to_owned();
    let (status, body) = redeem(&till, &customer, &code, "50.00").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other = server.customer("13800138076", &[shop]).await;
    till.top_up(&common::uuid_key(), 2, &other.customer_id, "10.00", "0").await;
    let (_, issued) = ask(&server, &other, &shop_id, "10.00", "123456").await;
    let code = issued["code"].as_str().unwrap().to_owned();
    // Today the drawer holds 10.00 (100 + 10 − 100): paid, to the last fen.
    let (status, body) = redeem(&till, &other, &code, "10.00").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.audit_passes().await;
}
