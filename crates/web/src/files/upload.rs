//! Uploading one or many files from a page, into the folder being viewed.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::clients;
use portico_db::folders;

use super::store::store_and_record;
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::paths;
use crate::kit::posted::{MultipartPost, Refusals, multipart_text};
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// Staff upload one or many files into a client's files.
pub(crate) async fn staff_upload(
    State(state): State<AppState>,
    info: ReqInfo,
    signed: Signed,
    Id(id): Id,
    req: Request,
) -> Result<Response, AppError> {
    signed.require_staff()?;
    upload_into(&state, &info, &signed, id, req).await
}

/// A client uploads one or many files into their own files.
pub(crate) async fn portal_upload(
    State(state): State<AppState>,
    info: ReqInfo,
    signed: Signed,
    req: Request,
) -> Result<Response, AppError> {
    let own = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    upload_into(&state, &info, &signed, own, req).await
}

/// The upload itself: the form's token comes first in the body and is checked before any
/// file is read; each file then streams into storage.
async fn upload_into(
    state: &AppState,
    info: &ReqInfo,
    signed: &Signed,
    client_id: uuid::Uuid,
    req: Request,
) -> Result<Response, AppError> {
    let client = clients::get(&state.db, &signed.viewer, client_id).await?;
    let mut form = MultipartPost::open(
        req,
        state,
        signed,
        Refusals {
            not_multipart: "Choose files with the upload form.",
            unreadable: "The upload could not be read.",
            cut_off: "The upload was cut off. Please try again.",
        },
    )
    .await?;
    let origin = info.by(signed);
    let mut count = 0;
    let mut folder = None;
    while let Some(field) = form.next().await? {
        match field.name() {
            // The folder comes before the files, as the page's form sends it.
            Some("folder") if count == 0 => {
                let raw = multipart_text(field, 64, "That folder does not exist.").await?;
                if !raw.is_empty() {
                    let (f, _) = folders::get(&state.db, &signed.viewer, parse_id(&raw)?).await?;
                    if f.client_id != client.id {
                        return Err(AppError::NotFound);
                    }
                    folder = Some(f.id);
                }
            }
            Some("file") => {
                if field.file_name().is_none_or(str::is_empty) {
                    continue;
                }
                store_and_record(state, signed, client.id, folder, field, &origin).await?;
                count += 1;
            }
            _ => {}
        }
    }
    if count == 0 {
        return Err(AppError::Invalid(
            "Choose at least one file to upload.".into(),
        ));
    }
    let to = paths::files_done(signed.viewer.is_staff(), client.id, folder, "uploaded");
    Ok(Redirect::to(&to).into_response())
}
