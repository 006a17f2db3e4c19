//! The customer wallet pages over real HTTP, as a browser without JavaScript uses them:
//! forms, redirects and cookies, against a server on a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{Counter, TestServer};
use fund_server::store::prelude::*;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use tillfund_core::PhoneNumber;
use tillfund_core::payment_token::confirmation_code;

/// A cookie-keeping client that does not follow redirects, so each step is seen.
struct Browser {
    url: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
    /// Every Set-Cookie seen, for checking the flags.
    set_cookies: Vec<String>,
    extra_headers: Vec<(&'static str, &'static str)>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl Answer {
    /// The value of the hidden (or any) input `name` in the page's first form that has it.
    fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.html.find(&marker).unwrap_or_else(|| panic!("no input {name} in {}", self.html))
                + marker.len();
        let end = self.html[start..].find('"').unwrap() + start;
        self.html[start..end].to_owned()
    }

    fn location(&self) -> String {
        self.headers.get(LOCATION).unwrap().to_str().unwrap().to_owned()
    }
}

impl Browser {
    fn new(url: &str) -> Browser {
        Browser {
            url: url.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
            extra_headers: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().unwrap().to_owned();
            let (pair, _) = text.split_once(';').unwrap_or((&text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
            self.set_cookies.push(text);
        }
        Answer { status, headers, html: response.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let mut request =
            self.http.get(format!("{}{path}", self.url)).header(COOKIE, self.cookie_header());
        for (name, value) in &self.extra_headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .post(format!("{}{path}", self.url))
            .header(COOKIE, self.cookie_header())
            .form(form);
        for (name, value) in &self.extra_headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    /// Sign-up through the page; returns the wallet page after the redirect.
    async fn sign_up(&mut self, phone: &str, name: &str, stores: &[String]) -> Answer {
        let page = self.get("/signup").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.input("csrf");
        let form_id = page.input("form_id");
        let mut form = vec![
            ("phone", phone),
            ("name", name),
            ("pin", "123456"),
            ("pin_again", "123456"),
            ("csrf", csrf.as_str()),
            ("form_id", form_id.as_str()),
        ];
        for store in stores {
            form.push(("store", store.as_str()));
        }
        let answer = self.post("/signup", &form).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
        assert_eq!(answer.location(), "/wallet");
        self.get("/wallet").await
    }
}

async fn customer_id(server: &TestServer, phone: &str) -> String {
    let phone = PhoneNumber::parse(phone).unwrap();
    server.service.store().customer_by_phone(&phone).await.unwrap().unwrap().id.to_string()
}

async fn store_with_counter(server: &TestServer, name: &str) -> Counter {
    let merchant_id = server.add_merchant(name).await;
    server.enrol(merchant_id).await
}

#[tokio::test]
async fn a_customer_signs_up_binds_a_store_and_pays_a_counter_qr() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let counter = store_with_counter(&server, "Corner Shop").await;
    let other = store_with_counter(&server, "Bakery").await;
    let mut browser = Browser::new(&server.url);

    let wallet =
        browser.sign_up("13900000001", "Lin <b>", &[counter.merchant_id.to_string()]).await;
    assert_eq!(wallet.status, StatusCode::OK);
    assert!(wallet.html.contains("Lin &lt;b&gt;"), "names are escaped");
    assert!(wallet.html.contains("Corner Shop"));
    assert!(wallet.html.contains("<svg"), "the member code's QR");
    let session = browser.set_cookies.iter().find(|c| c.starts_with("tf_session=")).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let form_cookie = browser.set_cookies.iter().find(|c| c.starts_with("tf_form=")).unwrap();
    assert!(form_cookie.contains("HttpOnly") && form_cookie.contains("SameSite=Strict"));
    assert_eq!(wallet.headers.get("x-frame-options").unwrap(), "DENY");
    assert!(
        wallet
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );

    // Add the second store, then remove it again.
    let csrf = wallet.input("csrf");
    let added = browser
        .post(
            "/wallet/stores",
            &[("csrf", &csrf), ("action", "add"), ("merchant_id", &other.merchant_id.to_string())],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert!(browser.get("/wallet").await.html.contains("Bakery</span>"));
    browser
        .post(
            "/wallet/stores",
            &[
                ("csrf", &csrf),
                ("action", "remove"),
                ("merchant_id", &other.merchant_id.to_string()),
            ],
        )
        .await;
    assert!(!browser.get("/wallet").await.html.contains("Bakery</span>"));

    // Cash at the counter, then a payment from the counter's QR code.
    let customer = customer_id(&server, "13900000001").await;
    let result = counter.top_up(&common::uuid_key(), 1, &customer, "100.00", "0.00").await;
    assert_eq!(result["outcome"], "applied", "{result}");
    let (claims, token) = counter.payment_token("38.50");
    let pay_page = browser.get(&format!("/pay?t={token}")).await;
    assert_eq!(pay_page.status, StatusCode::OK, "{}", pay_page.html);
    assert!(pay_page.html.contains("Corner Shop") && pay_page.html.contains("38.50 CNY"));
    assert_eq!(pay_page.headers.get("referrer-policy").unwrap(), "no-referrer");
    let form = [
        ("t", token.as_str()),
        ("csrf", &pay_page.input("csrf")),
        ("key", &pay_page.input("key")),
        ("pin", "123456"),
    ];
    let paid = browser.post("/pay", &form).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.html);
    let code = confirmation_code(&counter.key, claims.order_id, claims.amount);
    assert!(paid.html.contains(&format!("id=\"confirmation-code\">{code}<")), "{}", paid.html);
    assert!(paid.html.contains("61.50 CNY"));
    // The same form sent again (a double tap, a reload) pays once and shows the same.
    let again = browser.post("/pay", &form).await;
    assert!(again.html.contains(&code), "{}", again.html);
    let wallet = browser.get("/wallet").await;
    assert!(wallet.html.contains("id=\"total\">61.50 CNY<"), "{}", wallet.html);
    let revisit = browser.get(&format!("/pay?t={token}")).await;
    assert_eq!(revisit.status, StatusCode::CONFLICT);
    assert!(revisit.html.contains("You paid this order."));
    server.audit_passes().await;
}

#[tokio::test]
async fn forms_without_their_token_change_nothing() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let counter = store_with_counter(&server, "Corner Shop").await;
    let mut attacker = Browser::new(&server.url);
    // Sign-up from another site: no form cookie, no token.
    let forged = attacker
        .post(
            "/signup",
            &[
                ("phone", "13900000002"),
                ("name", "X"),
                ("pin", "123456"),
                ("pin_again", "123456"),
                ("csrf", "0"),
                ("form_id", "0"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let phone = PhoneNumber::parse("13900000002").unwrap();
    assert!(server.service.store().customer_by_phone(&phone).await.unwrap().is_none());

    let other = store_with_counter(&server, "Bakery").await;
    let mut browser = Browser::new(&server.url);
    browser.sign_up("13900000003", "Wu", &[counter.merchant_id.to_string()]).await;
    let customer = customer_id(&server, "13900000003").await;
    counter.top_up(&common::uuid_key(), 1, &customer, "100.00", "0.00").await;
    // Signed in, but the form's token is wrong: nothing is bound, nothing is paid.
    let bind = browser
        .post(
            "/wallet/stores",
            &[
                ("csrf", "wrong"),
                ("action", "add"),
                ("merchant_id", &other.merchant_id.to_string()),
            ],
        )
        .await;
    assert_eq!(bind.status, StatusCode::FORBIDDEN);
    assert!(!browser.get("/wallet").await.html.contains("Bakery</span>"));
    let (_, token) = counter.payment_token("10.00");
    let pay = browser
        .post("/pay", &[("t", &token), ("csrf", "wrong"), ("key", "k"), ("pin", "123456")])
        .await;
    assert_eq!(pay.status, StatusCode::FORBIDDEN);
    assert!(pay.html.contains("This form has expired"));
    assert!(browser.get("/wallet").await.html.contains("id=\"total\">100.00 CNY<"));
    // Sign-out needs the token too.
    assert_eq!(browser.post("/signout", &[("csrf", "wrong")]).await.status, StatusCode::FORBIDDEN);
    let wallet = browser.get("/wallet").await;
    let out = browser.post("/signout", &[("csrf", &wallet.input("csrf"))]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/wallet").await.status, StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test]
async fn cookies_are_secure_under_tls_and_the_language_can_be_chosen() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server.url);
    browser.extra_headers.push(("x-forwarded-proto", "https"));
    browser.get("/signin").await;
    assert!(
        browser.set_cookies.iter().all(|cookie| cookie.ends_with("; Secure")),
        "{:?}",
        browser.set_cookies
    );
    let switched = browser.get("/language?to=zh&back=/signin").await;
    assert_eq!(switched.location(), "/signin");
    let page = browser.get("/signin").await;
    assert!(page.html.contains("<html lang=\"zh-CN\">") && page.html.contains("登录"));
    // Refusals are in Chinese too.
    let csrf = page.input("csrf");
    let refused = browser
        .post(
            "/signin",
            &[("phone", "12"), ("pin", "123456"), ("csrf", &csrf), ("next", "/wallet")],
        )
        .await;
    assert!(refused.html.contains("请输入正确的手机号。"), "{}", refused.html);
    let refused = browser
        .post(
            "/signin",
            &[("phone", "13900000077"), ("pin", "123456"), ("csrf", &csrf), ("next", "/wallet")],
        )
        .await;
    assert!(refused.html.contains("手机号或支付密码错误"), "{}", refused.html);
    // The way back is never another site.
    let evil = browser.get("/language?to=en&back=//evil.example").await;
    assert_eq!(evil.location(), "/wallet");
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_address_and_per_phone() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server.url);
    let page = browser.get("/signin").await;
    let csrf = page.input("csrf");
    // One phone: a few tries, then the limit, whatever the PIN.
    let mut statuses = Vec::new();
    for _ in 0..9 {
        let answer = browser
            .post(
                "/signin",
                &[
                    ("phone", "13900000009"),
                    ("pin", "000000"),
                    ("csrf", &csrf),
                    ("next", "/wallet"),
                ],
            )
            .await;
        statuses.push(answer.status);
    }
    assert!(statuses[..8].iter().all(|status| *status == StatusCode::UNAUTHORIZED), "{statuses:?}");
    assert_eq!(statuses[8], StatusCode::TOO_MANY_REQUESTS);
    // One address, many phones: limited too.
    let mut limited = false;
    for index in 0..20 {
        let phone = format!("1390000{index:04}");
        let answer = browser
            .post(
                "/signin",
                &[("phone", &phone), ("pin", "000000"), ("csrf", &csrf), ("next", "/wallet")],
            )
            .await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(answer.html.contains("Too many attempts"));
            limited = true;
            break;
        }
    }
    assert!(limited, "twenty sign-ins a minute from one address are the most");
}

#[tokio::test]
async fn the_pay_page_says_why_a_code_cannot_be_paid_and_five_wrong_pins_lock() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let counter = store_with_counter(&server, "Corner Shop").await;
    let elsewhere = store_with_counter(&server, "Bakery").await;
    let mut browser = Browser::new(&server.url);
    browser.sign_up("13900000004", "Zhao", &[counter.merchant_id.to_string()]).await;
    let customer = customer_id(&server, "13900000004").await;
    counter.top_up(&common::uuid_key(), 1, &customer, "20.00", "0.00").await;

    let not_a_code = browser.get("/pay?t=nonsense").await;
    assert_eq!(not_a_code.status, StatusCode::UNPROCESSABLE_ENTITY);
    let expired = counter.payment_claims("5.00", -1_000).sign(&counter.key);
    let page = browser.get(&format!("/pay?t={expired}")).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.html.contains("expired"));

    let pay = |page: &Answer, token: &str, pin: &'static str| {
        vec![
            ("t".to_owned(), token.to_owned()),
            ("csrf".to_owned(), page.input("csrf")),
            ("key".to_owned(), page.input("key")),
            ("pin".to_owned(), pin.to_owned()),
        ]
    };
    let (_, unbound) = elsewhere.payment_token("5.00");
    let page = browser.get(&format!("/pay?t={unbound}")).await;
    let form = pay(&page, &unbound, "123456");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let answer = browser.post("/pay", &form).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.html.contains("Bakery"), "{}", answer.html);

    let (_, too_much) = counter.payment_token("50.00");
    let page = browser.get(&format!("/pay?t={too_much}")).await;
    let form = pay(&page, &too_much, "123456");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let answer = browser.post("/pay", &form).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.html);

    let (_, token) = counter.payment_token("5.00");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let page = browser.get(&format!("/pay?t={token}")).await;
        let form = pay(&page, &token, "654321");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        statuses.push(browser.post("/pay", &form).await.status);
    }
    assert_eq!(&statuses[..4], &[StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(statuses[4], StatusCode::LOCKED);
    let page = browser.get(&format!("/pay?t={token}")).await;
    let form = pay(&page, &token, "123456");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let locked = browser.post("/pay", &form).await;
    assert_eq!(locked.status, StatusCode::LOCKED, "the right PIN waits out the lock");
    assert!(browser.get("/wallet").await.html.contains("id=\"total\">20.00 CNY<"));
}

#[tokio::test]
async fn text_from_customers_operators_and_urls_shows_as_text_never_as_markup() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    // Store names are the operators' text; the wallet shows them in elements and attributes.
    let bound = store_with_counter(&server, "<img src=x onerror=alert(2)> \"Tea\"").await;
    server.add_merchant("</option><script>alert(3)</script>").await;
    let raw = |html: &str| html.contains("<script") || html.contains("<img");
    let mut browser = Browser::new(&server.url);
    let sign_up = browser.get("/signup").await;
    assert!(!raw(&sign_up.html), "{}", sign_up.html);
    assert!(sign_up.html.contains("&lt;/option&gt;&lt;script&gt;alert(3)&lt;/script&gt;"));

    // The display name is the customer's own text.
    let wallet = browser
        .sign_up("13900000005", "<script>alert(1)</script>", &[bound.merchant_id.to_string()])
        .await;
    let customer = customer_id(&server, "13900000005").await;
    bound.top_up(&common::uuid_key(), 1, &customer, "10.00", "0.00").await;
    let wallet_after_top_up = browser.get("/wallet").await;
    for html in [&wallet.html, &wallet_after_top_up.html] {
        assert!(!raw(html), "{html}");
        assert!(html.contains("id=\"balance\">&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
        // In an attribute (the remove button's label) the quotes cannot end it either.
        assert!(
            html.contains(
                "aria-label=\"Remove &lt;img src=x onerror=alert(2)&gt; &quot;Tea&quot;\""
            )
        );
        assert!(html.contains(">&lt;/option&gt;&lt;script&gt;alert(3)&lt;/script&gt;</option>"));
    }
    // The top-up's row names its store too.
    assert!(wallet_after_top_up.html.contains("<span class=\"hint\">&lt;img src=x"));
    let (_, token) = bound.payment_token("1.00");
    let pay_page = browser.get(&format!("/pay?t={token}")).await;
    assert!(!raw(&pay_page.html), "{}", pay_page.html);
    assert!(
        pay_page.html.contains("id=\"store\">&lt;img src=x onerror=alert(2)&gt; &quot;Tea&quot;<")
    );

    // The URL's `next` and a refused form's phone come back in attributes, still as text.
    let mut stranger = Browser::new(&server.url);
    let sign_in = stranger.get("/signin?next=/%22%3E%3Cscript%3Ealert(4)%3C/script%3E").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    assert!(!raw(&sign_in.html), "{}", sign_in.html);
    assert!(
        sign_in
            .html
            .contains("name=\"next\" value=\"/&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;\""),
        "{}",
        sign_in.html
    );
    let phone = "\"><script>alert(5)</script>";
    let form =
        [("phone", phone), ("pin", "123456"), ("csrf", &sign_in.input("csrf")), ("next", "/")];
    let refused = stranger.post("/signin", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    assert!(!raw(&refused.html), "{}", refused.html);
    assert!(refused.html.contains("value=\"&quot;&gt;&lt;script&gt;alert(5)&lt;/script&gt;\""));
}

/// Pay by sound's page and its answers: only the Listen page may run script (its own, and
/// WebAssembly) and use the microphone; a token heard by sound that is not a payment code
/// says "listen again", an expired or good one is the ordinary pay page, and nothing heard
/// can pay without the PIN form's checks.
#[tokio::test]
async fn the_listen_page_alone_runs_script_and_what_it_heard_is_judged_like_a_scan() {
    let server = TestServer::start().await;
    server.fund_reserve("10000.00").await;
    let counter = store_with_counter(&server, "Corner Shop").await;
    let mut browser = Browser::new(&server.url);
    browser.sign_up("13900000005", "Qian", &[counter.merchant_id.to_string()]).await;

    let header = |answer: &Answer, name: &str| {
        answer.headers.get(name).map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    let listen = browser.get("/pay/listen").await;
    assert_eq!(listen.status, StatusCode::OK);
    let policy = header(&listen, "content-security-policy");
    assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval'"), "{policy}");
    let script_source =
        policy.split(';').map(str::trim).find(|part| part.starts_with("script-src"));
    assert_eq!(script_source, Some("script-src 'self' 'wasm-unsafe-eval'"), "{policy}");
    assert_eq!(
        header(&listen, "permissions-policy"),
        "microphone=(self), camera=(), geolocation=()"
    );
    assert!(listen.html.contains("<script src=\"/assets/listen.js\"></script>"));
    assert_eq!(listen.html.matches("<script").count(), 1, "one script, no inline one");
    for page in ["/wallet", "/wallet/cash-out", "/pay?t=nonsense", "/console/signin"] {
        let answer = browser.get(page).await;
        assert!(!header(&answer, "content-security-policy").contains("script-src"), "{page}");
        assert!(header(&answer, "permissions-policy").starts_with("microphone=()"), "{page}");
        assert!(!answer.html.contains("<script"), "{page}");
    }
    let script = browser.get("/assets/listen.js").await;
    assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
    let decoder = reqwest::get(format!("{}/assets/listen-decoder.wasm", server.url)).await.unwrap();
    assert_eq!(decoder.headers()["content-type"], "application/wasm");
    assert_eq!(&decoder.bytes().await.unwrap()[..4], b"\0asm");

    // Misheard: a token whose signature fails, and bytes that are no token at all.
    let (_, token) = counter.payment_token("5.00");
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for heard in [forged.as_str(), "AQID"] {
        let answer = browser.get(&format!("/pay?via=sound&t={heard}")).await;
        assert!(answer.status.is_client_error(), "{heard}: {}", answer.status);
        assert!(answer.html.contains("did not carry a valid payment code"), "{}", answer.html);
        assert!(answer.html.contains("href=\"/pay/listen\""));
        assert!(!answer.html.contains("name=\"pin\""));
    }
    // Scanned, the same forged code reads as a damaged code, not as a sound.
    let scanned = browser.get(&format!("/pay?t={forged}")).await;
    assert!(!scanned.html.contains("did not carry a valid payment code"));
    // Heard right: the ordinary pay page, PIN form and all; expired is expired.
    let heard = browser.get(&format!("/pay?via=sound&t={token}")).await;
    assert_eq!(heard.status, StatusCode::OK);
    assert!(heard.html.contains("name=\"pin\""));
    let expired = counter.payment_claims("5.00", -1_000).sign(&counter.key);
    assert_eq!(browser.get(&format!("/pay?via=sound&t={expired}")).await.status, StatusCode::GONE);
}
