//! The server's secrets key, and the secrets sealed with it at rest: terminal keys and
//! operators' second-factor secrets.
//!
//! The server must hold each terminal's key to check its HMAC signatures, so a hash will not
//! do. The database keeps every terminal key sealed with ChaCha20-Poly1305 under one secrets
//! key that lives outside the database (a 0600 file, by default beside it; better on another
//! volume or a mounted secret). A copy of the database alone then signs nothing. The terminal
//! id is the associated data, so a sealed key moved to another terminal's row does not open.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use tillfund_core::TerminalId;
use tillfund_core::signing::{TerminalKey, decode_hex, encode_hex};

/// Prefix of a sealed value, naming the scheme so that it can change later.
const SEALED_PREFIX: &str = "sealed-v1:";
const KEY_LENGTH: usize = 32;
const TAG_LENGTH: usize = 16;
/// The longest secret sealed: keys and second-factor secrets are 32 bytes at most.
const SEALED_BYTES_MAX: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the random source failed")]
    RandomUnavailable,
    #[error("the secrets key file {path} is not 64 hexadecimal characters")]
    KeyFileInvalid { path: String },
    #[error("cannot read or create the secrets key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error(
        "a sealed secret does not open with this secrets key (wrong key file, or the row was edited)"
    )]
    SealBroken,
}

/// The key that seals secrets at rest. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretsKey([u8; KEY_LENGTH]);

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SecretsKey(…)")
    }
}

impl SecretsKey {
    /// A fresh random key: for tests and for the first start of a deployment.
    pub fn generate() -> SecretsKey {
        let mut bytes = [0_u8; KEY_LENGTH];
        tillfund_core::random::fill(&mut bytes);
        SecretsKey(bytes)
    }

    /// Reads the key file, or creates it (mode 0600, never overwriting) when `create` is
    /// set and there is none. An existing file is made 0600 if it was readable by others.
    pub fn load_or_create(path: &Path, create: bool) -> Result<SecretsKey, VaultError> {
        let error = |source| VaultError::KeyFile { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                restrict_to_owner(path).map_err(error)?;
                let bytes = decode_hex(text.trim())
                    .and_then(|bytes| <[u8; KEY_LENGTH]>::try_from(bytes).ok())
                    .ok_or_else(|| VaultError::KeyFileInvalid {
                        path: path.display().to_string(),
                    })?;
                Ok(SecretsKey(bytes))
            }
            Err(not_found) if not_found.kind() == std::io::ErrorKind::NotFound && create => {
                let key = SecretsKey::generate();
                if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent).map_err(error)?;
                }
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(error)?;
                file.write_all(format!("{}\n", encode_hex(&key.0)).as_bytes()).map_err(error)?;
                file.sync_all().map_err(error)?;
                Ok(key)
            }
            Err(other) => Err(error(other)),
        }
    }

    fn aead(&self) -> LessSafeKey {
        // CHACHA20_POLY1305 takes exactly 32 bytes, which the type guarantees.
        match UnboundKey::new(&CHACHA20_POLY1305, &self.0) {
            Ok(key) => LessSafeKey::new(key),
            Err(_) => unreachable!("ChaCha20-Poly1305 takes a 32-byte key"),
        }
    }

    pub fn seal_terminal_key(
        &self,
        terminal_id: TerminalId,
        key: &TerminalKey,
    ) -> Result<String, VaultError> {
        self.seal(terminal_id.to_string().as_bytes(), key.expose_bytes())
    }

    pub fn open_terminal_key(
        &self,
        terminal_id: TerminalId,
        sealed: &str,
    ) -> Result<TerminalKey, VaultError> {
        let plain = self.open(terminal_id.to_string().as_bytes(), sealed)?;
        let key: [u8; KEY_LENGTH] = plain.try_into().map_err(|_| VaultError::SealBroken)?;
        Ok(TerminalKey::from_bytes(key))
    }

    /// An HMAC-SHA256 of `parts` (each length-prefixed) under this deployment's key: a
    /// digest of a short secret that a copy of the database alone cannot reverse.
    pub fn keyed_digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let mut context = ring::hmac::Context::with_key(&key);
        for part in parts {
            context.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            context.update(part);
        }
        let mut digest = [0_u8; 32];
        digest.copy_from_slice(context.sign().as_ref());
        digest
    }

    /// Seals `plain` under a fresh nonce; `associated` (whose secret it is) must be given
    /// again to open it, so a sealed value moved to another row does not open.
    pub fn seal(&self, associated: &[u8], plain: &[u8]) -> Result<String, VaultError> {
        assert!(plain.len() <= SEALED_BYTES_MAX, "a sealed secret is a key, not a document");
        let mut nonce = [0_u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| VaultError::RandomUnavailable)?;
        let mut sealed = plain.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated),
                &mut sealed,
            )
            .map_err(|_| VaultError::SealBroken)?;
        let mut text = String::from(SEALED_PREFIX);
        text.push_str(&encode_hex(&nonce));
        text.push_str(&encode_hex(&sealed));
        Ok(text)
    }

    /// Opens what `seal` sealed with the same `associated` data.
    pub fn open(&self, associated: &[u8], sealed: &str) -> Result<Vec<u8>, VaultError> {
        let bytes = sealed
            .strip_prefix(SEALED_PREFIX)
            .filter(|hex| hex.len() <= 2 * (NONCE_LEN + SEALED_BYTES_MAX + TAG_LENGTH))
            .and_then(decode_hex)
            .filter(|bytes| bytes.len() >= NONCE_LEN + TAG_LENGTH)
            .ok_or(VaultError::SealBroken)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::SealBroken)?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .aead()
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(associated), &mut buffer)
            .map_err(|_| VaultError::SealBroken)?;
        Ok(plain.to_vec())
    }
}

/// Whether a stored terminal secret is sealed already (rows from before sealing are plain).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// Makes a file readable and writable by its owner only.
pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_key_and_its_terminal() {
        let vault = SecretsKey::generate();
        let terminal = TerminalId::generate();
        let key = TerminalKey::from_bytes([7; 32]);
        let sealed = vault.seal_terminal_key(terminal, &key).unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains(&key.to_hex()));
        assert_eq!(vault.open_terminal_key(terminal, &sealed).unwrap(), key);
        assert_ne!(sealed, vault.seal_terminal_key(terminal, &key).unwrap(), "fresh nonce");
        let other_vault = SecretsKey::generate();
        assert!(other_vault.open_terminal_key(terminal, &sealed).is_err());
        assert!(vault.open_terminal_key(TerminalId::generate(), &sealed).is_err());
        let mut tampered = sealed.clone();
        let flipped = if tampered.pop() == Some('0') { '1' } else { '0' };
        tampered.push(flipped);
        assert!(vault.open_terminal_key(terminal, &tampered).is_err());
        assert!(vault.open_terminal_key(terminal, &key.to_hex()).is_err());
    }

    #[test]
    fn the_key_file_is_created_once_with_owner_only_access() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("secrets.key");
        assert!(SecretsKey::load_or_create(&path, false).is_err());
        let created = SecretsKey::load_or_create(&path, true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = SecretsKey::load_or_create(&path, true).unwrap();
        assert_eq!(created.0, loaded.0);
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            SecretsKey::load_or_create(&path, true),
            Err(VaultError::KeyFileInvalid { .. })
        ));
    }
}
