//! Passkeys on the account: the list, adding one (a two-request ceremony whose state waits in
//! the database in between) and removing one.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::passkeys::{self, Purpose};
use portico_db::users;
use serde_json::json;

use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::signin::passkey::{
    FinishForm, begin, credentials, finish_registration, refuse, start_registration, unavailable,
};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "account/passkeys.html")]
pub(crate) struct PasskeysPage {
    layout: Layout,
    list: Vec<(passkeys::StoredPasskey, String, String)>,
    link_session: bool,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<PasskeysPage, AppError> {
    let layout = Layout::new(&signed, "Passkeys", "/account/2fa");
    let list = passkeys::of_user(&state.db, signed.viewer.user_id())
        .await?
        .into_iter()
        .map(|p| {
            let added = layout.when(&p.created_at);
            let used = p
                .last_used_at
                .map(|t| layout.when(&t))
                .unwrap_or_else(|| "never".into());
            (p, added, used)
        })
        .collect();
    Ok(PasskeysPage {
        layout,
        list,
        link_session: signed.by_link(),
    })
}

pub(crate) async fn register_start(
    State(state): State<AppState>,
    posted: Posted<Empty>,
) -> Result<Response, AppError> {
    if let Some(refused) = unavailable(&state.config) {
        return Ok(refused);
    }
    let signed = &posted.signed;
    let user = users::by_id(&state.db, signed.viewer.user_id())
        .await?
        .ok_or(AppError::SignInRequired)?;
    let existing = credentials(&passkeys::of_user(&state.db, user.id).await?);
    let exclude = existing.iter().map(|p| p.cred_id().clone()).collect();
    let (options, ceremony) = start_registration(&state, &user, Some(exclude))?;
    begin(&state, Some(user.id), Purpose::Register, options, ceremony).await
}

pub(crate) async fn register_finish(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<FinishForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let form = &posted.form;
    let user_id = signed.viewer.user_id();
    let registered = match finish_registration(
        &state,
        Purpose::Register,
        user_id,
        &form.ceremony,
        &form.credential,
    )
    .await?
    {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let name = if form.name.trim().is_empty() {
        "Passkey"
    } else {
        form.name.as_str()
    };
    let added = passkeys::add(
        &state.db,
        user_id,
        signed.session.id,
        name,
        &registered.key,
        &registered.stored,
        &info.by(signed),
    )
    .await;
    match added {
        Ok(_) => Ok(Json(json!({ "redirect": "/account/passkeys" })).into_response()),
        Err(portico_db::DbError::Invalid(e)) => {
            Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, &e.message))
        }
        Err(e) if e.is_unique_violation() => Ok(refuse(
            StatusCode::CONFLICT,
            "That passkey is registered already.",
        )),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    passkeys::remove(
        &state.db,
        signed.viewer.user_id(),
        signed.session.id,
        id,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to("/account/passkeys").into_response())
}
