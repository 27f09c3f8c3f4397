//! Resumable uploads: the record of what has arrived of a file sent in parts (tus 1.0). Only
//! the person who began an upload can see or continue it. A part counts once its bytes are
//! stored and it is recorded at the offset the upload had reached, so two tabs sending the
//! same part cannot both add it.

use portico_core::{Viewer, policy};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::Origin;
use crate::files::{NewFile, StoredFile};
use crate::{Db, DbError, clients, folders, now, on_db, on_tx};

/// How long an upload waits for its next part before it expires.
pub const KEEP: Duration = Duration::hours(24);
/// How many unfinished uploads one person may have at once.
pub const MOST_OPEN: i64 = 100;
/// How long a join may run before another request may take it over (its server died).
const JOIN_LEASE: Duration = Duration::minutes(2);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upload {
    pub id: Uuid,
    pub firm_id: Uuid,
    pub client_id: Uuid,
    pub folder_id: Option<Uuid>,
    pub user_id: Uuid,
    pub name: String,
    pub length: i64,
    pub received: i64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub joining_since: Option<OffsetDateTime>,
    pub file_id: Option<Uuid>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Part {
    pub start: i64,
    pub size: i64,
    pub storage_key: String,
    pub key_wrapped: String,
}

/// Begins an upload of `length` bytes into a client's files (in `folder`, or at the top).
pub async fn create(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    folder: Option<Uuid>,
    name: &str,
    length: i64,
) -> Result<Upload, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    if let Some(f) = folder {
        let (f, _) = folders::get(db, viewer, f).await?;
        if f.client_id != client.id {
            return Err(DbError::NotFound);
        }
    }
    let name = portico_core::validate::file_name(name);
    let open: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM uploads WHERE user_id = $1 AND file_id IS NULL AND expires_at > $2"
    ).bind(viewer.user_id()).bind(now()).fetch_one(p).await)?;
    if open >= MOST_OPEN {
        return Err(DbError::Conflict(format!(
            "You have {open} unfinished uploads. Let them finish, or wait a day for them to expire, then try again."
        )));
    }
    let at = now();
    Ok(on_db!(db, p => sqlx::query_as(
        "INSERT INTO uploads (id, firm_id, client_id, folder_id, user_id, name, length, received, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) RETURNING *"
    ).bind(crate::new_id()).bind(client.firm_id).bind(client.id).bind(folder).bind(viewer.user_id())
    .bind(&name).bind(length).bind(at).bind(at + KEEP).fetch_one(p).await)?)
}

/// An upload of the viewer's own that has not expired; anyone else's is not found.
pub async fn get(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Upload, DbError> {
    let u: Upload = on_db!(db, p => sqlx::query_as(
        "SELECT * FROM uploads WHERE id = $1 AND firm_id = $2 AND user_id = $3 AND expires_at > $4"
    ).bind(id).bind(viewer.firm_id()).bind(viewer.user_id()).bind(now()).fetch_optional(p).await)?
    .ok_or(DbError::NotFound)?;
    if !policy::reaches_client(viewer, u.client_id) {
        return Err(DbError::NotFound);
    }
    Ok(u)
}

/// Records a stored part at `start`, if the upload is still at that offset and unfinished;
/// `false` when another request got there first (the caller removes its part).
pub async fn add_part(db: &Db, upload: &Upload, start: i64, part: &Part) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let moved = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE uploads SET received = received + $3, expires_at = $4 \
         WHERE id = $1 AND received = $2 AND file_id IS NULL AND received + $3 <= length"
    ).bind(upload.id).bind(start).bind(part.size).bind(now() + KEEP)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if moved == 0 {
        return Ok(false);
    }
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO upload_parts (upload_id, start, size, storage_key, key_wrapped) VALUES ($1, $2, $3, $4, $5)"
    ).bind(upload.id).bind(start).bind(part.size).bind(&part.storage_key).bind(&part.key_wrapped)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    crate::loose_objects::release(&mut tx, &part.storage_key).await?;
    tx.commit().await?;
    Ok(true)
}

/// The parts of an upload in order.
pub async fn parts(db: &Db, upload: &Upload) -> Result<Vec<Part>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT start, size, storage_key, key_wrapped FROM upload_parts WHERE upload_id = $1 ORDER BY start"
    ).bind(upload.id).fetch_all(p).await)?)
}

/// Takes the right to join a complete upload's parts; `false` while another request joins
/// them (or they are joined already).
pub async fn claim_join(db: &Db, upload: &Upload) -> Result<bool, DbError> {
    let at = now();
    let n = on_db!(db, p => sqlx::query(
        "UPDATE uploads SET joining_since = $2 WHERE id = $1 AND file_id IS NULL AND received = length \
         AND (joining_since IS NULL OR joining_since < $3)"
    ).bind(upload.id).bind(at).bind(at - JOIN_LEASE).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records the joined file (its id is the upload's) and marks the upload finished, in one
/// transaction. A folder deleted meanwhile leaves the file at the client's top level.
pub async fn finish(
    db: &Db,
    viewer: &Viewer,
    upload: &Upload,
    file: NewFile<'_>,
    origin: &Origin,
) -> Result<StoredFile, DbError> {
    let client = clients::get(db, viewer, upload.client_id).await?;
    let mut tx = db.begin().await?;
    let mut file = file;
    if let Some(folder) = file.folder_id {
        let there: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM folders WHERE id = $1 AND client_id = $2"
        ).bind(folder).bind(client.id).fetch_one(&mut **c).await)?;
        if there == 0 {
            file.folder_id = None;
        }
    }
    let n = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE uploads SET file_id = $2, joining_since = NULL WHERE id = $1 AND file_id IS NULL"
    ).bind(upload.id).bind(file.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::Conflict("This upload is finished already.".into()));
    }
    let stored = crate::files::record_in(&mut tx, viewer, &client, &file, origin).await?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM upload_parts WHERE upload_id = $1")
        .bind(upload.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(stored)
}

/// Forgets an upload of the viewer's own (tus termination); the caller removes its objects.
pub async fn forget(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Upload, DbError> {
    let u = get(db, viewer, id).await?;
    if u.file_id.is_some() {
        return Err(DbError::Conflict(
            "This upload is finished: the file is kept.".into(),
        ));
    }
    remove(db, u.id).await?;
    Ok(u)
}

pub(crate) async fn remove(db: &Db, id: Uuid) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM upload_parts WHERE upload_id = $1")
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    tx.commit().await
}

/// An expired upload taken off the books: the sweep removes what storage holds of it (see
/// `portico_storage::layout`), except the object a recorded file uses.
#[derive(Debug, Clone)]
pub struct Leftover {
    pub firm_id: Uuid,
    pub upload_id: Uuid,
    pub kept: Option<String>,
}
