//! Folders: making, renaming, deleting, and moving files and folders between them.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::files::{self};
use portico_db::folders;
use serde::Deserialize;

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
    let made = folders::create(
        &state.db,
        &signed.viewer,
        client_id,
        parent,
        &posted.form.name,
        &info.by(signed),
    )
    .await?;
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
    let f = folders::rename(
        &state.db,
        &signed.viewer,
        id,
        &posted.form.name,
        &info.by(signed),
    )
    .await?;
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
    let f = folders::delete(&state.db, &signed.viewer, id, &info.by(signed)).await?;
    let to = paths::files_done(
        signed.viewer.is_staff(),
        f.client_id,
        f.parent_id,
        "deleted",
    );
    Ok(Redirect::to(&to).into_response())
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
    let (file_ids, folder_ids) = ticked(&posted.form)?;
    if file_ids.len() + folder_ids.len() > ZIP_MOST {
        return Err(AppError::Invalid(format!(
            "Move at most {ZIP_MOST} items at once."
        )));
    }
    let to = posted
        .form
        .iter()
        .find(|(k, _)| k == "to")
        .map(|(_, v)| optional_id(v))
        .transpose()?
        .ok_or_else(|| AppError::Invalid("Choose where to move them.".into()))?;
    // The client is the one the first ticked item belongs to; every other item and the
    // destination must be of the same client, or the move is refused as a whole.
    let client_id = match (file_ids.first(), folder_ids.first()) {
        (Some(f), _) => files::get(&state.db, &signed.viewer, *f).await?.client_id,
        (None, Some(d)) => {
            folders::get(&state.db, &signed.viewer, *d)
                .await?
                .0
                .client_id
        }
        (None, None) => {
            return Err(AppError::Invalid(
                "No files or folders were ticked. Tick what to move, then press Move again.".into(),
            ));
        }
    };
    portico_db::moves::move_items(
        &state.db,
        &signed.viewer,
        client_id,
        &file_ids,
        &folder_ids,
        to,
        &info.by(signed),
    )
    .await?;
    let back = paths::files_done(signed.viewer.is_staff(), client_id, to, "moved");
    Ok(Redirect::to(&back).into_response())
}
