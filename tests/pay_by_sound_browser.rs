//! Pay by sound through a real browser: the counter core makes an order's burst (the WAV
//! file the app hands its window), headless Chromium's fake microphone plays it to the
//! Listen page, whose WebAssembly decoder hears it and opens the pay page; the PIN pays, and
//! the counter checks the confirmation code offline. Also what the page says when the
//! microphone is refused, when nothing is heard and when what it heard is not a payment.
//!
//! Ignored by a plain `cargo test` (it needs Chromium and chromedriver, which `make deps`
//! installs); `make e2e` runs it with `--ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use counter_core::counter::Counter;
use counter_core::orders::PaymentOrder;
use counter_core::sync::{RoundOutcome, sync_round};
use payment_sound::Waveform;
use payment_sound::noise::{in_noise, room};
use tillfund_core::payment_token::{token_bytes, token_text};
use tillfund_e2e::accessibility::assert_accessible;
use tillfund_e2e::chromedriver::ChromeDriver;
use tillfund_e2e::demo::{PHONE, activation_code};
use tillfund_e2e::phone::{listening_phone, pay_with_pin};
use tillfund_e2e::process::FundServer;
use tillfund_e2e::webdriver::WebDriverSession;
use tillfund_e2e::{free_port, save_screenshot};

/// The Listen page gives up after 20 s; the test waits a little longer.
const NOTHING_HEARD_WITHIN: Duration = Duration::from_secs(30);

struct Store {
    server: FundServer,
    counter: Counter,
    _data_dir: tempfile::TempDir,
    files: tempfile::TempDir,
}

/// The demo store's server, one counter enrolled, and the demo customer with 100.00.
async fn store() -> Store {
    let data_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(data_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let files = tempfile::tempdir().unwrap();
    let counter = Counter::open(&files.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &activation_code(data_dir.path()), "Sound counter").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(PHONE, "100.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    Store { server, counter, _data_dir: data_dir, files }
}

impl Store {
    /// The order's burst as the counter app writes it, at `path`.
    async fn burst_file(&self, order: &PaymentOrder, name: &str) -> (PathBuf, Waveform) {
        let waveform = self.counter.payment_sound(order.order_id).await.unwrap();
        let path = self.files.path().join(name);
        std::fs::write(&path, waveform.to_wav()).unwrap();
        (path, waveform)
    }

    fn file(&self, name: &str, waveform: &Waveform) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, waveform.to_wav()).unwrap();
        path
    }
}

async fn phone(driver: &ChromeDriver, server_url: &str, wav: Option<&Path>) -> WebDriverSession {
    listening_phone(&driver.url, server_url, wav).await
}

async fn listen_state(session: &WebDriverSession) -> String {
    session.attribute("#listen-status", "data-state").await.unwrap().unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver (`make deps`); run by `make e2e`"]
async fn a_customer_pays_a_counter_order_by_sound_in_a_real_browser() {
    let store = store().await;
    let driver = ChromeDriver::start();

    // Only the Listen page may run script and use the microphone.
    let http = reqwest::Client::new();
    let listen = http.get(format!("{}/pay/listen", store.server.url)).send().await.unwrap();
    let header = |response: &reqwest::Response, name: &str| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    };
    assert!(
        header(&listen, "content-security-policy").contains("script-src 'self' 'wasm-unsafe-eval'")
    );
    assert!(header(&listen, "permissions-policy").contains("microphone=(self)"));
    let signin = http.get(format!("{}/signin", store.server.url)).send().await.unwrap();
    assert!(!header(&signin, "content-security-policy").contains("script-src"));
    assert!(header(&signin, "permissions-policy").contains("microphone=()"));
    let decoder =
        http.get(format!("{}/assets/listen-decoder.wasm", store.server.url)).send().await.unwrap();
    assert_eq!(header(&decoder, "content-type"), "application/wasm");

    // The counter makes the order and its burst with no network (the token is the QR's).
    let order = store.counter.create_order(None, "12.34").await.unwrap();
    let (wav, burst) = store.burst_file(&order, "order.wav").await;
    let burst_ms = payment_sound::burst_duration_ms(&burst);
    let session = phone(&driver, &store.server.url, Some(&wav)).await;
    assert_accessible(&session, "listen page").await;
    let started = Instant::now();
    session.click("#listen-start").await.unwrap();
    session
        .wait_for_text("#listen-status", Duration::from_secs(10), |text| {
            text.starts_with("Listening")
        })
        .await
        .unwrap();
    save_screenshot(&session.screenshot_png().await.unwrap(), "wallet-listen.png");
    session
        .wait_for_text("#amount", Duration::from_secs(15), |text| text == "12.34 CNY")
        .await
        .unwrap();
    let heard_after = started.elapsed();
    eprintln!(
        "pay page {} ms after Listen (burst {burst_ms} ms, {} bytes)",
        heard_after.as_millis(),
        token_bytes(&order.token).unwrap().len()
    );
    assert!(session.text_of("#store").await.unwrap().contains("Demo Store"));
    let counter = session.text_of("#counter").await.unwrap();
    assert!(counter.starts_with("Counter T") && counter.ends_with("· Sound counter"), "{counter}");
    let url = session.execute("return location.search;", serde_json::json!([])).await.unwrap();
    assert!(url.as_str().unwrap().contains("via=sound"), "{url}");
    let code = pay_with_pin(&session).await;
    assert_eq!(session.text_of("#new-balance").await.unwrap(), "87.66 CNY");
    store.counter.confirm_by_code(order.order_id, &code).await.unwrap();
    session.close().await.unwrap();

    // A noisy room (noise as loud as the burst): still heard, still this order's page.
    let second = store.counter.create_order(None, "5.00").await.unwrap();
    let (_, burst) = store.burst_file(&second, "second.wav").await;
    let noisy = store.file("noisy.wav", &in_noise(&burst, 0.0, 700, 42));
    let session = phone(&driver, &store.server.url, Some(&noisy)).await;
    session.click("#listen-start").await.unwrap();
    session
        .wait_for_text("#amount", Duration::from_secs(20), |text| text == "5.00 CNY")
        .await
        .unwrap();
    session.close().await.unwrap();
    drop(driver);
    assert!(store.server.stop().unwrap().success());
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver (`make deps`); run by `make e2e`"]
async fn the_listen_page_says_what_went_wrong() {
    let store = store().await;
    let driver = ChromeDriver::start();

    // The visitor refuses the microphone.
    let session = phone(&driver, &store.server.url, None).await;
    session.click("#listen-start").await.unwrap();
    session
        .wait_for_text("#listen-status", Duration::from_secs(10), |text| {
            text.starts_with("The microphone was refused")
        })
        .await
        .unwrap();
    assert_eq!(listen_state(&session).await, "refused");
    assert_accessible(&session, "listen page, microphone refused").await;
    session.close().await.unwrap();

    // A room with no counter playing: nothing heard, and the way on.
    let room = store.file("room.wav", &room(payment_sound::SAMPLE_RATE, 6, 2_000.0, 5));
    let session = phone(&driver, &store.server.url, Some(&room)).await;
    session.click("#listen-start").await.unwrap();
    session
        .wait_for_text("#listen-status", NOTHING_HEARD_WITHIN, |text| {
            text.starts_with("Nothing heard")
        })
        .await
        .unwrap();
    assert_eq!(session.text_of("#listen-start").await.unwrap(), "Listen again");
    session.close().await.unwrap();

    // A burst that carries a token with one byte of its signature changed: the server
    // refuses it and the page says to listen again or scan.
    let order = store.counter.create_order(None, "7.00").await.unwrap();
    let mut forged = token_bytes(&order.token).unwrap();
    *forged.last_mut().unwrap() ^= 0x01;
    let forged_burst = payment_sound::encode(&forged).unwrap();
    let forged_wav = store.file("forged.wav", &forged_burst);
    let session = phone(&driver, &store.server.url, Some(&forged_wav)).await;
    session.click("#listen-start").await.unwrap();
    session
        .wait_for_text(".problem", Duration::from_secs(15), |text| {
            text.starts_with("The sound did not carry a valid payment code")
        })
        .await
        .unwrap();
    assert!(session.is_displayed("#listen-again").await.unwrap());
    assert!(!session.is_displayed("input[name=pin]").await.unwrap_or(false));
    assert_accessible(&session, "sound not a payment").await;
    session.close().await.unwrap();
    assert_ne!(token_text(&forged), order.token);
    drop(driver);
    assert!(store.server.stop().unwrap().success());
}

/// The counter hands out the sound of an order still waiting for payment only: a paid or
/// cancelled order's token is not played again, and an unknown order has none.
#[tokio::test]
async fn only_an_order_waiting_for_payment_plays_its_sound() {
    let store = store().await;
    let waiting = store.counter.create_order(None, "3.00").await.unwrap();
    let burst = store.counter.payment_sound(waiting.order_id).await.unwrap();
    let heard = payment_sound::decode(&burst).unwrap();
    assert_eq!(heard, Some(token_bytes(&waiting.token).unwrap()));

    store.counter.cancel_order(waiting.order_id).await.unwrap();
    let refused = store.counter.payment_sound(waiting.order_id).await.unwrap_err();
    assert_eq!(refused.code(), "order_not_waiting");

    let paid = store.counter.create_order(None, "2.00").await.unwrap();
    let customer = tillfund_e2e::demo::DemoCustomer::sign_in(&store.server.url).await;
    let answer: serde_json::Value =
        customer.pay(&paid.token, "sound-paid").await.json().await.unwrap();
    let code = answer["confirmation_code"].as_str().unwrap();
    store.counter.confirm_by_code(paid.order_id, code).await.unwrap();
    let refused = store.counter.payment_sound(paid.order_id).await.unwrap_err();
    assert_eq!(refused.code(), "order_not_waiting");

    let unknown = tillfund_core::OrderId::generate();
    assert_eq!(store.counter.payment_sound(unknown).await.unwrap_err().code(), "order_not_found");
    assert!(store.server.stop().unwrap().success());
}
