//! A file's own page: its details and the comments on it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_core::files::ScanStatus;
use portico_db::files::{self};

use super::download::previewable;
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::layout::human_size;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// A file's own page: its details and the comments on it, both ways.
#[derive(Template, WebTemplate)]
#[template(path = "files/file_comments.html")]
pub(crate) struct CommentsPage {
    layout: Layout,
    file: files::StoredFile,
    size: String,
    preview: bool,
    back: String,
    /// Every version the viewer may see, newest first, with its size and time.
    versions: Vec<(files::StoredFile, String, String)>,
    comments: Vec<(files::FileComment, String)>,
    error: Option<String>,
    draft: String,
}

async fn comments_page_for(
    state: &AppState,
    signed: &Signed,
    id: uuid::Uuid,
) -> Result<CommentsPage, AppError> {
    let file = files::get(&state.db, &signed.viewer, id).await?;
    let list = files::comments(&state.db, &signed.viewer, id).await?;
    let staff = signed.viewer.is_staff();
    let back = match file.folder_id {
        Some(f) => paths::folder(staff, file.client_id, f),
        None => paths::files(staff, file.client_id),
    };
    let versions = files::versions(&state.db, &signed.viewer, id).await?;
    let current = if staff {
        paths::clients()
    } else {
        paths::portal_files()
    };
    let layout = Layout::new(signed, file.name.clone(), current);
    Ok(CommentsPage {
        versions: versions
            .into_iter()
            .map(|v| {
                let (size, when) = (human_size(v.size), layout.when(&v.created_at));
                (v, size, when)
            })
            .collect(),
        comments: list
            .into_iter()
            .map(|c| {
                let when = layout.when(&c.created_at);
                (c, when)
            })
            .collect(),
        size: human_size(file.size),
        preview: previewable(&file.content_type) && file.scan_status == ScanStatus::Clean,
        back,
        file,
        error: None,
        draft: String::new(),
        layout,
    })
}

pub(crate) async fn comments_page(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<CommentsPage, AppError> {
    comments_page_for(&state, &signed, id).await
}

#[derive(serde::Deserialize)]
pub(crate) struct CommentForm {
    body: String,
}

pub(crate) async fn add_comment(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<CommentForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    match files::comment(
        &state.db,
        &signed.viewer,
        id,
        &posted.form.body,
        &info.by(signed),
    )
    .await
    {
        Ok(()) => {
            state.jobs_waiting.notify_one();
            Ok(Redirect::to(&format!("/files/{id}/comments")).into_response())
        }
        Err(portico_db::DbError::Invalid(e)) => {
            let mut p = comments_page_for(&state, signed, id).await?;
            p.error = Some(e.message);
            p.draft = posted.form.body.clone();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
