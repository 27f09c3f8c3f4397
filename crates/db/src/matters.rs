//! Matters (cases) of a client. A client sees a matter only while its portal is open.

use portico_core::{Viewer, validate};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, clients, new_id, now, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Matter {
    pub id: Uuid,
    #[serde(skip)]
    pub firm_id: Uuid,
    pub client_id: Uuid,
    pub title: String,
    pub reference: String,
    pub description: String,
    pub portal_open: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What staff type to open a matter; the client comes from the URL, the firm from the viewer.
#[derive(Debug, Clone, Deserialize)]
pub struct NewMatter {
    pub title: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub description: String,
}

/// A client's matters as the viewer may see them (clients: open portals only).
pub async fn for_client(db: &Db, viewer: &Viewer, client_id: Uuid) -> Result<Vec<Matter>, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    let only_open = !viewer.is_staff();
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT * FROM matters WHERE firm_id = $1 AND client_id = $2 AND (portal_open OR NOT $3) \
         ORDER BY created_at DESC, id DESC"
    ).bind(client.firm_id).bind(client.id).bind(only_open).fetch_all(p).await)?)
}

/// One matter, if the viewer may see it; otherwise `NotFound`.
pub async fn get(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Matter, DbError> {
    let m: Matter =
        on_db!(db, p => sqlx::query_as("SELECT * FROM matters WHERE id = $1 AND firm_id = $2")
        .bind(id).bind(viewer.firm_id()).fetch_optional(p).await)?
        .ok_or(DbError::NotFound)?;
    match viewer.client_scope() {
        Some(own) if own != m.client_id || !m.portal_open => Err(DbError::NotFound),
        _ => Ok(m),
    }
}

pub async fn create(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    input: &NewMatter,
    origin: &Origin,
) -> Result<Matter, DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let client = clients::get(db, viewer, client_id).await?;
    let title = validate::text("title", &input.title, 200)?;
    let reference = validate::optional_text("reference", &input.reference, 100)?;
    let description = validate::optional_text("description", &input.description, 10_000)?;
    let mut tx = db.begin().await?;
    let m: Matter = on_tx!(&mut tx, c => sqlx::query_as(
        "INSERT INTO matters (id, firm_id, client_id, title, reference, description, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *"
    ).bind(new_id()).bind(client.firm_id).bind(client.id).bind(&title).bind(&reference).bind(&description).bind(now())
    .fetch_one(&mut **c).await)?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(m.firm_id), "matter.create").object("matter", m.id),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Opens or closes the portal for one matter (staff only); takes effect on the next request.
pub async fn set_portal_open(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    open: bool,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query("UPDATE matters SET portal_open = $1 WHERE id = $2 AND firm_id = $3")
        .bind(open).bind(id).bind(viewer.firm_id()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    let action = if open {
        "matter.portal.open"
    } else {
        "matter.portal.close"
    };
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), action).object("matter", id),
    )
    .await?;
    tx.commit().await
}

/// The newest open matters of the client viewer and how many there are, in one query: the
/// dashboard card.
pub async fn newest_for_portal(
    db: &Db,
    viewer: &Viewer,
    limit: i64,
) -> Result<(Vec<Matter>, i64), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        matter: Matter,
        total: i64,
    }
    // The count is an uncorrelated subquery: evaluated once, from the index alone.
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT m.*, (SELECT COUNT(*) FROM matters WHERE firm_id = $1 AND client_id = $2 AND portal_open = TRUE) AS total \
         FROM matters m WHERE m.firm_id = $1 AND m.client_id = $2 AND m.portal_open = TRUE \
         ORDER BY m.created_at DESC, m.id DESC LIMIT {}",
        limit
    ))).bind(viewer.firm_id()).bind(client_id).fetch_all(p).await)?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok((rows.into_iter().map(|r| r.matter).collect(), total))
}
