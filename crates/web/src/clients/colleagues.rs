//! A client admin's page: the colleagues who use the portal, and inviting another one.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_core::Viewer;
use portico_db::DbError;
use portico_db::clients::{self, PortalUser};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// The client a client admin looks after; anyone else finds nothing here.
fn admin_of(signed: &Signed) -> Result<uuid::Uuid, AppError> {
    match signed.viewer {
        Viewer::Client {
            client_id,
            is_client_admin: true,
            ..
        } => Ok(client_id),
        _ => Err(AppError::NotFound),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "clients/portal_colleagues.html")]
pub(crate) struct ColleaguesPage {
    layout: Layout,
    client_name: String,
    users: Vec<PortalUser>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    signed: &Signed,
    error: Option<String>,
) -> Result<ColleaguesPage, AppError> {
    let client_id = admin_of(signed)?;
    let client = clients::get(&state.db, &signed.viewer, client_id).await?;
    let users = clients::portal_users(&state.db, &signed.viewer, client_id).await?;
    Ok(ColleaguesPage {
        layout: Layout::new(signed, "Colleagues", paths::colleagues()),
        client_name: client.name,
        users,
        error,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<ColleaguesPage, AppError> {
    page(&state, &signed, None).await
}

#[derive(Deserialize)]
pub(crate) struct InviteForm {
    name: String,
    email: String,
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<InviteForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let client_id = admin_of(signed)?;
    let client = clients::get(&state.db, &signed.viewer, client_id).await?;
    let origin = info.by(signed);
    let added = clients::add_portal_user(
        &state.db,
        &signed.viewer,
        client_id,
        &posted.form.email,
        &posted.form.name,
        false,
        &origin,
    )
    .await;
    let user_id = match added {
        Ok(u) => u.user_id,
        Err(DbError::Invalid(e)) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, signed, Some(e.message)).await?,
            )
                .into_response());
        }
        Err(DbError::Conflict(m)) => {
            return Ok((StatusCode::CONFLICT, page(&state, signed, Some(m)).await?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    super::invitations::mail_invitation(&state, &signed.viewer, user_id, &client.name, &origin)
        .await?;
    Ok(Redirect::to(paths::colleagues()).into_response())
}
