//! Trusted devices: the browsers on which a person opened an access link. The browser keeps a
//! random token in a cookie; only its hash is stored, per person and firm. A link bound to a
//! device opens again there only while the device's row lives: ending the person's sessions
//! removes their devices, the person and the firm's staff can remove one, and a device unused
//! for [`LIFETIME`] expires.

use portico_core::Viewer;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx};

/// How long a trusted device stays trusted without being used.
pub const LIFETIME: Duration = Duration::days(90);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Device {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_agent: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Trusts a device for a person in a firm (again), from now for [`LIFETIME`].
pub async fn trust(
    db: &Db,
    user_id: Uuid,
    firm_id: Uuid,
    token_hash: &[u8],
    user_agent: &str,
) -> Result<(), DbError> {
    let t = now();
    let ua: String = user_agent.chars().take(300).collect();
    on_db!(db, p => sqlx::query(
        "INSERT INTO devices (id, token_hash, user_id, firm_id, user_agent, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
         ON CONFLICT (user_id, firm_id, token_hash) DO UPDATE SET last_used_at = excluded.last_used_at, \
         expires_at = excluded.expires_at, user_agent = excluded.user_agent"
    ).bind(new_id()).bind(token_hash).bind(user_id).bind(firm_id).bind(&ua).bind(t).bind(t + LIFETIME)
    .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether the device is trusted for the person in the firm now (without using it).
pub async fn is_trusted(
    db: &Db,
    user_id: Uuid,
    firm_id: Uuid,
    token_hash: &[u8],
) -> Result<bool, DbError> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM devices WHERE user_id = $1 AND firm_id = $2 AND token_hash = $3 AND expires_at > $4"
    ).bind(user_id).bind(firm_id).bind(token_hash).bind(now()).fetch_one(p).await)?;
    Ok(n > 0)
}

/// Whether the device is trusted for the person in the firm now; using it keeps it trusted.
pub async fn use_trusted(
    db: &Db,
    user_id: Uuid,
    firm_id: Uuid,
    token_hash: &[u8],
) -> Result<bool, DbError> {
    let t = now();
    let n = on_db!(db, p => sqlx::query(
        "UPDATE devices SET last_used_at = $4, expires_at = $5 \
         WHERE user_id = $1 AND firm_id = $2 AND token_hash = $3 AND expires_at > $4"
    ).bind(user_id).bind(firm_id).bind(token_hash).bind(t).bind(t + LIFETIME)
    .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A person's trusted devices in the viewer's firm, most recently used first. The viewer is
/// the person themselves, or staff of the firm asking about one of its portal users.
pub async fn of_user(db: &Db, viewer: &Viewer, user_id: Uuid) -> Result<Vec<Device>, DbError> {
    if !viewer.is_staff() && viewer.user_id() != user_id {
        return Err(DbError::NotFound);
    }
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT id, user_id, user_agent, created_at, last_used_at, expires_at FROM devices \
         WHERE user_id = $1 AND firm_id = $2 AND expires_at > $3 ORDER BY last_used_at DESC"
    ).bind(user_id).bind(viewer.firm_id()).bind(now()).fetch_all(p).await)?)
}

/// Removes one of a person's devices in the viewer's firm (see [`of_user`] for who may);
/// `false` if there is none such.
pub async fn remove(db: &Db, viewer: &Viewer, user_id: Uuid, id: Uuid) -> Result<bool, DbError> {
    if !viewer.is_staff() && viewer.user_id() != user_id {
        return Ok(false);
    }
    let n = on_db!(db, p => sqlx::query("DELETE FROM devices WHERE id = $1 AND user_id = $2 AND firm_id = $3")
        .bind(id).bind(user_id).bind(viewer.firm_id()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Forgets every device of a person, in every firm (their sign-in changed, or they ended
/// their other sessions), inside the caller's transaction.
pub(crate) async fn forget_all(tx: &mut Tx, user_id: Uuid) -> Result<u64, DbError> {
    Ok(
        on_tx!(tx, c => sqlx::query("DELETE FROM devices WHERE user_id = $1")
        .bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?,
    )
}

/// Forgets the devices of the person behind one portal membership, in that firm only.
pub(crate) async fn forget_for_membership(
    tx: &mut Tx,
    client_user_id: Uuid,
) -> Result<u64, DbError> {
    Ok(on_tx!(tx, c => sqlx::query(
        "DELETE FROM devices WHERE EXISTS (SELECT 1 FROM client_users cu \
         WHERE cu.id = $1 AND cu.user_id = devices.user_id AND cu.firm_id = devices.firm_id)"
    ).bind(client_user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?)
}

/// Removes expired devices (with the sessions' purge).
pub(crate) async fn purge_expired(db: &Db) -> Result<u64, DbError> {
    Ok(
        on_db!(db, p => sqlx::query("DELETE FROM devices WHERE expires_at <= $1")
        .bind(now()).execute(p).await.map(|r| r.rows_affected()))?,
    )
}
