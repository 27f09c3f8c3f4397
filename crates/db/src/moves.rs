//! Moving files and folders of one client between folders: all or none, under the client's
//! lock, so that concurrent moves cannot make a cycle.

use portico_core::{Side, Viewer, policy};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::folders::{
    self, Folder, MOST, check_changeable, lock_client, name_taken, pick, subtree, tree,
    unless_taken,
};
use crate::{Db, DbError, clients, files, on_db, on_tx};

/// Moves files and folders of one client into `to` (`None`: the top level), all or none.
/// A folder cannot go into itself or below itself; a name already used in the destination
/// is refused. A client moves only what its people uploaded or made, and the files the firm
/// shares with it if the firm allows that.
pub async fn move_items(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    files: &[Uuid],
    folders: &[Uuid],
    to: Option<Uuid>,
    origin: &Origin,
) -> Result<(), DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    // The destination and the folders are looked up in the tree as the viewer sees it.
    let seen = tree(db, viewer, client.id).await?;
    if let Some(dest) = to {
        pick(&seen, &[dest])?;
    }
    let moving_folders = pick(&seen, folders)?;
    for f in &moving_folders {
        check_changeable(viewer, f)?;
    }
    let firm_allows: bool = on_db!(db, p => sqlx::query_scalar(
        "SELECT clients_move_shared_files FROM firms WHERE id = $1"
    ).bind(client.firm_id).fetch_one(p).await)?;
    let mut moving_files = Vec::new();
    for id in files {
        let f = files::get(db, viewer, *id).await?;
        if f.client_id != client.id {
            return Err(DbError::NotFound);
        }
        let uploaded_side = Side::parse(&f.uploaded_side).unwrap_or(Side::Staff);
        if !policy::may_move_file(viewer, uploaded_side, firm_allows) {
            return Err(DbError::Conflict(format!(
                "“{}” was shared by the firm; only the firm can move it.",
                f.name
            )));
        }
        moving_files.push(f);
    }
    let to_detail = format!("to={}", to.map(|t| t.to_string()).unwrap_or_default());
    let mut tx = db.begin().await?;
    lock_client(&mut tx, client.id).await?;
    // Read the tree again under the lock: a concurrent move may have changed it.
    let current: Vec<Folder> = on_tx!(&mut tx, c => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT * FROM folders WHERE firm_id = $1 AND client_id = $2 LIMIT {}",
        MOST
    ))).bind(client.firm_id).bind(client.id).fetch_all(&mut **c).await)?;
    if let Some(dest) = to {
        if !current.iter().any(|f| f.id == dest) {
            return Err(DbError::NotFound);
        }
        for f in &moving_folders {
            if subtree(&current, f.id).contains(&dest) {
                return Err(DbError::Conflict(format!(
                    "“{}” cannot go into itself or into a folder inside it.",
                    f.name
                )));
            }
        }
    }
    for f in &moving_folders {
        let done: Result<u64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query(
            "UPDATE folders SET parent_id = $3 WHERE id = $1 AND firm_id = $2"
        ).bind(f.id).bind(f.firm_id).bind(to).execute(&mut **c).await.map(|r| r.rows_affected()));
        if unless_taken(done, || name_taken(&f.name))? == 0 {
            return Err(DbError::NotFound);
        }
        audit::append(
            &mut tx,
            origin,
            Event::new(Some(f.firm_id), "folder.move")
                .object(folders::ITEM, f.id)
                .detail(to_detail.clone()),
        )
        .await?;
    }
    for f in &moving_files {
        // Every version moves with the file.
        let done: Result<u64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query(
            "UPDATE files SET folder_id = $3 WHERE lineage_id = $1 AND firm_id = $2 AND client_id = $4"
        ).bind(f.lineage_id).bind(f.firm_id).bind(to).bind(client.id).execute(&mut **c).await.map(|r| r.rows_affected()));
        unless_taken(done, || {
            DbError::Conflict(format!(
                "There is already a file called “{}” there. Rename one of them first, or upload it there as a new version.",
                f.name
            ))
        })?;
        audit::append(
            &mut tx,
            origin,
            Event::new(Some(f.firm_id), "file.move")
                .object(files::ITEM, f.id)
                .detail(to_detail.clone()),
        )
        .await?;
    }
    tx.commit().await
}
