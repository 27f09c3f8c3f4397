//! The JSON API under `/api/v1`: bearer tokens for staff, the same store functions and
//! permission checks as the pages. Each feature keeps its API handlers in its own folder; the
//! OpenAPI document is generated from them here.

use crate::clients::api as clients;
use crate::files::api as files;
use crate::messages::api as messages;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use portico_core::Viewer;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::kit::api::{ApiError, ApiViewer};
use crate::kit::error::AppError;
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
        .routes(routes!(me))
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

#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    pub user_id: uuid::Uuid,
    pub firm_id: uuid::Uuid,
    pub firm_name: String,
    pub role: String,
}

/// Who this token speaks for.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn me(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
) -> Result<Json<Me>, AppError> {
    let firm = portico_db::firms::of_viewer(&state.db, &viewer).await?;
    let role = match &viewer {
        Viewer::Staff { role, .. } => role.as_str().to_string(),
        Viewer::Client { .. } => "client".to_string(),
    };
    Ok(Json(Me {
        user_id: viewer.user_id(),
        firm_id: firm.id,
        firm_name: firm.name,
        role,
    }))
}
