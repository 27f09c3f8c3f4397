//! What is not a feature's page: health, readiness and metrics for load balancers and
//! monitoring, and the assets embedded in the binary.

mod assets;
mod health;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/portico.css", get(assets::stylesheet))
        .route("/static/live.js", get(assets::script))
        .route("/static/passkeys.js", get(assets::passkeys_script))
        .route("/static/forms.js", get(assets::forms_script))
        .route("/static/uploads.js", get(assets::uploads_script))
        .route("/brand/{file}", get(assets::brand))
        .route("/logos/{slug}", get(assets::logo))
        .route("/people/{id}/picture", get(assets::person))
}
