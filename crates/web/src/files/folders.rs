//! Folders: making, renaming, deleting, and moving files and folders between them.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::files::{self};
use portico_db::folders;
use serde::Deserialize;

use super::list::{Kept, refused};
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::state::AppState;

/// The most files one zip may hold, and the most items one move may take.
pub(super) const ZIP_MOST: usize = 500;

fn optional_id(raw: &str) -> Result<Option<uuid::Uuid>, AppError> {
    match raw.trim() {
        "" | "top" => Ok(None),
        id => parse_id(id).map(Some),
    }
}

#[derive(Deserialize)]
pub(crate) struct FolderForm {
    name: String,
    #[serde(default)]
    parent: String,
}

/// Staff make a folder in a client's files.
pub(crate) async fn staff_new_folder(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<FolderForm>,
) -> Result<Response, AppError> {
    posted.signed.require_staff()?;
    new_folder(&state, &info, &posted, id).await
}

/// A client makes a folder in its own files.
pub(crate) async fn portal_new_folder(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<FolderForm>,
) -> Result<Response, AppError> {
    let own = posted
        .signed
        .viewer
        .client_scope()
        .ok_or(AppError::NotFound)?;
    new_folder(&state, &info, &posted, own).await
}

async fn new_folder(
    state: &AppState,
    info: &ReqInfo,
    posted: &Posted<FolderForm>,
    client_id: uuid::Uuid,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let parent = optional_id(&posted.form.parent)?;
    let made = match folders::create(
        &state.db,
        &signed.viewer,
        client_id,
        parent,
        &posted.form.name,
        &info.by(signed),
    )
    .await
    {
        Ok(made) => made,
        Err(e) => {
            let kept = Kept {
                form: "folder",
                name: posted.form.name.clone(),
                ..Kept::default()
            };
            return refused(state, signed, client_id, parent, e.into(), kept).await;
        }
    };
    let to = paths::files_done(
        signed.viewer.is_staff(),
        made.client_id,
        Some(made.id),
        "folder",
    );
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub(crate) struct RenameForm {
    name: String,
}

pub(crate) async fn rename_folder(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<RenameForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = match folders::rename(
        &state.db,
        &signed.viewer,
        id,
        &posted.form.name,
        &info.by(signed),
    )
    .await
    {
        Ok(f) => f,
        Err(e) => {
            let kept = Kept {
                form: "rename",
                name: posted.form.name.clone(),
                ..Kept::default()
            };
            return refused_in_folder(&state, signed, id, e.into(), kept).await;
        }
    };
    let to = paths::files_done(signed.viewer.is_staff(), f.client_id, Some(f.id), "renamed");
    Ok(Redirect::to(&to).into_response())
}

pub(crate) async fn delete_folder(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<crate::kit::extract::Empty>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = match folders::delete(&state.db, &signed.viewer, id, &info.by(signed)).await {
        Ok(f) => f,
        Err(e) => {
            let kept = Kept {
                form: "delete",
                ..Kept::default()
            };
            return refused_in_folder(&state, signed, id, e.into(), kept).await;
        }
    };
    let to = paths::files_done(
        signed.viewer.is_staff(),
        f.client_id,
        f.parent_id,
        "deleted",
    );
    Ok(Redirect::to(&to).into_response())
}

/// A refused change to folder `id`, shown on that folder's page.
async fn refused_in_folder(
    state: &AppState,
    signed: &crate::kit::session::Signed,
    id: uuid::Uuid,
    error: AppError,
    kept: Kept,
) -> Result<Response, AppError> {
    if !matches!(error, AppError::Conflict(_) | AppError::Invalid(_)) {
        return Err(error);
    }
    let (folder, _) = folders::get(&state.db, &signed.viewer, id).await?;
    refused(state, signed, folder.client_id, Some(id), error, kept).await
}

/// The ticked files and folders of a posted list form, each once.
pub(super) fn ticked(
    pairs: &[(String, String)],
) -> Result<(Vec<uuid::Uuid>, Vec<uuid::Uuid>), AppError> {
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    for (k, v) in pairs {
        let list = match k.as_str() {
            "file" => &mut files,
            "folder" => &mut dirs,
            _ => continue,
        };
        let id = parse_id(v)?;
        if !list.contains(&id) {
            list.push(id);
        }
    }
    Ok((files, dirs))
}

/// "Move selected to": files and folders of one client into one of its folders, or the top.
pub(crate) async fn move_selected(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let field = |name: &str| {
        posted
            .form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (file_ids, folder_ids) = ticked(&posted.form)?;
    let to = field("to")
        .map(optional_id)
        .transpose()?
        .ok_or_else(|| AppError::Invalid("Choose where to move them.".into()))?;
    // The page the form was on, to show again if the move is refused; the client is the one
    // the page belongs to, or else the first ticked item's. Every item and the destination
    // must be of that client, or the move is refused as a whole.
    let at = field("at").and_then(|v| optional_id(v).ok()).flatten();
    let client_id = match (
        field("client").and_then(|v| parse_id(v).ok()),
        file_ids.first(),
        folder_ids.first(),
    ) {
        (Some(c), _, _) => c,
        (None, Some(f), _) => files::get(&state.db, &signed.viewer, *f).await?.client_id,
        (None, None, Some(d)) => {
            folders::get(&state.db, &signed.viewer, *d)
                .await?
                .0
                .client_id
        }
        (None, None, None) => {
            return Err(nothing_ticked());
        }
    };
    let kept = Kept {
        form: "move",
        ticked: file_ids.iter().chain(&folder_ids).copied().collect(),
        to,
        ..Kept::default()
    };
    let outcome = if file_ids.is_empty() && folder_ids.is_empty() {
        Err(nothing_ticked())
    } else if file_ids.len() + folder_ids.len() > ZIP_MOST {
        Err(AppError::Invalid(format!(
            "Move at most {ZIP_MOST} items at once."
        )))
    } else {
        portico_db::moves::move_items(
            &state.db,
            &signed.viewer,
            client_id,
            &file_ids,
            &folder_ids,
            to,
            &info.by(signed),
        )
        .await
        .map_err(AppError::from)
    };
    if let Err(e) = outcome {
        return refused(&state, signed, client_id, at, e, kept).await;
    }
    let back = paths::files_done(signed.viewer.is_staff(), client_id, to, "moved");
    Ok(Redirect::to(&back).into_response())
}

fn nothing_ticked() -> AppError {
    AppError::Invalid(
        "No files or folders were ticked. Tick what to move, then press Move again.".into(),
    )
}
