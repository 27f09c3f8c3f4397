//! The firm's settings, for its administrators: name, colour and logo, security policies,
//! privacy, the quick links shown to clients, and the emails and checks that gave up.

mod failed;
mod pages;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/settings", get(pages::show).post(pages::save))
        .route("/staff/settings/logo/remove", post(pages::remove_logo))
        .route("/staff/settings/failed", get(failed::list))
        .route("/staff/settings/failed/{id}/retry", post(failed::retry))
        .route("/staff/settings/quick-links", post(pages::add_quick_link))
        .route(
            "/staff/settings/quick-links/{id}/remove",
            post(pages::remove_quick_link),
        )
}

/// The logo upload, which has the picture limit instead of the form limit.
pub(crate) fn picture_routes() -> Router<AppState> {
    Router::new().route("/staff/settings/logo", post(pages::upload_logo))
}
