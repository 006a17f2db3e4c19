//! The customer's phone for pay by sound: headless Chromium whose microphone hears a WAV
//! file (a counter's burst), signed in as the demo customer on the wallet's Listen page.

use std::path::Path;
use std::time::Duration;

use crate::demo::{PHONE, PIN};
use crate::webdriver::WebDriverSession;

/// A phone on the Listen page that hears `wav` over and over (or, with `None`, whose owner
/// refuses the microphone).
pub async fn listening_phone(
    driver_url: &str,
    server_url: &str,
    wav: Option<&Path>,
) -> WebDriverSession {
    let session = WebDriverSession::start_chromium_hearing(driver_url, wav).await.unwrap();
    session.goto(&format!("{server_url}/signin?next=/pay/listen")).await.unwrap();
    session.type_into("input[name=phone]", PHONE).await.unwrap();
    session.type_into("input[name=pin]", PIN).await.unwrap();
    session.click("button.primary").await.unwrap();
    session
        .wait_for_text("#listen-start", Duration::from_secs(10), |text| text == "Listen")
        .await
        .unwrap();
    session
}

/// Listens, expects the pay page for `amount` ("8.80 CNY"), pays with the PIN and answers
/// the confirmation code the phone shows.
pub async fn hear_and_pay(session: &WebDriverSession, amount: &str) -> String {
    session.click("#listen-start").await.unwrap();
    session.wait_for_text("#amount", Duration::from_secs(20), |text| text == amount).await.unwrap();
    pay_with_pin(session).await
}

/// On the pay page: the demo customer's PIN, then the confirmation code shown.
pub async fn pay_with_pin(session: &WebDriverSession) -> String {
    session.type_into("input[name=pin]", PIN).await.unwrap();
    session.click("button.primary").await.unwrap();
    let (code, _) = session
        .wait_for_text("#confirmation-code", Duration::from_secs(10), |text| text.len() == 6)
        .await
        .unwrap();
    code
}
