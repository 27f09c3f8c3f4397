//! Access links: a unique link that signs a portal user in to one page (what staff sent them),
//! bound to the first browser that uses it. Only the token's hash is stored, like every token.

use portico_core::Viewer;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, Tx, now, on_db, on_tx};

/// The longest a firm may let a link live, in days (also the default).
pub const MAX_DAYS: i64 = 30;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessLink {
    pub token_hash: Vec<u8>,
    pub firm_id: Uuid,
    pub client_user_id: Uuid,
    pub user_id: Uuid,
    /// The portal path the link opens, such as `/portal/matters/<id>`.
    pub target: String,
    /// What the link is for, in words ("Trademark filing").
    pub label: String,
    pub device_hash: Option<Vec<u8>>,
    pub expires_at: OffsetDateTime,
}

impl AccessLink {
    pub fn expired(&self) -> bool {
        self.expires_at <= now()
    }
}

/// Whom a new link is for and what it opens.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    pub token_hash: &'a [u8],
    pub client_user_id: Uuid,
    pub target: &'a str,
    pub label: &'a str,
}

/// The person a link goes to: their user, email and name, if they are an active portal user of
/// the firm (staff only ask).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub client_user_id: Uuid,
    pub client_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
}

pub async fn recipient(
    db: &Db,
    viewer: &Viewer,
    client_user_id: Uuid,
) -> Result<Recipient, DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    on_db!(db, p => sqlx::query_as(
        "SELECT cu.id AS client_user_id, cu.client_id, u.id AS user_id, u.email, u.name \
         FROM client_users cu JOIN users u ON u.id = cu.user_id \
         WHERE cu.id = $1 AND cu.firm_id = $2 AND cu.active AND u.active"
    ).bind(client_user_id).bind(viewer.firm_id()).fetch_optional(p).await)?
    .ok_or(DbError::NotFound)
}

/// Stores a new link inside the caller's transaction (its email is queued in the same one).
/// It lives as long as the firm's setting says.
pub async fn create(
    tx: &mut Tx,
    firm_id: Uuid,
    user_id: Uuid,
    link: NewLink<'_>,
    origin: &Origin,
) -> Result<OffsetDateTime, DbError> {
    let days: i64 = on_tx!(tx, c => sqlx::query_scalar("SELECT link_lifetime_days FROM firms WHERE id = $1")
        .bind(firm_id).fetch_one(&mut **c).await)?;
    let t = now();
    let expires = t + Duration::days(days.clamp(1, MAX_DAYS));
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO access_links (token_hash, firm_id, client_user_id, user_id, target, label, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ).bind(link.token_hash).bind(firm_id).bind(link.client_user_id).bind(user_id).bind(link.target)
    .bind(link.label).bind(t).bind(expires).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        tx,
        origin,
        Event::new(Some(firm_id), "access_link.create")
            .object("user", user_id)
            .detail(link.target.to_string()),
    )
    .await?;
    Ok(expires)
}

/// A link that was not revoked, expired or not (the page tells which).
pub async fn find(db: &Db, token_hash: &[u8]) -> Result<Option<AccessLink>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT token_hash, firm_id, client_user_id, user_id, target, label, device_hash, expires_at \
         FROM access_links WHERE token_hash = $1 AND revoked_at IS NULL"
    ).bind(token_hash).fetch_optional(p).await)?)
}

/// Binds an unused, live link to a device, in one conditional update: of two browsers racing
/// with the same link, exactly one wins.
pub async fn bind_device(db: &Db, token_hash: &[u8], device_hash: &[u8]) -> Result<bool, DbError> {
    let n = on_db!(db, p => sqlx::query(
        "UPDATE access_links SET device_hash = $2, first_used_at = $3 \
         WHERE token_hash = $1 AND device_hash IS NULL AND revoked_at IS NULL AND expires_at > $3"
    ).bind(token_hash).bind(device_hash).bind(now()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Revokes a link inside the caller's transaction (when a new one replaces it).
pub async fn revoke(tx: &mut Tx, token_hash: &[u8]) -> Result<(), DbError> {
    on_tx!(tx, c => sqlx::query("UPDATE access_links SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
