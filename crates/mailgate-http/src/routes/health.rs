//! The `/healthz` and `/readyz` routes, answered from the node's [`Health`].

use crate::health::HealthReport;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// Liveness: 503 when the store cannot write or a background worker has stopped.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, body = HealthReport, description = "The store writes and every worker runs"),
    (status = 503, body = HealthReport, description = "See `reasons`")))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<HealthReport>) {
    state.health.clone().report(&state.core, false).await
}

/// Readiness, for load balancers: as `/healthz`, and 503 until the workers have started.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = HealthReport, description = "Ready for traffic"),
    (status = 503, body = HealthReport, description = "Not ready; see `reasons`")))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthReport>) {
    state.health.clone().report(&state.core, true).await
}

/// Raises the storage alarm when an answer is `507 storage_full`, so that a full disk is logged
/// and recorded once even when no health check runs.
pub async fn watch_storage(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::INSUFFICIENT_STORAGE {
        state.health.storage_full(&state.core).await;
    }
    response
}
