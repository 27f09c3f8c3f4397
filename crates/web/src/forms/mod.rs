//! Forms: the staff's builder of templates, forms sent to clients and filled in section by
//! section, review and reopening, and exports (PDF for one, CSV for all).

mod builder;
mod export;
mod fill;
mod pdf;
mod review;
mod sent;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/forms", get(builder::list).post(builder::create))
        .route("/staff/forms/{id}", get(builder::show))
        .route("/staff/forms/{id}/edit", post(builder::edit))
        .route("/staff/forms/{id}/sent", get(sent::sent))
        .route("/staff/forms/{id}/export.csv", get(export::export_csv))
        .route(
            "/staff/clients/{id}/forms",
            get(sent::staff_list).post(sent::send),
        )
        .route("/staff/client-forms/{id}", get(review::review))
        .route("/staff/client-forms/{id}/reopen", post(review::reopen))
        .route("/staff/client-forms/{id}/pdf", get(export::pdf))
        .route("/portal/forms", get(sent::portal_list))
        .route("/portal/forms/{id}", get(fill::fill))
        .route("/portal/forms/{id}/pdf", get(export::pdf))
}

/// Saving a form page carries its uploads, past the form body limit.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new().route("/portal/forms/{id}", post(fill::save))
}
