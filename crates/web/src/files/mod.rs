//! Files, both sides: a client's folders and files, uploads (from pages and resumable over
//! tus), downloads and previews, zips, sharing, comments, folders and moves, and the files API.

pub(crate) mod api;
mod comments;
mod download;
mod folders;
pub(crate) mod list;
mod picker;
mod share;
pub(crate) mod store;
pub(crate) mod tus;
mod upload;
mod zip;

pub(crate) use download::serve;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/files/{id}", get(download::download))
        .route("/files/{id}/preview", get(download::preview))
        .route("/files/zip", post(zip::zip))
        .route(
            "/files/{id}/comments",
            get(comments::comments_page).post(comments::add_comment),
        )
        .route("/portal/files", get(list::portal_list))
        .route("/portal/files/{id}/read", post(share::mark_read))
        .route("/staff/clients/{id}/files", get(list::staff_list))
        .route("/staff/clients/{id}/files/share", post(share::share))
        .route(
            "/staff/clients/{id}/folders",
            post(folders::staff_new_folder),
        )
        .route("/portal/folders", post(folders::portal_new_folder))
        .route("/folders/{id}/rename", post(folders::rename_folder))
        .route("/folders/{id}/delete", post(folders::delete_folder))
        .route("/files/move", post(folders::move_selected))
        .route("/files/{id}/move", get(picker::file))
        .route("/folders/{id}/move", get(picker::folder))
}

/// File uploads stream past the form body limit; their own size limit applies instead.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/portal/files/upload", post(upload::portal_upload))
        .route(
            "/staff/clients/{id}/files/upload",
            post(upload::staff_upload),
        )
        .route(
            "/uploads",
            axum::routing::options(tus::options).post(tus::create),
        )
        .route(
            "/uploads/{id}",
            axum::routing::head(tus::head)
                .patch(tus::patch)
                .delete(tus::delete),
        )
        .route(
            "/api/v1/uploads",
            axum::routing::options(tus::options).post(tus::create),
        )
        .route(
            "/api/v1/uploads/{id}",
            axum::routing::head(tus::head)
                .patch(tus::patch)
                .delete(tus::delete),
        )
}
