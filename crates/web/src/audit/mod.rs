//! The firm's audit log, for its administrators: filtered, paged, exported as CSV.

mod pages;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/audit", get(pages::page))
        .route("/staff/audit.csv", get(pages::export))
}
