//! Secure messages, both sides: conversations, replies with attachments, edits and deletions,
//! people added to a conversation, the live stream, and the messages API.

pub(crate) mod api;
mod conversation;
mod list;
mod live;
mod new;
mod reply;

pub(crate) use conversation::record_read;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/messages", get(list::list))
        .route("/portal/messages", get(list::list).post(new::portal_create))
        .route("/portal/messages/new", get(new::portal_new))
        .route("/staff/clients/{id}/messages/new", get(new::staff_new))
        .route("/staff/clients/{id}/messages", post(new::staff_create))
        .route("/staff/messages/{id}", get(conversation::view))
        .route("/portal/messages/{id}", get(conversation::view))
        .route("/staff/messages/{id}/reply", post(reply::reply))
        .route("/portal/messages/{id}/reply", post(reply::reply))
        .route("/staff/messages/{id}/resolve", post(reply::resolve))
        .route(
            "/staff/messages/{id}/people",
            post(conversation::add_people),
        )
        .route(
            "/portal/messages/{id}/people",
            post(conversation::add_people),
        )
        .route("/staff/messages/{id}/{seq}/edit", post(reply::edit))
        .route("/portal/messages/{id}/{seq}/edit", post(reply::edit))
        .route("/staff/messages/{id}/{seq}/delete", post(reply::delete))
        .route("/messages/{id}/live", get(live::live))
}

/// Replies with attachments stream past the form body limit.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/staff/messages/{id}/upload", post(reply::reply_upload))
        .route("/portal/messages/{id}/upload", post(reply::reply_upload))
}
