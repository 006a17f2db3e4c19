//! PIN hashing and checking with bounded memory.
//!
//! An argon2id check at the recommended cost needs 19 MiB of working memory. Allocating it
//! per check let the allocator keep the freed blocks in per-thread arenas (glibc raises its
//! mmap threshold after the first large free), and the server grew from 18 MB to 1.4 GB
//! after a hundred checks. Here a fixed number of checks run at once, each on a buffer
//! taken from a pool that never holds more buffers than that, so the memory of PIN checks
//! is at most `concurrent_max` × the cost's memory, reached under load and never exceeded.

use std::sync::Mutex;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand_core::OsRng;
use tillfund_core::PaymentPin;
use tokio::sync::Semaphore;

use crate::credentials::PinHashCost;

#[derive(Debug, thiserror::Error)]
pub enum PinCheckError {
    #[error("the stored PIN hash is unreadable: {0}")]
    StoredHashUnreadable(String),
    #[error("argon2 failed: {0}")]
    Hashing(String),
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// A turn to use the checker; the computation's buffer is taken and returned under it.
pub struct PinPermit<'checker> {
    _permit: tokio::sync::SemaphorePermit<'checker>,
}

pub struct PinChecker {
    permits: Semaphore,
    /// Working memory of finished checks, reused by the next ones. Never longer than the
    /// number of permits, because a buffer is only returned by a check holding a permit.
    buffers: Mutex<Vec<Vec<Block>>>,
    concurrent_max: usize,
    cost: PinHashCost,
}

impl std::fmt::Debug for PinChecker {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PinChecker").field("cost", &self.cost).finish_non_exhaustive()
    }
}

impl PinChecker {
    pub fn new(concurrent_max: usize, cost: PinHashCost) -> PinChecker {
        assert!(concurrent_max > 0, "at least one PIN check must be able to run");
        PinChecker {
            permits: Semaphore::new(concurrent_max),
            buffers: Mutex::new(Vec::with_capacity(concurrent_max)),
            concurrent_max,
            cost,
        }
    }

    /// Waits for a turn to hash or check. The PIN attempt is counted after this (see
    /// `FundService::verify_pin`), so at most `concurrent_max` attempts of this process
    /// are ever in flight, and a customer's own double tap cannot lock the wallet.
    pub async fn permit(&self) -> Result<PinPermit<'_>, PinCheckError> {
        let permit = self.permits.acquire().await.map_err(|_| PinCheckError::ShuttingDown)?;
        Ok(PinPermit { _permit: permit })
    }

    /// A new argon2id PHC string for `pin`, at this checker's cost.
    pub async fn hash(
        &self,
        turn: &PinPermit<'_>,
        pin: PaymentPin,
    ) -> Result<String, PinCheckError> {
        self.hash_secret(turn, pin.expose().as_bytes().to_vec()).await
    }

    /// Whether `pin` matches the stored PHC string; its cost is read from the string.
    pub async fn verify(
        &self,
        turn: &PinPermit<'_>,
        pin: PaymentPin,
        stored: String,
    ) -> Result<bool, PinCheckError> {
        self.verify_secret(turn, pin.expose().as_bytes().to_vec(), stored).await
    }

    /// A new argon2id PHC string for any secret (an operator's password), at this
    /// checker's cost and under the same bound on memory as PINs.
    pub async fn hash_secret(
        &self,
        turn: &PinPermit<'_>,
        secret: Vec<u8>,
    ) -> Result<String, PinCheckError> {
        let params = Params::new(self.cost.memory_kib, self.cost.passes, 1, None)
            .map_err(|error| PinCheckError::Hashing(error.to_string()))?;
        let salt = SaltString::generate(&mut OsRng);
        let salt_text = salt.as_str().to_owned();
        let output = self
            .run(turn, move |memory| {
                let mut salt_bytes = [0_u8; 64];
                let salt_bytes = salt
                    .as_salt()
                    .decode_b64(&mut salt_bytes)
                    .map_err(|error| PinCheckError::Hashing(error.to_string()))?;
                compute(
                    Algorithm::Argon2id,
                    Version::V0x13,
                    &params,
                    &secret,
                    salt_bytes,
                    32,
                    memory,
                )
            })
            .await?;
        let params_text = format!("m={},t={},p=1", self.cost.memory_kib, self.cost.passes);
        let output =
            Output::new(&output).map_err(|error| PinCheckError::Hashing(error.to_string()))?;
        Ok(format!("$argon2id$v=19${params_text}${salt_text}${output}"))
    }

    /// Whether `secret` matches the stored PHC string; its cost is read from the string.
    pub async fn verify_secret(
        &self,
        turn: &PinPermit<'_>,
        secret: Vec<u8>,
        stored: String,
    ) -> Result<bool, PinCheckError> {
        let unreadable =
            |error: &dyn std::fmt::Display| PinCheckError::StoredHashUnreadable(error.to_string());
        let parsed = PasswordHash::new(&stored).map_err(|error| unreadable(&error))?;
        let algorithm =
            Algorithm::try_from(parsed.algorithm).map_err(|error| unreadable(&error))?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|error| unreadable(&error))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(|error| unreadable(&error))?;
        let expected = parsed.hash.ok_or_else(|| unreadable(&"no hash"))?;
        let mut salt_bytes = [0_u8; 64];
        let salt = parsed
            .salt
            .ok_or_else(|| unreadable(&"no salt"))?
            .decode_b64(&mut salt_bytes)
            .map_err(|error| unreadable(&error))?
            .to_vec();
        let expected_bytes = expected.as_bytes().to_vec();
        let output_len = expected_bytes.len();
        let computed = self
            .run(turn, move |memory| {
                compute(algorithm, version, &params, &secret, &salt, output_len, memory)
            })
            .await?;
        // Constant time: no early exit on the first differing byte.
        let difference = computed
            .iter()
            .zip(&expected_bytes)
            .fold(0_u8, |acc, (left, right)| acc | (left ^ right));
        Ok(computed.len() == expected_bytes.len() && difference == 0)
    }

    /// Runs one argon2 computation on a pooled buffer, on the blocking pool, under a permit.
    async fn run(
        &self,
        _turn: &PinPermit<'_>,
        work: impl FnOnce(&mut Vec<Block>) -> Result<Vec<u8>, PinCheckError> + Send + 'static,
    ) -> Result<Vec<u8>, PinCheckError> {
        let mut memory = self.take_buffer();
        let (result, memory) = tokio::task::spawn_blocking(move || {
            let result = work(&mut memory);
            (result, memory)
        })
        .await
        .map_err(|error| PinCheckError::Hashing(error.to_string()))?;
        self.return_buffer(memory);
        result
    }

    fn take_buffer(&self) -> Vec<Block> {
        match self.buffers.lock() {
            Ok(mut buffers) => buffers.pop().unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    fn return_buffer(&self, memory: Vec<Block>) {
        if let Ok(mut buffers) = self.buffers.lock() {
            assert!(buffers.len() < self.concurrent_max, "more buffers than permits");
            buffers.push(memory);
        }
    }
}

fn compute(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    secret: &[u8],
    salt: &[u8],
    output_len: usize,
    memory: &mut Vec<Block>,
) -> Result<Vec<u8>, PinCheckError> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let params = Params::new(params.m_cost(), params.t_cost(), params.p_cost(), Some(output_len))
        .map_err(|error| PinCheckError::Hashing(error.to_string()))?;
    let mut output = vec![0_u8; output_len];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(secret, salt, &mut output, &mut memory[..blocks])
        .map_err(|error| PinCheckError::Hashing(error.to_string()))?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    const CHEAP: PinHashCost = PinHashCost { memory_kib: 64, passes: 1 };

    #[tokio::test]
    async fn hashes_verify_here_and_with_the_argon2_crate() {
        let checker = PinChecker::new(2, CHEAP);
        let pin = PaymentPin::parse("123456").unwrap();
        let turn = checker.permit().await.unwrap();
        let hash = checker.hash(&turn, pin.clone()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(checker.verify(&turn, pin.clone(), hash.clone()).await.unwrap());
        let wrong = PaymentPin::parse("654321").unwrap();
        assert!(!checker.verify(&turn, wrong, hash.clone()).await.unwrap());
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default().verify_password(b"123456", &parsed).is_ok());
        // A hash made by the argon2 crate (the stored PINs of earlier versions) verifies too.
        let older = crate::credentials::hash_pin_with(&pin, CHEAP).unwrap();
        assert!(checker.verify(&turn, pin.clone(), older).await.unwrap());
        assert!(checker.verify(&turn, pin, "garbage".into()).await.is_err());
    }

    #[tokio::test]
    async fn the_buffer_pool_never_holds_more_than_the_permits() {
        let checker = std::sync::Arc::new(PinChecker::new(3, CHEAP));
        let turn = checker.permit().await.unwrap();
        let hash = checker.hash(&turn, PaymentPin::parse("123456").unwrap()).await.unwrap();
        drop(turn);
        let checks: Vec<_> = (0..20)
            .map(|_| {
                let checker = checker.clone();
                let hash = hash.clone();
                tokio::spawn(async move {
                    let turn = checker.permit().await.unwrap();
                    checker.verify(&turn, PaymentPin::parse("111111").unwrap(), hash).await.unwrap()
                })
            })
            .collect();
        for check in checks {
            assert!(!check.await.unwrap());
        }
        assert!(checker.buffers.lock().unwrap().len() <= 3);
    }
}
