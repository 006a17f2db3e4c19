//! Rate limits that every process of a deployment shares: attempts are counted in the
//! database, per limit and per key, in fixed windows. A limit is policy (the HTTP layer
//! says which requests count under which limit); the counting is here.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{FundService, ServiceError, fingerprint};
use crate::store::Storage;

/// Windows that began this long ago are purged; no limit has a longer window.
const ATTEMPT_WINDOW_MS_MAX: i64 = 24 * 60 * 60 * 1000;

/// Attempts between two purges of ended windows.
const ATTEMPT_PURGE_EVERY: u64 = 256;

/// At most `max` attempts per key in each window. The scope names the limit, so the same
/// key (an address) counts separately under each limit.
#[derive(Debug, Clone)]
pub struct AttemptLimit {
    scope: &'static str,
    max: u32,
    window_ms: i64,
}

impl AttemptLimit {
    pub fn new(scope: &'static str, max: u32, window: Duration) -> AttemptLimit {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        assert!(
            window_ms > 0 && window_ms <= ATTEMPT_WINDOW_MS_MAX,
            "a rate-limit window lasts between a millisecond and a day"
        );
        assert!(!scope.is_empty(), "a rate limit has a scope");
        AttemptLimit { scope, max, window_ms }
    }

    /// No limit: counting would be wasted work (load tests and benchmarks).
    pub fn is_unlimited(&self) -> bool {
        self.max == u32::MAX
    }

    pub fn max(&self) -> u32 {
        self.max
    }

    /// The stored key: a hash, so addresses and phone numbers are not kept in clear.
    fn key(&self, what: &str) -> [u8; 32] {
        fingerprint(&[b"tillfund-attempt", self.scope.as_bytes(), what.as_bytes()])
    }
}

impl<S: Storage> FundService<S> {
    /// Counts an attempt under `limit` for `what`; false when `what` has used up the
    /// window (the refused attempt counts too, so hammering does not open it sooner).
    pub async fn allow_attempt(
        &self,
        limit: &AttemptLimit,
        what: &str,
    ) -> Result<bool, ServiceError> {
        if limit.is_unlimited() {
            return Ok(true);
        }
        let now = self.store.clock().now_ms();
        let count = self.attempts_counted.fetch_add(1, Ordering::Relaxed);
        let purge_before =
            (count % ATTEMPT_PURGE_EVERY == 0).then(|| now.saturating_sub(ATTEMPT_WINDOW_MS_MAX));
        let attempts =
            self.store.count_attempt(&limit.key(what), now, limit.window_ms, purge_before).await?;
        Ok(attempts <= u64::from(limit.max))
    }

    /// Whether `what` has used up its window under `limit`, counting nothing: for limits
    /// on failures, checked before trying and counted (`allow_attempt`) only on failure.
    pub async fn attempts_exhausted(
        &self,
        limit: &AttemptLimit,
        what: &str,
    ) -> Result<bool, ServiceError> {
        if limit.is_unlimited() {
            return Ok(false);
        }
        let now = self.store.clock().now_ms();
        let attempts =
            self.store.attempts_in_window(&limit.key(what), now, limit.window_ms).await?;
        Ok(attempts >= u64::from(limit.max))
    }
}
