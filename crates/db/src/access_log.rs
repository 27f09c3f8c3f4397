//! Who at the firm opened what of a client: a log the client can read (unless the firm turns
//! it off). Repeated opens of one item by one person within ten minutes count once.

use portico_core::Viewer;
use sqlx::AssertSqlSafe;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, Page, Tx, new_id, now, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Opened {
    pub staff_name: String,
    pub item_type: String,
    pub item_id: Uuid,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}

/// One item a staff member opened: what it is and whose.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub client_id: Uuid,
    pub item_type: &'a str,
    pub item_id: Uuid,
    pub label: &'a str,
}

/// Notes that the (staff) viewer opened an item of a client. Clients opening their own items
/// are not logged here; the caller has already checked the viewer may see the item.
pub async fn record(db: &Db, viewer: &Viewer, item: Item<'_>) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    record_in(&mut tx, viewer, item).await?;
    tx.commit().await
}

/// An item opened by the viewer: its audit event and (for staff) the access log's row,
/// written together or not at all.
pub async fn opened(
    db: &Db,
    viewer: &Viewer,
    origin: &Origin,
    event: Event<'_>,
    item: Item<'_>,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    audit::append(&mut tx, origin, event).await?;
    record_in(&mut tx, viewer, item).await?;
    tx.commit().await
}

/// [`record`], inside the caller's transaction (with the audit event of the same opening).
pub async fn record_in(tx: &mut Tx, viewer: &Viewer, item: Item<'_>) -> Result<(), DbError> {
    if !viewer.is_staff() {
        return Ok(());
    }
    let at = now();
    let label: String = item.label.chars().take(200).collect();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO access_log (id, firm_id, client_id, staff_user_id, item_type, item_id, label, opened_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE NOT EXISTS (\
           SELECT 1 FROM access_log WHERE firm_id = $2 AND client_id = $3 AND staff_user_id = $4 \
           AND item_type = $5 AND item_id = $6 AND opened_at > $9)"
    ).bind(new_id()).bind(viewer.firm_id()).bind(item.client_id).bind(viewer.user_id())
    .bind(item.item_type).bind(item.item_id).bind(&label).bind(at).bind(at - Duration::minutes(10))
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// One page of a client's access log, newest first: a client sees their own, staff any client
/// of their firm.
pub async fn for_client(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    page: Page,
) -> Result<Vec<Opened>, DbError> {
    let client = crate::clients::get(db, viewer, client_id).await?;
    if !viewer.is_staff()
        && !crate::firms::of_viewer(db, viewer)
            .await?
            .access_log_for_clients
    {
        return Err(DbError::NotFound);
    }
    Ok(on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT u.name AS staff_name, a.item_type, a.item_id, a.label, a.opened_at \
         FROM access_log a JOIN users u ON u.id = a.staff_user_id \
         WHERE a.firm_id = $1 AND a.client_id = $2 ORDER BY a.opened_at DESC, a.id DESC LIMIT {} OFFSET {}",
        page.limit, page.offset
    ))).bind(client.firm_id).bind(client.id).fetch_all(p).await)?)
}
