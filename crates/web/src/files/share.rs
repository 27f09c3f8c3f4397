//! Sharing files with the client, and marking shared files read.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::clients;
use portico_db::files::{self};
use portico_db::folders;
use portico_db::shares::Audience;

use super::folders::ticked;
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::state::AppState;

/// "Share selected" and "Stop sharing selected items", for staff.
pub(crate) async fn share(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    // The form's pairs as sent: every ticked box is one more `file` field.
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let client = clients::get(&state.db, &signed.viewer, id).await?;
    let pairs = &posted.form;
    let (ids, dirs) = ticked(pairs)?;
    let action = pairs
        .iter()
        .find(|(k, _)| k == "action")
        .map_or("", |(_, v)| v.as_str());
    if ids.is_empty() && dirs.is_empty() {
        return Err(AppError::Invalid(
            "Nothing was ticked. Go back, tick the files or folders you mean, then press the button again."
                .into(),
        ));
    }
    let origin = info.by(signed);
    let done = match action {
        "share" => {
            // With the whole client, or only with one of its matters.
            let audience = match pairs.iter().find(|(k, _)| k == "audience") {
                Some((_, v)) if v != "client" => Audience::Matter(parse_id(v)?),
                _ => Audience::Client(client.id),
            };
            files::share(
                &state.db,
                &signed.viewer,
                client.id,
                &ids,
                audience,
                &origin,
            )
            .await?;
            folders::share(
                &state.db,
                &signed.viewer,
                client.id,
                &dirs,
                audience,
                &origin,
            )
            .await?;
            "shared"
        }
        "unshare" => {
            files::unshare(&state.db, &signed.viewer, client.id, &ids, &origin).await?;
            folders::unshare(&state.db, &signed.viewer, client.id, &dirs, &origin).await?;
            "unshared"
        }
        _ => {
            return Err(AppError::Invalid(
                "Choose to share or to stop sharing.".into(),
            ));
        }
    };
    Ok(Redirect::to(&format!("{}?done={done}", paths::client_files(client.id))).into_response())
}

/// "Mark as read" by the client: the firm sees the file as complete.
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    Id(id): Id,
    posted: Posted<crate::kit::extract::Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    let f = files::get(&state.db, &signed.viewer, id).await?;
    files::mark_read(&state.db, &signed.viewer, f.id).await?;
    Ok(Redirect::to(&paths::files_done(
        signed.viewer.is_staff(),
        f.client_id,
        f.folder_id,
        "read",
    )))
}
