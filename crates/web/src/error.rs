//! One error type for handlers. A handler returns it; the error middleware turns it into a
//! page (or JSON under `/api`) that carries the request id and never the cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_db::DbError;

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
    /// The firm closed this client's portal; the firm's name is given.
    #[error("the portal is closed")]
    PortalClosed(String),
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
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the error middleware needs to render the page: set on the response as an extension.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub message: String,
    pub sign_in: bool,
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
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
            AppError::PortalClosed(firm) => closed_message(firm),
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
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut res = self.status().into_response();
        res.extensions_mut().insert(ErrorInfo {
            message: self.public_message(),
            sign_in: matches!(self, AppError::SignInRequired),
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
            other => AppError::Internal(other.to_string()),
        }
    }
}
