//! A client's files and folders over JSON: listing, details with versions, downloading (with
//! byte ranges), folders and moves. Uploads go through the resumable upload endpoint
//! (`/api/v1/uploads`, tus 1.0).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_db::{files, folders};
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
pub(crate) struct FileOut {
    id: Uuid,
    client_id: Uuid,
    folder_id: Option<Uuid>,
    name: String,
    size: i64,
    /// The type recognised from the file's first bytes.
    content_type: String,
    sha256: String,
    /// 1 for the first upload of this name in its folder, then one more for each.
    version: i64,
    /// Whether a newer version took this one's place.
    superseded: bool,
    /// `staff` or `client`.
    uploaded_side: String,
    /// `clean`, `pending` (waiting for the virus scanner) or `infected`.
    scan_status: String,
    created_at: String,
}

impl From<files::StoredFile> for FileOut {
    fn from(f: files::StoredFile) -> Self {
        FileOut {
            id: f.id,
            client_id: f.client_id,
            folder_id: f.folder_id,
            name: f.name,
            size: f.size,
            content_type: f.content_type,
            sha256: f.sha256,
            version: f.version,
            superseded: f.superseded_at.is_some(),
            uploaded_side: f.uploaded_side,
            scan_status: f.scan_status.to_string(),
            created_at: rfc3339(f.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct FolderOut {
    id: Uuid,
    client_id: Uuid,
    parent_id: Option<Uuid>,
    name: String,
    created_at: String,
}

impl From<folders::Folder> for FolderOut {
    fn from(f: folders::Folder) -> Self {
        FolderOut {
            id: f.id,
            client_id: f.client_id,
            parent_id: f.parent_id,
            name: f.name,
            created_at: rfc3339(f.created_at),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct FileParams {
    /// The folder to list; the client's top level when absent.
    folder: Option<Uuid>,
    /// Page number, from 1.
    page: Option<u32>,
    /// Files per page, at most 200.
    per_page: Option<u32>,
}

/// The current files in one of a client's folders (or its top level), newest first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/files", tag = "files", params(("id" = Uuid, Path), FileParams),
    responses((status = 200, body = Vec<FileOut>), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
    Query(p): Query<FileParams>,
) -> Result<Json<Vec<FileOut>>, AppError> {
    let client_id = id;
    if let Some(folder) = p.folder {
        let (f, _) = folders::get(&state.db, &viewer, folder).await?;
        if f.client_id != client_id {
            return Err(AppError::NotFound);
        }
    }
    let per_page = i64::from(p.per_page.unwrap_or(50).clamp(1, 200));
    let page = i64::from(p.page.unwrap_or(1).clamp(1, 1_000_000));
    let listing = files::Listing {
        place: p.folder.map_or(files::Place::Top, files::Place::In),
        sort: files::Sort::Date,
        descending: true,
        offset: (page - 1) * per_page,
        limit: per_page,
    };
    let listed = files::list(&state.db, &viewer, client_id, listing).await?;
    let ids: Vec<Uuid> = listed.files.iter().map(|l| l.id).collect();
    let rows = files::details(&state.db, &viewer, client_id, &ids).await?;
    Ok(Json(rows.into_iter().map(FileOut::from).collect()))
}

/// One file's details.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", params(("id" = Uuid, Path)),
    responses((status = 200, body = FileOut), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
) -> Result<Json<FileOut>, AppError> {
    Ok(Json(files::get(&state.db, &viewer, id).await?.into()))
}

/// Every version of a file, newest first.
#[utoipa::path(get, path = "/api/v1/files/{id}/versions", tag = "files", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<FileOut>), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn versions(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
) -> Result<Json<Vec<FileOut>>, AppError> {
    let list = files::versions(&state.db, &viewer, id).await?;
    Ok(Json(list.into_iter().map(FileOut::from).collect()))
}

/// A file's bytes, whole or one byte range (`Range: bytes=…`), as an attachment. A file
/// waiting for the virus scanner, or quarantined, answers 409.
#[utoipa::path(get, path = "/api/v1/files/{id}/content", tag = "files", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file's bytes"), (status = 206, description = "The range asked for"),
        (status = 404, body = ApiError), (status = 409, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn content(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    headers: HeaderMap,
    Id(id): Id,
) -> Result<Response, AppError> {
    let origin = origin(&state, &viewer, &info).await?;
    crate::files::serve(&state, &viewer, &origin, &headers, id, false).await
}

/// A client's folders, every one, each with its parent.
#[utoipa::path(get, path = "/api/v1/clients/{id}/folders", tag = "files", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<FolderOut>), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn folder_list(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Id(id): Id,
) -> Result<Json<Vec<FolderOut>>, AppError> {
    let tree = folders::tree(&state.db, &viewer, id).await?;
    Ok(Json(tree.into_iter().map(FolderOut::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewFolderIn {
    name: String,
    /// The folder to make it in; the client's top level when absent.
    #[serde(default)]
    parent_id: Option<Uuid>,
}

/// Makes a folder in a client's files.
#[utoipa::path(post, path = "/api/v1/clients/{id}/folders", tag = "files", params(("id" = Uuid, Path)),
    request_body = NewFolderIn,
    responses((status = 201, body = FolderOut), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn new_folder(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Id(id): Id,
    Json(input): Json<NewFolderIn>,
) -> Result<(StatusCode, Json<FolderOut>), AppError> {
    let origin = origin(&state, &viewer, &info).await?;
    let f = folders::create(
        &state.db,
        &viewer,
        id,
        input.parent_id,
        &input.name,
        &origin,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveIn {
    /// The client whose files and folders these are.
    client_id: Uuid,
    #[serde(default)]
    files: Vec<Uuid>,
    #[serde(default)]
    folders: Vec<Uuid>,
    /// The destination folder; the client's top level when null.
    to: Option<Uuid>,
}

/// Moves files (with all their versions) and folders of one client into a folder, all or
/// none. A folder cannot go into itself or below itself; a name taken there is refused.
#[utoipa::path(post, path = "/api/v1/files/move", tag = "files", request_body = MoveIn,
    responses((status = 204, description = "Moved"), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn move_items(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Json(input): Json<MoveIn>,
) -> Result<StatusCode, AppError> {
    if input.files.len() + input.folders.len() > 500 {
        return Err(AppError::Invalid("Move at most 500 items at once.".into()));
    }
    if input.files.is_empty() && input.folders.is_empty() {
        return Err(AppError::Invalid(
            "Name the files or folders to move.".into(),
        ));
    }
    let origin = origin(&state, &viewer, &info).await?;
    portico_db::moves::move_items(
        &state.db,
        &viewer,
        input.client_id,
        &input.files,
        &input.folders,
        input.to,
        &origin,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
