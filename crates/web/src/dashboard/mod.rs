//! The home pages: the client's dashboard (a card per section of `kit::sections`) and the
//! staff home.

mod portal;
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
