//! A client's files in one folder, both sides: breadcrumbs, sorting and paging, and the
//! staff's sharing controls.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use portico_core::files::ScanStatus;
use portico_core::{Side, policy};
use portico_db::files::{self, Listed};
use portico_db::folders;
use portico_db::{clients, matters};
use serde::Deserialize;

use super::download::previewable;
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::layout::Layout;
use crate::kit::layout::human_size;
use crate::kit::paths;
use crate::kit::session::Signed;
use crate::state::AppState;

/// How many files a page of a list shows.
const PAGE: i64 = 100;

/// A file row as pages show it.
pub(crate) struct Row {
    pub file: Listed,
    pub size: String,
    /// The browser may show it: a picture or PDF that is not waiting for, or failed, a scan.
    pub preview: bool,
    /// What kind of file it is, in a word or two.
    pub kind: &'static str,
    /// The viewer may move it to another folder.
    pub movable: bool,
}

fn rows(list: Vec<Listed>, movable: impl Fn(&Listed) -> bool) -> Vec<Row> {
    list.into_iter()
        .map(|file| Row {
            movable: movable(&file),
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
#[template(path = "files/files.html")]
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
    kept: Kept,
}

/// A refused folder form's words and choices, shown again on its page so nothing is lost.
#[derive(Default)]
pub(super) struct Kept {
    pub error: Option<String>,
    /// Which form was refused: "folder" (a new one), "rename", "delete" or "move".
    pub form: &'static str,
    /// The folder name that was typed.
    pub name: String,
    /// The ticked files and folders, and the chosen destination (`None`: the top level).
    pub ticked: Vec<uuid::Uuid>,
    pub to: Option<uuid::Uuid>,
}

impl Kept {
    fn refused(&self, form: &str) -> Option<&str> {
        self.error.as_deref().filter(|_| self.form == form)
    }

    fn is_ticked(&self, id: &uuid::Uuid) -> bool {
        self.ticked.contains(id)
    }

    fn is_destination(&self, id: &uuid::Uuid) -> bool {
        self.to.as_ref() == Some(id)
    }
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

/// A client's files in one folder, for either side; `kept` is a refused form's input.
async fn page_for(
    state: &AppState,
    signed: &Signed,
    client: &clients::Client,
    q: &ListQuery,
    kept: Kept,
) -> Result<FilesPage, AppError> {
    let staff = signed.viewer.is_staff();
    let home = paths::files(staff, client.id);
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
        crumbs.push((paths::client(client.id), client.name.clone()));
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
            crumbs.push((paths::folder(staff, client.id, p.id), p.name.clone()));
        }
    }
    let title = folder.as_ref().map_or(heading.clone(), |f| f.name.clone());
    let current = if staff {
        paths::clients()
    } else {
        paths::portal_files()
    };
    let mut layout = Layout::new(signed, title.clone(), current);
    layout.notice = notice(q);
    let parent = folder.as_ref().map(|f| f.id);
    let subfolders = tree
        .iter()
        .filter(|f| f.parent_id == parent)
        .cloned()
        .collect();
    // A client moves the firm's files only where the firm allows it.
    let firm_allows = staff
        || portico_db::firms::by_id(&state.db, client.firm_id)
            .await?
            .is_some_and(|f| f.clients_move_shared_files);
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
        rows: rows(page.files, |f| {
            policy::may_move_file(
                &signed.viewer,
                Side::parse(&f.uploaded_side).unwrap_or(Side::Staff),
                firm_allows,
            )
        }),
        sorts,
        range,
        previous,
        next,
        client_id: client.id,
        done_href: paths::files_done(staff, client.id, parent, "uploaded"),
        upload_action: if staff {
            paths::client_upload(client.id)
        } else {
            paths::portal_upload().into()
        },
        folder_action: if staff {
            paths::client_folders(client.id)
        } else {
            paths::portal_folders().into()
        },
        share_action: staff.then(|| paths::client_share(client.id)),
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
        kept,
    })
}

/// The files page in `folder` again (409 or 422), saying what was refused beside the form it
/// came from and keeping what was typed, ticked and chosen.
pub(super) async fn refused(
    state: &AppState,
    signed: &Signed,
    client_id: uuid::Uuid,
    folder: Option<uuid::Uuid>,
    error: AppError,
    kept: Kept,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let (status, message) = match error {
        AppError::Conflict(m) => (axum::http::StatusCode::CONFLICT, m),
        AppError::Invalid(m) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, m),
        other => return Err(other),
    };
    let client = clients::get(&state.db, &signed.viewer, client_id).await?;
    let q = ListQuery {
        folder: folder.map(|f| f.to_string()),
        ..ListQuery::default()
    };
    let kept = Kept {
        error: Some(message),
        ..kept
    };
    let page = page_for(state, signed, &client, &q, kept).await?;
    Ok((status, page).into_response())
}

/// A client's files, for staff.
pub(crate) async fn staff_list(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
    Query(q): Query<ListQuery>,
) -> Result<FilesPage, AppError> {
    signed.require_staff()?;
    let client = clients::get(&state.db, &signed.viewer, id).await?;
    page_for(&state, &signed, &client, &q, Kept::default()).await
}

/// The client's own files: what they uploaded and what the firm shares with them.
pub(crate) async fn portal_list(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> Result<FilesPage, AppError> {
    let client_id = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    let client = clients::get(&state.db, &signed.viewer, client_id).await?;
    page_for(&state, &signed, &client, &q, Kept::default()).await
}
