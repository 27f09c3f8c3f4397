//! "Move" on one row: a page that asks where one file or folder should go, for any browser and
//! any screen, posting to the same move as the list's "Move selected to".

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use portico_core::{Side, policy};
use portico_db::{files, folders};

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::session::Signed;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "files/move.html")]
pub(crate) struct MovePage {
    layout: Layout,
    /// "file" or "folder", the field the move form posts.
    kind: &'static str,
    id: uuid::Uuid,
    name: String,
    client_id: uuid::Uuid,
    /// Where it is now (`None`: the top level), and where it may go, indented.
    now_in: Option<uuid::Uuid>,
    outline: Vec<(uuid::Uuid, String)>,
    back: String,
}

/// The places one item may be moved to: every folder the viewer sees, less (for a folder)
/// itself and everything below it.
fn places(tree: &[folders::Folder], except: Option<uuid::Uuid>) -> Vec<(uuid::Uuid, String)> {
    let below = except
        .map(|id| folders::subtree(tree, id))
        .unwrap_or_default();
    folders::outline(tree)
        .into_iter()
        .filter(|(f, _)| !below.contains(&f.id))
        .map(|(f, depth)| {
            (
                f.id,
                format!("{}{}", "\u{a0}\u{a0}\u{a0}".repeat(depth + 1), f.name),
            )
        })
        .collect()
}

fn page(
    signed: &Signed,
    kind: &'static str,
    item: (uuid::Uuid, String, uuid::Uuid, Option<uuid::Uuid>),
    outline: Vec<(uuid::Uuid, String)>,
) -> MovePage {
    let (id, name, client_id, now_in) = item;
    let staff = signed.viewer.is_staff();
    let back = match now_in {
        Some(f) => paths::folder(staff, client_id, f),
        None => paths::files(staff, client_id),
    };
    let current = if staff {
        paths::clients()
    } else {
        paths::portal_files()
    };
    MovePage {
        layout: Layout::new(signed, format!("Move “{name}”"), current),
        kind,
        id,
        name,
        client_id,
        now_in,
        outline,
        back,
    }
}

/// Where one file should go.
pub(crate) async fn file(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<MovePage, AppError> {
    let file = files::get(&state.db, &signed.viewer, id).await?;
    if !signed.viewer.is_staff() {
        let firm_allows = portico_db::firms::by_id(&state.db, file.firm_id)
            .await?
            .is_some_and(|f| f.clients_move_shared_files);
        let side = Side::parse(&file.uploaded_side).unwrap_or(Side::Staff);
        if !policy::may_move_file(&signed.viewer, side, firm_allows) {
            return Err(AppError::Conflict(format!(
                "“{}” was shared by the firm; only the firm can move it.",
                file.name
            )));
        }
    }
    let tree = folders::tree(&state.db, &signed.viewer, file.client_id).await?;
    let item = (file.id, file.name, file.client_id, file.folder_id);
    Ok(page(&signed, "file", item, places(&tree, None)))
}

/// Where one folder, with all it holds, should go.
pub(crate) async fn folder(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<MovePage, AppError> {
    let (folder, tree) = folders::get(&state.db, &signed.viewer, id).await?;
    if !policy::may_change_folder(&signed.viewer, folder.created_side) {
        return Err(AppError::Conflict(
            "Only the firm can change this folder: it was made by the firm.".into(),
        ));
    }
    let outline = places(&tree, Some(folder.id));
    let item = (folder.id, folder.name, folder.client_id, folder.parent_id);
    Ok(page(&signed, "folder", item, outline))
}
