//! Terminal keys and what they sign: counter requests, payment tokens, confirmation codes.
//!
//! Each enrolled terminal shares a 256-bit key with the server. The counter signs every
//! request with it, signs the payment QR tokens it makes offline, and can check a customer's
//! confirmation code offline because the server derives that code with the same key.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Header names of a signed counter request.
pub const TERMINAL_HEADER: &str = "x-tillfund-terminal";
pub const TIMESTAMP_HEADER: &str = "x-tillfund-timestamp";
pub const SIGNATURE_HEADER: &str = "x-tillfund-signature";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a terminal key is 64 hexadecimal characters")]
pub struct InvalidTerminalKey;

/// A terminal's signing key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TerminalKey([u8; 32]);

impl TerminalKey {
    pub fn from_bytes(bytes: [u8; 32]) -> TerminalKey {
        TerminalKey(bytes)
    }

    pub fn from_hex(text: &str) -> Result<TerminalKey, InvalidTerminalKey> {
        let bytes = decode_hex(text).ok_or(InvalidTerminalKey)?;
        let array: [u8; 32] = bytes.try_into().map_err(|_| InvalidTerminalKey)?;
        Ok(TerminalKey(array))
    }

    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.hmac();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    fn hmac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail for 32 bytes.
        match HmacSha256::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// Signs one counter request. The signature covers the method, the path with its query,
    /// the timestamp and a digest of the body, so none can be changed or replayed elsewhere.
    pub fn sign_request(&self, method: &str, path: &str, timestamp_ms: i64, body: &[u8]) -> String {
        let canonical = canonical_request(method, path, timestamp_ms, body);
        encode_hex(&self.mac(&[canonical.as_bytes()]))
    }

    /// Checks a request signature in constant time.
    pub fn verify_request(
        &self,
        method: &str,
        path: &str,
        timestamp_ms: i64,
        body: &[u8],
        signature_hex: &str,
    ) -> bool {
        let Some(signature) = decode_hex(signature_hex) else {
            return false;
        };
        let canonical = canonical_request(method, path, timestamp_ms, body);
        let mut mac = self.hmac();
        mac.update(canonical.as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

impl fmt::Debug for TerminalKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("TerminalKey(…)")
    }
}

fn canonical_request(method: &str, path: &str, timestamp_ms: i64, body: &[u8]) -> String {
    let body_digest = encode_hex(&Sha256::digest(body));
    format!(
        "TILLFUND-HMAC-SHA256\n{}\n{path}\n{timestamp_ms}\n{body_digest}",
        method.to_uppercase()
    )
}

pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    let value = |digit: u8| match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    };
    text.as_bytes().chunks(2).map(|pair| Some(value(pair[0])? << 4 | value(pair[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TerminalKey {
        TerminalKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let key = key();
        let body = br#"{"entries":[]}"#;
        let signature = key.sign_request("post", "/v1/sync/push", 1_700_000_000_000, body);
        assert!(key.verify_request("POST", "/v1/sync/push", 1_700_000_000_000, body, &signature));
        assert!(!key.verify_request("POST", "/v1/sync/pull", 1_700_000_000_000, body, &signature));
        assert!(!key.verify_request("POST", "/v1/sync/push", 1_700_000_000_001, body, &signature));
        assert!(!key.verify_request("POST", "/v1/sync/push", 1_700_000_000_000, b"{}", &signature));
        assert!(!key.verify_request("GET", "/v1/sync/push", 1_700_000_000_000, body, &signature));
        assert!(!key.verify_request("POST", "/v1/sync/push", 1_700_000_000_000, body, "zz"));
        let other = TerminalKey::from_hex(&"cd".repeat(32)).unwrap();
        assert!(!other.verify_request(
            "POST",
            "/v1/sync/push",
            1_700_000_000_000,
            body,
            &signature
        ));
    }

    #[test]
    fn keys_parse_from_hex_only() {
        assert_eq!(key().to_hex(), "ab".repeat(32));
        assert_eq!(TerminalKey::from_hex("abc"), Err(InvalidTerminalKey));
        assert_eq!(TerminalKey::from_hex(&"zz".repeat(32)), Err(InvalidTerminalKey));
        assert_eq!(TerminalKey::from_hex(&"ab".repeat(31)), Err(InvalidTerminalKey));
        assert!(!format!("{:?}", key()).contains("ab"));
    }
}
