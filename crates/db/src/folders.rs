//! Folders of a client's files, nested to any depth. Staff see and arrange all of a client's
//! folders; a client sees the folders its people made, those on the way to a file it may see,
//! and those the firm shares (with everything below them), and arranges only its own. Sharing
//! a folder shares every file in it and below it, as it is now and as it will be. Every change to the tree happens in one transaction that
//! first locks the client (on PostgreSQL; SQLite has one writer), so concurrent moves cannot
//! make a cycle or leave two siblings with one name.

use portico_core::{Side, Viewer, policy};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, Tx, clients, new_id, now, on_db, on_tx};

/// The audit log's name for folders.
pub const ITEM: &str = "folder";
/// The most folders one client may have: the tree is read whole.
pub const MOST: i64 = 2000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Folder {
    pub id: Uuid,
    pub firm_id: Uuid,
    pub client_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub created_by: Uuid,
    #[sqlx(try_from = "String")]
    pub created_side: Side,
    pub created_at: OffsetDateTime,
}

/// Takes the client's lock for the rest of the transaction (PostgreSQL); on SQLite the write
/// transaction already holds the only write lock.
pub(crate) async fn lock_client(tx: &mut Tx, client_id: Uuid) -> Result<(), DbError> {
    if let Tx::Postgres(c) = tx {
        sqlx::query("SELECT id FROM clients WHERE id = $1 FOR UPDATE")
            .bind(client_id)
            .execute(&mut **c)
            .await?;
    }
    Ok(())
}

/// Every folder of one client (callers have checked the viewer's scope).
async fn all(db: &Db, firm_id: Uuid, client_id: Uuid) -> Result<Vec<Folder>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT * FROM folders WHERE firm_id = $1 AND client_id = $2 ORDER BY lower(name), id LIMIT {}",
        MOST
    ))).bind(firm_id).bind(client_id).fetch_all(p).await)?)
}

/// The folders shared with a client through a live share (with the client, or one of its
/// open matters), without those below them.
async fn shared_directly(db: &Db, firm_id: Uuid, client_id: Uuid) -> Result<Vec<Uuid>, DbError> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT DISTINCT s.item_id FROM shares s LEFT JOIN matters m ON m.id = s.matter_id \
         WHERE s.firm_id = $1 AND s.client_id = $2 AND s.item_type = 'folder' \
         AND (s.matter_id IS NULL OR m.portal_open)"
    ).bind(firm_id).bind(client_id).fetch_all(p).await)?)
}

/// Every folder whose files a client's people see because it, or a folder above it, is
/// shared with them (callers have checked the viewer's scope).
pub(crate) async fn shared_subtrees(
    db: &Db,
    firm_id: Uuid,
    client_id: Uuid,
) -> Result<Vec<Uuid>, DbError> {
    let shared = shared_directly(db, firm_id, client_id).await?;
    if shared.is_empty() {
        return Ok(shared);
    }
    let folders = all(db, firm_id, client_id).await?;
    let mut out: Vec<Uuid> = Vec::new();
    for id in shared {
        for f in subtree(&folders, id) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

/// Which of a client's folders are shared with it themselves (staff's view of the list).
pub async fn shared_with_client(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
) -> Result<Vec<Uuid>, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    shared_directly(db, client.firm_id, client.id).await
}

/// The folders of a client the viewer may see: all of them for staff; for a client, those its
/// people made, those shared with it and below them, and every folder on the way to any of
/// these or to a file it may see.
pub async fn tree(db: &Db, viewer: &Viewer, client_id: Uuid) -> Result<Vec<Folder>, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    let folders = all(db, client.firm_id, client.id).await?;
    if viewer.is_staff() {
        return Ok(folders);
    }
    let shared = shared_directly(db, client.firm_id, client.id).await?;
    let mut opened = Vec::new();
    for id in shared {
        opened.extend(subtree(&folders, id));
    }
    let holding: Vec<Uuid> = on_db!(db, p => sqlx::query_scalar(
        "SELECT DISTINCT f.folder_id FROM files f WHERE f.firm_id = $1 AND f.client_id = $2 \
         AND f.folder_id IS NOT NULL AND f.superseded_at IS NULL \
         AND (f.uploaded_side = 'client' OR EXISTS (SELECT 1 FROM shares s LEFT JOIN matters m ON m.id = s.matter_id \
              WHERE s.item_type = 'file' AND s.item_id = f.id AND s.client_id = f.client_id \
              AND (s.matter_id IS NULL OR m.portal_open)))"
    ).bind(client.firm_id).bind(client.id).fetch_all(p).await)?;
    let mut seen = std::collections::HashSet::new();
    let starts = folders
        .iter()
        .filter(|f| f.created_side == Side::Client)
        .map(|f| f.id)
        .chain(holding)
        .chain(opened);
    for start in starts {
        let mut at = Some(start);
        while let Some(id) = at {
            if !seen.insert(id) {
                break;
            }
            at = folders
                .iter()
                .find(|f| f.id == id)
                .and_then(|f| f.parent_id);
        }
    }
    Ok(folders
        .into_iter()
        .filter(|f| seen.contains(&f.id))
        .collect())
}

/// One folder the viewer may see, with the client's visible tree it belongs to.
pub async fn get(db: &Db, viewer: &Viewer, id: Uuid) -> Result<(Folder, Vec<Folder>), DbError> {
    let client_id: Uuid = on_db!(db, p => sqlx::query_scalar(
        "SELECT client_id FROM folders WHERE id = $1 AND firm_id = $2"
    ).bind(id).bind(viewer.firm_id()).fetch_optional(p).await)?
    .ok_or(DbError::NotFound)?;
    let folders = tree(db, viewer, client_id).await?;
    let folder = folders
        .iter()
        .find(|f| f.id == id)
        .cloned()
        .ok_or(DbError::NotFound)?;
    Ok((folder, folders))
}

/// The folders from the top down to `id` (inclusive), for breadcrumbs.
pub fn path_to(folders: &[Folder], id: Uuid) -> Vec<Folder> {
    let mut path = Vec::new();
    let mut at = Some(id);
    while let Some(id) = at {
        let Some(f) = folders.iter().find(|f| f.id == id) else {
            break;
        };
        if path.iter().any(|p: &Folder| p.id == f.id) {
            break;
        }
        path.push(f.clone());
        at = f.parent_id;
    }
    path.reverse();
    path
}

/// `id` and every folder below it.
pub fn subtree(folders: &[Folder], id: Uuid) -> Vec<Uuid> {
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            folders
                .iter()
                .filter(|f| f.parent_id == Some(parent) && !out.contains(&f.id))
                .map(|f| f.id)
                .collect::<Vec<_>>(),
        );
        i += 1;
    }
    out
}

/// The tree in display order, each folder with its depth: what a move dialog lists.
pub fn outline(folders: &[Folder]) -> Vec<(Folder, usize)> {
    fn walk(
        folders: &[Folder],
        parent: Option<Uuid>,
        depth: usize,
        out: &mut Vec<(Folder, usize)>,
    ) {
        for f in folders.iter().filter(|f| f.parent_id == parent) {
            if out.iter().any(|(o, _)| o.id == f.id) {
                continue;
            }
            out.push((f.clone(), depth));
            walk(folders, Some(f.id), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(folders, None, 0, &mut out);
    out
}

/// Whether the viewer may change a folder: staff any of their firm's; a client only its own
/// people's.
pub(crate) fn check_changeable(viewer: &Viewer, folder: &Folder) -> Result<(), DbError> {
    if !policy::may_change_folder(viewer, folder.created_side) {
        return Err(DbError::Conflict(
            "Only the firm can change this folder: it was made by the firm.".into(),
        ));
    }
    Ok(())
}

/// A folder the viewer may see and change.
async fn changeable(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Folder, DbError> {
    let (folder, _) = get(db, viewer, id).await?;
    check_changeable(viewer, &folder)?;
    Ok(folder)
}

/// Folders given by the viewer, found in one client's tree as the viewer sees it (read once);
/// any other is not found.
pub(crate) fn pick(tree: &[Folder], ids: &[Uuid]) -> Result<Vec<Folder>, DbError> {
    ids.iter()
        .map(|id| {
            tree.iter()
                .find(|f| f.id == *id)
                .cloned()
                .ok_or(DbError::NotFound)
        })
        .collect()
}

/// A write that a unique index may refuse: the name is taken where it was going.
pub(crate) fn unless_taken<T>(
    done: Result<T, sqlx::Error>,
    taken: impl FnOnce() -> DbError,
) -> Result<T, DbError> {
    match done.map_err(DbError::from) {
        Err(e) if e.is_unique_violation() => Err(taken()),
        other => other,
    }
}

pub(crate) fn name_taken(name: &str) -> DbError {
    DbError::Conflict(format!(
        "There is already a folder called “{name}” here. Choose another name."
    ))
}

/// Makes a folder in a client's files, at the top or inside `parent`.
pub async fn create(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    parent: Option<Uuid>,
    name: &str,
    origin: &Origin,
) -> Result<Folder, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    let name = portico_core::validate::folder_name(name)?;
    let parent = match parent {
        Some(id) => Some(pick(&tree(db, viewer, client.id).await?, &[id])?[0].id),
        None => None,
    };
    let mut tx = db.begin().await?;
    lock_client(&mut tx, client.id).await?;
    let count: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM folders WHERE client_id = $1"
    ).bind(client.id).fetch_one(&mut **c).await)?;
    if count >= MOST {
        return Err(DbError::Conflict(format!(
            "A client can have at most {MOST} folders."
        )));
    }
    let made: Result<Folder, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_as(
        "INSERT INTO folders (id, firm_id, client_id, parent_id, name, created_by, created_side, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *"
    ).bind(new_id()).bind(client.firm_id).bind(client.id).bind(parent).bind(&name)
    .bind(viewer.user_id()).bind(viewer.side().as_str()).bind(now()).fetch_one(&mut **c).await);
    let folder = unless_taken(made, || name_taken(&name))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(client.firm_id), "folder.create")
            .object(ITEM, folder.id)
            .detail(format!("client={}", client.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(folder)
}

/// Renames a folder.
pub async fn rename(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    name: &str,
    origin: &Origin,
) -> Result<Folder, DbError> {
    let folder = changeable(db, viewer, id).await?;
    let name = portico_core::validate::folder_name(name)?;
    let mut tx = db.begin().await?;
    lock_client(&mut tx, folder.client_id).await?;
    let done: Result<u64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE folders SET name = $3 WHERE id = $1 AND firm_id = $2"
    ).bind(folder.id).bind(folder.firm_id).bind(&name).execute(&mut **c).await.map(|r| r.rows_affected()));
    unless_taken(done, || name_taken(&name))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(folder.firm_id), "folder.rename").object(ITEM, folder.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Folder { name, ..folder })
}

/// Deletes an empty folder; one that holds files (of any version) or folders is refused,
/// so nothing is ever lost with it.
pub async fn delete(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    origin: &Origin,
) -> Result<Folder, DbError> {
    let folder = changeable(db, viewer, id).await?;
    let mut tx = db.begin().await?;
    lock_client(&mut tx, folder.client_id).await?;
    let (files, folders): (i64, i64) = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM files WHERE folder_id = $1), (SELECT COUNT(*) FROM folders WHERE parent_id = $1)"
    ).bind(folder.id).fetch_one(&mut **c).await)?;
    if files > 0 || folders > 0 {
        return Err(DbError::Conflict(format!(
            "“{}” is not empty. Move or remove what is in it first; only an empty folder can be deleted.",
            folder.name
        )));
    }
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM folders WHERE id = $1 AND firm_id = $2")
        .bind(folder.id).bind(folder.firm_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(folder.firm_id), "folder.delete")
            .object(ITEM, folder.id)
            .detail(format!("client={}", folder.client_id)),
    )
    .await?;
    tx.commit().await?;
    Ok(folder)
}

/// Shares folders of one client — and so every file in them and below them — with that client
/// or one of its matters (staff only).
pub async fn share(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    ids: &[Uuid],
    audience: crate::shares::Audience,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    pick(&tree(db, viewer, client_id).await?, ids)?;
    for id in ids {
        crate::shares::share(db, viewer, ITEM, *id, audience, origin).await?;
    }
    Ok(())
}

/// Stops sharing folders with a client (files shared one by one stay shared).
pub async fn unshare(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    ids: &[Uuid],
    origin: &Origin,
) -> Result<u64, DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    pick(&tree(db, viewer, client_id).await?, ids)?;
    crate::shares::unshare(db, viewer, ITEM, ids, client_id, origin).await
}
