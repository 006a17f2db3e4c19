//! Time-based one-time codes (RFC 6238), the operators' second factor: what Google
//! Authenticator, FreeOTP and every other authenticator app compute from a shared secret.
//!
//! SHA-1, six digits, 30-second steps: the parameters every app supports (the HMAC's known
//! weaknesses do not touch its use as a keyed PRF here). A code is accepted for the step
//! before and after the server's own, so a phone up to 30 seconds off still signs in, and
//! each step is accepted once per operator (the store keeps the last step used), so a code
//! seen over a shoulder or in a proxy log cannot be used again.

use ring::hmac;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Steps either side of the server's own that are still accepted.
const STEPS_TOLERATED: i64 = 1;

/// An operator's shared secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_BYTES]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TotpSecret(…)")
    }
}

impl TotpSecret {
    pub fn generate() -> TotpSecret {
        let mut bytes = [0_u8; SECRET_BYTES];
        tillfund_core::random::fill(&mut bytes);
        TotpSecret(bytes)
    }

    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> TotpSecret {
        TotpSecret(bytes)
    }

    pub fn expose_bytes(&self) -> &[u8; SECRET_BYTES] {
        &self.0
    }

    /// The secret from its base32 text (upper or lower case, spaces and padding ignored),
    /// as an authenticator app reads it; `None` unless it is exactly `SECRET_BYTES` long.
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let mut bytes = Vec::with_capacity(SECRET_BYTES);
        let mut buffer: u32 = 0;
        let mut bits = 0;
        for char in text.chars().filter(|char| !matches!(char, ' ' | '=')) {
            let value = match char.to_ascii_uppercase() {
                letter @ 'A'..='Z' => letter as u32 - 'A' as u32,
                digit @ '2'..='7' => digit as u32 - '2' as u32 + 26,
                _ => return None,
            };
            buffer = (buffer << 5) | value;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        <[u8; SECRET_BYTES]>::try_from(bytes).ok().map(TotpSecret)
    }

    /// The secret as authenticator apps take it typed in: base32, no padding.
    pub fn to_base32(&self) -> String {
        base32(&self.0)
    }

    /// The `otpauth://` URI an app reads from a QR code, naming the issuer and the account.
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> String {
        let label = format!("{}:{}", percent_encode(issuer), percent_encode(account));
        format!(
            "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            self.to_base32(),
            percent_encode(issuer)
        )
    }

    /// The code of one step.
    pub fn code_at_step(&self, step: i64) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let tag = hmac::sign(&key, &step.to_be_bytes());
        let digest = tag.as_ref();
        // Dynamic truncation (RFC 4226 §5.3).
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let word = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        format!("{:0width$}", word % 10_u32.pow(DIGITS as u32), width = DIGITS)
    }

    /// The step `code` belongs to, if it is the code of the step at `now_ms` or of one
    /// within the tolerance, and later than `last_used_step` (a step is used once). The
    /// newest matching step wins. Every candidate is compared in constant time.
    pub fn accept(&self, code: &str, now_ms: i64, last_used_step: Option<i64>) -> Option<i64> {
        let code = code.trim();
        if code.len() != DIGITS || !code.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let now_step = step_at(now_ms);
        let mut accepted = None;
        for step in (now_step - STEPS_TOLERATED)..=(now_step + STEPS_TOLERATED) {
            let expected = self.code_at_step(step);
            let same = expected.bytes().zip(code.bytes()).fold(0_u8, |acc, (a, b)| acc | (a ^ b));
            if same == 0 && last_used_step.is_none_or(|last| step > last) {
                accepted = Some(step);
            }
        }
        accepted
    }
}

/// The step a moment falls in.
pub fn step_at(now_ms: i64) -> i64 {
    now_ms.div_euclid(STEP_SECONDS * 1000)
}

/// RFC 4648 base32, upper case, without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut text = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        text.push(char::from(ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize]));
    }
    text
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for the URI's label.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(*b"12345678901234567890")
    }

    #[test]
    fn codes_match_the_rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1, the last six of its eight digits.
        let vectors = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ];
        for (seconds, code) in vectors {
            assert_eq!(rfc_secret().code_at_step(step_at(seconds * 1000)), code, "at {seconds}");
        }
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_only_once() {
        let secret = rfc_secret();
        let now_ms = 1_234_567_890_000;
        let step = step_at(now_ms);
        let code = secret.code_at_step(step);
        assert_eq!(secret.accept(&code, now_ms, None), Some(step));
        assert_eq!(secret.accept(&format!(" {code} "), now_ms, None), Some(step));
        assert_eq!(secret.accept(&code, now_ms, Some(step)), None, "used already");
        assert_eq!(secret.accept(&code, now_ms, Some(step + 5)), None, "a later one was used");
        // The phone 30 seconds behind or ahead.
        assert_eq!(secret.accept(&secret.code_at_step(step - 1), now_ms, None), Some(step - 1));
        assert_eq!(secret.accept(&secret.code_at_step(step + 1), now_ms, None), Some(step + 1));
        assert_eq!(secret.accept(&secret.code_at_step(step - 2), now_ms, None), None);
        assert_eq!(secret.accept(&secret.code_at_step(step + 2), now_ms, None), None);
        for bad in ["", "12345", "1234567", "abcdef", "12 456", "１２３４５６"] {
            assert_eq!(secret.accept(bad, now_ms, None), None, "{bad:?}");
        }
        assert_eq!(TotpSecret::generate().accept(&code, now_ms, None), None);
    }

    #[test]
    fn the_secret_is_given_as_base32_in_an_otpauth_uri() {
        assert_eq!(rfc_secret().to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let secret = TotpSecret::generate();
        assert_eq!(TotpSecret::from_base32(&secret.to_base32()), Some(secret.clone()));
        let spaced = secret.to_base32().to_lowercase().replace("", " ");
        assert_eq!(TotpSecret::from_base32(&spaced), Some(secret));
        assert_eq!(TotpSecret::from_base32("GEZDGNBVGY3TQOJQ"), None, "too short");
        assert_eq!(TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1"), None, "not base32");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        let uri = rfc_secret().provisioning_uri("Tillfund", "li wei@hq");
        assert_eq!(
            uri,
            "otpauth://totp/Tillfund:li%20wei%40hq?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Tillfund&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(format!("{:?}", rfc_secret()), "TotpSecret(…)");
    }
}
