//! Liveness, readiness and metrics for load balancers and monitoring.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::state::AppState;

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers; a load balancer stops sending traffic otherwise.
pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let jobs = portico_db::jobs::counts(&state.db)
        .await
        .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state
            .metrics
            .render(&jobs, state.pages.len() + state.lists.len()),
    )
}
