//! Tasks, both sides: staff give a client tasks and see who ticked them off; the client ticks
//! them off, or uploads what a document request asks for.

mod pages;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/tasks", get(pages::portal_list))
        .route("/portal/tasks/{id}/done", post(pages::set_done))
        .route("/staff/tasks/{id}/done", post(pages::set_done))
        .route(
            "/staff/clients/{id}/tasks",
            get(pages::staff_list).post(pages::create),
        )
}

/// A document request's upload streams past the form body limit.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new().route("/portal/tasks/{id}/upload", post(pages::upload))
}
