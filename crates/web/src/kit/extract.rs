//! Small extractors and checks that handlers share.

use serde::Deserialize;

use crate::kit::error::AppError;
use crate::session::Signed;

/// A form post with no fields besides its anti-forgery token.
#[derive(Deserialize)]
pub(crate) struct Empty {}

/// The URL's side (`/staff/…` or `/portal/…`) must be the viewer's; the other side's URLs
/// simply do not exist for them.
pub(crate) fn check_side(uri: &axum::http::Uri, signed: &Signed) -> Result<(), AppError> {
    if uri.path().starts_with("/staff/") == signed.viewer.is_staff() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Pages only staff have: for anyone else they simply do not exist.
pub(crate) fn staff_only(signed: &Signed) -> Result<(), AppError> {
    if signed.viewer.is_staff() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Parses an id from a URL; anything that is not one is simply not found.
pub(crate) fn parse_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}
