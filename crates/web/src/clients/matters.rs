//! One matter, as staff and as the client see it, with its comments both ways.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::comments::{self, Comment};
use portico_db::matters::{self, Matter};
use portico_db::{DbError, access_log, clients};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::check_side;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// How many of the newest comments a matter page shows.
const COMMENTS_SHOWN: i64 = 200;

#[derive(Template, WebTemplate)]
#[template(path = "clients/matter.html")]
pub(crate) struct MatterPage {
    layout: Layout,
    matter: Matter,
    back_href: String,
    back_label: String,
    comments: Vec<Comment>,
    comment_action: String,
    comment_error: Option<String>,
    comment_draft: String,
    /// Staff only: the client's portal users an access link can go to.
    recipients: Vec<clients::PortalUser>,
}

async fn page(state: &AppState, signed: &Signed, id: uuid::Uuid) -> Result<MatterPage, AppError> {
    let matter = matters::get(&state.db, &signed.viewer, id).await?;
    let comments = comments::for_matter(&state.db, &signed.viewer, id, COMMENTS_SHOWN).await?;
    let (layout, back_href, back_label, comment_action, recipients) = if signed.viewer.is_staff() {
        let client = clients::get(&state.db, &signed.viewer, matter.client_id).await?;
        let mut recipients = clients::portal_users(&state.db, &signed.viewer, client.id).await?;
        recipients.retain(|u| u.active);
        (
            Layout::new(signed, matter.title.clone(), paths::clients()),
            paths::client(client.id),
            client.name,
            paths::matter_comments(true, matter.id),
            recipients,
        )
    } else {
        (
            Layout::new(signed, matter.title.clone(), paths::portal_matters()),
            paths::portal_matters().to_string(),
            "Matters".to_string(),
            paths::matter_comments(false, matter.id),
            Vec::new(),
        )
    };
    Ok(MatterPage {
        layout,
        matter,
        back_href,
        back_label,
        comments,
        comment_action,
        comment_error: None,
        comment_draft: String::new(),
        recipients,
    })
}

/// A matter for staff; the visit goes into the client's access log.
#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    #[serde(default)]
    link_sent: Option<String>,
}

pub(crate) async fn staff_view(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
    Query(q): Query<NoticeQuery>,
) -> Result<MatterPage, AppError> {
    signed.require_staff()?;
    let mut page = page(&state, &signed, id).await?;
    if q.link_sent.is_some() {
        page.layout.notice = Some("The access link is on its way.".into());
    }
    let item = access_log::Item {
        client_id: page.matter.client_id,
        item_type: "matter",
        item_id: page.matter.id,
        label: &page.matter.title,
    };
    access_log::record(&state.db, &signed.viewer, item).await?;
    Ok(page)
}

/// A matter for its client, while its portal is open.
pub(crate) async fn portal_view(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<MatterPage, AppError> {
    if signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    page(&state, &signed, id).await
}

#[derive(Deserialize)]
pub(crate) struct CommentForm {
    body: String,
}

/// Adds a comment from either side; the URL's side must be the viewer's.
pub(crate) async fn comment(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    uri: axum::http::Uri,
    posted: Posted<CommentForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    let staff_url = signed.viewer.is_staff();
    let origin = info.by(signed);
    match comments::add(&state.db, &signed.viewer, id, &posted.form.body, &origin).await {
        Ok(_) => {
            let to = format!("{}#comments", paths::matter(staff_url, id));
            Ok(Redirect::to(&to).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = page(&state, signed, id).await?;
            p.comment_error = Some(e.message);
            p.comment_draft = posted.form.body.clone();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
