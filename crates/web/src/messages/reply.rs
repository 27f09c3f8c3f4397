//! Replies (with files, as multipart), edits, deletions, and marking a conversation resolved.

use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::DbError;
use portico_db::messages::{self};
use serde::Deserialize;

use super::conversation::refused;
use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::extract::Id;
use crate::kit::extract::{check_side, parse_id};
use crate::kit::paths;
use crate::kit::posted::{MultipartPost, Posted, Refusals, multipart_text};
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct BodyForm {
    body: String,
}

pub(crate) async fn reply(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    uri: Uri,
    posted: Posted<BodyForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    let origin = info.by(signed);
    match messages::reply(
        &state.db,
        &signed.viewer,
        id,
        &posted.form.body,
        &[],
        &origin,
    )
    .await
    {
        Ok(m) => {
            state.jobs_waiting.notify_one();
            let to = format!(
                "{}#m{}",
                paths::conversation(signed.viewer.is_staff(), id),
                m.seq
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(DbError::Invalid(e)) => {
            refused(&state, signed, id, e.message, posted.form.body.clone()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The page's reply form: text and files together, as multipart. The form's token comes
/// first; files stream into storage as they arrive and are recorded with the message, or
/// removed again if the message is refused.
pub(crate) async fn reply_upload(
    State(state): State<AppState>,
    info: ReqInfo,
    signed: Signed,
    uri: Uri,
    Id(id): Id,
    req: Request,
) -> Result<Response, AppError> {
    check_side(&uri, &signed)?;
    // Nothing is read, let alone stored, for a conversation the person cannot see.
    messages::get(&state.db, &signed.viewer, id).await?;
    let mut form = MultipartPost::open(
        req,
        &state,
        &signed,
        Refusals {
            not_multipart: "Send the reply with the form on the page.",
            unreadable: "The reply could not be read.",
            cut_off: "The reply was cut off. Please try again.",
        },
    )
    .await?;
    let mut body = String::new();
    let mut stored = Vec::new();
    let read: Result<(), AppError> = async {
        while let Some(field) = form.next().await? {
            match field.name() {
                Some("body") => {
                    let too_long = format!(
                        "The message is longer than {} characters. Shorten it, or send it in parts.",
                        messages::MAX_BODY_CHARS
                    );
                    body = multipart_text(field, messages::MAX_BODY_CHARS * 4, &too_long).await?;
                }
                Some("file") => {
                    if field.file_name().is_none_or(str::is_empty) {
                        continue;
                    }
                    if stored.len() >= messages::MAX_ATTACHMENTS {
                        return Err(AppError::Invalid(format!(
                            "Attach at most {} files to one message.",
                            messages::MAX_ATTACHMENTS
                        )));
                    }
                    stored.push(crate::files::store::store_field(&state, &signed.viewer, field).await?);
                }
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    let forget = |stored: Vec<(crate::files::store::NewFileOwned, String)>| {
        let storage = state.storage.clone();
        async move {
            for (_, key) in stored {
                let _ = storage.delete(&key).await;
            }
        }
    };
    if let Err(e) = read {
        forget(stored).await;
        return Err(e);
    }
    let news: Vec<_> = stored.iter().map(|(f, _)| f.as_new()).collect();
    let result = messages::reply(
        &state.db,
        &signed.viewer,
        id,
        &body,
        &news,
        &info.by(&signed),
    )
    .await;
    drop(news);
    match result {
        Ok(m) => {
            state.jobs_waiting.notify_one();
            let to = format!(
                "{}#m{}",
                paths::conversation(signed.viewer.is_staff(), id),
                m.seq
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            forget(stored).await;
            match e {
                DbError::Invalid(e) => refused(&state, &signed, id, e.message, body).await,
                e => Err(e.into()),
            }
        }
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, i64)>,
    info: ReqInfo,
    uri: Uri,
    posted: Posted<BodyForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    if signed.by_link() {
        return Err(AppError::NotFound);
    }
    let conversation = messages::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    let origin = info.by(signed);
    match messages::edit(
        &state.db,
        &signed.viewer,
        &conversation,
        seq,
        &posted.form.body,
        &origin,
    )
    .await
    {
        Ok(()) => {
            let to = format!(
                "{}#m{seq}",
                paths::conversation(signed.viewer.is_staff(), conversation.id)
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(DbError::Invalid(e)) => {
            refused(&state, signed, conversation.id, e.message, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, i64)>,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let conversation = messages::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    messages::delete(
        &state.db,
        &signed.viewer,
        &conversation,
        seq,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "{}#m{seq}",
        paths::conversation(true, conversation.id)
    ))
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ResolveForm {
    resolved: bool,
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<ResolveForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    messages::set_resolved(
        &state.db,
        &signed.viewer,
        id,
        posted.form.resolved,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&paths::conversation(true, id)).into_response())
}
