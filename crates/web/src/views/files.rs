//! Files: uploads streamed into storage (hashed and counted on the way, never held whole),
//! downloads streamed out as attachments with byte ranges, and the staff's sharing controls.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::{self, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use portico_core::Side;
use portico_core::files::ScanStatus;
use portico_db::files::{self, Listed, NewFile};
use portico_db::folders;
use portico_db::shares::Audience;
use portico_db::{access_log, audit, clients, matters, new_id};
use portico_storage::crypt;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::layout::Layout;
use super::parse_id;
use crate::error::AppError;
use crate::forms::{Posted, multipart_csrf, multipart_text};
use crate::request::ReqInfo;
use crate::session::Signed;
use crate::state::AppState;

/// How many files a page of a list shows.
const PAGE: i64 = 100;

pub(crate) fn human_size(bytes: i64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KB", b / 1024.0),
        n if n < 1024 * 1024 * 1024 => format!("{:.1} MB", b / 1024.0 / 1024.0),
        _ => format!("{:.2} GB", b / 1024.0 / 1024.0 / 1024.0),
    }
}

/// A file row as pages show it.
pub(crate) struct Row {
    pub file: Listed,
    pub size: String,
    /// The browser may show it: a picture or PDF that is not waiting for, or failed, a scan.
    pub preview: bool,
    /// What kind of file it is, in a word or two.
    pub kind: &'static str,
}

fn rows(list: Vec<Listed>) -> Vec<Row> {
    list.into_iter()
        .map(|file| Row {
            size: human_size(file.size),
            preview: previewable(&file.content_type) && file.scan_status == ScanStatus::Clean,
            kind: match file.content_type.as_str() {
                "application/pdf" => "PDF",
                "image/png" | "image/jpeg" | "image/gif" => "Picture",
                "application/zip" => "Zip or Office file",
                _ => "File",
            },
            file,
        })
        .collect()
}

/// A column heading that sorts the list: its link and the arrow showing the current order.
pub(crate) struct SortLink {
    label: &'static str,
    href: String,
    arrow: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "files.html")]
pub(crate) struct FilesPage {
    layout: Layout,
    heading: String,
    /// From the client (staff) or "Files" down to the current folder; the last is the page.
    crumbs: Vec<(String, String)>,
    /// The folder shown, when not the top level, and whether the viewer may change it.
    folder: Option<folders::Folder>,
    can_change_folder: bool,
    subfolders: Vec<folders::Folder>,
    /// Every folder the viewer sees, indented, for "Move selected to".
    outline: Vec<(uuid::Uuid, String)>,
    rows: Vec<Row>,
    sorts: Vec<SortLink>,
    /// "Files 101–200 of 340", and the neighbouring pages' links.
    range: String,
    previous: Option<String>,
    next: Option<String>,
    upload_action: String,
    /// The client whose files these are, and where a finished upload returns to.
    client_id: uuid::Uuid,
    done_href: String,
    folder_action: String,
    /// Staff only: where the share form posts, the client's matters to share with, and which
    /// folders are shared themselves.
    share_action: Option<String>,
    shared_folders: Vec<uuid::Uuid>,
    matters: Vec<matters::Matter>,
    max_size: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    folder: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    order: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

fn notice(q: &ListQuery) -> Option<String> {
    match q.done.as_deref() {
        Some("uploaded") => Some("Uploaded.".into()),
        Some("shared") => Some("The selected files are shared.".into()),
        Some("unshared") => Some("The selected files are no longer shared.".into()),
        Some("read") => Some("Marked as read.".into()),
        Some("moved") => Some("Moved.".into()),
        Some("folder") => Some("Folder made.".into()),
        Some("renamed") => Some("Folder renamed.".into()),
        Some("deleted") => Some("Folder deleted.".into()),
        _ => None,
    }
}

/// Where a client's files are listed, for the viewer's side.
fn files_home(signed: &Signed, client_id: uuid::Uuid) -> String {
    if signed.viewer.is_staff() {
        format!("/staff/clients/{client_id}/files")
    } else {
        "/portal/files".to_string()
    }
}

/// A client's files in one folder, for either side.
async fn page_for(
    state: &AppState,
    signed: &Signed,
    client: &clients::Client,
    q: &ListQuery,
) -> Result<FilesPage, AppError> {
    let staff = signed.viewer.is_staff();
    let home = files_home(signed, client.id);
    let tree = folders::tree(&state.db, &signed.viewer, client.id).await?;
    let folder = match q.folder.as_deref().filter(|f| !f.is_empty()) {
        Some(raw) => {
            let id = parse_id(raw)?;
            Some(
                tree.iter()
                    .find(|f| f.id == id)
                    .cloned()
                    .ok_or(AppError::NotFound)?,
            )
        }
        None => None,
    };
    let sort = match q.sort.as_deref() {
        Some("name") => files::Sort::Name,
        Some("size") => files::Sort::Size,
        Some("type") => files::Sort::Type,
        _ => files::Sort::Date,
    };
    let descending = match q.order.as_deref() {
        Some("asc") => false,
        Some("desc") => true,
        _ => sort == files::Sort::Date,
    };
    let page_no = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let listing = files::Listing {
        place: folder
            .as_ref()
            .map_or(files::Place::Top, |f| files::Place::In(f.id)),
        sort,
        descending,
        offset: (page_no - 1) * PAGE,
        limit: PAGE,
    };
    let page = files::list(&state.db, &signed.viewer, client.id, listing).await?;
    let folder_q = folder
        .as_ref()
        .map(|f| format!("folder={}&", f.id))
        .unwrap_or_default();
    let key = |s: files::Sort| match s {
        files::Sort::Name => "name",
        files::Sort::Size => "size",
        files::Sort::Type => "type",
        files::Sort::Date => "date",
    };
    let sorts = [
        ("Name", files::Sort::Name),
        ("Size", files::Sort::Size),
        ("Type", files::Sort::Type),
        ("Date", files::Sort::Date),
    ]
    .into_iter()
    .map(|(label, s)| {
        let (order, arrow) = match (s == sort, descending) {
            (true, true) => ("asc", " ↓"),
            (true, false) => ("desc", " ↑"),
            (false, _) if s == files::Sort::Date => ("desc", ""),
            (false, _) => ("asc", ""),
        };
        SortLink {
            label,
            href: format!("{home}?{folder_q}sort={}&order={order}", key(s)),
            arrow,
        }
    })
    .collect();
    let at = |n: i64| {
        format!(
            "{home}?{folder_q}sort={}&order={}&page={n}",
            key(sort),
            if descending { "desc" } else { "asc" }
        )
    };
    let shown = page.files.len() as i64;
    let first = listing.offset + 1;
    let range = if page.total > PAGE {
        format!("Files {first}–{} of {}", listing.offset + shown, page.total)
    } else {
        String::new()
    };
    let previous = (page_no > 1).then(|| at(page_no - 1));
    let next = (listing.offset + shown < page.total).then(|| at(page_no + 1));
    let mut crumbs = Vec::new();
    if staff {
        crumbs.push((format!("/staff/clients/{}", client.id), client.name.clone()));
    }
    let heading = if staff {
        format!("Files of {}", client.name)
    } else {
        "Files".to_string()
    };
    if let Some(f) = &folder {
        crumbs.push((home.clone(), "Files".to_string()));
        let path = folders::path_to(&tree, f.id);
        for p in &path[..path.len() - 1] {
            crumbs.push((format!("{home}?folder={}", p.id), p.name.clone()));
        }
    }
    let title = folder.as_ref().map_or(heading.clone(), |f| f.name.clone());
    let current = if staff {
        "/staff/clients"
    } else {
        "/portal/files"
    };
    let mut layout = Layout::new(signed, title.clone(), current);
    layout.notice = notice(q);
    let parent = folder.as_ref().map(|f| f.id);
    let subfolders = tree
        .iter()
        .filter(|f| f.parent_id == parent)
        .cloned()
        .collect();
    let outline = folders::outline(&tree)
        .into_iter()
        .map(|(f, depth)| {
            (
                f.id,
                format!("{}{}", "\u{a0}\u{a0}\u{a0}".repeat(depth + 1), f.name),
            )
        })
        .collect();
    Ok(FilesPage {
        layout,
        heading: title,
        crumbs,
        can_change_folder: folder
            .as_ref()
            .is_some_and(|f| staff || f.created_side == Side::Client),
        folder,
        subfolders,
        outline,
        rows: rows(page.files),
        sorts,
        range,
        previous,
        next,
        client_id: client.id,
        done_href: back_to(signed, client.id, parent, "uploaded"),
        upload_action: if staff {
            format!("/staff/clients/{}/files/upload", client.id)
        } else {
            "/portal/files/upload".into()
        },
        folder_action: if staff {
            format!("/staff/clients/{}/folders", client.id)
        } else {
            "/portal/folders".into()
        },
        share_action: staff.then(|| format!("/staff/clients/{}/files/share", client.id)),
        shared_folders: if staff {
            folders::shared_with_client(&state.db, &signed.viewer, client.id).await?
        } else {
            Vec::new()
        },
        matters: if staff {
            matters::for_client(&state.db, &signed.viewer, client.id).await?
        } else {
            Vec::new()
        },
        max_size: human_size(state.config.max_file_bytes as i64),
    })
}

/// A client's files, for staff.
pub(crate) async fn staff_list(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<FilesPage, AppError> {
    signed.require_staff()?;
    let client = clients::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    page_for(&state, &signed, &client, &q).await
}

/// The client's own files: what they uploaded and what the firm shares with them.
pub(crate) async fn portal_list(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> Result<FilesPage, AppError> {
    let client_id = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    let client = clients::get(&state.db, &signed.viewer, client_id).await?;
    page_for(&state, &signed, &client, &q).await
}

/// Recognises a few types from a file's first bytes; anything else is plain bytes. Downloads
/// are attachments whatever this says, so a wrong guess can never make a page of a file.
pub(crate) fn sniff(head: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if starts(b"PK\x03\x04") {
        "application/zip"
    } else {
        "application/octet-stream"
    }
}

fn too_large(max: u64) -> AppError {
    AppError::TooLarge(format!(
        "That file is larger than {}, the most one upload may carry. Share it in parts, or ask the firm.",
        human_size(max as i64)
    ))
}

fn quota_full() -> AppError {
    AppError::TooLarge(
        "The firm's file storage is full, so this file cannot be kept. Please tell the firm; nothing was stored."
            .into(),
    )
}

/// The most one upload may carry for a firm now: the per-file limit, or less when the firm's
/// quota has less room left; and whether the per-file limit is what binds. A full quota is
/// refused at once.
pub(crate) async fn upload_limit(
    state: &AppState,
    firm_id: uuid::Uuid,
) -> Result<(u64, bool), AppError> {
    let mut max = state.config.max_file_bytes;
    if let Some(quota) = state.config.firm_quota_bytes {
        let used = files::firm_bytes(&state.db, firm_id).await?.max(0) as u64;
        let left = quota.saturating_sub(used);
        if left == 0 {
            return Err(quota_full());
        }
        max = max.min(left);
    }
    Ok((max, max == state.config.max_file_bytes))
}

/// The answer to a file over a limit: the per-file limit or the firm's quota.
pub(crate) fn over_limit(max: u64, per_file: bool) -> AppError {
    if per_file {
        too_large(max)
    } else {
        quota_full()
    }
}

/// Streams one multipart file field into storage under a new key, hashing and counting it;
/// over the limit, the upload stops, nothing is kept and the answer is 413.
pub(crate) async fn store_field(
    state: &AppState,
    viewer: &portico_core::Viewer,
    field: axum::extract::multipart::Field<'_>,
) -> Result<(NewFileOwned, String), AppError> {
    let name = field.file_name().unwrap_or("file").to_string();
    // Checked before the first byte and while the bytes stream.
    let (max, per_file) = upload_limit(state, viewer.firm_id()).await?;
    let body = field.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
    let id = new_id();
    let key = portico_db::uploads::file_key(viewer.firm_id(), id);
    store_stream(state, viewer.firm_id(), id, key, name, body, max, per_file).await
}

/// Streams bytes into storage under `key` as file `id` of a firm: hashed, counted, their type
/// sniffed and, with a master key, sealed on the way. Past `max` bytes it stops, keeps nothing
/// and answers 413.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn store_stream<S>(
    state: &AppState,
    firm_id: uuid::Uuid,
    id: uuid::Uuid,
    key: String,
    name: String,
    body: S,
    max: u64,
    per_file: bool,
) -> Result<(NewFileOwned, String), AppError>
where
    S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send,
{
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::new();
    let mut over = false;
    let body = body.map(|chunk| {
        let chunk = chunk?;
        size += chunk.len() as u64;
        if size > max {
            over = true;
            return Err(std::io::Error::other("over the size limit"));
        }
        if head.len() < 16 {
            head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len())]);
        }
        hasher.update(&chunk);
        Ok::<Bytes, std::io::Error>(chunk)
    });
    let mut key_wrapped = String::new();
    let body = match &state.config.encryption {
        Some(master) => {
            let (file_key, wrapped) = master.new_file_key(firm_id.as_bytes(), id.as_bytes());
            key_wrapped = wrapped;
            file_key.seal_stream(body)
        }
        None => body.boxed(),
    };
    let held = Held::start(&state.db, &key).await?;
    let stored = state.storage.put_stream(&key, body).await;
    if over {
        return Err(over_limit(max, per_file));
    }
    stored.map_err(AppError::from)?;
    let file = NewFileOwned {
        id,
        name,
        size: size as i64,
        content_type: sniff(&head).to_string(),
        sha256: hex_lower(&hasher.finalize()),
        storage_key: key.clone(),
        scan: state.config.scan,
        key_wrapped,
        _held: held,
    };
    Ok((file, key))
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores an uploaded file as one of the client's files (in `folder`, or at the top) and
/// records it; if recording fails, the stored bytes are removed again, so they never linger
/// unreferenced.
pub(crate) async fn store_and_record(
    state: &AppState,
    signed: &Signed,
    client_id: uuid::Uuid,
    folder: Option<uuid::Uuid>,
    field: axum::extract::multipart::Field<'_>,
    origin: &portico_db::audit::Origin,
) -> Result<files::StoredFile, AppError> {
    let (f, key) = store_field(state, &signed.viewer, field).await?;
    let new = NewFile {
        folder_id: folder,
        ..f.as_new()
    };
    match files::record(&state.db, &signed.viewer, client_id, new, origin).await {
        Ok(stored) => Ok(stored),
        Err(e) => {
            let _ = state.storage.delete(&key).await;
            Err(e.into())
        }
    }
}

/// A file whose bytes are stored, not yet recorded.
pub(crate) struct NewFileOwned {
    id: uuid::Uuid,
    name: String,
    size: i64,
    content_type: String,
    sha256: String,
    storage_key: String,
    scan: bool,
    key_wrapped: String,
    /// Keeps the stored bytes from the sweep until the row naming them is recorded.
    _held: Held,
}

/// Holds an object on the loose list while its bytes are written and until its row is
/// recorded: entered before the first byte, renewed every minute while this lives. Should the
/// process die, the hold runs out and the sweep removes what was written.
pub(crate) struct Held(tokio::task::JoinHandle<()>);

impl Held {
    pub(crate) async fn start(db: &portico_db::Db, key: &str) -> Result<Held, AppError> {
        // Out of space before the first byte is out of space for this file.
        portico_db::loose_objects::hold(db, key)
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Full { cause, .. } => AppError::Full {
                    upload: true,
                    cause,
                },
                other => other,
            })?;
        let (db, key) = (db.clone(), key.to_string());
        Ok(Held(tokio::spawn(async move {
            let every = std::time::Duration::from_secs(60);
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = portico_db::loose_objects::hold(&db, &key).await {
                    tracing::warn!(error = %e, %key, "could not renew the hold on an object being written");
                }
            }
        })))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl NewFileOwned {
    pub(crate) fn as_new(&self) -> NewFile<'_> {
        NewFile {
            id: self.id,
            name: &self.name,
            size: self.size,
            content_type: &self.content_type,
            sha256: &self.sha256,
            storage_key: &self.storage_key,
            scan: self.scan,
            key_wrapped: &self.key_wrapped,
            folder_id: None,
        }
    }
}

/// Staff upload one or many files into a client's files.
pub(crate) async fn staff_upload(
    State(state): State<AppState>,
    info: ReqInfo,
    signed: Signed,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    if !signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    upload_into(&state, &info, &signed, parse_id(&id)?, req).await
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
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(AppError::Invalid(
            "Choose files with the upload form.".into(),
        ));
    }
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|_| AppError::Invalid("The upload could not be read.".into()))?;
    let origin = info.by(signed);
    let mut checked = false;
    let mut count = 0;
    let mut folder = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::Invalid("The upload was cut off. Please try again.".into()))?
    {
        match field.name() {
            Some("csrf") => {
                multipart_csrf(signed, field).await?;
                checked = true;
            }
            // The folder comes before the files, as the page's form sends it.
            Some("folder") if checked && count == 0 => {
                let raw = multipart_text(field, 64, "That folder does not exist.").await?;
                if !raw.is_empty() {
                    let (f, _) = folders::get(&state.db, &signed.viewer, parse_id(&raw)?).await?;
                    if f.client_id != client.id {
                        return Err(AppError::NotFound);
                    }
                    folder = Some(f.id);
                }
            }
            Some("file") if checked => {
                if field.file_name().is_none_or(str::is_empty) {
                    continue;
                }
                store_and_record(state, signed, client.id, folder, field, &origin).await?;
                count += 1;
            }
            Some("file") => return Err(AppError::Csrf),
            _ => {}
        }
    }
    if count == 0 {
        return Err(if checked {
            AppError::Invalid("Choose at least one file to upload.".into())
        } else {
            AppError::Csrf
        });
    }
    Ok(Redirect::to(&back_to(signed, client.id, folder, "uploaded")).into_response())
}

/// Back to a folder of a client's files (or the top) with a notice of what was done.
fn back_to(
    signed: &Signed,
    client_id: uuid::Uuid,
    folder: Option<uuid::Uuid>,
    done: &str,
) -> String {
    let home = files_home(signed, client_id);
    match folder {
        Some(f) => format!("{home}?folder={f}&done={done}"),
        None => format!("{home}?done={done}"),
    }
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` over an object of `size` bytes, as a half-open
/// range; `Err` when it cannot be satisfied. Several ranges are answered with the whole file.
fn parse_range(value: &str, size: u64) -> Option<Result<std::ops::Range<u64>, ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end && start < size => start..(end + 1).min(size),
        (Some(start), None) if b.is_empty() && start < size => start..size,
        (None, Some(n)) if a.is_empty() && n > 0 && size > 0 => size.saturating_sub(n)..size,
        (Some(_), _) | (None, Some(_)) => return Some(Err(())),
        (None, None) => return None,
    };
    Some(Ok(range))
}

/// `attachment` with the original name: an ASCII fallback and the exact name in UTF-8
/// (RFC 6266 / RFC 5987).
fn disposition(name: &str, how: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // RFC 5987: letters, digits and `-._~` as they are, every other byte as %XX.
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Streams a file the viewer may have, whole or one byte range, as an attachment that no
/// browser renders. Each download is audited; a staff download goes into the client's log.
pub(crate) async fn download(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    serve(
        &state,
        &signed.viewer,
        &info.by(&signed),
        &headers,
        &id,
        false,
    )
    .await
}

/// The most files one zip may hold.
const ZIP_MOST: usize = 500;

/// Several files as one zip, made as it streams out (stored as they are: documents and pictures
/// are compressed already). Each file is checked as a download is, and recorded as one.
pub(crate) async fn zip(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    use async_zip::base::write::ZipFileWriter;
    use async_zip::{Compression, ZipEntryBuilder};
    use futures_util::AsyncWriteExt;

    let signed = &posted.signed;
    let (ids, dirs) = ticked(&posted.form)?;
    if ids.is_empty() && dirs.is_empty() {
        return Err(AppError::Invalid("Choose the files to download.".into()));
    }
    if ids.len() + dirs.len() > ZIP_MOST {
        return Err(AppError::Invalid(format!(
            "Download at most {ZIP_MOST} files at once."
        )));
    }
    // Ticked files by their names; ticked folders with their paths inside.
    let mut wanted = Vec::new();
    for id in ids {
        let f = files::get(&state.db, &signed.viewer, id).await?;
        let name = f.name.clone();
        wanted.push((f, name));
    }
    for dir in dirs {
        wanted.extend(files::under(&state.db, &signed.viewer, dir).await?);
    }
    if wanted.len() > ZIP_MOST {
        return Err(AppError::Invalid(format!(
            "Download at most {ZIP_MOST} files at once; these folders hold {}.",
            wanted.len()
        )));
    }
    let mut chosen = Vec::new();
    for (f, name) in wanted {
        if let Some(why) = f.unavailable() {
            return Err(AppError::Conflict(format!("“{}”: {why}", f.name)));
        }
        let key = crypt::key_for(
            state.config.encryption.as_ref(),
            f.firm_id.as_bytes(),
            f.id.as_bytes(),
            &f.key_wrapped,
        )
        .map_err(AppError::Internal)?;
        chosen.push((f, name, key));
    }
    let origin = info.by(signed);
    for (f, _, _) in &chosen {
        let event = audit::Event::new(Some(f.firm_id), "file.download")
            .object(files::ITEM, f.id)
            .detail("zip");
        audit::record(&state.db, &origin, event).await?;
        let item = access_log::Item {
            client_id: f.client_id,
            item_type: files::ITEM,
            item_id: f.id,
            label: &f.name,
        };
        access_log::record(&state.db, &signed.viewer, item).await?;
    }
    let (writer, reader) = tokio::io::duplex(256 * 1024);
    let storage = state.storage.clone();
    tokio::spawn(async move {
        let result: Result<(), String> = async {
            let mut zip = ZipFileWriter::with_tokio(writer);
            let mut names = std::collections::HashSet::new();
            for (f, name, key) in &chosen {
                let name = unique_name(&mut names, name);
                let entry = ZipEntryBuilder::new(name.into(), Compression::Stored);
                let mut w = zip
                    .write_entry_stream(entry)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut bytes = crypt::read(
                    &storage,
                    &f.storage_key,
                    key.as_ref(),
                    f.size.max(0) as u64,
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
                while let Some(b) = bytes.next().await {
                    w.write_all(&b.map_err(|e| e.to_string())?)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                w.close().await.map_err(|e| e.to_string())?;
            }
            zip.close().await.map_err(|e| e.to_string())?;
            Ok(())
        }
        .await;
        // The answer has started; a failure can only cut it short, which the zip's missing
        // directory makes plain to the person's computer.
        if let Err(e) = result {
            tracing::warn!(error = %e, "a zip download stopped");
        }
    });
    let mut res = Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(reader)));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition("files.zip", "attachment"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// A name not yet used in one zip: "name (2).ext" and so on after the first.
fn unique_name(used: &mut std::collections::HashSet<String>, name: &str) -> String {
    let mut candidate = name.to_string();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let mut n = 2;
    while !used.insert(candidate.to_lowercase()) {
        candidate = format!("{stem} ({n}){ext}");
        n += 1;
    }
    candidate
}

/// Types shown in the browser by "Preview", as sniffed from the file's first bytes at upload
/// (never from its name): pictures and PDFs. Anything else — HTML and SVG above all — is only
/// ever downloaded.
const PREVIEWABLE: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "application/pdf"];

/// Whether a file of this (sniffed) type can be previewed.
pub(crate) fn previewable(content_type: &str) -> bool {
    PREVIEWABLE.contains(&content_type)
}

/// The same file shown in the browser, from the same sandboxed endpoint: only pictures and
/// PDFs, with their sniffed type and no way to run anything.
pub(crate) async fn preview(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    serve(
        &state,
        &signed.viewer,
        &info.by(&signed),
        &headers,
        &id,
        true,
    )
    .await
}

/// Streams a file the viewer may have, whole or one byte range, and records the download in
/// the audit log and (for staff) the client's access log.
pub(crate) async fn serve(
    state: &AppState,
    viewer: &portico_core::Viewer,
    origin: &audit::Origin,
    headers: &HeaderMap,
    id: &str,
    inline: bool,
) -> Result<Response, AppError> {
    let f = files::get(&state.db, viewer, parse_id(id)?).await?;
    if inline && !previewable(&f.content_type) {
        return Err(AppError::UnsupportedPreview);
    }
    if let Some(why) = f.unavailable() {
        return Err(AppError::Conflict(why));
    }
    let size = f.size.max(0) as u64;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(v) => match parse_range(v, size) {
            Some(Ok(r)) => Some(r),
            Some(Err(())) => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{size}"))],
                )
                    .into_response());
            }
            None => None,
        },
        None => None,
    };
    let file_key = crypt::key_for(
        state.config.encryption.as_ref(),
        f.firm_id.as_bytes(),
        f.id.as_bytes(),
        &f.key_wrapped,
    )
    .map_err(AppError::Internal)?;
    let stream = crypt::read(
        &state.storage,
        &f.storage_key,
        file_key.as_ref(),
        size,
        range.clone(),
    )
    .await
    .map_err(AppError::from)?;
    let detail = match &range {
        Some(r) => format!("bytes={}-{}", r.start, r.end - 1),
        None => "whole".into(),
    };
    let event = audit::Event::new(Some(f.firm_id), "file.download")
        .object(files::ITEM, f.id)
        .detail(detail.clone());
    // A download only reads; while the database cannot take writes (a full disk, a held
    // lock) the file is still served, and its audit event goes to the server log instead.
    let logged_instead = |e: portico_db::DbError| match e.outage() {
        Some(_) => {
            tracing::warn!(
                target: "audit",
                event = "file.download",
                firm = %f.firm_id,
                file = %f.id,
                actor = %origin.actor,
                actor_user_id = ?origin.actor_user_id,
                request_id = %origin.request_id,
                ip = %origin.ip,
                %detail,
                error = %e,
                "audit event not stored in the database; recorded in this log instead"
            );
            Ok(())
        }
        None => Err(AppError::from(e)),
    };
    audit::record(&state.db, origin, event)
        .await
        .or_else(logged_instead)?;
    let item = access_log::Item {
        client_id: f.client_id,
        item_type: files::ITEM,
        item_id: f.id,
        label: &f.name,
    };
    access_log::record(&state.db, viewer, item)
        .await
        .or_else(logged_instead)?;
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    if inline {
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(&f.content_type).expect("a known type"),
        );
        h.insert(header::CONTENT_DISPOSITION, disposition(&f.name, "inline"));
    } else {
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        h.insert(
            header::CONTENT_DISPOSITION,
            disposition(&f.name, "attachment"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    match range {
        Some(r) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = res.headers_mut();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(r.end - r.start));
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.start, r.end - 1))
                    .expect("digits"),
            );
        }
        None => {
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    Ok(res)
}

/// "Share selected" and "Stop sharing selected items", for staff.
pub(crate) async fn share(
    State(state): State<AppState>,
    Path(id): Path<String>,
    info: ReqInfo,
    // The form's pairs as sent: every ticked box is one more `file` field.
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    if !signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    let client = clients::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
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
    Ok(Redirect::to(&format!("/staff/clients/{}/files?done={done}", client.id)).into_response())
}

/// "Mark as read" by the client: the firm sees the file as complete.
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<super::auth::Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    let f = files::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    files::mark_read(&state.db, &signed.viewer, f.id).await?;
    Ok(Redirect::to(&back_to(
        signed,
        f.client_id,
        f.folder_id,
        "read",
    )))
}

/// A file's own page: its details and the comments on it, both ways.
#[derive(Template, WebTemplate)]
#[template(path = "file_comments.html")]
pub(crate) struct CommentsPage {
    layout: Layout,
    file: files::StoredFile,
    size: String,
    preview: bool,
    back: String,
    /// Every version the viewer may see, newest first, with its size and time.
    versions: Vec<(files::StoredFile, String, String)>,
    comments: Vec<(files::FileComment, String)>,
    error: Option<String>,
    draft: String,
}

async fn comments_page_for(
    state: &AppState,
    signed: &Signed,
    id: uuid::Uuid,
) -> Result<CommentsPage, AppError> {
    let file = files::get(&state.db, &signed.viewer, id).await?;
    let list = files::comments(&state.db, &signed.viewer, id).await?;
    let home = files_home(signed, file.client_id);
    let back = match file.folder_id {
        Some(f) => format!("{home}?folder={f}"),
        None => home,
    };
    let versions = files::versions(&state.db, &signed.viewer, id).await?;
    let current = if signed.viewer.is_staff() {
        "/staff/clients"
    } else {
        "/portal/files"
    };
    let layout = Layout::new(signed, file.name.clone(), current);
    Ok(CommentsPage {
        versions: versions
            .into_iter()
            .map(|v| {
                let (size, when) = (human_size(v.size), layout.when(&v.created_at));
                (v, size, when)
            })
            .collect(),
        comments: list
            .into_iter()
            .map(|c| {
                let when = layout.when(&c.created_at);
                (c, when)
            })
            .collect(),
        size: human_size(file.size),
        preview: previewable(&file.content_type) && file.scan_status == ScanStatus::Clean,
        back,
        file,
        error: None,
        draft: String::new(),
        layout,
    })
}

pub(crate) async fn comments_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<CommentsPage, AppError> {
    comments_page_for(&state, &signed, parse_id(&id)?).await
}

#[derive(serde::Deserialize)]
pub(crate) struct CommentForm {
    body: String,
}

pub(crate) async fn add_comment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    info: ReqInfo,
    posted: Posted<CommentForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let id = parse_id(&id)?;
    match files::comment(
        &state.db,
        &signed.viewer,
        id,
        &posted.form.body,
        &info.by(signed),
    )
    .await
    {
        Ok(()) => {
            state.jobs_waiting.notify_one();
            Ok(Redirect::to(&format!("/files/{id}/comments")).into_response())
        }
        Err(portico_db::DbError::Invalid(e)) => {
            let mut p = comments_page_for(&state, signed, id).await?;
            p.error = Some(e.message);
            p.draft = posted.form.body.clone();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok(0..10)));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok(90..100)));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok(90..100)));
        assert_eq!(parse_range("bytes=95-200", 100), Some(Ok(95..100)));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=50-10", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=x-y", 100), None);
    }

    #[test]
    fn names_travel_in_both_forms() {
        let v = disposition("Résumé \"final\".pdf", "attachment");
        let s = v.to_str().unwrap();
        assert!(
            s.starts_with(
                "attachment; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9"
            ),
            "{s}"
        );
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7"), "application/pdf");
        assert_eq!(sniff(b"<html><script>"), "application/octet-stream");
        assert_eq!(sniff(b"<svg xmlns="), "application/octet-stream");
    }
}

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
    Path(id): Path<String>,
    info: ReqInfo,
    posted: Posted<FolderForm>,
) -> Result<Response, AppError> {
    posted.signed.require_staff()?;
    new_folder(&state, &info, &posted, parse_id(&id)?).await
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
    Ok(Redirect::to(&back_to(signed, made.client_id, Some(made.id), "folder")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct RenameForm {
    name: String,
}

pub(crate) async fn rename_folder(
    State(state): State<AppState>,
    Path(id): Path<String>,
    info: ReqInfo,
    posted: Posted<RenameForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = folders::rename(
        &state.db,
        &signed.viewer,
        parse_id(&id)?,
        &posted.form.name,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&back_to(signed, f.client_id, Some(f.id), "renamed")).into_response())
}

pub(crate) async fn delete_folder(
    State(state): State<AppState>,
    Path(id): Path<String>,
    info: ReqInfo,
    posted: Posted<super::auth::Empty>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = folders::delete(&state.db, &signed.viewer, parse_id(&id)?, &info.by(signed)).await?;
    Ok(Redirect::to(&back_to(signed, f.client_id, f.parent_id, "deleted")).into_response())
}

/// The ticked files and folders of a posted list form, each once.
fn ticked(pairs: &[(String, String)]) -> Result<(Vec<uuid::Uuid>, Vec<uuid::Uuid>), AppError> {
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
    folders::move_items(
        &state.db,
        &signed.viewer,
        client_id,
        &file_ids,
        &folder_ids,
        to,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&back_to(signed, client_id, to, "moved")).into_response())
}
