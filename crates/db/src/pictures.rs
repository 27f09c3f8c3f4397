//! Small images kept in the database (so every server has them): a firm's logo and people's
//! pictures. They arrive here already decoded, resized and re-encoded as PNG by the web layer;
//! the owner's version number changes with each upload so that caches refresh.

use portico_core::Viewer;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, now, on_db, on_tx};

/// Whose picture: a firm's logo or a person's picture.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    FirmLogo,
    Myself,
}

/// Stores (or, with `None`, removes) the viewer's firm logo (administrators) or their own
/// picture, and returns the new version.
pub async fn set(
    db: &Db,
    viewer: &Viewer,
    owner: Owner,
    png: Option<&[u8]>,
    origin: &Origin,
) -> Result<Option<i64>, DbError> {
    let (owner_id, table, column, action) = match owner {
        Owner::FirmLogo if viewer.may_administer_firm() => {
            (viewer.firm_id(), "firms", "logo_version", "firm.logo")
        }
        Owner::FirmLogo => return Err(DbError::NotFound),
        Owner::Myself => (viewer.user_id(), "users", "picture_version", "user.picture"),
    };
    let at = now();
    let version = png.map(|_| (at.unix_timestamp_nanos() / 1000) as i64);
    // Only fixed table and column names are formatted in; values are bound.
    let bump = format!("UPDATE {table} SET {column} = $1 WHERE id = $2");
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM pictures WHERE owner_id = $1")
        .bind(owner_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if let Some(png) = png {
        on_tx!(&mut tx, c => sqlx::query("INSERT INTO pictures (owner_id, png, updated_at) VALUES ($1, $2, $3)")
            .bind(owner_id).bind(png).bind(at).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    on_tx!(&mut tx, c => sqlx::query(sqlx::AssertSqlSafe(bump.as_str()))
        .bind(version).bind(owner_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let what = if png.is_some() { "set" } else { "removed" };
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), action)
            .object(table.trim_end_matches('s'), owner_id)
            .detail(what),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// A firm's logo, for anyone (it is shown on its sign-in and error pages too).
pub async fn firm_logo(db: &Db, firm_slug: &str) -> Result<Option<Vec<u8>>, DbError> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT p.png FROM pictures p JOIN firms f ON f.id = p.owner_id WHERE f.slug = $1"
    ).bind(firm_slug).fetch_optional(p).await)?)
}

/// A person's picture, if the viewer works with them: themselves; for staff, anyone of their
/// firm (colleagues and clients' portal users); for a client, the firm's staff and colleagues
/// of their own client.
pub async fn person(db: &Db, viewer: &Viewer, user_id: Uuid) -> Result<Vec<u8>, DbError> {
    const STAFF_OF_FIRM: &str =
        "EXISTS (SELECT 1 FROM staff_members WHERE user_id = $1 AND firm_id = $2 AND active)";
    let found: Option<Vec<u8>> = if viewer.user_id() == user_id {
        on_db!(db, p => sqlx::query_scalar("SELECT png FROM pictures WHERE owner_id = $1")
            .bind(user_id).fetch_optional(p).await)?
    } else if let Some(client_id) = viewer.client_scope() {
        let sql = format!(
            "SELECT png FROM pictures WHERE owner_id = $1 AND ({STAFF_OF_FIRM} OR EXISTS (\
             SELECT 1 FROM client_users WHERE user_id = $1 AND client_id = $3 AND active))"
        );
        on_db!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id).bind(viewer.firm_id()).bind(client_id).fetch_optional(p).await)?
    } else {
        let sql = format!(
            "SELECT png FROM pictures WHERE owner_id = $1 AND ({STAFF_OF_FIRM} OR EXISTS (\
             SELECT 1 FROM client_users WHERE user_id = $1 AND firm_id = $2 AND active))"
        );
        on_db!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id).bind(viewer.firm_id()).fetch_optional(p).await)?
    };
    found.ok_or(DbError::NotFound)
}
