//! Sharing: one mechanism for every item type. Staff make an item visible to a client, or to
//! one matter of a client; a client sees an item while a share reaches them through an open
//! portal. Unsharing takes effect on the next request, because visibility is read each time.

use portico_core::notices;
use portico_core::{Viewer, policy};
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::notifications::{self, Notice};
use crate::{Db, DbError, clients, matters, new_id, now, on_db, on_tx};

/// Whom an item is shared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Client(Uuid),
    Matter(Uuid),
}

/// Shares an item (staff only). The audience must belong to the viewer's firm; sharing twice
/// is harmless.
pub async fn share(
    db: &Db,
    viewer: &Viewer,
    item_type: &str,
    item_id: Uuid,
    audience: Audience,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    check_type(item_type)?;
    let (client_id, matter_id) = match audience {
        Audience::Client(id) => (clients::get(db, viewer, id).await?.id, None),
        Audience::Matter(id) => {
            let m = matters::get(db, viewer, id).await?;
            (m.client_id, Some(m.id))
        }
    };
    let mut tx = db.begin().await?;
    let inserted = on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO shares (id, firm_id, item_type, item_id, client_id, matter_id, shared_by, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE NOT EXISTS (\
           SELECT 1 FROM shares WHERE firm_id = $2 AND item_type = $3 AND item_id = $4 AND client_id = $5 \
           AND (matter_id = $6 OR (matter_id IS NULL AND $9)))"
    ).bind(new_id()).bind(viewer.firm_id()).bind(item_type).bind(item_id).bind(client_id).bind(matter_id)
    .bind(viewer.user_id()).bind(now()).bind(matter_id.is_none())
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if inserted > 0 {
        audit::append(
            &mut tx,
            origin,
            Event::new(Some(viewer.firm_id()), "share.add")
                .object(item_type, item_id)
                .detail(format!(
                    "client={client_id} matter={}",
                    matter_id.map(|m| m.to_string()).unwrap_or_default()
                )),
        )
        .await?;
        // The client's people hear that something is waiting for them.
        let people = notifications::client_people(&mut tx, viewer.firm_id(), client_id).await?;
        let item = match item_type {
            "file" => notices::Shared::File,
            "folder" => notices::Shared::Folder,
            _ => notices::Shared::Other,
        };
        let notice = Notice {
            firm_id: viewer.firm_id(),
            event: notices::Event::Shared { item },
            subject_id: item_id,
        };
        notifications::raise(&mut tx, &notice, &people).await?;
    }
    tx.commit().await
}

/// Item types are short lowercase names chosen by features, never by users.
fn check_type(item_type: &str) -> Result<(), DbError> {
    let ok = !item_type.is_empty()
        && item_type.len() <= 32
        && item_type
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(portico_core::Invalid::new("item_type", "Unknown kind of item.").into())
    }
}

/// Stops sharing the given items with a client (and all of its matters), in one step.
pub async fn unshare(
    db: &Db,
    viewer: &Viewer,
    item_type: &str,
    item_ids: &[Uuid],
    client_id: Uuid,
    origin: &Origin,
) -> Result<u64, DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let client = clients::get(db, viewer, client_id).await?;
    let mut tx = db.begin().await?;
    let mut removed = 0;
    for item_id in item_ids {
        let n = on_tx!(&mut tx, c => sqlx::query(
            "DELETE FROM shares WHERE firm_id = $1 AND client_id = $2 AND item_type = $3 AND item_id = $4"
        ).bind(client.firm_id).bind(client.id).bind(item_type).bind(item_id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n > 0 {
            audit::append(
                &mut tx,
                origin,
                Event::new(Some(client.firm_id), "share.remove")
                    .object(item_type, item_id)
                    .detail(format!("client={}", client.id)),
            )
            .await?;
        }
        removed += n;
    }
    tx.commit().await?;
    Ok(removed)
}

/// Ids of the items of one type the viewer can see: every one for staff is the feature's own
/// query; for a client, those shared with the client or with one of its open matters.
pub async fn visible_to_client(
    db: &Db,
    viewer: &Viewer,
    item_type: &str,
) -> Result<Vec<Uuid>, DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT DISTINCT s.item_id FROM shares s LEFT JOIN matters m ON m.id = s.matter_id \
         WHERE s.firm_id = $1 AND s.client_id = $2 AND s.item_type = $3 AND (s.matter_id IS NULL OR m.portal_open) \
         ORDER BY s.item_id"
    ).bind(viewer.firm_id()).bind(client_id).bind(item_type).fetch_all(p).await)?)
}

/// Whether the viewer may see one item: staff of the firm always (the feature checks the
/// item's firm), a client only through a live share.
pub async fn is_visible(
    db: &Db,
    viewer: &Viewer,
    item_type: &str,
    item_id: Uuid,
) -> Result<bool, DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Ok(true);
    };
    is_shared_with_client(db, viewer.firm_id(), client_id, item_type, item_id).await
}

/// Whether a client's people see one item through a live share (with the client, or with one
/// of its open matters).
pub(crate) async fn is_shared_with_client(
    db: &Db,
    firm_id: Uuid,
    client_id: Uuid,
    item_type: &str,
    item_id: Uuid,
) -> Result<bool, DbError> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM shares s LEFT JOIN matters m ON m.id = s.matter_id \
         WHERE s.firm_id = $1 AND s.client_id = $2 AND s.item_type = $3 AND s.item_id = $4 \
         AND (s.matter_id IS NULL OR m.portal_open)"
    ).bind(firm_id).bind(client_id).bind(item_type).bind(item_id).fetch_one(p).await)?;
    Ok(n > 0)
}

/// A client marks a shared item read ("Mark as read"). The first mark of anyone of the client
/// counts; marking again is harmless. Only an item the viewer can see may be marked.
pub async fn mark_read(
    db: &Db,
    viewer: &Viewer,
    item_type: &str,
    item_id: Uuid,
) -> Result<(), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    if !is_visible(db, viewer, item_type, item_id).await? {
        return Err(DbError::NotFound);
    }
    record_read(db, viewer, client_id, item_type, item_id).await
}

/// Records a client's first read of an item the caller has found visible to the viewer.
pub(crate) async fn record_read(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    item_type: &str,
    item_id: Uuid,
) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO item_reads (firm_id, item_type, item_id, client_id, user_id, read_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (item_type, item_id, client_id) DO NOTHING"
    ).bind(viewer.firm_id()).bind(item_type).bind(item_id).bind(client_id).bind(viewer.user_id()).bind(now())
    .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// When a client first marked each of the given items read, for staff ("Complete") and for
/// the client's own view. Items never marked are absent.
pub async fn read_marks(
    db: &Db,
    viewer: &Viewer,
    item_type: &str,
    client_id: Uuid,
    item_ids: &[Uuid],
) -> Result<Vec<(Uuid, time::OffsetDateTime)>, DbError> {
    if !policy::reaches_client(viewer, client_id) {
        return Err(DbError::NotFound);
    }
    if item_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (0..item_ids.len())
        .map(|i| format!("${}", i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    // Only numbered placeholders are formatted in; every value is bound.
    let sql = format!(
        "SELECT item_id, read_at FROM item_reads WHERE firm_id = $1 AND client_id = $2 \
         AND item_type = $3 AND item_id IN ({placeholders})"
    );
    Ok(on_db!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(viewer.firm_id()).bind(client_id).bind(item_type);
        for id in item_ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?)
}
