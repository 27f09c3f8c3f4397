//! The firm's terms for its clients: read and accepted at the first sign-in, and again after
//! each change. The acceptance keeps the version, the time and the address.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::DbError;
use portico_db::firms;
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "signin/terms.html")]
pub(crate) struct TermsPage {
    layout: Layout,
    text: String,
    version: i64,
    pending: bool,
    error: Option<String>,
}

async fn page(state: &AppState, signed: &Signed) -> Result<TermsPage, AppError> {
    let firm = firms::of_viewer(&state.db, &signed.viewer).await?;
    Ok(TermsPage {
        layout: Layout::new(signed, "Terms", "/terms"),
        text: firm.terms_text,
        version: firm.terms_version,
        pending: signed.chrome.terms_pending,
        error: None,
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<TermsPage, AppError> {
    page(&state, &signed).await
}

#[derive(Deserialize)]
pub(crate) struct AcceptForm {
    version: i64,
}

pub(crate) async fn accept(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<AcceptForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    if signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    let origin = info.by(signed);
    match firms::accept_terms(&state.db, &signed.viewer, posted.form.version, &origin).await {
        Ok(()) => Ok(Redirect::to(paths::home(false)).into_response()),
        Err(DbError::Conflict(message)) => {
            let mut p = page(&state, signed).await?;
            p.error = Some(message);
            Ok((StatusCode::CONFLICT, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
