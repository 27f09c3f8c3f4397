//! Bearer tokens for the JSON API, held by staff members. Stored hashed.

use portico_core::Viewer;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::users::{self, Context};
use crate::{Db, DbError, new_id, now, on_db, on_tx};

/// Records a token for a staff member; the caller made the token and shows it once.
pub async fn create(
    db: &Db,
    viewer: &Viewer,
    name: &str,
    token_hash: &[u8],
    origin: &Origin,
) -> Result<Uuid, DbError> {
    let Viewer::Staff {
        staff_id, firm_id, ..
    } = viewer
    else {
        return Err(DbError::Forbidden);
    };
    let name = portico_core::validate::text("name", name, 100)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO api_tokens (id, token_hash, staff_id, name, created_at) VALUES ($1, $2, $3, $4, $5)"
    ).bind(id).bind(token_hash).bind(staff_id).bind(&name).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(*firm_id), "api_token.create").object("api_token", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct Holder {
    user_id: Uuid,
    staff_id: Uuid,
}

/// The staff viewer a bearer token speaks for, while the token and its holder are active.
pub async fn viewer_for(db: &Db, token_hash: &[u8]) -> Result<Option<Viewer>, DbError> {
    let holder: Option<Holder> = on_db!(db, p => sqlx::query_as(
        "SELECT s.user_id, s.id AS staff_id FROM api_tokens t JOIN staff_members s ON s.id = t.staff_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
    ).bind(token_hash).fetch_optional(p).await)?;
    match holder {
        Some(h) => users::viewer_for(db, h.user_id, Context::Staff, h.staff_id).await,
        None => Ok(None),
    }
}
