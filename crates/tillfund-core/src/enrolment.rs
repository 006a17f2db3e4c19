//! Enrolment key agreement: how a counter and the server come to share a terminal key that
//! never crosses the wire.
//!
//! The counter makes an X25519 key pair and sends its public half with the activation
//! code. The server makes its own pair, answers with its public half, and both derive the
//! terminal key with HKDF-SHA256 over the shared secret, bound to the terminal id and both
//! public keys. Whoever reads the code, the request or the answer learns nothing that
//! signs: only the counter holding the private half can compute the key. A counter whose
//! answer was lost asks again with the same public key and gets the same answer, which is
//! useless to anyone else.

use hkdf::Hkdf;
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use sha2::Sha256;

use crate::signing::{TerminalKey, decode_hex, encode_hex};

/// An X25519 public key is 32 bytes, 64 hexadecimal characters.
pub const PUBLIC_KEY_HEX_LENGTH: usize = 64;
const KEY_DERIVATION_SALT: &[u8] = b"tillfund-enrolment-v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnrolmentKeyError {
    #[error("a public key is 64 hexadecimal characters")]
    PublicKeyInvalid,
    #[error("the key agreement failed (a low-order public key)")]
    AgreementFailed,
    #[error("the random source failed")]
    RandomUnavailable,
}

/// The counter's half of the agreement. Kept in memory until the answer arrives; a retry
/// after a lost answer sends the same public key.
pub struct CounterHandshake {
    private_key: EphemeralPrivateKey,
    public_key: [u8; 32],
}

impl std::fmt::Debug for CounterHandshake {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "CounterHandshake({})", self.public_key_hex())
    }
}

impl CounterHandshake {
    pub fn new() -> Result<CounterHandshake, EnrolmentKeyError> {
        let random = ring::rand::SystemRandom::new();
        let private_key = EphemeralPrivateKey::generate(&X25519, &random)
            .map_err(|_| EnrolmentKeyError::RandomUnavailable)?;
        let public =
            private_key.compute_public_key().map_err(|_| EnrolmentKeyError::RandomUnavailable)?;
        let public_key: [u8; 32] =
            public.as_ref().try_into().map_err(|_| EnrolmentKeyError::AgreementFailed)?;
        Ok(CounterHandshake { private_key, public_key })
    }

    pub fn public_key_hex(&self) -> String {
        encode_hex(&self.public_key)
    }

    /// Derives the terminal key from the server's answer.
    pub fn finish(
        self,
        terminal_id: &str,
        server_public_key_hex: &str,
    ) -> Result<TerminalKey, EnrolmentKeyError> {
        let server_public = parse_public_key(server_public_key_hex)?;
        let counter_public = self.public_key;
        agreement::agree_ephemeral(
            self.private_key,
            &UnparsedPublicKey::new(&X25519, server_public),
            |shared| derive_terminal_key(shared, terminal_id, &counter_public, &server_public),
        )
        .map_err(|_| EnrolmentKeyError::AgreementFailed)
    }
}

/// The server's half: answers a counter's public key with its own and the terminal key.
pub fn server_agree(
    terminal_id: &str,
    counter_public_key_hex: &str,
) -> Result<(String, TerminalKey), EnrolmentKeyError> {
    let counter_public = parse_public_key(counter_public_key_hex)?;
    let handshake = CounterHandshake::new()?;
    let server_public = handshake.public_key;
    let key = agreement::agree_ephemeral(
        handshake.private_key,
        &UnparsedPublicKey::new(&X25519, counter_public),
        |shared| derive_terminal_key(shared, terminal_id, &counter_public, &server_public),
    )
    .map_err(|_| EnrolmentKeyError::AgreementFailed)?;
    Ok((encode_hex(&server_public), key))
}

/// Checks that text is a public key (64 hex characters), without using it.
pub fn parse_public_key(text: &str) -> Result<[u8; 32], EnrolmentKeyError> {
    if text.len() != PUBLIC_KEY_HEX_LENGTH {
        return Err(EnrolmentKeyError::PublicKeyInvalid);
    }
    let bytes = decode_hex(text).ok_or(EnrolmentKeyError::PublicKeyInvalid)?;
    bytes.try_into().map_err(|_| EnrolmentKeyError::PublicKeyInvalid)
}

fn derive_terminal_key(
    shared_secret: &[u8],
    terminal_id: &str,
    counter_public: &[u8; 32],
    server_public: &[u8; 32],
) -> TerminalKey {
    let mut info = Vec::with_capacity(terminal_id.len() + 64);
    info.extend_from_slice(terminal_id.as_bytes());
    info.extend_from_slice(counter_public);
    info.extend_from_slice(server_public);
    let mut key = [0_u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 × 32, so expand cannot fail.
    if Hkdf::<Sha256>::new(Some(KEY_DERIVATION_SALT), shared_secret)
        .expand(&info, &mut key)
        .is_err()
    {
        unreachable!("HKDF-SHA256 expands to 32 bytes");
    }
    TerminalKey::from_bytes(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_derive_the_same_key_and_nobody_else_can() {
        let terminal_id = "0190a0a0-0000-7000-8000-000000000001";
        let counter = CounterHandshake::new().unwrap();
        let (server_public, server_key) =
            server_agree(terminal_id, &counter.public_key_hex()).unwrap();
        let eavesdropper = CounterHandshake::new().unwrap();
        let counter_key = counter.finish(terminal_id, &server_public).unwrap();
        assert_eq!(counter_key, server_key);
        // Someone who saw the code, the request and the answer has only public keys.
        let guessed = eavesdropper.finish(terminal_id, &server_public).unwrap();
        assert_ne!(guessed, server_key);
    }

    #[test]
    fn the_key_is_bound_to_the_terminal_id() {
        let counter = CounterHandshake::new().unwrap();
        let (server_public, server_key) =
            server_agree("terminal-a", &counter.public_key_hex()).unwrap();
        assert_ne!(counter.finish("terminal-b", &server_public).unwrap(), server_key);
    }

    #[test]
    fn malformed_public_keys_are_refused() {
        for text in ["", "ab", &"zz".repeat(32), &"ab".repeat(33)] {
            assert_eq!(server_agree("t", text).unwrap_err(), EnrolmentKeyError::PublicKeyInvalid);
        }
        // The all-zero point is of low order: X25519 refuses it.
        assert_eq!(
            server_agree("t", &"00".repeat(32)).unwrap_err(),
            EnrolmentKeyError::AgreementFailed
        );
    }
}
