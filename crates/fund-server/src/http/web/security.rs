//! What keeps the wallet pages safe: session and CSRF cookies, CSRF tokens, the client's
//! address, and rate limits on sign-in and PIN entry.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "tf_session";
/// Guards the forms shown before sign-in (double-submit: cookie and hidden field match).
pub const FORM_COOKIE: &str = "tf_form";
pub const LANGUAGE_COOKIE: &str = "tf_lang";

/// A cookie's value from the request, if sent. Values we set are hex or short words.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Whether the customer reached us over TLS: directly, or through a proxy that says so.
/// A client that lies about it only makes its own cookies unusable over plain HTTP.
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: never readable by scripts, sent only to this site, `Secure`
/// under TLS. `max_age` 0 deletes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_seconds: i64,
    same_site: &str,
    tls: bool,
) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite={same_site}{secure}"
    )
}

pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    tillfund_core::signing::encode_hex(&buffer)
}

/// The CSRF token of a signed-in session: derived from the session token, which scripts
/// cannot read (HttpOnly), so another site cannot know it.
pub fn session_csrf(session_token: &str) -> String {
    let digest =
        Sha256::new().chain_update(b"tillfund-csrf:").chain_update(session_token).finalize();
    tillfund_core::signing::encode_hex(&digest[..16])
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The address of the peer that connected. Behind a reverse proxy this is the proxy's;
/// the limits are then per proxy, which is why they are generous.
pub fn client_ip(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(address)| address.ip())
}

/// At most `max` attempts per key in each `window`; fixed windows, kept in memory (a
/// restart forgets them, the wallet's PIN lock-out does not). The table is bounded.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    keys_max: usize,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter { max, window, keys_max: 100_000, counts: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt; false when the key has used up its window.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    /// Whether `key` has used up its window, without counting an attempt: for limits on
    /// failures, checked before trying and counted only when the try fails.
    pub fn exhausted(&self, key: &str) -> bool {
        let now = Instant::now();
        let counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.get(key).is_some_and(|(started, count)| {
            now.duration_since(*started) < self.window && *count >= self.max
        })
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() >= self.keys_max {
            // Full: forget every window that has ended; if none has, start afresh rather
            // than grow without bound.
            counts.retain(|_, (started, _)| now.duration_since(*started) < self.window);
            if counts.len() >= self.keys_max {
                counts.clear();
            }
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; tf_session=abc; tf_session_x=no".parse().unwrap());
        assert_eq!(cookie(&headers, "tf_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "tf"), None);
    }

    #[test]
    fn cookies_we_set_are_http_only_same_site_and_secure_under_tls() {
        let plain = set_cookie(SESSION_COOKIE, "x", 60, "Lax", false);
        assert_eq!(plain, "tf_session=x; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
        assert!(set_cookie(SESSION_COOKIE, "x", 60, "Lax", true).ends_with("; Secure"));
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        assert_eq!(session_csrf("a"), session_csrf("a"));
        assert_ne!(session_csrf("a"), session_csrf("b"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }

    #[test]
    fn the_limiter_counts_per_key_and_window() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let start = Instant::now();
        assert!(limiter.allow_at("a", start));
        assert!(limiter.allow_at("a", start));
        assert!(!limiter.allow_at("a", start));
        assert!(limiter.allow_at("b", start));
        assert!(limiter.allow_at("a", start + Duration::from_secs(60)));
    }

    #[test]
    fn the_limiter_table_stays_bounded() {
        let mut limiter = RateLimiter::new(1, Duration::from_secs(60));
        limiter.keys_max = 10;
        let now = Instant::now();
        for key in 0..100 {
            assert!(limiter.allow_at(&key.to_string(), now));
        }
        assert!(limiter.counts.lock().unwrap().len() <= 10);
    }
}
