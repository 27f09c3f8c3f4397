//! Comments on a matter, both ways: staff and the client's portal users each see the other's.

use portico_core::{Viewer, validate};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, matters, new_id, now, on_db, on_tx};

/// The longest comment accepted, in characters.
pub const MAX_CHARS: usize = 5_000;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Comment {
    pub id: Uuid,
    pub matter_id: Uuid,
    pub author_name: String,
    /// "staff" or "client".
    pub author_side: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Adds a comment to a matter the viewer may see (a client: their own, with an open portal).
pub async fn add(
    db: &Db,
    viewer: &Viewer,
    matter_id: Uuid,
    body: &str,
    origin: &Origin,
) -> Result<Comment, DbError> {
    let matter = matters::get(db, viewer, matter_id).await?;
    let body = validate::text("body", body, MAX_CHARS)?;
    let side = viewer.side().as_str();
    let id = new_id();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO matter_comments (id, firm_id, matter_id, client_id, author_user_id, author_side, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ).bind(id).bind(matter.firm_id).bind(matter.id).bind(matter.client_id).bind(viewer.user_id()).bind(side).bind(&body).bind(now())
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(matter.firm_id), "matter.comment")
            .object("matter", matter.id)
            .detail(format!("comment={id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT c.id, c.matter_id, u.name AS author_name, c.author_side, c.body, c.created_at \
         FROM matter_comments c JOIN users u ON u.id = c.author_user_id WHERE c.id = $1"
    ).bind(id).fetch_one(p).await)?)
}

/// The newest `limit` comments of a matter the viewer may see, oldest first.
pub async fn for_matter(
    db: &Db,
    viewer: &Viewer,
    matter_id: Uuid,
    limit: i64,
) -> Result<Vec<Comment>, DbError> {
    let matter = matters::get(db, viewer, matter_id).await?;
    latest(db, &matter, limit).await
}

async fn latest(db: &Db, matter: &matters::Matter, limit: i64) -> Result<Vec<Comment>, DbError> {
    let mut rows: Vec<Comment> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT c.id, c.matter_id, u.name AS author_name, c.author_side, c.body, c.created_at \
         FROM matter_comments c JOIN users u ON u.id = c.author_user_id \
         WHERE c.firm_id = $1 AND c.matter_id = $2 ORDER BY c.created_at DESC, c.id DESC LIMIT {}",
        limit
    ))).bind(matter.firm_id).bind(matter.id).fetch_all(p).await)?;
    rows.reverse();
    Ok(rows)
}

/// The newest comments from the firm on any of a client's open matters: the dashboard card.
pub async fn from_firm_for_client(
    db: &Db,
    viewer: &Viewer,
    limit: i64,
) -> Result<Vec<(String, Comment)>, DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        matter_title: String,
        #[sqlx(flatten)]
        comment: Comment,
    }
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT m.title AS matter_title, c.id, c.matter_id, u.name AS author_name, c.author_side, c.body, c.created_at \
         FROM matter_comments c JOIN matters m ON m.id = c.matter_id JOIN users u ON u.id = c.author_user_id \
         WHERE c.firm_id = $1 AND c.client_id = $2 AND c.author_side = 'staff' AND m.portal_open \
         ORDER BY c.created_at DESC, c.id DESC LIMIT {}",
        limit
    ))).bind(viewer.firm_id()).bind(client_id).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.matter_title, r.comment))
        .collect())
}

/// The newest comments clients wrote anywhere in the firm: what is waiting on the firm, for
/// the staff home page.
pub async fn from_clients_for_firm(
    db: &Db,
    viewer: &Viewer,
    limit: i64,
) -> Result<Vec<(String, Comment)>, DbError> {
    if !viewer.is_staff() {
        return Err(DbError::Forbidden);
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        client_name: String,
        #[sqlx(flatten)]
        comment: Comment,
    }
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT cl.name AS client_name, c.id, c.matter_id, u.name AS author_name, c.author_side, c.body, c.created_at \
         FROM matter_comments c JOIN clients cl ON cl.id = c.client_id JOIN users u ON u.id = c.author_user_id \
         WHERE c.firm_id = $1 AND c.author_side = 'client' ORDER BY c.created_at DESC, c.id DESC LIMIT {}",
        limit
    ))).bind(viewer.firm_id()).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.client_name, r.comment))
        .collect())
}
