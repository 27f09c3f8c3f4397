//! Secure messages, both sides: conversations, replies with attachments, edits and deletions,
//! people added to a conversation, the live stream, and the messages API.

pub(crate) mod api;
pub(crate) mod pages;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/messages", get(pages::list))
        .route(
            "/portal/messages",
            get(pages::list).post(pages::portal_create),
        )
        .route("/portal/messages/new", get(pages::portal_new))
        .route("/staff/clients/{id}/messages/new", get(pages::staff_new))
        .route("/staff/clients/{id}/messages", post(pages::staff_create))
        .route("/staff/messages/{id}", get(pages::view))
        .route("/portal/messages/{id}", get(pages::view))
        .route("/staff/messages/{id}/reply", post(pages::reply))
        .route("/portal/messages/{id}/reply", post(pages::reply))
        .route("/staff/messages/{id}/resolve", post(pages::resolve))
        .route("/staff/messages/{id}/people", post(pages::add_people))
        .route("/portal/messages/{id}/people", post(pages::add_people))
        .route("/staff/messages/{id}/{seq}/edit", post(pages::edit))
        .route("/portal/messages/{id}/{seq}/edit", post(pages::edit))
        .route("/staff/messages/{id}/{seq}/delete", post(pages::delete))
        .route("/messages/{id}/live", get(pages::live))
}

/// Replies with attachments stream past the form body limit.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/staff/messages/{id}/upload", post(pages::reply_upload))
        .route("/portal/messages/{id}/upload", post(pages::reply_upload))
}
