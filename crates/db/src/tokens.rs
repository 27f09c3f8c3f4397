//! Single-use tokens handed to people (set a password now; invitations and resets later).
//! Only the hash is stored; consuming is one conditional UPDATE, so a token works once even
//! when two requests race.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{Db, DbError, Tx, now, on_db, on_tx};

pub const SET_PASSWORD: &str = "set_password";

pub async fn issue(
    tx: &mut Tx,
    token_hash: &[u8],
    purpose: &str,
    user_id: Uuid,
    firm_id: Option<Uuid>,
    valid_for: Duration,
) -> Result<(), DbError> {
    let t = now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO one_time_tokens (token_hash, purpose, user_id, firm_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(token_hash).bind(purpose).bind(user_id).bind(firm_id).bind(t).bind(t + valid_for)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A token that is still usable, without using it (for the page a GET shows).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Usable {
    pub user_id: Uuid,
    pub firm_id: Option<Uuid>,
    pub expires_at: OffsetDateTime,
}

pub async fn peek(db: &Db, token_hash: &[u8], purpose: &str) -> Result<Option<Usable>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT user_id, firm_id, expires_at FROM one_time_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3"
    ).bind(token_hash).bind(purpose).bind(now()).fetch_optional(p).await)?)
}

/// Whose token this was, used or expired alike (to mail its owner a fresh one); never a
/// revoked one.
pub async fn owner(db: &Db, token_hash: &[u8], purpose: &str) -> Result<Option<Usable>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT user_id, firm_id, expires_at FROM one_time_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND revoked_at IS NULL"
    ).bind(token_hash).bind(purpose).fetch_optional(p).await)?)
}

/// Uses the token inside the caller's transaction; `None` if it is unknown, used or expired.
pub async fn consume(
    tx: &mut Tx,
    token_hash: &[u8],
    purpose: &str,
) -> Result<Option<Usable>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "UPDATE one_time_tokens SET used_at = $3 \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
         RETURNING user_id, firm_id, expires_at"
    ).bind(token_hash).bind(purpose).bind(now()).fetch_optional(&mut **c).await)?)
}

/// Revokes every unused token of one purpose that a firm issued to a person: their links stop
/// working at once and cannot be renewed.
pub async fn revoke(
    tx: &mut Tx,
    user_id: Uuid,
    firm_id: Uuid,
    purpose: &str,
) -> Result<u64, DbError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE one_time_tokens SET revoked_at = $4 \
         WHERE user_id = $1 AND firm_id = $2 AND purpose = $3 AND used_at IS NULL AND revoked_at IS NULL"
    ).bind(user_id).bind(firm_id).bind(purpose).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))
    .map_err(Into::into)
}
