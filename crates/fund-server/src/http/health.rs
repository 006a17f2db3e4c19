use axum::Json;
use axum::extract::State;
use tillfund_core::protocol::{HealthReport, HealthStatus, PROTOCOL_VERSION};

use super::AppState;

/// Liveness and version. Answers even when the database does not, with status `degraded`,
/// so a counter can tell "server down" from "server up, database down".
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses((status = 200, description = "The server is up", body = HealthReport))
)]
pub async fn healthz(State(state): State<AppState>) -> Json<HealthReport> {
    let status = match state.store().ping().await {
        Ok(()) => HealthStatus::Ok,
        Err(error) => {
            tracing::warn!(%error, "health check: database does not answer");
            HealthStatus::Degraded
        }
    };
    Json(HealthReport {
        status,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: PROTOCOL_VERSION,
        currency: state.currency().code().to_owned(),
    })
}
