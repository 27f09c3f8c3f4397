//! What the API's handlers share: bearer-token authentication (tokens belong to staff
//! members), the error body, the audit origin of a token's requests, and timestamps.

use crate::kit::error::AppError;
use crate::kit::request::ReqInfo;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use portico_core::Viewer;
use portico_services::tokens::hash_token;

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

/// An error body, as every API error returns it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ApiError {
    /// What went wrong, in a sentence.
    pub error: String,
    /// Quote this when asking for support.
    pub request_id: String,
}

/// Who a token's requests are by, for audit events: the staff member, marked as the API.
pub(crate) async fn origin(
    state: &AppState,
    viewer: &portico_core::Viewer,
    info: &ReqInfo,
) -> Result<portico_db::audit::Origin, AppError> {
    let user = portico_db::users::by_id(&state.db, viewer.user_id())
        .await?
        .ok_or(AppError::SignInRequired)?;
    let mut origin = info.anonymous(&user.email, Some(user.id));
    origin.actor = format!("{} (api)", user.email);
    Ok(origin)
}

/// A time as the API writes it: RFC 3339.
pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
