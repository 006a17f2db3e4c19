//! Deliberately broken behaviour, for the simulator to prove that it catches what matters
//! (issue #12). The switches exist only with the `sim-bugs` feature, which only the
//! simulator's crate turns on; without it every accessor is `false`, so no build of the
//! server or the app can turn one on, and nothing but the simulator sets them.

/// The server's switches, all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerSimBugs {
    /// Outbox entries keyed by arrival time as well as by id: a resent entry is new.
    #[cfg(feature = "sim-bugs")]
    pub outbox_idempotency_off: bool,
    /// A refund measured against the whole payment, not what is left of it.
    #[cfg(feature = "sim-bugs")]
    pub refund_ignores_refunded: bool,
    /// A close's figures per counter leave the refunds out (the store's total keeps them).
    #[cfg(feature = "sim-bugs")]
    pub counter_parts_skip_refunds: bool,
}

impl ServerSimBugs {
    pub fn outbox_idempotency_off(self) -> bool {
        #[cfg(feature = "sim-bugs")]
        return self.outbox_idempotency_off;
        #[cfg(not(feature = "sim-bugs"))]
        false
    }

    pub fn refund_ignores_refunded(self) -> bool {
        #[cfg(feature = "sim-bugs")]
        return self.refund_ignores_refunded;
        #[cfg(not(feature = "sim-bugs"))]
        false
    }

    pub fn counter_parts_skip_refunds(self) -> bool {
        #[cfg(feature = "sim-bugs")]
        return self.counter_parts_skip_refunds;
        #[cfg(not(feature = "sim-bugs"))]
        false
    }
}
