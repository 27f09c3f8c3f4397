//! The JSON API under `/api/v1`: bearer tokens for staff, the same store functions and
//! permission checks as the pages. Each feature keeps its API handlers in its own folder; the
//! OpenAPI document is generated from them here.

mod auth;

pub(crate) use crate::clients::api::origin as api_origin;
pub(crate) use auth::ApiViewer;

use crate::clients::api as clients;
use crate::files::api as files;
use crate::messages::api as messages;

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Portico API", description = "Clients, matters, matter comments, secure messages and files of a firm, for integrations. Authenticate with `Authorization: Bearer <token>`. Files are uploaded with the tus 1.0 resumable upload protocol at `/api/v1/uploads` (metadata `filename`, `client` and optionally `folder`, base64 as tus requires)."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(crate) fn routes() -> Router<AppState> {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::me))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get))
        .routes(routes!(clients::matters, clients::create_matter))
        .routes(routes!(clients::matter))
        .routes(routes!(clients::comments, clients::add_comment))
        .routes(routes!(messages::list))
        .routes(routes!(messages::start))
        .routes(routes!(messages::page, messages::reply))
        .routes(routes!(files::list))
        .routes(routes!(files::get))
        .routes(routes!(files::versions))
        .routes(routes!(files::content))
        .routes(routes!(files::folder_list, files::new_folder))
        .routes(routes!(files::move_items))
        .split_for_parts();
    let doc = Arc::new(doc);
    router.route(
        "/api/openapi.json",
        get(move || async move { Json(doc.as_ref().clone()) }),
    )
}

/// An error body, as every API error returns it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ApiError {
    /// What went wrong, in a sentence.
    pub error: String,
    /// Quote this when asking for support.
    pub request_id: String,
}
