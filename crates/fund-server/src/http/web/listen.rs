//! Pay by sound, the phone's half: the Listen page hears a counter's payment burst through
//! the microphone and opens the same pay page a scanned QR code opens.
//!
//! It is the one page with script: `assets/listen.js` and the decoder
//! `assets/listen-decoder.wasm` (ggwave's C++ compiled by `crates/payment-sound/wasm`),
//! both served from here, never a CDN. Its CSP allows exactly those (`'wasm-unsafe-eval'`
//! compiles WebAssembly; no `'unsafe-eval'`, no inline script) and the microphone for this
//! origin only; every other page keeps the script-free policy. What the page hears goes to
//! `/pay?t=…&via=sound`, where the server checks the token's signature as for a scan: a
//! misheard burst cannot pay anything.

use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use maud::{Markup, html};

use super::*;

/// The page's script and decoder, built into the binary.
const LISTEN_SCRIPT: &str = include_str!("../../../assets/listen.js");
const LISTEN_DECODER: &[u8] = include_bytes!("../../../assets/listen-decoder.wasm");
/// The assets change only with a release; an hour's caching saves a phone the download on
/// each payment and lets a new release reach it the same day.
const ASSET_CACHE: &str = "public, max-age=3600";

/// The Listen page's policy: the script-free one plus this origin's script and WebAssembly,
/// and fetching the decoder from here.
pub(crate) const LISTEN_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page's words, in the visitor's language; the script reads the messages from the
/// page's data attributes so that it carries no text of its own.
struct ListenWords {
    title: &'static str,
    how: &'static str,
    start: &'static str,
    again: &'static str,
    asking: &'static str,
    listening: &'static str,
    garbled: &'static str,
    heard: &'static str,
    refused: &'static str,
    no_microphone: &'static str,
    nothing: &'static str,
    broken: &'static str,
    needs_script: &'static str,
    not_a_payment: &'static str,
}

const ENGLISH: ListenWords = ListenWords {
    title: "Pay by sound",
    how: "Hold your phone near the counter's speaker and press Listen while the cashier plays the payment sound.",
    start: "Listen",
    again: "Listen again",
    asking: "Allow the microphone when your phone asks.",
    listening: "Listening… keep the phone close to the counter.",
    garbled: "Heard something, not clearly yet: hold still, the sound plays again.",
    heard: "Heard it: opening the payment…",
    refused: "The microphone was refused: allow it for this site in your browser's settings, or scan the QR code instead.",
    no_microphone: "No microphone can be used here: scan the QR code instead.",
    nothing: "Nothing heard: move closer to the counter's speaker and listen again, or scan the QR code.",
    broken: "Listening could not start on this phone: scan the QR code instead.",
    needs_script: "Listening needs JavaScript: scan the QR code instead.",
    not_a_payment: "The sound did not carry a valid payment code (it was misheard, or it is not this store's counter). Listen again, or scan the QR code.",
};

const CHINESE: ListenWords = ListenWords {
    title: "声波支付",
    how: "收银员播放付款声波时，将手机靠近收银台的扬声器，然后点击“开始收听”。",
    start: "开始收听",
    again: "重新收听",
    asking: "手机询问时，请允许使用麦克风。",
    listening: "正在收听…请将手机靠近收银台。",
    garbled: "听到了声音，但还不清楚：请保持不动，声波会再次播放。",
    heard: "已听到：正在打开付款页面…",
    refused: "麦克风被拒绝：请在浏览器设置中允许本网站使用麦克风，或改为扫描二维码。",
    no_microphone: "此处无法使用麦克风：请改为扫描二维码。",
    nothing: "没有听到付款声波：请靠近收银台的扬声器重新收听，或扫描二维码。",
    broken: "此手机无法开始收听：请改为扫描二维码。",
    needs_script: "收听需要 JavaScript：请改为扫描二维码。",
    not_a_payment: "声波中没有有效的付款码（可能听错，或并非本店收银台）。请重新收听，或扫描二维码。",
};

fn listen_words(language: Language) -> &'static ListenWords {
    match language {
        Language::English => &ENGLISH,
        Language::Chinese => &CHINESE,
    }
}

pub(super) async fn listen_page(visitor: Visitor) -> Response {
    let text = listen_words(visitor.language);
    let body = html! {
        section id="listen"
            data-again=(text.again) data-asking=(text.asking) data-listening=(text.listening)
            data-garbled=(text.garbled) data-heard=(text.heard) data-refused=(text.refused)
            data-no-microphone=(text.no_microphone) data-nothing=(text.nothing) data-broken=(text.broken) {
            h1 { (text.title) }
            p { (text.how) }
            button id="listen-start" class="primary" type="button" { (text.start) }
            p id="listen-status" class="hint" role="status" aria-live="polite" {}
            noscript { (problem(text.needs_script)) }
            p { a href="/wallet" { (visitor.words().back_to_wallet) } }
        }
        script src="/assets/listen.js" {}
    };
    visitor.page("/pay/listen", text.title, body).listening().into_response()
}

/// The pay page's answer to a token heard by sound that is not a payment code: listen again
/// or scan, rather than the scan's "damaged code".
pub(super) fn not_a_payment_body(visitor: &Visitor) -> Markup {
    let text = listen_words(visitor.language);
    html! {
        section {
            (problem(text.not_a_payment))
            p { a id="listen-again" href="/pay/listen" { (text.again) } }
            p { a href="/wallet" { (visitor.words().back_to_wallet) } }
        }
    }
}

fn asset(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE));
    response
}

pub(super) async fn listen_script() -> Response {
    asset("text/javascript; charset=utf-8", LISTEN_SCRIPT)
}

pub(super) async fn listen_decoder() -> Response {
    asset("application/wasm", LISTEN_DECODER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoder_is_a_webassembly_module_and_the_script_loads_it_from_here() {
        assert_eq!(&LISTEN_DECODER[..4], b"\0asm");
        assert!(LISTEN_SCRIPT.contains("\"/assets/listen-decoder.wasm\""));
        assert!(!LISTEN_SCRIPT.contains("eval("), "no eval in the only script");
    }

    #[test]
    fn only_the_listen_policy_allows_script() {
        assert!(LISTEN_POLICY.contains("script-src 'self' 'wasm-unsafe-eval'"));
        assert!(!LISTEN_POLICY.contains("'unsafe-eval'"));
        let script_source =
            LISTEN_POLICY.split(';').find(|part| part.trim().starts_with("script-src"));
        assert_eq!(script_source.map(str::trim), Some("script-src 'self' 'wasm-unsafe-eval'"));
        assert!(!page::CONTENT_POLICY.contains("script-src"));
    }
}
