//! Form posts from signed-in pages: the body is read once, its anti-forgery token checked
//! against the session, then the rest is parsed into the handler's type; multipart posts have
//! their token checked before any other part is read.

use axum::body::Bytes;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::kit::error::AppError;
use crate::kit::session::Signed;
use crate::state::AppState;

/// A checked form post and the person who sent it.
pub struct Posted<T> {
    pub signed: Signed,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let is_form = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
        }
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| AppError::Invalid("The form could not be read.".into()).into_response())?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        signed
            .check_csrf(sent)
            .map_err(IntoResponse::into_response)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            AppError::Invalid(format!("The form could not be read: {e}.")).into_response()
        })?;
        Ok(Posted { signed, form })
    }
}

/// Reads a text part of a multipart form, refusing more than `max` bytes with `too_long`.
pub(crate) async fn multipart_text(
    mut field: Field<'_>,
    max: usize,
    too_long: &str,
) -> Result<String, AppError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| AppError::Invalid("The form was cut off. Please try again.".into()))?
    {
        if buf.len() + chunk.len() > max {
            return Err(AppError::TooLarge(too_long.into()));
        }
        buf.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(buf)
        .map_err(|_| AppError::Invalid("The form could not be read.".into()))?;
    if text.contains('\0') {
        return Err(AppError::Invalid(crate::kit::error::NUL_REFUSED.into()));
    }
    Ok(text)
}

/// A multipart form post from a signed-in page, its anti-forgery token checked: the token
/// must be the first part, and nothing after it is read until it matched. Text parts are read
/// with [`multipart_text`], bounded; file parts stream.
pub(crate) struct MultipartPost {
    form: Multipart,
    cut_off: &'static str,
}

/// What a multipart post's refusals say, in the words of its page.
pub(crate) struct Refusals {
    /// The body is not a multipart form at all.
    pub not_multipart: &'static str,
    /// It says it is one but cannot be opened as one.
    pub unreadable: &'static str,
    /// It ends in the middle of a part.
    pub cut_off: &'static str,
}

impl MultipartPost {
    /// Opens `req` as `signed`'s multipart form and checks its token, refusing in `words`.
    pub(crate) async fn open(
        req: Request,
        state: &AppState,
        signed: &Signed,
        words: Refusals,
    ) -> Result<Self, AppError> {
        let is_multipart = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            return Err(AppError::Invalid(words.not_multipart.into()));
        }
        let form = Multipart::from_request(req, state)
            .await
            .map_err(|_| AppError::Invalid(words.unreadable.into()))?;
        let mut post = MultipartPost {
            form,
            cut_off: words.cut_off,
        };
        match post.next().await? {
            Some(field) if field.name() == Some("csrf") => {
                // A token is short; more is refused.
                let sent = multipart_text(field, 128, "The form could not be read.").await?;
                signed.check_csrf(&sent)?;
                Ok(post)
            }
            _ => Err(AppError::Csrf),
        }
    }

    /// The next part, or `None` after the last.
    pub(crate) async fn next(&mut self) -> Result<Option<Field<'_>>, AppError> {
        self.form
            .next_field()
            .await
            .map_err(|_| AppError::Invalid(self.cut_off.into()))
    }
}
