//! The payment token in the counter's QR code, and the confirmation code the customer sees.
//!
//! A counter makes the token offline: it names merchant, terminal, order, amount, currency
//! and expiry, and is signed with the terminal's key. The server verifies it with the same
//! key. The token is compact binary in base64url so the QR code stays small enough to scan
//! from a receipt: 1 version byte, 3 × 16 bytes of ids, 8 bytes of amount, 3 bytes of
//! currency code, 8 bytes of expiry, then a 16-byte truncated HMAC-SHA256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::protocol::ErrorCode;
use crate::signing::TerminalKey;
use crate::{MerchantId, OrderId, PositiveAmount, TerminalId};

const TOKEN_VERSION: u8 = 1;
const CLAIMS_LENGTH: usize = 1 + 16 * 3 + 8 + 3 + 8;
const MAC_LENGTH: usize = 16;
const TOKEN_LENGTH: usize = CLAIMS_LENGTH + MAC_LENGTH;
/// Base64 text longer than this cannot be a token; refuse it before decoding.
const TOKEN_TEXT_LENGTH_MAX: usize = 200;
/// Domain separation: a token MAC can never be mistaken for a confirmation code or a request.
const TOKEN_CONTEXT: &[u8] = b"tillfund-payment-token-v1";
const CONFIRMATION_CONTEXT: &[u8] = b"tillfund-confirmation-v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the payment code is damaged or not a Tillfund payment code")]
    Malformed,
    #[error("the payment code was not signed by this store's counter")]
    BadSignature,
    #[error("the payment code has expired; ask the cashier for a new one")]
    Expired,
    #[error("the payment code claims to be valid for longer than any counter makes them")]
    ExpiryTooFar,
}

/// The longest a payment code may be valid for, counted from the server's clock. Counters
/// make codes valid for minutes; a code that claims more was not made by a working counter,
/// and honouring it would keep an order open (and its code payable) indefinitely.
pub const TOKEN_VALIDITY_MS_MAX: i64 = 60 * 60 * 1000;

impl TokenError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::Malformed => ErrorCode::TokenMalformed,
            TokenError::BadSignature => ErrorCode::TokenBadSignature,
            TokenError::Expired => ErrorCode::TokenExpired,
            TokenError::ExpiryTooFar => ErrorCode::TokenExpiryTooFar,
        }
    }
}

/// What a payment token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentClaims {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub order_id: OrderId,
    pub amount: PositiveAmount,
    /// ISO 4217 code.
    pub currency: String,
    pub expires_at_ms: i64,
}

impl PaymentClaims {
    fn to_bytes(&self) -> [u8; CLAIMS_LENGTH] {
        let mut bytes = [0_u8; CLAIMS_LENGTH];
        bytes[0] = TOKEN_VERSION;
        bytes[1..17].copy_from_slice(self.merchant_id.as_uuid().as_bytes());
        bytes[17..33].copy_from_slice(self.terminal_id.as_uuid().as_bytes());
        bytes[33..49].copy_from_slice(self.order_id.as_uuid().as_bytes());
        bytes[49..57].copy_from_slice(&self.amount.amount().minor_units().to_be_bytes());
        let currency = self.currency.as_bytes();
        for (index, slot) in bytes[57..60].iter_mut().enumerate() {
            *slot = currency.get(index).copied().unwrap_or(b' ');
        }
        bytes[60..68].copy_from_slice(&self.expires_at_ms.to_be_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Result<PaymentClaims, TokenError> {
        if bytes.len() != CLAIMS_LENGTH || bytes[0] != TOKEN_VERSION {
            return Err(TokenError::Malformed);
        }
        let uuid = |range: std::ops::Range<usize>| {
            let array: [u8; 16] = bytes[range].try_into().map_err(|_| TokenError::Malformed)?;
            Ok::<_, TokenError>(uuid::Uuid::from_bytes(array))
        };
        let integer = |range: std::ops::Range<usize>| {
            let array: [u8; 8] = bytes[range].try_into().map_err(|_| TokenError::Malformed)?;
            Ok::<_, TokenError>(i64::from_be_bytes(array))
        };
        let amount =
            PositiveAmount::try_from(integer(49..57)?).map_err(|_| TokenError::Malformed)?;
        let currency = std::str::from_utf8(&bytes[57..60])
            .map_err(|_| TokenError::Malformed)?
            .trim_end()
            .to_owned();
        Ok(PaymentClaims {
            merchant_id: MerchantId::from_uuid(uuid(1..17)?),
            terminal_id: TerminalId::from_uuid(uuid(17..33)?),
            order_id: OrderId::from_uuid(uuid(33..49)?),
            amount,
            currency,
            expires_at_ms: integer(60..68)?,
        })
    }

    /// Signs the claims into the token text that goes into the QR code.
    pub fn sign(&self, key: &TerminalKey) -> String {
        let claims = self.to_bytes();
        let mac = key.mac(&[TOKEN_CONTEXT, &claims]);
        let mut token = Vec::with_capacity(TOKEN_LENGTH);
        token.extend_from_slice(&claims);
        token.extend_from_slice(&mac[..MAC_LENGTH]);
        URL_SAFE_NO_PAD.encode(token)
    }

    /// The short code the customer's screen shows once this order is paid. Whoever holds
    /// the terminal key can derive it, so the counter checks it with no network.
    pub fn confirmation_code(&self, key: &TerminalKey) -> String {
        confirmation_code(key, self.order_id, self.amount)
    }
}

/// Six digits derived from the order and amount with the terminal's key.
pub fn confirmation_code(key: &TerminalKey, order_id: OrderId, amount: PositiveAmount) -> String {
    let mac = key.mac(&[
        CONFIRMATION_CONTEXT,
        order_id.as_uuid().as_bytes(),
        &amount.amount().minor_units().to_be_bytes(),
    ]);
    let number = u32::from_be_bytes([mac[0], mac[1], mac[2], mac[3]]) % 1_000_000;
    format!("{number:06}")
}

/// The token's bytes, as pay by sound sends them (84 bytes rather than 112 characters):
/// length and version checked, the signature not (the server checks it when the phone
/// opens the pay page with [`token_text`] of what it heard).
pub fn token_bytes(text: &str) -> Result<Vec<u8>, TokenError> {
    if text.len() > TOKEN_TEXT_LENGTH_MAX {
        return Err(TokenError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| TokenError::Malformed)?;
    if bytes.len() != TOKEN_LENGTH || bytes[0] != TOKEN_VERSION {
        return Err(TokenError::Malformed);
    }
    Ok(bytes)
}

/// The token text for bytes heard: what [`UnverifiedToken::parse`] reads.
pub fn token_text(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token read from text whose signature has not been checked yet: the server reads the
/// terminal id from it to find the key, then calls [`UnverifiedToken::verify`].
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    claims: PaymentClaims,
    claims_bytes: [u8; CLAIMS_LENGTH],
    mac: [u8; MAC_LENGTH],
}

impl UnverifiedToken {
    pub fn parse(text: &str) -> Result<UnverifiedToken, TokenError> {
        let bytes = token_bytes(text)?;
        let claims_bytes: [u8; CLAIMS_LENGTH] =
            bytes[..CLAIMS_LENGTH].try_into().map_err(|_| TokenError::Malformed)?;
        let mac: [u8; MAC_LENGTH] =
            bytes[CLAIMS_LENGTH..].try_into().map_err(|_| TokenError::Malformed)?;
        let claims = PaymentClaims::from_bytes(&claims_bytes)?;
        Ok(UnverifiedToken { claims, claims_bytes, mac })
    }

    pub fn terminal_id(&self) -> TerminalId {
        self.claims.terminal_id
    }

    /// Checks the signature and the expiry; only then are the claims handed out.
    pub fn verify(self, key: &TerminalKey, now_ms: i64) -> Result<PaymentClaims, TokenError> {
        let claims = self.verify_signature(key)?;
        if now_ms >= claims.expires_at_ms {
            return Err(TokenError::Expired);
        }
        if claims.expires_at_ms - now_ms > TOKEN_VALIDITY_MS_MAX {
            return Err(TokenError::ExpiryTooFar);
        }
        Ok(claims)
    }

    /// Checks the signature only: for showing what an order was (an expired one included),
    /// never for paying it.
    pub fn verify_signature(self, key: &TerminalKey) -> Result<PaymentClaims, TokenError> {
        let expected = key.mac(&[TOKEN_CONTEXT, &self.claims_bytes]);
        // Constant-time comparison of the truncated MAC.
        let difference = expected[..MAC_LENGTH]
            .iter()
            .zip(self.mac.iter())
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b));
        if difference != 0 {
            return Err(TokenError::BadSignature);
        }
        Ok(self.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn claims() -> PaymentClaims {
        PaymentClaims {
            // Fixed ids keep the "codes differ" assertions deterministic.
            merchant_id: "0192f000-0000-7000-8000-000000000001".parse().unwrap(),
            terminal_id: "0192f000-0000-7000-8000-000000000002".parse().unwrap(),
            order_id: "0192f000-0000-7000-8000-000000000003".parse().unwrap(),
            amount: PositiveAmount::parse("38.50", Currency::CNY).unwrap(),
            currency: "CNY".to_owned(),
            expires_at_ms: 1_700_000_300_000,
        }
    }

    fn key(byte: u8) -> TerminalKey {
        TerminalKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_signed_token_round_trips_and_is_short() {
        let claims = claims();
        let token = claims.sign(&key(1));
        assert_eq!(token.len(), 112);
        let parsed = UnverifiedToken::parse(&token).unwrap();
        assert_eq!(parsed.terminal_id(), claims.terminal_id);
        assert_eq!(parsed.verify(&key(1), 1_700_000_000_000).unwrap(), claims);
    }

    #[test]
    fn a_token_from_another_key_or_altered_is_refused() {
        let token = claims().sign(&key(1));
        let parsed = UnverifiedToken::parse(&token).unwrap();
        assert_eq!(parsed.verify(&key(2), 0), Err(TokenError::BadSignature));
        // Flip one character of the amount region.
        let mut altered = token.into_bytes();
        altered[70] = if altered[70] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        match UnverifiedToken::parse(&altered) {
            Ok(parsed) => assert!(parsed.verify(&key(1), 0).is_err()),
            Err(error) => assert_eq!(error, TokenError::Malformed),
        }
    }

    /// Pay by sound's promise: whatever a misheard burst turns into, it pays nothing. Every
    /// single-bit error and a spread of multi-byte errors fail the signature or the parse.
    #[test]
    fn every_corruption_of_a_token_fails_its_signature() {
        let token = claims().sign(&key(1));
        let bytes = token_bytes(&token).unwrap();
        assert_eq!(bytes.len(), TOKEN_LENGTH);
        assert_eq!(token_text(&bytes), token);
        let refused = |bytes: &[u8]| match UnverifiedToken::parse(&token_text(bytes)) {
            Ok(parsed) => parsed.verify_signature(&key(1)).is_err(),
            Err(error) => error == TokenError::Malformed,
        };
        for bit in 0..TOKEN_LENGTH * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(refused(&flipped), "bit {bit} flipped was accepted");
        }
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..5_000 {
            let mut damaged = bytes.clone();
            for _ in 0..1 + state % 6 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let position = (state % TOKEN_LENGTH as u64) as usize;
                damaged[position] ^= ((state >> 32) as u8).max(1);
            }
            // Two errors on one byte can cancel out: that is the token itself.
            if damaged != bytes {
                assert!(refused(&damaged), "{damaged:?} was accepted");
            }
        }
        // Shorter or longer than a token: refused before any signature is looked at.
        assert!(refused(&bytes[..TOKEN_LENGTH - 1]));
        assert!(refused(&[bytes.as_slice(), &[0]].concat()));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let claims = claims();
        let parsed = UnverifiedToken::parse(&claims.sign(&key(1))).unwrap();
        assert_eq!(parsed.verify(&key(1), claims.expires_at_ms), Err(TokenError::Expired));
        let far = PaymentClaims { expires_at_ms: i64::MAX, ..claims.clone() };
        let parsed = UnverifiedToken::parse(&far.sign(&key(1))).unwrap();
        assert_eq!(parsed.verify(&key(1), 0), Err(TokenError::ExpiryTooFar));
    }

    #[test]
    fn garbage_is_malformed() {
        for text in ["", "abc", "!!!!", &"A".repeat(112), &"A".repeat(300)] {
            assert_eq!(UnverifiedToken::parse(text).unwrap_err(), TokenError::Malformed, "{text}");
        }
    }

    #[test]
    fn confirmation_codes_are_six_digits_and_depend_on_key_order_and_amount() {
        let claims = claims();
        let code = claims.confirmation_code(&key(1));
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|byte| byte.is_ascii_digit()));
        assert_eq!(code, confirmation_code(&key(1), claims.order_id, claims.amount));
        assert_ne!(code, claims.confirmation_code(&key(2)));
        let other_amount = PositiveAmount::parse("38.51", Currency::CNY).unwrap();
        assert_ne!(code, confirmation_code(&key(1), claims.order_id, other_amount));
    }
}
