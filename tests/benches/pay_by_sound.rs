//! Pay by sound's figures (`make bench`), each beside a baseline of the same run:
//!
//! 1. What is sent: the token's bytes and the burst's length, beside the QR code's text.
//! 2. Decoding over noisy recordings (white noise, seeded, 40 a level; a quieter burst too):
//!    heard whole, nothing heard, misread — beside the clean burst. The decoder is the C++
//!    the Listen page runs as WebAssembly, here native.
//! 3. Time from Play to the pay page on the phone: the real fund-server binary and headless
//!    Chromium, its fake microphone fed the counter's burst as the counter plays it (burst,
//!    pause, burst…), the phone listening from the moment Play is pressed and from later
//!    points of the cycle; beside the same phone opening the pay page from a scanned QR.
//!
//! Nothing here asserts a figure but that no recording was misread;
//! `tests/pay_by_sound_browser.rs` and
//! `crates/payment-sound/tests/noise.rs` assert behaviour.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use counter_core::counter::Counter;
use counter_core::sync::sync_round;
use payment_sound::noise::{in_noise, scaled};
use payment_sound::{SAMPLE_RATE, Waveform, burst_duration_ms, decode};
use tillfund_core::payment_token::token_bytes;
use tillfund_e2e::chromedriver::ChromeDriver;
use tillfund_e2e::demo::{PHONE, activation_code};
use tillfund_e2e::free_port;
use tillfund_e2e::phone::listening_phone;
use tillfund_e2e::process::FundServer;
use tillfund_e2e::webdriver::WebDriverSession;

const RECORDINGS_PER_LEVEL: u64 = 40;
const SNR_LEVELS_DB: [f64; 8] = [10.0, 0.0, -3.0, -6.0, -8.0, -10.0, -12.0, -15.0];
/// The counter's pause between bursts (ui/sound.js `SOUND_PAUSE_MS`).
const PAUSE_MS: u64 = 1_200;
/// Where in the counter's cycle the phone starts listening, as fractions of the cycle.
const JOIN_POINTS: [f64; 4] = [0.0, 0.25, 0.5, 0.75];

#[derive(Default)]
struct Tally {
    whole: u64,
    nothing: u64,
    misread: u64,
}

/// Misreads seen over the whole run: the one figure that is also a promise (checked at the end).
static MISREADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn tally(token: &[u8], recordings: impl Iterator<Item = Waveform>) -> Tally {
    let mut tally = Tally::default();
    for recording in recordings {
        match decode(&recording).unwrap() {
            Some(bytes) if bytes == token => tally.whole += 1,
            Some(_) => {
                tally.misread += 1;
                MISREADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            None => tally.nothing += 1,
        }
    }
    tally
}

fn print_tally(label: &str, tally: &Tally) {
    let total = (tally.whole + tally.nothing + tally.misread) as f64;
    println!(
        "  {label:<28} heard {:>5.1} %   nothing {:>5.1} %   misread {}",
        tally.whole as f64 * 100.0 / total,
        tally.nothing as f64 * 100.0 / total,
        tally.misread
    );
}

/// What the phone's microphone hears when it starts listening `offset_ms` into the counter's
/// cycle: the rest of that cycle, then burst and pause again (Chromium loops the file).
fn as_the_counter_plays(burst: &Waveform, offset_ms: u64) -> Waveform {
    let pause = vec![0_i16; (u64::from(SAMPLE_RATE) * PAUSE_MS / 1000) as usize];
    let cycle: Vec<i16> = burst.samples.iter().chain(&pause).copied().collect();
    let offset = (u64::from(SAMPLE_RATE) * offset_ms / 1000) as usize % cycle.len();
    let samples = cycle[offset..].iter().chain(&cycle[..offset]).copied().collect();
    Waveform { sample_rate: SAMPLE_RATE, samples }
}

async fn time_to_pay_page(session: &WebDriverSession, amount: &str) -> Duration {
    let started = Instant::now();
    session.click("#listen-start").await.unwrap();
    session.wait_for_text("#amount", Duration::from_secs(30), |text| text == amount).await.unwrap();
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(data_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let files = tempfile::tempdir().unwrap();
    let counter = Counter::open(&files.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &activation_code(data_dir.path()), "Bench counter").await.unwrap();
    sync_round(counter.store()).await;
    let preview = counter.preview_top_up(PHONE, "100.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    sync_round(counter.store()).await;
    let order = counter.create_order(None, "9.99").await.unwrap();
    let burst = counter.payment_sound(order.order_id).await.unwrap();
    let token = token_bytes(&order.token).unwrap();

    println!("pay by sound: what is sent");
    println!(
        "  sound: {} bytes of token in a {} ms burst ({} samples at {} Hz, {} bytes as WAV)",
        token.len(),
        burst_duration_ms(&burst),
        burst.samples.len(),
        SAMPLE_RATE,
        burst.to_wav().len()
    );
    println!(
        "  baseline, the QR code: {} characters ({} with the pay page's address)",
        order.token.len(),
        order.pay_url.len()
    );

    println!(
        "decoding {RECORDINGS_PER_LEVEL} recordings a level (white noise, SNR against the burst)"
    );
    let started = Instant::now();
    print_tally(
        "baseline, clean",
        &tally(&token, (0..RECORDINGS_PER_LEVEL).map(|_| burst.clone())),
    );
    for snr_db in SNR_LEVELS_DB {
        let recordings = (0..RECORDINGS_PER_LEVEL).map(|seed| in_noise(&burst, snr_db, 500, seed));
        print_tally(&format!("{snr_db:+} dB"), &tally(&token, recordings));
    }
    let quiet = scaled(&burst, 0.05);
    let recordings = (0..RECORDINGS_PER_LEVEL).map(|seed| in_noise(&quiet, -6.0, 500, 500 + seed));
    print_tally("−26 dB quieter, then −6 dB", &tally(&token, recordings));
    let decoded = RECORDINGS_PER_LEVEL * (SNR_LEVELS_DB.len() as u64 + 2);
    println!("  ({decoded} recordings in {:.1} s)", started.elapsed().as_secs_f64());

    println!("time to the pay page on the phone (real fund-server, headless Chromium)");
    let driver = ChromeDriver::start();
    let cycle_ms = burst_duration_ms(&burst) + PAUSE_MS;
    for join in JOIN_POINTS {
        let offset_ms = (cycle_ms as f64 * join) as u64;
        let wav = files.path().join(format!("cycle-{offset_ms}.wav"));
        std::fs::write(&wav, as_the_counter_plays(&burst, offset_ms).to_wav()).unwrap();
        let phone = listening_phone(&driver.url, &server.url, Some(&wav)).await;
        let took = time_to_pay_page(&phone, "9.99 CNY").await;
        let label = if offset_ms == 0 {
            "from Play".to_owned()
        } else {
            format!("joining {offset_ms} ms into the cycle")
        };
        println!("  sound, {label:<32} {:>6} ms", took.as_millis());
        phone.close().await.unwrap();
    }
    let phone = listening_phone(&driver.url, &server.url, None).await;
    let started = Instant::now();
    phone.goto(&order.pay_url).await.unwrap();
    phone
        .wait_for_text("#amount", Duration::from_secs(30), |text| text == "9.99 CNY")
        .await
        .unwrap();
    println!(
        "  baseline, QR scanned: opening the pay page {:>6} ms",
        started.elapsed().as_millis()
    );
    phone.close().await.unwrap();
    drop(driver);
    assert!(server.stop().unwrap().success());
    let misreads = MISREADS.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(misreads, 0, "a noisy recording was decoded to other bytes");
}
