//! Pay by sound in the real app: the Sale screen plays the payment code (here by itself, as
//! Settings asks), the app's waveform (written where `TILLFUND_SOUND_CAPTURE_DIR` says) is
//! played to a real browser's microphone, the Listen page hears it and the customer pays;
//! online the counter shows it paid and falls silent at once; offline (its server stopped,
//! the same data served to the phone on another address) the cashier checks the code the
//! phone shows. Called from `a_counter_day_through_the_real_app` with a manager signed in.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use payment_sound::Waveform;
use serde_json::json;
use tillfund_core::payment_token::token_bytes;
use tillfund_e2e::chromedriver::ChromeDriver;
use tillfund_e2e::free_port;
use tillfund_e2e::phone::{hear_and_pay, listening_phone};
use tillfund_e2e::process::FundServer;
use tillfund_e2e::webdriver::WebDriverSession;

use super::desk::audit;
use super::{save_screenshot, wait_displayed};

/// Waits until the sound's status says `state` ("playing", "stopped", "problem").
async fn wait_sound(session: &WebDriverSession, state: &str) {
    for _ in 0..100 {
        let now = session.attribute("#sale-sound-status", "data-state").await.unwrap();
        if now.as_deref() == Some(state) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let message = session.text_of("#sale-sound-status").await.unwrap_or_default();
    panic!("the payment sound is not {state}: {message}");
}

/// The burst the app wrote for the order now shown, checked to carry that order's token.
async fn new_capture(
    session: &WebDriverSession,
    directory: &Path,
    seen: &mut HashSet<PathBuf>,
) -> PathBuf {
    let pay_url = session.attribute("#sale-order", "data-pay-url").await.unwrap().unwrap();
    let token = pay_url.split("t=").nth(1).unwrap().to_owned();
    for _ in 0..50 {
        let fresh = std::fs::read_dir(directory)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .find(|path| !seen.contains(path));
        if let Some(path) = fresh {
            seen.insert(path.clone());
            let recording = Waveform::from_wav(&std::fs::read(&path).unwrap()).unwrap();
            let heard = payment_sound::decode(&recording).unwrap();
            assert_eq!(
                heard,
                Some(token_bytes(&token).unwrap()),
                "{} carries the order's token",
                path.display()
            );
            return path;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the app wrote no payment sound to {}", directory.display());
}

async fn new_sale(session: &WebDriverSession, amount: &str) {
    if session.is_displayed("#sale-new").await.unwrap_or(false) {
        session.click("#sale-new").await.unwrap();
    }
    session.type_into("#sale-amount", &format!("{amount}\u{E007}")).await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| {
            text.starts_with("Waiting for payment")
        })
        .await
        .unwrap();
}

async fn set_play_on_new_order(session: &WebDriverSession, play: bool) {
    session.click("#nav button[data-screen=settings]").await.unwrap();
    for _ in 0..50 {
        let checked = session
            .execute("return document.getElementById('sound-on-new-order').checked;", json!([]))
            .await
            .unwrap();
        if checked == json!(!play) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.click("#sound-on-new-order").await.unwrap();
    session
        .wait_for_text("#sound-result", Duration::from_secs(5), |text| text == "Saved")
        .await
        .unwrap();
    session.click("#nav button[data-screen=sale]").await.unwrap();
}

/// Answers the server, started again where the counter knows it.
pub async fn pay_by_sound(
    session: &WebDriverSession,
    server: FundServer,
    data_dir: &Path,
    listen: &str,
    capture_dir: &Path,
) -> FundServer {
    let server_url = server.url.clone();
    let server_url = server_url.as_str();
    let driver = ChromeDriver::start();
    let mut seen = HashSet::new();

    // Online, with every new code playing by itself: paid from the phone, the counter shows
    // it and the sound stops.
    set_play_on_new_order(session, true).await;
    new_sale(session, "8.80").await;
    wait_sound(session, "playing").await;
    assert_eq!(session.text_of("#sale-sound").await.unwrap(), "Stop sound (F8)");
    save_screenshot(&session.screenshot_png().await.unwrap(), "counter-sale-sound.png").unwrap();
    // The customer display says the payment can be heard too.
    let display = session.invoke("customer_display", json!({})).await.unwrap();
    assert_eq!(display["ok"]["kind"], "payment", "{display}");
    assert_eq!(display["ok"]["sound_playing"], true, "{display}");
    audit(session, "sale, playing the payment sound").await;
    let wav = new_capture(session, capture_dir, &mut seen).await;
    let phone = listening_phone(&driver.url, server_url, Some(&wav)).await;
    hear_and_pay(&phone, "8.80 CNY").await;
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| text == "Paid")
        .await
        .unwrap();
    wait_sound(session, "stopped").await;
    wait_displayed(session, "#sale-sound", false).await;
    phone.close().await.unwrap();

    // Offline: the counter's server is gone; the phone reaches the same data on another
    // address. The code made and played offline pays; the cashier checks the code the phone
    // shows.
    assert!(server.stop().unwrap().success());
    session
        .wait_for_text("#connection-state", Duration::from_secs(10), |text| text == "Offline")
        .await
        .unwrap();
    let phones_server = FundServer::start(data_dir, &format!("127.0.0.1:{}", free_port())).unwrap();
    new_sale(session, "4.40").await;
    wait_sound(session, "playing").await;
    let wav = new_capture(session, capture_dir, &mut seen).await;
    let phone = listening_phone(&driver.url, &phones_server.url, Some(&wav)).await;
    let code = hear_and_pay(&phone, "4.40 CNY").await;
    phone.close().await.unwrap();
    assert!(session.text_of("#sale-status").await.unwrap().starts_with("Waiting for payment"));
    // The burst repeats while the order waits (the phone took its time signing in).
    let mut plays = 0;
    for _ in 0..100 {
        let text = session.attribute("#sale-sound-status", "data-plays").await.unwrap();
        plays = text.and_then(|plays| plays.parse().ok()).unwrap_or(0);
        if plays >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(plays >= 2, "played {plays} times");
    session.type_into("#sale-code", &code).await.unwrap();
    session.click("#sale-code-form button[type=submit]").await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| text == "Paid")
        .await
        .unwrap();
    wait_sound(session, "stopped").await;
    assert!(phones_server.stop().unwrap().success());
    let server = FundServer::start(data_dir, listen).unwrap();
    session
        .wait_for_text("#connection-state", Duration::from_secs(10), |text| text == "Online")
        .await
        .unwrap();

    // By hand: with the setting off a new code is silent; Play starts and stops the sound;
    // cancelling the order silences it and hides the button.
    set_play_on_new_order(session, false).await;
    new_sale(session, "1.10").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        session.attribute("#sale-sound-status", "data-state").await.unwrap().as_deref(),
        Some("stopped")
    );
    session.click("#sale-sound").await.unwrap();
    wait_sound(session, "playing").await;
    // F8 does what the button does.
    session
        .execute("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'F8'}));", json!([]))
        .await
        .unwrap();
    wait_sound(session, "stopped").await;
    let display = session.invoke("customer_display", json!({})).await.unwrap();
    assert_eq!(display["ok"]["sound_playing"], false, "stopped: {display}");
    session.click("#sale-sound").await.unwrap();
    wait_sound(session, "playing").await;
    session.click("#sale-cancel").await.unwrap();
    session
        .wait_for_text("#sale-status", Duration::from_secs(5), |text| text == "Cancelled")
        .await
        .unwrap();
    wait_sound(session, "stopped").await;
    wait_displayed(session, "#sale-sound", false).await;
    session.click("#sale-new").await.unwrap();
    drop(driver);
    server
}
