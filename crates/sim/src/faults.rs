//! Faults inside a counter process: dying at a chosen commit of its database (the commit
//! turned into a rollback, the process sending nothing more), and a clock set wrong.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use counter_core::transport::CommitGate;

/// A counter's fate at its next commits: from the `fail_from`-th commit after arming, every
/// commit rolls back and the process counts as dead (it sends nothing more) until it is
/// restarted. Disarmed, every commit commits.
#[derive(Debug, Default)]
pub struct CrashSwitch {
    commits: AtomicU64,
    fail_from: AtomicU64,
    armed: AtomicBool,
    dead: AtomicBool,
}

impl CrashSwitch {
    pub fn new() -> Arc<CrashSwitch> {
        Arc::new(CrashSwitch::default())
    }

    /// The counter dies at its `commit`-th commit from now (0: the very next one).
    pub fn arm(&self, commit: u64) {
        self.commits.store(0, Ordering::SeqCst);
        self.fail_from.store(commit, Ordering::SeqCst);
        self.dead.store(false, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// After a restart, or when the operation ended before reaching the commit.
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
        self.dead.store(false, Ordering::SeqCst);
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Commits seen since arming.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// The gate the counter's database asks at each commit.
    pub fn gate(self: &Arc<CrashSwitch>) -> CommitGate {
        let switch = self.clone();
        Arc::new(move || {
            if !switch.armed.load(Ordering::SeqCst) {
                return true;
            }
            let commit = switch.commits.fetch_add(1, Ordering::SeqCst);
            if commit >= switch.fail_from.load(Ordering::SeqCst) {
                switch.dead.store(true, Ordering::SeqCst);
                return false;
            }
            !switch.dead.load(Ordering::SeqCst)
        })
    }
}

/// The clock errors a counter may have: none, a minute, under and over the server's five
/// minutes of allowance, a day.
pub const SKEWS_MS: [i64; 9] =
    [0, 60_000, -60_000, 240_000, -240_000, 360_000, -360_000, 86_400_000, -86_400_000];
