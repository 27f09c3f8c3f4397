//! Clients and their matters over JSON.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use portico_db::{Page, clients, comments, matters};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::kit::api::ApiError;
use crate::kit::api::ApiViewer;
use crate::kit::api::{origin, rfc3339};
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::request::ReqInfo;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub(crate) struct ClientOut {
    id: Uuid,
    /// `person` or `organisation`.
    kind: String,
    name: String,
    email: Option<String>,
    portal_open: bool,
    created_at: String,
}

impl From<clients::Client> for ClientOut {
    fn from(c: clients::Client) -> Self {
        ClientOut {
            id: c.id,
            kind: c.kind.to_string(),
            name: c.name,
            email: c.email,
            portal_open: c.portal_open,
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct MatterOut {
    id: Uuid,
    client_id: Uuid,
    title: String,
    reference: String,
    description: String,
    portal_open: bool,
    created_at: String,
}

impl From<matters::Matter> for MatterOut {
    fn from(m: matters::Matter) -> Self {
        MatterOut {
            id: m.id,
            client_id: m.client_id,
            title: m.title,
            reference: m.reference,
            description: m.description,
            portal_open: m.portal_open,
            created_at: rfc3339(m.created_at),
        }
    }
}

/// A new client. The firm is the token holder's; it cannot be chosen.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewClientIn {
    /// `person` or `organisation`.
    kind: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMatterIn {
    title: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct ListParams {
    /// Part of the client's name.
    #[serde(default)]
    q: String,
    /// Page number, from 1.
    page: Option<u32>,
    /// Clients per page, at most 200.
    per_page: Option<u32>,
}

/// The firm's clients, by name.
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", params(ListParams),
    responses((status = 200, body = Vec<ClientOut>), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Query(p): Query<ListParams>,
) -> Result<Json<Vec<ClientOut>>, AppError> {
    let q: String = p.q.chars().take(200).collect();
    let page = Page::new(p.page.unwrap_or(1), p.per_page.unwrap_or(50));
    let list = clients::list(&state.db, &viewer, &q, page).await?;
    Ok(Json(list.into_iter().map(ClientOut::from).collect()))
}

/// Adds a client to the firm.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = NewClientIn,
    responses((status = 201, body = ClientOut), (status = 422, body = ApiError), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Json(input): Json<NewClientIn>,
) -> Result<(StatusCode, Json<ClientOut>), AppError> {
    let origin = origin(&state, &viewer, &info).await?;
    let new = clients::NewClient {
        kind: input.kind,
        name: input.name,
        email: input.email,
    };
    let c = clients::create(&state.db, &viewer, &new, &origin).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = Uuid, Path)),
    responses((status = 200, body = ClientOut), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
) -> Result<Json<ClientOut>, AppError> {
    Ok(Json(clients::get(&state.db, &viewer, id).await?.into()))
}

/// A client's matters.
#[utoipa::path(get, path = "/api/v1/clients/{id}/matters", tag = "matters", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<MatterOut>), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn matters(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
) -> Result<Json<Vec<MatterOut>>, AppError> {
    let list = matters::for_client(&state.db, &viewer, id).await?;
    Ok(Json(list.into_iter().map(MatterOut::from).collect()))
}

/// Opens a matter for a client.
#[utoipa::path(post, path = "/api/v1/clients/{id}/matters", tag = "matters", params(("id" = Uuid, Path)),
    request_body = NewMatterIn,
    responses((status = 201, body = MatterOut), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn create_matter(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Id(id): Id,
    Json(input): Json<NewMatterIn>,
) -> Result<(StatusCode, Json<MatterOut>), AppError> {
    let origin = origin(&state, &viewer, &info).await?;
    let new = matters::NewMatter {
        title: input.title,
        reference: input.reference,
        description: input.description,
    };
    let m = matters::create(&state.db, &viewer, id, &new, &origin).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// One matter.
#[utoipa::path(get, path = "/api/v1/matters/{id}", tag = "matters", params(("id" = Uuid, Path)),
    responses((status = 200, body = MatterOut), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn matter(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
) -> Result<Json<MatterOut>, AppError> {
    Ok(Json(matters::get(&state.db, &viewer, id).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CommentOut {
    id: Uuid,
    matter_id: Uuid,
    author_name: String,
    /// `staff` or `client`.
    author_side: String,
    body: String,
    created_at: String,
}

impl From<comments::Comment> for CommentOut {
    fn from(c: comments::Comment) -> Self {
        CommentOut {
            id: c.id,
            matter_id: c.matter_id,
            author_name: c.author_name,
            author_side: c.author_side,
            body: c.body,
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct NewCommentIn {
    /// Plain text, up to 5,000 characters; the client's portal users see it.
    body: String,
}

/// The newest 200 comments on a matter, oldest first.
#[utoipa::path(get, path = "/api/v1/matters/{id}/comments", tag = "matters", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CommentOut>), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn comments(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
) -> Result<Json<Vec<CommentOut>>, AppError> {
    let list = comments::for_matter(&state.db, &viewer, id, 200).await?;
    Ok(Json(list.into_iter().map(CommentOut::from).collect()))
}

/// Comments on a matter as the firm; the client sees it on the matter and their dashboard.
#[utoipa::path(post, path = "/api/v1/matters/{id}/comments", tag = "matters", params(("id" = Uuid, Path)),
    request_body = NewCommentIn,
    responses((status = 201, body = CommentOut), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn add_comment(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Id(id): Id,
    Json(input): Json<NewCommentIn>,
) -> Result<(StatusCode, Json<CommentOut>), AppError> {
    let origin = origin(&state, &viewer, &info).await?;
    let c = comments::add(&state.db, &viewer, id, &input.body, &origin).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}
