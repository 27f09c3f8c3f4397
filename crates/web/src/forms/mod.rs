//! Forms: the staff's builder of templates, forms sent to clients and filled in section by
//! section, review and reopening, and exports (PDF for one, CSV for all).

mod builder;
mod pages;
mod pdf;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/forms", get(builder::list).post(builder::create))
        .route("/staff/forms/{id}", get(builder::show))
        .route("/staff/forms/{id}/edit", post(builder::edit))
        .route("/staff/forms/{id}/sent", get(pages::sent))
        .route("/staff/forms/{id}/export.csv", get(pages::export_csv))
        .route(
            "/staff/clients/{id}/forms",
            get(pages::staff_list).post(pages::send),
        )
        .route("/staff/client-forms/{id}", get(pages::review))
        .route("/staff/client-forms/{id}/reopen", post(pages::reopen))
        .route("/staff/client-forms/{id}/pdf", get(pages::pdf))
        .route("/portal/forms", get(pages::portal_list))
        .route("/portal/forms/{id}", get(pages::fill))
        .route("/portal/forms/{id}/pdf", get(pages::pdf))
}

/// Saving a form page carries its uploads, past the form body limit.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new().route("/portal/forms/{id}", post(pages::save))
}
