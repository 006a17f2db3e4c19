//! Counters: activation codes, enrolment by key agreement, sealed keys, and the check of
//! every signed request (signature, clock, nonce).

use super::*;
use crate::store::Storage;
use tillfund_core::protocol::ReplacedTerminal;

/// How long an activation code stays usable: long enough to walk it to the counter and type
/// it in, short enough that a code on a forgotten sticky note is dead by the next shift.
pub const ACTIVATION_CODE_TTL_MS: i64 = 2 * 60 * 60 * 1000;

/// Signed requests between two purges of expired nonces.
pub(super) const NONCE_PURGE_EVERY: u64 = 256;

#[derive(Debug, Clone)]
pub struct Enrolment {
    pub terminal: Terminal,
    pub merchant: Merchant,
    /// The server's half of the key agreement; the counter derives the key from it.
    pub server_public_key: String,
}

/// The terminal behind a correctly signed request.
#[derive(Debug, Clone)]
pub struct AuthenticatedTerminal {
    pub terminal: Terminal,
    pub key: TerminalKey,
}

/// A counter request as it arrived: header values as sent, unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest<'a> {
    pub terminal_id: &'a str,
    pub timestamp_ms: &'a str,
    pub nonce: &'a str,
    pub signature: &'a str,
    /// Empty when the request has none.
    pub idempotency_key: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
    /// The app's version as the counter says (unsigned; shown to operators only).
    pub app_version: &'a str,
}

/// A counter's last contact is written at most this often.
const SEEN_RESOLUTION_MS: i64 = 60_000;
/// The longest app version kept.
const APP_VERSION_CHARS_MAX: usize = 32;

/// Activation codes: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
/// in groups of four, e.g. `K7MQ-4XRT-9PWD`; about 60 bits.
pub(super) fn random_activation_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = [0_u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let characters: Vec<char> = bytes
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect();
    characters.chunks(4).map(|chunk| chunk.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

impl<S: Storage> FundService<S> {
    pub async fn create_activation_code(
        &self,
        merchant_id: MerchantId,
    ) -> Result<(String, i64), ServiceError> {
        let code = random_activation_code();
        let now = self.store.clock().now_ms();
        let expires_at_ms = now + self.config.activation_code_ttl_ms;
        if !self.store.add_activation_code(merchant_id, &code, now, expires_at_ms).await? {
            return Err(ServiceError::new(
                ErrorCode::MerchantUnknown,
                format!("There is no store with id {merchant_id}."),
            ));
        }
        Ok((code, expires_at_ms))
    }

    /// Revokes a counter's enrolment: its signed requests are refused from now on.
    pub async fn revoke_terminal(&self, terminal_id: TerminalId) -> Result<(), ServiceError> {
        if !self.store.revoke_terminal(terminal_id, self.store.clock().now_ms()).await? {
            return Err(ServiceError::new(
                ErrorCode::TerminalUnknown,
                format!("There is no counter {terminal_id}."),
            ));
        }
        Ok(())
    }

    /// Enrols a counter with a one-time activation code by key agreement: the counter
    /// sends its X25519 public key, the server answers with its own, and both derive the
    /// terminal key, which is never sent. The same counter asking again with the same
    /// public key while the code is valid gets the same answer (its first was lost).
    ///
    /// A counter enrolling again names the terminal it was (`replaces`) with a proof under
    /// that terminal's key over this code (trimmed, upper case) and public key; the proof is
    /// checked before the code is used, and the old terminal is revoked in the transaction
    /// that makes the new one (and marked replaced, the first time only). A retry of the
    /// same enrolment must name the same terminal.
    pub async fn enrol(
        &self,
        activation_code: &str,
        label: &str,
        counter_public_key: &str,
        replaces: Option<&ReplacedTerminal>,
    ) -> Result<Enrolment, ServiceError> {
        const CODE_LENGTH_MAX: usize = 32;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(ServiceError::new(
                ErrorCode::LabelInvalid,
                "A counter label is 1 to 100 characters, without control characters.",
            ));
        }
        tillfund_core::enrolment::parse_public_key(counter_public_key).map_err(|_| {
            ServiceError::new(
                ErrorCode::PublicKeyInvalid,
                "The counter's public key is 64 hexadecimal characters (X25519).",
            )
        })?;
        let code = activation_code.trim().to_uppercase();
        if code.len() > CODE_LENGTH_MAX {
            return Err(ServiceError::new(
                ErrorCode::ActivationCodeUnknown,
                "This activation code is not valid; check it with the operator.",
            ));
        }
        if let Some(replaced) = replaces {
            self.check_replacement(replaced, &code, counter_public_key).await?;
        }
        let terminal_id = TerminalId::generate_from(&self.config.ids);
        let (server_public_key, key) =
            tillfund_core::enrolment::server_agree(&terminal_id.to_string(), counter_public_key)
                .map_err(|error| {
                    ServiceError::new(ErrorCode::PublicKeyInvalid, error.to_string())
                })?;
        let sealed = self
            .config
            .secrets_key
            .seal_terminal_key(terminal_id, &key)
            .map_err(|error| internal(error.to_string()))?;
        let now = self.store.clock().now_ms();
        let new_terminal = |merchant_id, receipt_prefix| Terminal {
            id: terminal_id,
            merchant_id,
            label: label.to_owned(),
            receipt_prefix,
            secret: sealed,
            server_public_key: Some(server_public_key),
            enrolled_at_ms: now,
            revoked: false,
            // Set by the store, in the transaction that revokes the terminal replaced.
            replaces: None,
            replaced_by: None,
        };
        let replaced = replaces.map(|replaced| replaced.terminal_id);
        let enrolled =
            self.store.enrol_terminal(&code, counter_public_key, replaced, new_terminal, now);
        match enrolled.await? {
            EnrolOutcome::Enrolled { terminal, merchant } => {
                let server_public_key = terminal.server_public_key.clone().ok_or_else(|| {
                    internal(format!("enrolled terminal {} has no public key", terminal.id))
                })?;
                if let Some(replaced) = replaced {
                    tracing::warn!(
                        %replaced,
                        terminal = %terminal.id,
                        "counter enrolled again; its previous terminal is revoked"
                    );
                }
                Ok(Enrolment { terminal: *terminal, merchant, server_public_key })
            }
            EnrolOutcome::CodeUnknown => Err(ServiceError::new(
                ErrorCode::ActivationCodeUnknown,
                "This activation code is not valid; check it with the operator.",
            )),
            EnrolOutcome::CodeUsed => Err(ServiceError::new(
                ErrorCode::ActivationCodeUsed,
                "This activation code was already used; each code enrols one counter.",
            )),
            EnrolOutcome::CodeExpired => Err(ServiceError::new(
                ErrorCode::ActivationCodeExpired,
                "This activation code has expired; ask the operator for a new one.",
            )),
        }
    }

    /// The enrolling counter holds the key of the terminal it says it replaces. An unknown
    /// terminal and a wrong proof are refused alike (which terminals exist is not told).
    async fn check_replacement(
        &self,
        replaced: &ReplacedTerminal,
        code: &str,
        counter_public_key: &str,
    ) -> Result<(), ServiceError> {
        let unproven = || {
            ServiceError::new(
                ErrorCode::ReplacedTerminalUnproven,
                "The counter this enrolment replaces could not be confirmed: its key did not sign this enrolment.",
            )
        };
        let terminal = self.store.terminal(replaced.terminal_id).await?.ok_or_else(unproven)?;
        let key = self.terminal_key(&terminal)?;
        if !key.verify_replacement_proof(code, counter_public_key, &replaced.proof) {
            return Err(unproven());
        }
        Ok(())
    }

    /// Seals terminal keys stored in plain text by an earlier version, and checks that the
    /// secrets key opens the sealed ones: a wrong key file is refused at start-up, not at
    /// the first request of every counter.
    pub async fn seal_stored_terminal_keys(&self) -> Result<usize, ServiceError> {
        let mut sealed_now = 0;
        for (terminal_id, secret) in self.store.terminal_secrets().await? {
            if is_sealed(&secret) {
                self.config.secrets_key.open_terminal_key(terminal_id, &secret).map_err(
                    |error| {
                        ServiceError::new(
                            ErrorCode::SecretsKeyMismatch,
                            format!("the key of terminal {terminal_id} does not open: {error}"),
                        )
                    },
                )?;
                continue;
            }
            let key = TerminalKey::from_hex(&secret)
                .map_err(|_| internal(format!("terminal {terminal_id} has an unreadable key")))?;
            let sealed = self.seal_terminal_key(terminal_id, &key)?;
            self.store.replace_terminal_secret(terminal_id, &sealed).await?;
            sealed_now += 1;
        }
        Ok(sealed_now)
    }

    /// Seals a terminal key for storage (the demo seed and benchmarks add terminals so).
    pub fn seal_terminal_key(
        &self,
        terminal_id: TerminalId,
        key: &TerminalKey,
    ) -> Result<String, ServiceError> {
        self.config
            .secrets_key
            .seal_terminal_key(terminal_id, key)
            .map_err(|error| internal(error.to_string()))
    }

    pub(super) fn terminal_key(&self, terminal: &Terminal) -> Result<TerminalKey, ServiceError> {
        self.config
            .secrets_key
            .open_terminal_key(terminal.id, &terminal.secret)
            .map_err(|error| internal(format!("terminal {}: {error}", terminal.id)))
    }

    /// Checks a counter request: its terminal, its clock against the server's, its
    /// signature over every field that changes its meaning, and that its nonce is new. Each
    /// signed request is accepted once; the same bytes sent again are refused.
    pub async fn authenticate_terminal(
        &self,
        request: SignedRequest<'_>,
    ) -> Result<AuthenticatedTerminal, ServiceError> {
        let unauthenticated = |code: ErrorCode, message: &str| ServiceError::new(code, message);
        let fields = SignedFields::parse(request.terminal_id, request.timestamp_ms, request.nonce)
            .map_err(|error| unauthenticated(ErrorCode::SignatureMissing, &error.to_string()))?;
        let (terminal_id, timestamp_ms) = (fields.terminal_id, fields.timestamp_ms);
        let now = self.store.clock().now_ms();
        // abs_diff: any i64 the client sends, i64::MIN included, is compared without overflow.
        if now.abs_diff(timestamp_ms) > self.config.request_skew_ms.unsigned_abs() {
            return Err(unauthenticated(
                ErrorCode::ClockSkew,
                "The counter's clock is too far from the server's; set the time and retry.",
            ));
        }
        let terminal = self.active_terminal(terminal_id).await?;
        let key = self.terminal_key(&terminal)?;
        let to_verify = RequestToSign {
            method: request.method,
            path_and_query: request.path_and_query,
            terminal_id: request.terminal_id,
            timestamp_ms,
            nonce: request.nonce,
            idempotency_key: request.idempotency_key,
            body: request.body,
        };
        if !key.verify_request(&to_verify, request.signature) {
            return Err(unauthenticated(
                ErrorCode::SignatureInvalid,
                "The request signature does not match.",
            ));
        }
        // Only after the signature: nobody but the counter can spend its nonces. A nonce
        // is kept until its timestamp leaves the skew window, after which the clock check
        // refuses the request anyway.
        let expires_at_ms = timestamp_ms.max(now).saturating_add(self.config.request_skew_ms);
        let count = self.signed_requests.fetch_add(1, Ordering::Relaxed);
        let purge_before = (count % NONCE_PURGE_EVERY == 0).then_some(now);
        if !self
            .store
            .use_request_nonce(terminal_id, request.nonce, expires_at_ms, purge_before)
            .await?
        {
            return Err(unauthenticated(
                ErrorCode::RequestReplayed,
                "This signed request was already received; a counter signs every request anew.",
            ));
        }
        let version: String = request
            .app_version
            .chars()
            .filter(|char| char.is_ascii_graphic())
            .take(APP_VERSION_CHARS_MAX)
            .collect();
        let version = (!version.is_empty()).then_some(version);
        self.store
            .mark_terminal_seen(terminal_id, now, version.as_deref(), SEEN_RESOLUTION_MS)
            .await?;
        Ok(AuthenticatedTerminal { terminal, key })
    }
}
