//! The person's notifications: the in-app list, its unread count, and the live stream that
//! keeps the count current.

pub mod notices;
mod pages;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(pages::list))
        .route("/notifications/read-all", post(pages::read_all))
        .route("/notifications/live", get(pages::live))
}
