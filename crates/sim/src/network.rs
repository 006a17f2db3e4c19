//! The simulated network between the counters, the customers' phones and the fund server.
//! Requests are handed to the server's router in process (no socket); each one's fate is
//! drawn from the seed: delivered, dropped, delivered with its answer lost, delivered
//! twice, or held back and delivered later (after other requests: reordered). A partition
//! drops everything an actor sends until it heals.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use counter_core::transport::{Transport, WireAnswer, WireFuture, WireRequest};
use tower::ServiceExt;

use crate::faults::CrashSwitch;
use crate::rng::Rng;
use crate::trace::Trace;

/// Per mille of requests each fault hits, drawn per seed (some seeds are calm, some rough).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultRates {
    pub drop: u32,
    pub lose_answer: u32,
    pub duplicate: u32,
    pub delay: u32,
}

impl FaultRates {
    pub const CALM: FaultRates = FaultRates { drop: 0, lose_answer: 0, duplicate: 0, delay: 0 };

    pub fn draw(rng: &mut Rng) -> FaultRates {
        // A quarter of the seeds run with no network faults at all: the happy path too.
        if rng.chance(250) {
            return FaultRates::CALM;
        }
        let mut rate = || u32::try_from(rng.below(80)).unwrap_or(0);
        FaultRates { drop: rate(), lose_answer: rate(), duplicate: rate(), delay: rate() }
    }
}

/// Largest body read back from the server; the API's answers are far smaller.
const ANSWER_BYTES_MAX: usize = 8 << 20;
/// Requests held back at once; past it, a delayed request is dropped instead.
const LATE_MAX: usize = 64;

struct NetworkState {
    rng: Rng,
    rates: FaultRates,
    /// Requests held back, with who sent them: delivered later, their answers lost.
    late: Vec<(String, WireRequest)>,
    partitioned: BTreeSet<String>,
    /// Answers with a 5xx status other than a deferral: every one is an invariant failure.
    server_errors: Vec<String>,
}

pub struct Network {
    state: Mutex<NetworkState>,
    router: Mutex<Option<Router>>,
    trace: Trace,
    /// The server process's fate: dead, it answers nothing until restarted.
    server_crash: Arc<CrashSwitch>,
}

enum Fate {
    Deliver,
    Drop,
    LoseAnswer,
    Duplicate { second_answer: bool },
    Delay,
}

impl Network {
    pub fn new(
        rng: Rng,
        rates: FaultRates,
        trace: Trace,
        server_crash: Arc<CrashSwitch>,
    ) -> Arc<Network> {
        Arc::new(Network {
            state: Mutex::new(NetworkState {
                rng,
                rates,
                late: Vec::new(),
                partitioned: BTreeSet::new(),
                server_errors: Vec::new(),
            }),
            router: Mutex::new(None),
            trace,
            server_crash,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, NetworkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The server that answers from now on (a restarted server brings a new one).
    pub fn set_server(&self, router: Option<Router>) {
        *self.router.lock().unwrap_or_else(PoisonError::into_inner) = router;
    }

    pub fn set_rates(&self, rates: FaultRates) {
        self.state().rates = rates;
    }

    pub fn rates(&self) -> FaultRates {
        self.state().rates
    }

    pub fn partition(&self, actor: &str) {
        self.state().partitioned.insert(actor.to_owned());
    }

    pub fn heal(&self, actor: &str) {
        self.state().partitioned.remove(actor);
    }

    pub fn heal_all(&self) {
        self.state().partitioned.clear();
    }

    pub fn is_partitioned(&self, actor: &str) -> bool {
        self.state().partitioned.contains(actor)
    }

    pub fn late_count(&self) -> usize {
        self.state().late.len()
    }

    pub fn take_server_errors(&self) -> Vec<String> {
        std::mem::take(&mut self.state().server_errors)
    }

    /// Delivers one held-back request (drawn from those waiting); its answer is lost, as
    /// its sender gave up on it long ago.
    pub async fn deliver_one_late(&self) -> bool {
        let taken = {
            let mut state = self.state();
            if state.late.is_empty() {
                None
            } else {
                let waiting = state.late.len();
                let index = state.rng.index(waiting);
                Some(state.late.remove(index))
            }
        };
        let Some((from, request)) = taken else { return false };
        let status = self
            .to_server(&request)
            .await
            .map_or_else(|_| "down".to_owned(), |a| a.status.to_string());
        self.trace.push(format!(
            "  net {from} {} {} late copy delivered -> {status}",
            request.method,
            shown_path(&request.path_and_query)
        ));
        true
    }

    /// Sends `request` from `from` as the seed says.
    pub async fn exchange(&self, from: &str, request: WireRequest) -> Result<WireAnswer, String> {
        let fate = {
            let mut state = self.state();
            if state.partitioned.contains(from) {
                Fate::Drop
            } else {
                let rates = state.rates;
                let draw = u32::try_from(state.rng.below(1_000)).unwrap_or(0);
                let mut bound = rates.drop;
                if draw < bound {
                    Fate::Drop
                } else if draw < {
                    bound += rates.lose_answer;
                    bound
                } {
                    Fate::LoseAnswer
                } else if draw < {
                    bound += rates.duplicate;
                    bound
                } {
                    Fate::Duplicate { second_answer: state.rng.chance(500) }
                } else if draw < bound + rates.delay && state.late.len() < LATE_MAX {
                    Fate::Delay
                } else {
                    Fate::Deliver
                }
            }
        };
        let shown = format!("{} {}", request.method, shown_path(&request.path_and_query));
        match fate {
            Fate::Drop => {
                self.trace.push(format!("  net {from} {shown} dropped"));
                Err("dropped".to_owned())
            }
            Fate::Delay => {
                self.trace.push(format!("  net {from} {shown} held back"));
                self.state().late.push((from.to_owned(), request));
                Err("timed out".to_owned())
            }
            Fate::Deliver => {
                let answer = self.to_server(&request).await?;
                self.trace.push(format!("  net {from} {shown} -> {}", answer.status));
                Ok(answer)
            }
            Fate::LoseAnswer => {
                let answer = self.to_server(&request).await?;
                self.trace.push(format!("  net {from} {shown} -> {} answer lost", answer.status));
                Err("answer lost".to_owned())
            }
            Fate::Duplicate { second_answer } => {
                let first = self.to_server(&request).await?;
                let second = self.to_server(&request).await?;
                let (kept, which) =
                    if second_answer { (second, "second") } else { (first, "first") };
                self.trace.push(format!(
                    "  net {from} {shown} sent twice -> {} ({which} answer)",
                    kept.status
                ));
                Ok(kept)
            }
        }
    }

    async fn to_server(&self, request: &WireRequest) -> Result<WireAnswer, String> {
        let router = self.router.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(router) = router else { return Err("server down".to_owned()) };
        if self.server_crash.is_dead() {
            return Err("server down".to_owned());
        }
        let mut builder =
            axum::http::Request::builder().method(request.method).uri(&request.path_and_query);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut http_request =
            builder.body(Body::from(request.body.clone())).map_err(|error| error.to_string())?;
        http_request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 40_000))));
        let response = match router.oneshot(http_request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), ANSWER_BYTES_MAX)
            .await
            .map_err(|error| error.to_string())?
            .to_vec();
        // The server died while handling it (a commit of its batch rolled back): the
        // process is gone, so is its answer.
        if self.server_crash.is_dead() {
            self.trace.push("  server died in the middle of a batch".to_owned());
            return Err("server died".to_owned());
        }
        // A deferral (the reserve or the service account cannot cover it now: 503 with its
        // code) is an answer; any other 5xx is a failure of the server.
        let deferred = status == 503
            && serde_json::from_slice::<tillfund_core::protocol::ErrorBody>(&body).is_ok_and(
                |error| {
                    matches!(error.code.as_str(), "service_insufficient" | "reserve_insufficient")
                },
            );
        if status >= 500 && !deferred {
            self.state().server_errors.push(format!(
                "{} {} answered {status}: {}",
                request.method,
                shown_path(&request.path_and_query),
                String::from_utf8_lossy(&body).chars().take(300).collect::<String>()
            ));
        }
        Ok(WireAnswer { status, body })
    }
}

/// The path as the trace shows it: without the query (its cursors are shown elsewhere).
fn shown_path(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or(path_and_query)
}

/// One counter's end of the network: what its client sends through. A dead process
/// sends nothing.
pub struct Link {
    pub from: String,
    pub network: Arc<Network>,
    pub crash: Arc<CrashSwitch>,
}

impl Transport for Link {
    fn exchange(&self, _base_url: &str, request: WireRequest) -> WireFuture<'_> {
        if self.crash.is_dead() {
            self.network.trace.push(format!(
                "  net {} {} {} not sent: the process is dead",
                self.from,
                request.method,
                shown_path(&request.path_and_query)
            ));
            return Box::pin(async { Err("the process is dead".to_owned()) });
        }
        Box::pin(self.network.exchange(&self.from, request))
    }
}
