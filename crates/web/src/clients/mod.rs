//! The firm's clients: the list and search, one client's page with its people, matters and
//! portal, matters with their comments, a client admin's colleagues, who opened what, and the
//! clients API.

mod access_log;
pub(crate) mod api;
mod colleagues;
mod invitations;
mod matters;
pub(crate) mod pages;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/staff/clients",
            get(pages::clients).post(pages::create_client),
        )
        .route("/staff/clients/{id}", get(pages::client))
        .route("/staff/clients/{id}/matters", post(pages::create_matter))
        .route("/staff/clients/{id}/portal", post(pages::client_portal))
        .route("/staff/clients/{id}/invite", post(pages::invite))
        .route(
            "/staff/clients/{id}/users/{user}/end-sessions",
            post(pages::end_user_sessions),
        )
        .route(
            "/staff/clients/{id}/users/{user}/invitation/{action}",
            post(pages::invitation),
        )
        .route(
            "/staff/clients/{id}/users/{user}/devices/{device}/remove",
            post(pages::remove_device),
        )
        .route("/staff/matters/{id}", get(matters::staff_view))
        .route("/staff/matters/{id}/comments", post(matters::comment))
        .route("/staff/matters/{id}/portal", post(pages::matter_portal))
        .route("/portal/matters/{id}", get(matters::portal_view))
        .route("/portal/matters/{id}/comments", post(matters::comment))
        .route(
            "/portal/colleagues",
            get(colleagues::list).post(colleagues::invite),
        )
        .route("/portal/access-log", get(access_log::portal))
        .route("/staff/clients/{id}/access-log", get(access_log::staff))
}
