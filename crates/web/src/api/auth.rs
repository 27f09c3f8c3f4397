//! Bearer-token authentication for the API. Tokens belong to staff members.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use portico_core::Viewer;
use portico_services::tokens::hash_token;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::state::AppState;

/// The staff member a valid bearer token speaks for.
pub(crate) struct ApiViewer(pub Viewer);

impl FromRequestParts<AppState> for ApiViewer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.len() == 43)
            .ok_or(AppError::SignInRequired)?;
        let viewer = portico_db::api_tokens::viewer_for(&state.db, &hash_token(token))
            .await?
            .ok_or(AppError::SignInRequired)?;
        Ok(ApiViewer(viewer))
    }
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
    responses((status = 200, body = Me), (status = 401, body = super::ApiError)),
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
