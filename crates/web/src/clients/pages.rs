//! The firm's side: clients, their matters and portals.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::clients::{self, Client, NewClient, PortalUser};
use portico_db::matters::{self, Matter, NewMatter};
use portico_db::{DbError, Page};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::layout::Layout;
use crate::kit::paths::{self, url_encode};
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::page_cache::Kept;
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "clients/staff_clients.html")]
pub(crate) struct ClientsPage {
    layout: Layout,
    /// One more than a page, to know whether there is a next one.
    clients: Arc<Vec<Client>>,
    shown: usize,
    q: String,
    q_encoded: String,
    page: u32,
    has_more: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<u32>,
}

async fn clients_page(
    state: &AppState,
    signed: &Signed,
    q: String,
    page: u32,
    error: Option<String>,
) -> Result<ClientsPage, AppError> {
    let q: String = q.chars().take(200).collect();
    // Kept while no client of the firm is added, removed, renamed or opened or closed.
    let kept = Kept::ClientList {
        search: q.clone(),
        page,
    };
    let versions = [0, signed.chrome.firm_clients_version, 0];
    let list = state
        .lists
        .get_or_load(kept, &signed.viewer, versions, || {
            clients::list(
                &state.db,
                &signed.viewer,
                &q,
                Page::new(page, PAGE_SIZE + 1),
            )
        })
        .await?;
    let has_more = list.len() > PAGE_SIZE as usize;
    Ok(ClientsPage {
        layout: Layout::new(signed, "Clients", paths::clients()),
        shown: list.len().min(PAGE_SIZE as usize),
        clients: list,
        q_encoded: url_encode(&q),
        q,
        page,
        has_more,
        error,
    })
}

pub(crate) async fn clients(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> Result<ClientsPage, AppError> {
    signed.require_staff()?;
    clients_page(&state, &signed, q.q, q.page.unwrap_or(1).max(1), None).await
}

pub(crate) async fn create_client(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<NewClient>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    match clients::create(&state.db, &signed.viewer, &posted.form, &info.by(signed)).await {
        Ok(c) => Ok(Redirect::to(&paths::client(c.id)).into_response()),
        Err(DbError::Invalid(e)) => {
            let page = clients_page(&state, signed, String::new(), 1, Some(e.message)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "clients/staff_client.html")]
pub(crate) struct ClientPage {
    layout: Layout,
    client: Client,
    matters: Vec<Matter>,
    users: Vec<PortalUser>,
    /// Each portal user's trusted devices, by user id.
    devices: Vec<(uuid::Uuid, Vec<crate::account::sessions::DeviceRow>)>,
    error: Option<String>,
    invite_error: Option<String>,
}

impl ClientPage {
    fn devices_of(&self, user_id: &uuid::Uuid) -> &[crate::account::sessions::DeviceRow] {
        self.devices
            .iter()
            .find(|(u, _)| u == user_id)
            .map(|(_, d)| d.as_slice())
            .unwrap_or(&[])
    }
}

async fn client_page(
    state: &AppState,
    signed: &Signed,
    id: uuid::Uuid,
    error: Option<String>,
    invite_error: Option<String>,
) -> Result<ClientPage, AppError> {
    let client = clients::get(&state.db, &signed.viewer, id).await?;
    let matters = matters::for_client(&state.db, &signed.viewer, id).await?;
    let users = clients::portal_users(&state.db, &signed.viewer, id).await?;
    let layout = Layout::new(signed, client.name.clone(), paths::clients());
    let mut devices = Vec::new();
    for u in users.iter().filter(|u| u.active) {
        let rows = crate::account::sessions::device_rows(state, &signed.viewer, &layout, u.user_id)
            .await?;
        devices.push((u.user_id, rows));
    }
    Ok(ClientPage {
        layout,
        client,
        matters,
        users,
        devices,
        error,
        invite_error,
    })
}

pub(crate) async fn client(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<ClientPage, AppError> {
    signed.require_staff()?;
    client_page(&state, &signed, id, None, None).await
}

pub(crate) async fn create_matter(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<NewMatter>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    match matters::create(
        &state.db,
        &signed.viewer,
        id,
        &posted.form,
        &info.by(signed),
    )
    .await
    {
        Ok(m) => Ok(Redirect::to(&paths::matter(true, m.id)).into_response()),
        Err(DbError::Invalid(e)) => {
            let page = client_page(&state, signed, id, Some(e.message), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct InviteForm {
    name: String,
    email: String,
    #[serde(default)]
    client_admin: Option<String>,
    /// Ask for a registration key, which staff give the person out of band.
    #[serde(default)]
    registration_key: Option<String>,
}

/// Invites a person to a client's portal: a portal account, and an email with a link to
/// choose a password (or, for someone who already has one, word that they now have access).
pub(crate) async fn invite(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<InviteForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let client = clients::get(&state.db, &signed.viewer, id).await?;
    let form = &posted.form;
    let origin = info.by(signed);
    let admin = form.client_admin.is_some();
    let added = clients::add_portal_user(
        &state.db,
        &signed.viewer,
        id,
        &form.email,
        &form.name,
        admin,
        &origin,
    )
    .await;
    let invited = match added {
        Ok(u) => u,
        Err(DbError::Invalid(e)) => {
            let page = client_page(&state, signed, id, None, Some(e.message)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Err(DbError::Conflict(m)) => {
            let page = client_page(&state, signed, id, None, Some(m)).await?;
            return Ok((StatusCode::CONFLICT, page).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    super::invitations::mail_invitation(
        &state,
        &signed.viewer,
        invited.user_id,
        &client.name,
        &origin,
    )
    .await?;
    if form.registration_key.is_some() && invited.pending {
        let key = portico_services::tokens::new_registration_key();
        let hash = portico_services::tokens::hash_registration_key(&key);
        let cu = invited.client_user_id;
        clients::require_registration_key(&state.db, &signed.viewer, id, cu, &hash, &origin)
            .await?;
        // Shown once, here: give it to the person by phone or in person, never by email.
        let mut page = client_page(&state, signed, id, None, None).await?;
        page.layout.notice = Some(format!(
            "Registration key for {}: {key} — give it to them by phone or in person. \
             It is shown only now.",
            invited.email
        ));
        return Ok(page.into_response());
    }
    Ok(Redirect::to(&paths::client(id)).into_response())
}

/// What staff do with an open invitation: send it again, or take it back.
pub(crate) async fn invitation(
    State(state): State<AppState>,
    Path((id, user, action)): Path<(String, String, String)>,
    info: ReqInfo,
    posted: Posted<crate::kit::extract::Empty>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let (id, user) = (parse_id(&id)?, parse_id(&user)?);
    let origin = info.by(signed);
    let done = match action.as_str() {
        "resend" => super::invitations::resend(&state, &signed.viewer, id, user, &origin).await,
        "revoke" => clients::revoke_invitation(&state.db, &signed.viewer, id, user, &origin)
            .await
            .map(|_| ()),
        _ => return Err(AppError::NotFound),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&paths::client(id)).into_response()),
        Err(DbError::Conflict(m)) => {
            let page = client_page(&state, signed, id, None, Some(m)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs a client's portal user out of every session they have for this client.
pub(crate) async fn end_user_sessions(
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
    info: ReqInfo,
    posted: Posted<crate::kit::extract::Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let (id, user) = (parse_id(&id)?, parse_id(&user)?);
    // The portal user must belong to this client of this firm: found through the viewer.
    let users = clients::portal_users(&state.db, &signed.viewer, id).await?;
    let target = users
        .iter()
        .find(|u| u.client_user_id == user)
        .ok_or(AppError::NotFound)?;
    let n = portico_db::sessions::end_for_membership(&state.db, target.client_user_id).await?;
    let event =
        portico_db::audit::Event::new(Some(signed.viewer.firm_id()), "session.end_for_user")
            .object("user", target.user_id)
            .detail(format!("ended={n}"));
    portico_db::audit::record(&state.db, &info.by(signed), event).await?;
    Ok(Redirect::to(&paths::client(id)))
}

/// Staff stop trusting one of a portal user's devices: access links bound to it stop opening.
pub(crate) async fn remove_device(
    State(state): State<AppState>,
    Path((id, user, device)): Path<(String, String, String)>,
    info: ReqInfo,
    posted: Posted<crate::kit::extract::Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let (id, user, device) = (parse_id(&id)?, parse_id(&user)?, parse_id(&device)?);
    // The portal user must belong to this client of this firm: found through the viewer.
    let users = clients::portal_users(&state.db, &signed.viewer, id).await?;
    let target = users
        .iter()
        .find(|u| u.client_user_id == user)
        .ok_or(AppError::NotFound)?;
    if !portico_db::devices::remove(&state.db, &signed.viewer, target.user_id, device).await? {
        return Err(AppError::NotFound);
    }
    let event = portico_db::audit::Event::new(Some(signed.viewer.firm_id()), "device.remove")
        .object("user", target.user_id)
        .detail(format!("device={device}"));
    portico_db::audit::record(&state.db, &info.by(signed), event).await?;
    Ok(Redirect::to(&paths::client(id)))
}

#[derive(Deserialize)]
pub(crate) struct PortalForm {
    open: bool,
}

pub(crate) async fn client_portal(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<PortalForm>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    clients::set_portal_open(
        &state.db,
        &signed.viewer,
        id,
        posted.form.open,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&paths::client(id)))
}

pub(crate) async fn matter_portal(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<PortalForm>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    matters::set_portal_open(
        &state.db,
        &signed.viewer,
        id,
        posted.form.open,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&paths::matter(true, id)))
}
