//! Whether the fund server can be reached, as the cashier sees it.
//!
//! Offline is a normal state of a counter, not an error: this module probes the server's
//! health on a timer and publishes every change of state on a `watch` channel. Whoever shows
//! it (the app's event pump, a test) subscribes to the channel.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tillfund_core::protocol::{HEALTH_PATH, HealthReport, HealthStatus, PROTOCOL_VERSION};
use tokio::sync::watch;

/// How often the server is probed. Together with [`PROBE_TIMEOUT`] this bounds how long a
/// lost connection goes unnoticed: at most interval + timeout.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// A probe that gets no answer within this counts as offline.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// No probe has finished yet.
    Checking,
    Online,
    /// The server answers but reports that its database does not.
    Degraded,
    /// The server answers with a protocol this app does not speak: the app needs an update.
    Incompatible,
    Offline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConnectionStatus {
    pub server_url: String,
    pub state: ConnectionState,
    pub server_version: Option<String>,
    /// What went wrong, in words a cashier can pass on; `None` when online.
    pub problem: Option<String>,
    /// When the state last changed, in milliseconds since the Unix epoch.
    pub since_ms: i64,
}

impl ConnectionStatus {
    pub fn checking(server_url: &str) -> ConnectionStatus {
        ConnectionStatus {
            server_url: server_url.to_owned(),
            state: ConnectionState::Checking,
            server_version: None,
            problem: None,
            since_ms: now_ms(),
        }
    }

    fn same_as(&self, other: &ConnectionStatus) -> bool {
        self.state == other.state
            && self.server_version == other.server_version
            && self.problem == other.problem
            && self.server_url == other.server_url
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub state: ConnectionState,
    pub server_version: Option<String>,
    pub problem: Option<String>,
}

/// Asks one fund server how it is.
#[derive(Debug, Clone)]
pub struct ServerProbe {
    server_url: String,
    http: reqwest::Client,
}

impl ServerProbe {
    pub fn new(server_url: &str) -> Result<ServerProbe, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .connect_timeout(PROBE_TIMEOUT)
            .build()?;
        Ok(ServerProbe { server_url: server_url.trim_end_matches('/').to_owned(), http })
    }

    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    pub async fn probe(&self) -> ProbeResult {
        let offline = |problem: String| ProbeResult {
            state: ConnectionState::Offline,
            server_version: None,
            problem: Some(problem),
        };
        let url = format!("{}{HEALTH_PATH}", self.server_url);
        let response = match self.http.get(&url).send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return offline(format!(
                    "The server did not answer within {} s.",
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            Err(error) if error.is_connect() => {
                return offline("The server cannot be reached.".to_owned());
            }
            Err(error) => return offline(format!("The connection failed: {error}.")),
        };
        if !response.status().is_success() {
            return offline(format!("The server answered HTTP {}.", response.status().as_u16()));
        }
        let report: HealthReport = match response.json().await {
            Ok(report) => report,
            Err(_) => {
                return offline("The address does not answer like a Tillfund server.".to_owned());
            }
        };
        let server_version = Some(report.server_version);
        if report.protocol_version != PROTOCOL_VERSION {
            return ProbeResult {
                state: ConnectionState::Incompatible,
                server_version,
                problem: Some(format!(
                    "The server speaks protocol {} and this app speaks {}: update the app.",
                    report.protocol_version, PROTOCOL_VERSION
                )),
            };
        }
        match report.status {
            HealthStatus::Ok => {
                ProbeResult { state: ConnectionState::Online, server_version, problem: None }
            }
            HealthStatus::Degraded => ProbeResult {
                state: ConnectionState::Degraded,
                server_version,
                problem: Some("The server is up but its database does not answer.".to_owned()),
            },
        }
    }
}

/// Probes forever, every `interval`, and publishes each change on `sender`. Returns when
/// nobody listens any more.
pub async fn run_connection_monitor(
    probe: ServerProbe,
    sender: watch::Sender<ConnectionStatus>,
    interval: Duration,
) {
    let (_target_sender, target) = watch::channel(probe.server_url().to_owned());
    run_connection_monitor_following(target, sender, interval).await;
}

/// As `run_connection_monitor`, probing whichever server `target` names now: after an
/// enrolment with another server the monitor follows at its next probe.
pub async fn run_connection_monitor_following(
    mut target: watch::Receiver<String>,
    sender: watch::Sender<ConnectionStatus>,
    interval: Duration,
) {
    let mut probe: Option<ServerProbe> = None;
    loop {
        let wanted = target.borrow_and_update().trim_end_matches('/').to_owned();
        if probe.as_ref().is_none_or(|probe| probe.server_url() != wanted) {
            match ServerProbe::new(&wanted) {
                Ok(new_probe) => probe = Some(new_probe),
                Err(error) => tracing::error!(%error, "cannot build the health probe"),
            }
        }
        if let Some(probe) = &probe {
            let result = probe.probe().await;
            let candidate = ConnectionStatus {
                server_url: probe.server_url().to_owned(),
                state: result.state,
                server_version: result.server_version,
                problem: result.problem,
                since_ms: now_ms(),
            };
            sender.send_if_modified(|current| {
                if current.same_as(&candidate) {
                    return false;
                }
                tracing::info!(state = ?candidate.state, problem = ?candidate.problem, "connection changed");
                *current = candidate;
                true
            });
        }
        if sender.is_closed() {
            return;
        }
        // Wake early when the target changes: a new enrolment shows its state at once.
        if let Ok(Err(_)) = tokio::time::timeout(interval, target.changed()).await {
            // Nobody can change the target any more: keep the plain rhythm.
            tokio::time::sleep(interval).await;
        }
    }
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
