//! What keeps the wallet pages safe: session and CSRF cookies, CSRF tokens, the client's
//! address, and rate limits on sign-in and PIN entry.

use std::net::{IpAddr, SocketAddr};

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
}
