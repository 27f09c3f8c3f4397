//! Small extractors and checks that handlers share.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::error::AppError;
use crate::kit::session::Signed;

/// A form post with no fields besides its anti-forgery token.
#[derive(Deserialize)]
pub(crate) struct Empty {}

/// The URL's side (`/staff/…` or `/portal/…`) must be the viewer's; the other side's URLs
/// simply do not exist for them.
pub(crate) fn check_side(uri: &axum::http::Uri, signed: &Signed) -> Result<(), AppError> {
    if portico_core::policy::on_viewers_side(uri.path(), &signed.viewer) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Parses an id from a URL; anything that is not one is simply not found.
pub(crate) fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// The one id in a route's path (`/files/{id}`): a malformed one is "not found" before the
/// handler runs, so no database call is made for it.
pub(crate) struct Id(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        parse_id(&raw).map(Id)
    }
}
