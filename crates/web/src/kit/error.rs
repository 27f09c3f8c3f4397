//! One error type for handlers. A handler returns it; the error middleware turns it into a
//! page (or JSON under `/api`) that carries the request id and never the cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_db::firms::Brand;
use portico_db::{DbError, Outage};
use portico_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, or someone else's: the two answer alike.
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    SignInRequired,
    /// The firm requires two-step sign-in and this person has not set it up yet.
    #[error("two-step sign-in must be set up first")]
    EnrolFirst,
    /// The firm's current terms must be accepted first.
    #[error("the terms must be accepted first")]
    AcceptTermsFirst,
    /// The firm closed this client's portal.
    #[error("the portal is closed")]
    PortalClosed(Brand),
    /// The session came from an access link, which cannot change how the person signs in.
    #[error("not with an access link")]
    LinkSession,
    #[error("the form expired")]
    Csrf,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// A file the browser may not show ("Preview" is for pictures and PDFs only).
    #[error("no preview")]
    UnsupportedPreview,
    /// A body of a type the endpoint does not take; the sentence says which it takes.
    #[error("{0}")]
    UnsupportedType(String),
    /// An upload over its size limit.
    #[error("{0}")]
    TooLarge(String),
    /// The database is down, locked or unreachable: the same request may work in a moment.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Out of space for the database or for files; `upload` when bytes of a file were refused.
    #[error("out of space: {cause}")]
    Full { upload: bool, cause: String },
    /// A stored file that is missing or does not read back as stored.
    #[error("damaged file: {0}")]
    Damaged(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a client is asked to wait before trying again after an outage.
const RETRY_AFTER_SECS: &str = "10";

/// What the error middleware needs to render the page: set on the response as an extension.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub message: String,
    pub sign_in: bool,
    /// A closed portal: shown as its firm's notice, in the firm's frame.
    pub closed: Option<Brand>,
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SignInRequired => StatusCode::UNAUTHORIZED,
            AppError::EnrolFirst | AppError::AcceptTermsFirst => StatusCode::SEE_OTHER,
            AppError::Csrf | AppError::PortalClosed(_) | AppError::LinkSession => {
                StatusCode::FORBIDDEN
            }
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedPreview | AppError::UnsupportedType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            AppError::Unavailable(_) | AppError::Full { upload: false, .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Full { upload: true, .. } => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) | AppError::Damaged(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        match self {
            AppError::NotFound => {
                "We could not find that page. It may have moved, or you may not have access to it."
                    .into()
            }
            AppError::SignInRequired => "Please sign in to continue.".into(),
            AppError::EnrolFirst => "Set up two-step sign-in to continue.".into(),
            AppError::AcceptTermsFirst => "Read and accept the terms to continue.".into(),
            AppError::Csrf => {
                "This form has expired. Go back, reload the page and try again.".into()
            }
            AppError::PortalClosed(firm) => closed_message(&firm.name),
            AppError::LinkSession => "You opened the portal with an access link. To change your \
                password or two-step sign-in, sign out and sign in with your password."
                .into(),
            AppError::Invalid(m)
            | AppError::Conflict(m)
            | AppError::TooLarge(m)
            | AppError::UnsupportedType(m) => m.clone(),
            AppError::UnsupportedPreview => {
                "Only pictures and PDFs can be shown in the browser. Download this file instead."
                    .into()
            }
            AppError::Unavailable(_) => "The portal is briefly unavailable, so this was not \
                saved. Nothing you entered before was lost; please try again in a minute."
                .into(),
            AppError::Full { upload: true, .. } => "The portal has run out of space for files, \
                so this upload was not kept. Files you uploaded before are safe; please try again \
                later or tell the firm."
                .into(),
            AppError::Full { upload: false, .. } => "The portal has run out of space, so this \
                was not saved. What was saved before is safe and can still be read; please try \
                again later."
                .into(),
            AppError::Damaged(_) => "This file cannot be read: its stored copy is missing or \
                damaged. The firm has been told in its server log; ask them to upload it again."
                .into(),
            AppError::Internal(_) => {
                "Something went wrong on our side. Nothing you entered was lost; please try again."
                    .into()
            }
        }
    }
}

/// What a client whose portal is closed reads, at sign-in and on any page.
pub(crate) fn closed_message(firm: &str) -> String {
    format!(
        "{firm} has closed this portal for now. Nothing in it is lost: when they open it again \
         you will find everything here. Contact {firm} if you need something in the meantime."
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::EnrolFirst = self {
            return axum::response::Redirect::to("/account/2fa").into_response();
        }
        if let AppError::AcceptTermsFirst = self {
            return axum::response::Redirect::to("/terms").into_response();
        }
        match &self {
            AppError::Internal(cause) => tracing::error!(%cause, "request failed"),
            AppError::Damaged(cause) => tracing::error!(%cause, "a stored file is damaged"),
            AppError::Unavailable(cause) | AppError::Full { cause, .. } => {
                tracing::warn!(%cause, "request refused during an outage")
            }
            _ => {}
        }
        let mut res = self.status().into_response();
        if matches!(self, AppError::Unavailable(_) | AppError::Full { .. }) {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        res.extensions_mut().insert(ErrorInfo {
            message: self.public_message(),
            sign_in: matches!(self, AppError::SignInRequired),
            closed: match self {
                AppError::PortalClosed(firm) => Some(firm),
                _ => None,
            },
        });
        res
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound | DbError::Forbidden => AppError::NotFound,
            DbError::Invalid(i) => AppError::Invalid(i.message),
            DbError::Conflict(m) => AppError::Conflict(m),
            other => match other.outage() {
                Some(Outage::Full) => AppError::Full {
                    upload: false,
                    cause: other.to_string(),
                },
                Some(_) => AppError::Unavailable(other.to_string()),
                None => AppError::Internal(other.to_string()),
            },
        }
    }
}

impl From<StorageError> for AppError {
    /// Storage that is out of space or unreachable is an outage; a body that failed while it
    /// was being stored (the sender went away) is the request's; the rest is ours.
    fn from(e: StorageError) -> Self {
        if e.is_full() {
            return AppError::Full {
                upload: true,
                cause: e.to_string(),
            };
        }
        match e {
            StorageError::NotFound => AppError::NotFound,
            StorageError::Io(_) => AppError::Invalid(
                "The upload did not finish. Please check your connection and try again.".into(),
            ),
            StorageError::Backend(cause) => AppError::Unavailable(cause),
            StorageError::Damaged(cause) => AppError::Damaged(cause),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// What a person is told when text they sent holds a NUL character.
pub(crate) const NUL_REFUSED: &str = "What you entered holds a character that cannot be stored (a NUL byte). Remove the control characters. Then try again.";
