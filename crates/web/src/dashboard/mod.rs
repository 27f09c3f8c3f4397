//! The home pages: the client's dashboard (one registry of sections, each with its card and
//! place in the navigation) and the staff home.

mod portal;
pub(crate) mod sections;
mod staff;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(portal::home))
        .route("/portal/matters", get(portal::matters))
        .route("/staff", get(staff::home))
}
