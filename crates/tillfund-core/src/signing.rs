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
/// 32 hexadecimal characters, random per request: the server accepts each nonce of a
/// terminal once, so a captured request cannot be sent again.
pub const NONCE_HEADER: &str = "x-tillfund-nonce";
pub const SIGNATURE_HEADER: &str = "x-tillfund-signature";
/// The idempotency key of a money write; covered by the signature.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Length of a request nonce in hexadecimal characters (128 random bits).
pub const NONCE_HEX_LENGTH: usize = 32;
/// Domain separation: a replacement proof is never a request signature or a token MAC.
const REPLACEMENT_CONTEXT: &[u8] = b"tillfund-terminal-replacement-v1";

/// Everything a counter request's signature covers: every part that changes what the
/// request means. The terminal and the idempotency key are inside, so a captured request
/// can neither be re-labelled as another counter's nor replayed under a fresh key, and the
/// nonce makes each signed request usable once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestToSign<'a> {
    pub method: &'a str,
    /// The path with its query string, exactly as sent.
    pub path_and_query: &'a str,
    pub terminal_id: &'a str,
    pub timestamp_ms: i64,
    pub nonce: &'a str,
    /// Empty when the request carries none.
    pub idempotency_key: &'a str,
    pub body: &'a [u8],
}

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

    /// The raw key, for sealing it at rest; never for logs or answers.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
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

    /// Signs one counter request (see [`RequestToSign`] for what it covers).
    pub fn sign_request(&self, request: &RequestToSign<'_>) -> String {
        encode_hex(&self.mac(&[canonical_request(request).as_bytes()]))
    }

    /// The headers that make a counter request signed, with a fresh nonce: terminal,
    /// timestamp, nonce, signature, and the idempotency key when there is one. Every sender
    /// (the counter, the test counters, the benchmarks) signs through this one function.
    pub fn signed_headers(
        &self,
        terminal_id: &str,
        method: &str,
        path_and_query: &str,
        timestamp_ms: i64,
        idempotency_key: &str,
        body: &[u8],
    ) -> Vec<(&'static str, String)> {
        let nonce = new_nonce();
        let signature = self.sign_request(&RequestToSign {
            method,
            path_and_query,
            terminal_id,
            timestamp_ms,
            nonce: &nonce,
            idempotency_key,
            body,
        });
        let mut headers = vec![
            (TERMINAL_HEADER, terminal_id.to_owned()),
            (TIMESTAMP_HEADER, timestamp_ms.to_string()),
            (NONCE_HEADER, nonce),
            (SIGNATURE_HEADER, signature),
        ];
        if !idempotency_key.is_empty() {
            headers.push((IDEMPOTENCY_KEY_HEADER, idempotency_key.to_owned()));
        }
        headers
    }

    /// Proves, for one enrolment (its activation code and the enrolling counter's public
    /// key), that the counter holds this terminal's key: the server then revokes this
    /// terminal. Bound to the code and key, a proof seen once replaces nothing else.
    pub fn replacement_proof(&self, activation_code: &str, public_key: &str) -> String {
        encode_hex(&self.replacement_mac(activation_code, public_key))
    }

    /// Checks a [`TerminalKey::replacement_proof`] in constant time.
    pub fn verify_replacement_proof(
        &self,
        activation_code: &str,
        public_key: &str,
        proof_hex: &str,
    ) -> bool {
        let Some(proof) = decode_hex(proof_hex) else {
            return false;
        };
        let mut mac = self.hmac();
        mac.update(REPLACEMENT_CONTEXT);
        mac.update(&(activation_code.len() as u64).to_be_bytes());
        mac.update(activation_code.as_bytes());
        mac.update(public_key.as_bytes());
        mac.verify_slice(&proof).is_ok()
    }

    fn replacement_mac(&self, activation_code: &str, public_key: &str) -> [u8; 32] {
        self.mac(&[
            REPLACEMENT_CONTEXT,
            &(activation_code.len() as u64).to_be_bytes(),
            activation_code.as_bytes(),
            public_key.as_bytes(),
        ])
    }

    /// Checks a request signature in constant time.
    pub fn verify_request(&self, request: &RequestToSign<'_>, signature_hex: &str) -> bool {
        let Some(signature) = decode_hex(signature_hex) else {
            return false;
        };
        let mut mac = self.hmac();
        mac.update(canonical_request(request).as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

impl fmt::Debug for TerminalKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("TerminalKey(…)")
    }
}

/// One field per line. No field can hold a line break (header values and paths cannot),
/// so two different requests never have the same canonical text.
fn canonical_request(request: &RequestToSign<'_>) -> String {
    let body_digest = encode_hex(&Sha256::digest(request.body));
    format!(
        "TILLFUND-HMAC-SHA256-V2\n{}\n{}\n{}\n{}\n{}\n{}\n{body_digest}",
        request.method.to_uppercase(),
        request.path_and_query,
        request.terminal_id,
        request.timestamp_ms,
        request.nonce,
        request.idempotency_key,
    )
}

/// The headers of a signed request that are read before the signature is checked: which
/// terminal, when, and the nonce. What the server does with them (the clock window, the
/// key, the nonce's single use) needs the server; reading them does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedFields<'a> {
    pub terminal_id: crate::TerminalId,
    pub timestamp_ms: i64,
    pub nonce: &'a str,
}

/// Which of the signed fields is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignedFieldError {
    #[error("The request is not signed by a counter.")]
    TerminalId,
    #[error("The request has no valid timestamp.")]
    Timestamp,
    #[error("The request has no valid nonce (32 lowercase hexadecimal characters).")]
    Nonce,
}

impl<'a> SignedFields<'a> {
    pub fn parse(
        terminal_id: &str,
        timestamp_ms: &str,
        nonce: &'a str,
    ) -> Result<SignedFields<'a>, SignedFieldError> {
        let terminal_id = terminal_id.parse().map_err(|_| SignedFieldError::TerminalId)?;
        let timestamp_ms = timestamp_ms.parse().map_err(|_| SignedFieldError::Timestamp)?;
        let nonce_valid = nonce.len() == NONCE_HEX_LENGTH
            && nonce.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if !nonce_valid {
            return Err(SignedFieldError::Nonce);
        }
        Ok(SignedFields { terminal_id, timestamp_ms, nonce })
    }
}

/// A fresh request nonce: 128 random bits as hex.
pub fn new_nonce() -> String {
    let mut bytes = [0_u8; NONCE_HEX_LENGTH / 2];
    crate::random::fill(&mut bytes);
    encode_hex(&bytes)
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

    #[test]
    fn a_replacement_proof_holds_for_its_own_enrolment_and_key_only() {
        let key = TerminalKey::from_bytes([3; 32]);
        let public_key = "ab".repeat(32);
        let proof = key.replacement_proof("K7MQ-4XRT-9PWD", &public_key);
        assert_eq!(proof.len(), 64);
        assert!(key.verify_replacement_proof("K7MQ-4XRT-9PWD", &public_key, &proof));
        assert!(!key.verify_replacement_proof("K7MQ-4XRT-9PWE", &public_key, &proof));
        assert!(!key.verify_replacement_proof("K7MQ-4XRT-9PWD", &"cd".repeat(32), &proof));
        let other = TerminalKey::from_bytes([4; 32]);
        assert!(!other.verify_replacement_proof("K7MQ-4XRT-9PWD", &public_key, &proof));
        assert!(!key.verify_replacement_proof("K7MQ-4XRT-9PWD", &public_key, "not hex"));
        // The code's length is signed: a code and key cannot trade characters.
        let shifted = key.replacement_proof("K7MQ-4XRT-9PW", &format!("D{public_key}"));
        assert_ne!(shifted, key.replacement_proof("K7MQ-4XRT-9PWD", &public_key));
        assert!(!key.verify_replacement_proof("K7MQ-4XRT-9PW", &format!("D{public_key}"), &proof));
    }

    fn key() -> TerminalKey {
        TerminalKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    fn request(body: &[u8]) -> RequestToSign<'_> {
        RequestToSign {
            method: "POST",
            path_and_query: "/v1/sync/push",
            terminal_id: "0190a0a0-0000-7000-8000-000000000001",
            timestamp_ms: 1_700_000_000_000,
            nonce: "00112233445566778899aabbccddeeff",
            idempotency_key: "refund-1",
            body,
        }
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let key = key();
        let body = br#"{"entries":[]}"#;
        let signature = key.sign_request(&RequestToSign { method: "post", ..request(body) });
        assert!(key.verify_request(&request(body), &signature));
        let changed = [
            RequestToSign { path_and_query: "/v1/sync/pull", ..request(body) },
            RequestToSign { timestamp_ms: 1_700_000_000_001, ..request(body) },
            RequestToSign { body: b"{}", ..request(body) },
            RequestToSign { method: "GET", ..request(body) },
            RequestToSign { terminal_id: "0190a0a0-0000-7000-8000-000000000002", ..request(body) },
            RequestToSign { nonce: "00112233445566778899aabbccddeefe", ..request(body) },
            RequestToSign { idempotency_key: "refund-2", ..request(body) },
            RequestToSign { idempotency_key: "", ..request(body) },
        ];
        for changed in changed {
            assert!(!key.verify_request(&changed, &signature), "{changed:?}");
        }
        assert!(!key.verify_request(&request(body), "zz"));
        let other = TerminalKey::from_hex(&"cd".repeat(32)).unwrap();
        assert!(!other.verify_request(&request(body), &signature));
    }

    #[test]
    fn nonces_are_fresh_hex() {
        let nonce = new_nonce();
        assert_eq!(nonce.len(), NONCE_HEX_LENGTH);
        assert!(decode_hex(&nonce).is_some());
        assert_ne!(nonce, new_nonce());
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
