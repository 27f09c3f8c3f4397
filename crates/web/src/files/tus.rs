//! Resumable uploads over the tus 1.0 protocol (core, creation, termination and expiration):
//! a file of any size up to the limit arrives in parts; a dropped connection keeps what had
//! arrived, and the upload goes on from there, from this tab or another. Once every byte is
//! in, the parts are joined into one of the client's files, hashed, sniffed, sealed and
//! scanned like any other upload. Until then nothing of it is listed or served.
//!
//! Requests come from the page's script with the session cookie and the form token in
//! `X-CSRF-Token`, or from an integration with an API token (under `/api/v1/uploads`); only
//! the person who began an upload can see or continue it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use portico_db::files::NewFile;
use portico_db::uploads::{self, Part, Upload};
use portico_db::{clients, new_id};
use portico_storage::crypt;

use crate::files::store::{over_limit, store_stream, upload_limit};
use crate::kit::api::{ApiViewer, origin as api_origin};
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,termination,expiration";

/// The headers every tus answer carries.
fn tus(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert("tus-resumable", HeaderValue::from_static(VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn with(mut res: Response, name: &'static str, value: impl ToString) -> Response {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        res.headers_mut().insert(name, v);
    }
    res
}

/// A request that does not speak tus 1.0.0 gets 412 naming the version spoken here.
fn wrong_version(headers: &HeaderMap) -> Option<Response> {
    match headers.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(VERSION) => None,
        _ => Some(with(
            tus(StatusCode::PRECONDITION_FAILED),
            "tus-version",
            VERSION,
        )),
    }
}

/// Who is uploading: a signed-in person (whose writes carry the form token, as the page's
/// forms do) or an integration's API token (which no other site can send).
#[derive(Clone)]
pub(crate) struct Uploader {
    viewer: portico_core::Viewer,
    origin: portico_db::audit::Origin,
    signed: Option<Signed>,
    /// Where this upload's addresses begin: `/uploads` or `/api/v1/uploads`.
    base: &'static str,
}

impl FromRequestParts<AppState> for Uploader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Ok(info) = ReqInfo::from_request_parts(parts, state).await;
        if parts.uri.path().starts_with("/api/") {
            let ApiViewer(viewer) = ApiViewer::from_request_parts(parts, state).await?;
            let origin = api_origin(state, &viewer, &info).await?;
            return Ok(Uploader {
                viewer,
                origin,
                signed: None,
                base: "/api/v1/uploads",
            });
        }
        let signed = Signed::from_request_parts(parts, state).await?;
        Ok(Uploader {
            viewer: signed.viewer.clone(),
            origin: info.by(&signed),
            signed: Some(signed),
            base: "/uploads",
        })
    }
}

impl Uploader {
    fn check_write(&self, headers: &HeaderMap) -> Result<(), AppError> {
        match &self.signed {
            Some(signed) => signed.check_csrf(
                headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            ),
            None => Ok(()),
        }
    }
}

fn number(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0)
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, AppError> {
    let Some(raw) = headers.get("upload-metadata") else {
        return Ok(Vec::new());
    };
    let bad = || {
        AppError::Invalid("The upload's description (Upload-Metadata) could not be read.".into())
    };
    let raw = raw.to_str().map_err(|_| bad())?;
    if raw.len() > 4096 {
        return Err(bad());
    }
    let mut out = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once(' ').unwrap_or((pair, ""));
        let v = STANDARD.decode(v.trim()).map_err(|_| bad())?;
        out.push((k.to_string(), String::from_utf8(v).map_err(|_| bad())?));
    }
    Ok(out)
}

/// What the server supports.
pub(crate) async fn options(State(state): State<AppState>) -> Response {
    let res = tus(StatusCode::NO_CONTENT);
    let res = with(res, "tus-version", VERSION);
    let res = with(res, "tus-extension", EXTENSIONS);
    with(res, "tus-max-size", state.config.max_file_bytes)
}

/// Begins an upload: its length is declared and checked against the limits before any byte
/// is read; `filename`, and for staff `client`, come in the metadata, `folder` optionally.
pub(crate) async fn create(
    State(state): State<AppState>,
    up: Uploader,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(res) = wrong_version(&headers) {
        return Ok(res);
    }
    up.check_write(&headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(AppError::Invalid(
            "Say the file's length when the upload begins (Upload-Length).".into(),
        ));
    }
    let length = number(&headers, "upload-length").ok_or_else(|| {
        AppError::Invalid("The upload must say how long the file is (Upload-Length).".into())
    })?;
    let (max, per_file) = upload_limit(&state, up.viewer.firm_id()).await?;
    if length as u64 > max {
        return Err(over_limit(max, per_file));
    }
    let meta = metadata(&headers)?;
    let get = |k: &str| meta.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let name = get("filename")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| AppError::Invalid("The upload must name the file (filename).".into()))?;
    let client_id = match up.viewer.client_scope() {
        Some(own) => own,
        None => parse_id(get("client").unwrap_or(""))?,
    };
    let folder = match get("folder").unwrap_or("") {
        "" => None,
        id => Some(parse_id(id)?),
    };
    let client = clients::get(&state.db, &up.viewer, client_id).await?;
    let u = uploads::create(&state.db, &up.viewer, client.id, folder, name, length).await?;
    let res = tus(StatusCode::CREATED);
    let res = with(res, "location", format!("{}/{}", up.base, u.id));
    Ok(with(res, "upload-expires", expires(&u)))
}

/// When the upload expires, as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn expires(u: &Upload) -> String {
    u.expires_at
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap_or_default()
}

/// Where an upload has got to.
pub(crate) async fn head(
    State(state): State<AppState>,
    up: Uploader,
    headers: HeaderMap,
    Id(id): Id,
) -> Result<Response, AppError> {
    if let Some(res) = wrong_version(&headers) {
        return Ok(res);
    }
    let u = uploads::get(&state.db, &up.viewer, id).await?;
    let res = with(tus(StatusCode::OK), "upload-offset", u.received);
    let res = with(res, "upload-length", u.length);
    Ok(with(res, "upload-expires", expires(&u)))
}

/// Gives up an unfinished upload: its parts are removed.
pub(crate) async fn delete(
    State(state): State<AppState>,
    up: Uploader,
    headers: HeaderMap,
    Id(id): Id,
) -> Result<Response, AppError> {
    if let Some(res) = wrong_version(&headers) {
        return Ok(res);
    }
    up.check_write(&headers)?;
    let u = uploads::forget(&state.db, &up.viewer, id).await?;
    remove_prefix(&state, &portico_storage::layout::parts_prefix(u.id), None).await;
    remove_prefix(
        &state,
        &portico_storage::layout::first_prefix(u.firm_id, u.id),
        None,
    )
    .await;
    let joined = [portico_storage::layout::joined_key(u.firm_id, u.id)];
    if let Err(e) = portico_db::loose_objects::remove_later(&state.db, &joined).await {
        tracing::warn!(error = %e, "could not mark an upload's joined file for removal");
    }
    Ok(tus(StatusCode::NO_CONTENT))
}

/// Marks every object under a prefix but `keep` for removal. Removal waits a while (see
/// `loose_objects`): a backup of a moment when a row still named them finds them whole.
async fn remove_prefix(state: &AppState, prefix: &str, keep: Option<&str>) {
    match state.storage.list(prefix).await {
        Ok(keys) => {
            let keys: Vec<String> = keys
                .into_iter()
                .filter(|k| Some(k.as_str()) != keep)
                .collect();
            if let Err(e) = portico_db::loose_objects::remove_later(&state.db, &keys).await {
                tracing::warn!(error = %e, %prefix, "could not mark an upload's parts for removal");
            }
        }
        Err(e) => tracing::warn!(error = %e, %prefix, "could not list an upload's parts"),
    }
}

/// Adds bytes at the offset the upload has reached. A body that stops early keeps what had
/// arrived; one that runs past the declared length keeps nothing of this request (413); an
/// offset other than the upload's gets 409. When the last byte is in, the file is made.
pub(crate) async fn patch(
    State(state): State<AppState>,
    up: Uploader,
    Id(id): Id,
    req: Request,
) -> Result<Response, AppError> {
    let headers = req.headers().clone();
    if let Some(res) = wrong_version(&headers) {
        return Ok(res);
    }
    up.check_write(&headers)?;
    let is_octets = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/offset+octet-stream");
    if !is_octets {
        return Err(AppError::UnsupportedType(
            "Send the file's bytes as application/offset+octet-stream.".into(),
        ));
    }
    let offset = number(&headers, "upload-offset")
        .ok_or_else(|| AppError::Invalid("Say where these bytes go (Upload-Offset).".into()))?;
    let u = uploads::get(&state.db, &up.viewer, id).await?;
    if offset != u.received {
        return Ok(with(
            conflict(format!(
                "The upload has {} bytes, not {offset}: continue from there.",
                u.received
            )),
            "upload-offset",
            u.received,
        ));
    }
    // The work goes on in its own task: a connection that drops ends the request's future,
    // but what had arrived is still stored and counted, and a join under way still finishes.
    let work = tokio::spawn(receive_and_join(state, up, u, req.into_body()));
    work.await
        .map_err(|e| AppError::Internal(format!("an upload's work stopped: {e}")))?
}

async fn receive_and_join(
    state: AppState,
    up: Uploader,
    u: Upload,
    body: Body,
) -> Result<Response, AppError> {
    let mut whole_first = None;
    if u.file_id.is_none() && u.received < u.length {
        match receive(&state, &u, body).await? {
            Received::Kept(first) => whole_first = first,
            Received::Raced => {
                let now = uploads::get(&state.db, &up.viewer, u.id).await?;
                return Ok(with(
                    conflict(
                        "Another window sent these bytes first; continue from where it got to."
                            .into(),
                    ),
                    "upload-offset",
                    now.received,
                ));
            }
        }
    }
    let u = uploads::get(&state.db, &up.viewer, u.id).await?;
    if u.file_id.is_none() && u.received == u.length {
        match whole_first {
            // One request brought every byte: its part is the file, already hashed.
            Some(first) if first.size == u.length => adopt(&state, &up, &u, first).await?,
            _ => join(&state, &up, &u).await?,
        }
    }
    let res = with(tus(StatusCode::NO_CONTENT), "upload-offset", u.received);
    Ok(with(res, "upload-expires", expires(&u)))
}

fn conflict(message: String) -> Response {
    let mut res = AppError::Conflict(message).into_response();
    res.headers_mut()
        .insert("tus-resumable", HeaderValue::from_static(VERSION));
    res
}

/// The first part of an upload, as its request stored it: kept beside the firm's files,
/// sealed with a key bound to the file's id, and hashed and sniffed on the way, so that when
/// it holds every byte it simply becomes the file.
struct FirstPart {
    key: String,
    size: i64,
    sha256: String,
    head: Vec<u8>,
    key_wrapped: String,
}

enum Received {
    /// Stored and counted (possibly nothing, if the body was empty); the first part says
    /// what it holds.
    Kept(Option<FirstPart>),
    /// Another request added bytes at this offset first; this part was removed.
    Raced,
}

/// Where a new part of an upload goes, and the id its key is bound to: the first beside the
/// firm's files (bound to the file's id, as a file's key is), the others under the upload's
/// prefix (bound to their own). Every request writes a key of its own.
fn part_place(u: &Upload) -> (uuid::Uuid, String) {
    let id = new_id();
    if u.received == 0 {
        (
            u.id,
            format!(
                "{}{id}",
                portico_storage::layout::first_prefix(u.firm_id, u.id)
            ),
        )
    } else {
        (
            id,
            format!("{}{id}", portico_storage::layout::parts_prefix(u.id)),
        )
    }
}

/// The id a part's key is bound to.
fn part_binding(u: &Upload, p: &Part) -> Result<uuid::Uuid, AppError> {
    if p.start == 0 {
        return Ok(u.id);
    }
    p.storage_key
        .rsplit('/')
        .next()
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .ok_or_else(|| AppError::Internal("an upload part's key is damaged".into()))
}

/// What hashing the first part has seen so far.
#[derive(Default)]
struct Digest {
    sha: Option<sha2::Sha256>,
    head: Vec<u8>,
}

/// Stores one request's bytes as a part and records it at the upload's offset.
async fn receive(state: &AppState, u: &Upload, body: Body) -> Result<Received, AppError> {
    use sha2::Digest as _;
    let room = (u.length - u.received).max(0) as u64;
    let (part_id, key) = part_place(u);
    let first = part_id == u.id;
    let size = Arc::new(AtomicU64::new(0));
    let over = Arc::new(AtomicBool::new(false));
    let digest = Arc::new(std::sync::Mutex::new(Digest {
        sha: first.then(sha2::Sha256::new),
        head: Vec::new(),
    }));
    let (counted, too_much, seen) = (size.clone(), over.clone(), digest.clone());
    // A connection that drops ends the part where it dropped; what arrived is kept.
    let bytes = body
        .into_data_stream()
        .take_while(|chunk| std::future::ready(chunk.is_ok()))
        .map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            let total =
                counted.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            if total > room {
                too_much.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other("more bytes than the upload declared"));
            }
            let mut d = seen.lock().expect("digest lock");
            if let Some(sha) = d.sha.as_mut() {
                sha.update(&chunk);
                if d.head.len() < 16 {
                    let take = chunk.len().min(16 - d.head.len());
                    d.head.extend_from_slice(&chunk[..take]);
                }
            }
            Ok(chunk)
        });
    let mut key_wrapped = String::new();
    let sealed = match &state.config.encryption {
        Some(master) => {
            let (fk, wrapped) = master.new_file_key(u.firm_id.as_bytes(), part_id.as_bytes());
            key_wrapped = wrapped;
            fk.seal_stream(bytes)
        }
        None => bytes.boxed(),
    };
    let _held = crate::files::store::Held::start(&state.db, &key).await?;
    let stored = state.storage.put_stream(&key, sealed).await;
    if over.load(Ordering::Relaxed) {
        let _ = state.storage.delete(&key).await;
        return Err(AppError::TooLarge(format!(
            "These bytes run past the {} bytes the upload declared; none of them were kept.",
            u.length
        )));
    }
    stored.map_err(AppError::from)?;
    let size = size.load(Ordering::Relaxed) as i64;
    if size == 0 {
        let _ = state.storage.delete(&key).await;
        return Ok(Received::Kept(None));
    }
    let part = Part {
        start: u.received,
        size,
        storage_key: key.clone(),
        key_wrapped: key_wrapped.clone(),
    };
    if !uploads::add_part(&state.db, u, u.received, &part).await? {
        let _ = state.storage.delete(&key).await;
        return Ok(Received::Raced);
    }
    let first = first.then(|| {
        let mut d = digest.lock().expect("digest lock");
        FirstPart {
            key,
            size,
            sha256: crate::files::store::hex_lower(&d.sha.take().expect("hashed").finalize()),
            head: std::mem::take(&mut d.head),
            key_wrapped,
        }
    });
    Ok(Received::Kept(first))
}

/// Records an upload whose one part holds every byte: the part is the file.
async fn adopt(
    state: &AppState,
    up: &Uploader,
    u: &Upload,
    first: FirstPart,
) -> Result<(), AppError> {
    if !uploads::claim_join(&state.db, u).await? {
        return Err(AppError::Conflict(
            "The file is being recorded; ask again in a moment.".into(),
        ));
    }
    let new = NewFile {
        id: u.id,
        name: &u.name,
        size: first.size,
        content_type: crate::files::store::sniff(&first.head),
        sha256: &first.sha256,
        storage_key: &first.key,
        scan: state.config.scan,
        key_wrapped: &first.key_wrapped,
        folder_id: u.folder_id,
    };
    uploads::finish(&state.db, &up.viewer, u, new, &up.origin).await?;
    state.jobs_waiting.notify_one();
    // What requests cut off by a dying server may have left beside it.
    remove_prefix(state, &portico_storage::layout::parts_prefix(u.id), None).await;
    remove_prefix(
        state,
        &portico_storage::layout::first_prefix(u.firm_id, u.id),
        Some(&first.key),
    )
    .await;
    Ok(())
}
/// Joins a complete upload's parts into the file and records it; the parts are removed.
async fn join(state: &AppState, up: &Uploader, u: &Upload) -> Result<(), AppError> {
    if !uploads::claim_join(&state.db, u).await? {
        return Err(AppError::Conflict(
            "The file is being put together from its parts; ask again in a moment.".into(),
        ));
    }
    let parts = uploads::parts(&state.db, u).await?;
    let mut streams = Vec::new();
    for p in &parts {
        let part_id = part_binding(u, p)?;
        let key = crypt::key_for(
            state.config.encryption.as_ref(),
            u.firm_id.as_bytes(),
            part_id.as_bytes(),
            &p.key_wrapped,
        )
        .map_err(AppError::Internal)?;
        streams.push(
            crypt::read(
                &state.storage,
                &p.storage_key,
                key.as_ref(),
                p.size as u64,
                None,
            )
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?,
        );
    }
    let whole = futures_util::stream::iter(streams).flatten();
    let (f, key) = store_stream(
        state,
        u.firm_id,
        u.id,
        portico_storage::layout::joined_key(u.firm_id, u.id),
        u.name.clone(),
        whole,
        u.length as u64,
        true,
    )
    .await?;
    if f.as_new().size != u.length {
        let _ = state.storage.delete(&key).await;
        return Err(AppError::Internal(format!(
            "an upload's parts hold {} bytes, not {}",
            f.as_new().size,
            u.length
        )));
    }
    let new = NewFile {
        folder_id: u.folder_id,
        ..f.as_new()
    };
    match uploads::finish(&state.db, &up.viewer, u, new, &up.origin).await {
        Ok(_) => {
            state.jobs_waiting.notify_one();
            remove_prefix(state, &portico_storage::layout::parts_prefix(u.id), None).await;
            remove_prefix(
                state,
                &portico_storage::layout::first_prefix(u.firm_id, u.id),
                None,
            )
            .await;
            Ok(())
        }
        Err(e) => {
            let _ = state.storage.delete(&key).await;
            Err(e.into())
        }
    }
}
