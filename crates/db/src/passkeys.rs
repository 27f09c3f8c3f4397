//! Passkeys: a person's WebAuthn credentials, stored as the library serialises them (public
//! key, signature counter), and the state a ceremony keeps between its two requests.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx, sessions};

/// The most passkeys one person keeps.
pub const MAX_PER_PERSON: i64 = 20;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub credential_id: String,
    pub name: String,
    /// The credential as the WebAuthn library serialises it.
    pub credential: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// A person's passkeys, oldest first.
pub async fn of_user(db: &Db, user_id: Uuid) -> Result<Vec<StoredPasskey>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
    ).bind(user_id).fetch_all(p).await)?)
}

/// The passkey with this credential id, whoever it belongs to.
pub async fn by_credential(db: &Db, credential_id: &str) -> Result<Option<StoredPasskey>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT * FROM passkeys WHERE credential_id = $1")
        .bind(credential_id).fetch_optional(p).await)?,
    )
}

/// Keeps a new passkey; the person's other sessions end, as with any change of how they sign in.
pub async fn add(
    db: &Db,
    user_id: Uuid,
    keep_session: Uuid,
    name: &str,
    credential_id: &str,
    credential: &str,
    origin: &Origin,
) -> Result<StoredPasskey, DbError> {
    let mut tx = db.begin().await?;
    let stored = insert(&mut tx, user_id, name, credential_id, credential, origin).await?;
    tx.commit().await?;
    sessions::end_others(db, user_id, keep_session).await?;
    Ok(stored)
}

/// Keeps a new passkey inside the caller's transaction, with its audit event.
pub async fn insert(
    tx: &mut Tx,
    user_id: Uuid,
    name: &str,
    credential_id: &str,
    credential: &str,
    origin: &Origin,
) -> Result<StoredPasskey, DbError> {
    let name = portico_core::validate::text("name", name, 80)?;
    let count: i64 = on_tx!(&mut *tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(user_id).fetch_one(&mut **c).await)?;
    if count >= MAX_PER_PERSON {
        return Err(portico_core::Invalid::new(
            "name",
            format!(
                "You have {MAX_PER_PERSON} passkeys already. Remove one you no longer use first."
            ),
        )
        .into());
    }
    let stored: StoredPasskey = on_tx!(&mut *tx, c => sqlx::query_as(
        "INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *"
    ).bind(new_id()).bind(user_id).bind(credential_id).bind(&name).bind(credential).bind(now())
    .fetch_one(&mut **c).await)?;
    audit::append(
        tx,
        origin,
        Event::new(None, "auth.passkey.add")
            .object("user", user_id)
            .detail(format!("passkey={}", stored.id)),
    )
    .await?;
    Ok(stored)
}

/// Removes one of the person's own passkeys; their other sessions end.
pub async fn remove(
    db: &Db,
    user_id: Uuid,
    keep_session: Uuid,
    id: Uuid,
    origin: &Origin,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    let gone = on_tx!(&mut tx, c => sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id).bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if gone == 0 {
        return Err(DbError::NotFound);
    }
    audit::append(
        &mut tx,
        origin,
        Event::new(None, "auth.passkey.remove")
            .object("user", user_id)
            .detail(format!("passkey={id}")),
    )
    .await?;
    tx.commit().await?;
    sessions::end_others(db, user_id, keep_session).await?;
    Ok(())
}

/// Records a use: the credential's new state (its signature counter) and when.
pub async fn used(db: &Db, id: Uuid, credential: &str) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query("UPDATE passkeys SET credential = $2, last_used_at = $3 WHERE id = $1")
        .bind(id).bind(credential).bind(now()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
    SecondStep,
    /// Registering the first passkey from an invitation link, instead of a password.
    Invitation,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
            Purpose::SecondStep => "second_step",
            Purpose::Invitation => "invitation",
        }
    }
}

/// How long a ceremony waits for the browser's answer.
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);

/// Keeps a ceremony's state under the hash of the key the browser holds.
pub async fn begin(
    db: &Db,
    key_hash: &[u8],
    user_id: Option<Uuid>,
    purpose: Purpose,
    state: &str,
) -> Result<(), DbError> {
    let t = now();
    on_db!(db, p => sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(t).execute(p).await.map(|r| r.rows_affected()))?;
    on_db!(db, p => sqlx::query(
        "INSERT INTO webauthn_ceremonies (key_hash, user_id, purpose, state, expires_at) VALUES ($1, $2, $3, $4, $5)"
    ).bind(key_hash).bind(user_id).bind(purpose.as_str()).bind(state).bind(t + CEREMONY_LIFETIME)
    .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes a ceremony's state, once: a second answer to the same ceremony finds nothing.
pub async fn take(
    db: &Db,
    key_hash: &[u8],
    purpose: Purpose,
) -> Result<Option<(Option<Uuid>, String)>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "DELETE FROM webauthn_ceremonies WHERE key_hash = $1 AND purpose = $2 AND expires_at > $3 \
         RETURNING user_id, state"
    ).bind(key_hash).bind(purpose.as_str()).bind(now()).fetch_optional(p).await)?)
}
