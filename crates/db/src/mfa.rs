//! Second factors: the authenticator app's secret and last accepted step, and recovery codes.
//! Every use is one conditional UPDATE, so a code works once even when requests race.

use uuid::Uuid;

use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx};

/// Keeps a new secret while the person scans it; not in force until [`enable`].
pub async fn set_pending_secret(db: &Db, user_id: Uuid, secret: &str) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query("UPDATE users SET totp_secret = $2 WHERE id = $1 AND NOT totp_enabled")
        .bind(user_id).bind(secret).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Accepts the time step `step` for this person if it is later than any accepted before.
pub async fn use_step(db: &Db, user_id: Uuid, step: i64) -> Result<bool, DbError> {
    let n = on_db!(db, p => sqlx::query("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
        .bind(user_id).bind(step).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Turns the second factor on with its first accepted step, replacing any recovery codes.
pub async fn enable(
    tx: &mut Tx,
    user_id: Uuid,
    step: i64,
    code_hashes: &[Vec<u8>],
) -> Result<bool, DbError> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE users SET totp_enabled = TRUE, totp_last_step = $2 \
         WHERE id = $1 AND NOT totp_enabled AND totp_secret IS NOT NULL AND totp_last_step < $2"
    ).bind(user_id).bind(step).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(false);
    }
    on_tx!(tx, c => sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    for hash in code_hashes {
        on_tx!(tx, c => sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)")
            .bind(new_id()).bind(user_id).bind(hash).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(true)
}

/// Turns the second factor off and forgets the secret and the recovery codes.
pub async fn disable(tx: &mut Tx, user_id: Uuid) -> Result<(), DbError> {
    on_tx!(tx, c => sqlx::query("UPDATE users SET totp_enabled = FALSE, totp_secret = NULL WHERE id = $1")
        .bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Uses one recovery code; `false` if it is unknown or already used.
pub async fn use_recovery_code(db: &Db, user_id: Uuid, code_hash: &[u8]) -> Result<bool, DbError> {
    let n = on_db!(db, p => sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL"
    ).bind(user_id).bind(code_hash).bind(now()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn recovery_codes_left(db: &Db, user_id: Uuid) -> Result<i64, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id).fetch_one(p).await)?,
    )
}
