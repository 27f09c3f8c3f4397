//! What gave up: emails the mail server refused for good or never accepted, and checks that
//! never finished, each with why and a way to try again.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Redirect;
use portico_db::jobs;
use portico_mail::Email;
use portico_services::email::{EMAIL, SECRET_SLOT};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::{Empty, Id};
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// The most the page lists; older ones stay in the table and `portico admin failed-jobs`.
const MOST: i64 = 200;

/// One job that gave up, as an administrator reads it.
pub(crate) struct Failed {
    id: uuid::Uuid,
    what: String,
    /// The last attempt's error, as the mail server or scanner gave it.
    why: String,
    when: String,
    attempts: i64,
    /// Why it cannot simply be tried again, when it cannot.
    not_again: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/failed_jobs.html")]
pub(crate) struct FailedPage {
    layout: Layout,
    failed: Vec<Failed>,
}

#[derive(Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    retried: Option<String>,
}

fn describe(job: &jobs::Job) -> (String, Option<&'static str>) {
    if job.kind == EMAIL.as_str() {
        return match serde_json::from_str::<Email>(&job.payload) {
            Ok(email) if email.text.contains(SECRET_SLOT) => (
                format!("Email to {}: “{}”", email.to, email.subject),
                Some(
                    "Its sign-in link ended when it gave up. Send the person a new invitation or link from their page.",
                ),
            ),
            Ok(email) => (format!("Email to {}: “{}”", email.to, email.subject), None),
            Err(_) => (
                "An email that can no longer be read".into(),
                Some("It cannot be sent."),
            ),
        };
    }
    if job.kind == portico_db::files::SCAN_JOB.as_str() {
        return ("Virus check of an uploaded file".into(), None);
    }
    (format!("Background work ({})", job.kind), None)
}

pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<FailedPage, AppError> {
    let rows = jobs::failed_for_firm(&state.db, &signed.viewer, MOST).await?;
    let mut layout = Layout::new(
        &signed,
        "Undelivered emails and failed checks",
        paths::settings(),
    );
    if done.retried.is_some() {
        layout.notice = Some("Queued again: it is tried within a minute.".into());
    }
    let failed = rows
        .iter()
        .map(|job| {
            let (what, not_again) = describe(job);
            Failed {
                id: job.id,
                what,
                why: job.last_error.clone(),
                when: layout.when(&job.created_at),
                attempts: job.attempts,
                not_again,
            }
        })
        .collect();
    Ok(FailedPage { layout, failed })
}

pub(crate) async fn retry(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    jobs::retry_for_firm(&state.db, &signed.viewer, id, &info.by(signed)).await?;
    Ok(Redirect::to(&format!("{}?retried=1", paths::failed_jobs())))
}
