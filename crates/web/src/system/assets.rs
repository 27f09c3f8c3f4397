//! Static assets, embedded in the binary so there is nothing to deploy beside it.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::state::AppState;

const STYLESHEET: &str = include_str!("../../static/portico.css");
const SCRIPT: &str = include_str!("../../static/live.js");
const PASSKEYS: &str = include_str!("../../static/passkeys.js");
const FORMS: &str = include_str!("../../static/forms.js");
const UPLOADS: &str = include_str!("../../static/uploads.js");

pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

fn script_response(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

/// Live updates on pages that have them.
pub(crate) async fn script() -> impl IntoResponse {
    script_response(SCRIPT)
}

/// The passkey ceremonies' script, on the pages that offer them.
pub(crate) async fn passkeys_script() -> impl IntoResponse {
    script_response(PASSKEYS)
}

/// Form pages: conditions, saving as the client types, drawn signatures.
pub(crate) async fn forms_script() -> impl IntoResponse {
    script_response(FORMS)
}

/// The files page: resumable uploads with progress, and dropping files on the form.
pub(crate) async fn uploads_script() -> impl IntoResponse {
    script_response(UPLOADS)
}

/// The firm's colour as a CSS custom property. Served as a stylesheet so pages need no inline
/// style, which the content security policy forbids; the colour was validated as `#rrggbb`.
pub(crate) async fn brand(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let slug = file.strip_suffix(".css").ok_or(AppError::NotFound)?;
    let firm = portico_db::firms::by_slug(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let colour =
        portico_core::validate::colour(&firm.brand_colour).unwrap_or_else(|_| "#1f5fa8".into());
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        format!(":root {{ --brand: {colour}; }}\n"),
    ))
}

fn png(bytes: Vec<u8>, cache: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, cache),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox",
            ),
        ],
        bytes,
    )
}

/// The firm's logo: public, like its name on the sign-in page.
pub(crate) async fn logo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let bytes = portico_db::pictures::firm_logo(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(png(bytes, "public, max-age=300"))
}

/// A person's picture, for those who work with them.
pub(crate) async fn person(
    State(state): State<AppState>,
    signed: crate::kit::session::Signed,
    Id(id): Id,
) -> Result<impl IntoResponse, AppError> {
    let bytes = portico_db::pictures::person(&state.db, &signed.viewer, id).await?;
    Ok(png(bytes, "private, max-age=300"))
}
