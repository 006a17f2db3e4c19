//! How the counter's requests reach the fund server: over HTTP in the app, or through a
//! `Transport` the caller provides (the simulator delivers them in process, dropping,
//! duplicating and delaying them as its seed says). Everything above this line (signing,
//! reading answers, what a lost answer means) is the same code either way.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tillfund_core::clock::Clock;
use tillfund_core::ids::IdSource;

/// One request as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The answer as it came back: status and body, unread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Asked at every commit of the counter's database: `false` turns the commit into a
/// rollback. The simulator's way to stop a counter between two writes, as a crash would.
pub type CommitGate = Arc<dyn Fn() -> bool + Send + Sync>;

pub type WireFuture<'a> = Pin<Box<dyn Future<Output = Result<WireAnswer, String>> + Send + 'a>>;

/// Carries a request to the server and its answer back. `Err` is "no answer" (refused,
/// dropped, timed out): the caller cannot tell whether the server applied it.
pub trait Transport: Send + Sync {
    fn exchange(&self, base_url: &str, request: WireRequest) -> WireFuture<'_>;
}

/// What a counter reads from its surroundings: time, new ids, and the way to the server.
/// `CounterEnv::system()` in the app; the simulator gives each counter its own.
#[derive(Clone, Default)]
pub struct CounterEnv {
    pub clock: Clock,
    pub ids: IdSource,
    /// `None`: HTTP with reqwest.
    pub transport: Option<Arc<dyn Transport>>,
    /// Off everywhere but in the simulator's deliberately broken runs.
    pub sim_bugs: crate::sim_bugs::CounterSimBugs,
    /// `None`: every commit commits.
    pub commit_gate: Option<CommitGate>,
}

impl CounterEnv {
    pub fn system() -> CounterEnv {
        CounterEnv::default()
    }
}

impl fmt::Debug for CounterEnv {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CounterEnv")
            .field("clock", &self.clock)
            .field("transport", &self.transport.as_ref().map_or("http", |_| "custom"))
            .field("commit_gate", &self.commit_gate.is_some())
            .finish_non_exhaustive()
    }
}
