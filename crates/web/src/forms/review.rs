//! Staff review what a client sent back, and reopen it to ask for changes.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::forms::{self, Assignment};
use portico_db::{DbError, clients};
use serde::Deserialize;
use uuid::Uuid;

use super::fill::{ShownSection, summary};
use super::sent::rows;
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

// ---- review, reopening, exports ---------------------------------------------------------------

pub(crate) struct SubmissionView {
    pub seq: i64,
    pub when: String,
    pub by: String,
    pub ip: String,
    pub hash: String,
    pub signatures: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/form_review.html")]
pub(crate) struct ReviewPage {
    layout: Layout,
    a: Assignment,
    summary: Vec<ShownSection>,
    submissions: Vec<SubmissionView>,
    error: Option<String>,
    status: String,
    /// The client's active portal users, who can be emailed a link to the form.
    people: Vec<clients::PortalUser>,
    notice: Option<&'static str>,
}

async fn review_page(state: &AppState, signed: &Signed, id: Uuid) -> Result<ReviewPage, AppError> {
    let filled = forms::get(&state.db, &signed.viewer, id).await?;
    let (subs, sigs) = forms::submissions(&state.db, &signed.viewer, id).await?;
    let layout = Layout::new(signed, filled.assignment.title.clone(), paths::clients());
    // Submitted: what was submitted; open: the draft as the client left it.
    let shown = match (filled.assignment.is_open(), subs.first()) {
        (false, Some(s)) => s.answers(),
        _ => filled.answers.clone(),
    };
    let status = rows(vec![filled.assignment.clone()], true, &layout)
        .pop()
        .map(|r| r.status)
        .unwrap_or_default();
    Ok(ReviewPage {
        summary: summary(&filled.definition, &shown),
        submissions: subs
            .iter()
            .map(|s| SubmissionView {
                seq: s.seq,
                when: layout.when(&s.submitted_at),
                by: s.submitted_by_name.clone(),
                ip: s.ip.clone(),
                hash: s.content_hash.clone(),
                signatures: sigs
                    .iter()
                    .filter(|g| g.submission_id == s.id)
                    .map(|g| {
                        format!(
                            "Signed “{}” by {} ({}{}), {}, from {}: “{}”",
                            g.typed_name,
                            g.signer_name,
                            "typed",
                            if g.drawn { " and drawn" } else { "" },
                            layout.when(&g.signed_at),
                            g.ip,
                            g.consent
                        )
                    })
                    .collect(),
            })
            .collect(),
        people: clients::portal_users(&state.db, &signed.viewer, filled.assignment.client_id)
            .await?
            .into_iter()
            .filter(|p| p.active)
            .collect(),
        a: filled.assignment,
        error: None,
        notice: None,
        status,
        layout,
    })
}

#[derive(Deserialize)]
pub(crate) struct ReviewQuery {
    #[serde(default)]
    link_sent: Option<String>,
}

pub(crate) async fn review(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
    Query(q): Query<ReviewQuery>,
) -> Result<ReviewPage, AppError> {
    signed.require_staff()?;
    let mut p = review_page(&state, &signed, id).await?;
    if q.link_sent.is_some() {
        p.notice = Some("The link is on its way.");
    }
    Ok(p)
}

#[derive(Deserialize)]
pub(crate) struct ReopenForm {
    comment: String,
}

pub(crate) async fn reopen(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<ReopenForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    match forms::reopen(
        &state.db,
        &signed.viewer,
        id,
        &posted.form.comment,
        &info.by(signed),
    )
    .await
    {
        Ok(()) => {
            state.jobs_waiting.notify_one();
            Ok(Redirect::to(&paths::form(true, id)).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = review_page(&state, signed, id).await?;
            p.error = Some(e.message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
