//! The time the product reads. In production the system clock; in tests and the simulator
//! a manual clock that moves only when told to, so that a day's end, a skewed counter or a
//! replayed run is a value, not a wait. The one place in this crate that reads the system
//! (its time), so that every other reader of time can be given another.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A clock in Unix milliseconds. Clones share their offset: advancing one advances all.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock (plus the offset). `Some(start)`: a manual clock at
    /// `start` plus the offset, which moves only by `advance`.
    manual_start_ms: Option<i64>,
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock standing at `start_ms` until advanced.
    pub fn manual(start_ms: i64) -> Clock {
        Clock { manual_start_ms: Some(start_ms), offset_ms: Arc::default() }
    }

    pub fn now_ms(&self) -> i64 {
        self.manual_start_ms
            .unwrap_or_else(system_now_ms)
            .saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward, or back with a negative value.
    pub fn advance(&self, milliseconds: i64) {
        self.offset_ms.fetch_add(milliseconds, Ordering::Relaxed);
    }
}

/// The system clock, for places with no `Clock` at hand (a CLI's messages).
pub fn system_now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_clones_move_together() {
        let clock = Clock::manual(1_000);
        let clone = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        clone.advance(250);
        assert_eq!(clock.now_ms(), 1_250);
        clock.advance(-50);
        assert_eq!(clone.now_ms(), 1_200);
    }

    #[test]
    fn the_system_clock_follows_the_system_plus_its_offset() {
        let clock = Clock::system();
        clock.advance(86_400_000);
        let ahead = clock.now_ms() - system_now_ms();
        assert!((86_399_000..=86_400_000).contains(&ahead), "{ahead}");
    }
}
