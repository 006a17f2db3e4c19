//! Deliberately broken behaviour, for the simulator to prove that it catches what matters
//! (issue #12). The switches exist only with the `sim-bugs` feature, which only the
//! simulator's crate turns on; without it every accessor is `false`.

/// The counter's switches, all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSimBugs {
    /// Outbox entries marked acknowledged when they are sent, before the answer.
    #[cfg(feature = "sim-bugs")]
    pub ack_before_answer: bool,
}

impl CounterSimBugs {
    pub fn ack_before_answer(self) -> bool {
        #[cfg(feature = "sim-bugs")]
        return self.ack_before_answer;
        #[cfg(not(feature = "sim-bugs"))]
        false
    }
}
