//! Server-side sessions. The cookie holds a random token; only its SHA-256 is stored, so a
//! copy of the database cannot be replayed as cookies.

use portico_core::auth::AuthMethod;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::users::Context;
use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    /// A public handle for listing and ending sessions; the token hash never leaves the server.
    pub id: Uuid,
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub context: String,
    pub membership_id: Uuid,
    pub csrf_token: String,
    #[sqlx(try_from = "String")]
    pub auth_method: AuthMethod,
    pub ip: String,
    pub user_agent: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub idle_expires_at: OffsetDateTime,
    pub absolute_expires_at: OffsetDateTime,
    /// Past the password, not yet past the second factor: good only for the second step.
    pub mfa_pending: bool,
}

impl Session {
    pub fn context(&self) -> Option<Context> {
        Context::parse(&self.context)
    }
}

/// Everything a new session needs; the caller made the token and keeps it for the cookie.
pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: Uuid,
    pub context: Context,
    pub membership_id: Uuid,
    pub csrf_token: &'a str,
    pub auth_method: AuthMethod,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub idle: Duration,
    pub absolute: Duration,
    pub mfa_pending: bool,
}

pub async fn create(db: &Db, s: NewSession<'_>) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    insert(&mut tx, s).await?;
    tx.commit().await
}

async fn insert(tx: &mut Tx, s: NewSession<'_>) -> Result<(), DbError> {
    let t = now();
    let ua: String = s.user_agent.chars().take(300).collect();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, context, membership_id, csrf_token, auth_method, ip, user_agent, \
         created_at, last_seen_at, idle_expires_at, absolute_expires_at, id, mfa_pending) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13)"
    ).bind(s.token_hash).bind(s.user_id).bind(s.context.as_str()).bind(s.membership_id).bind(s.csrf_token)
    .bind(s.auth_method.to_string()).bind(s.ip).bind(&ua).bind(t).bind(t + s.idle).bind(t + s.absolute).bind(new_id()).bind(s.mfa_pending)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A live session waiting for its second factor.
pub async fn pending(db: &Db, token_hash: &[u8]) -> Result<Option<Session>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT * FROM sessions WHERE token_hash = $1 AND mfa_pending \
         AND idle_expires_at > $2 AND absolute_expires_at > $2"
    ).bind(token_hash).bind(now()).fetch_optional(p).await)?)
}

/// Records activity. Callers skip it when the session was seen moments ago, so a busy page
/// does not write on every request.
pub async fn touch(db: &Db, token_hash: &[u8], idle: Duration) -> Result<(), DbError> {
    let t = now();
    on_db!(db, p => sqlx::query("UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2 WHERE token_hash = $3")
        .bind(t).bind(t + idle).bind(token_hash).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn end(db: &Db, token_hash: &[u8]) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A person's live sessions, most recently used first.
pub async fn of_user(db: &Db, user_id: Uuid) -> Result<Vec<Session>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT * FROM sessions WHERE user_id = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2 \
         ORDER BY last_seen_at DESC"
    ).bind(user_id).bind(now()).fetch_all(p).await)?)
}

/// Ends one of a person's sessions by its public id; `false` if they have none such.
pub async fn end_by_id(db: &Db, user_id: Uuid, id: Uuid) -> Result<bool, DbError> {
    let n = on_db!(db, p => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
        .bind(user_id).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Ends every session of a person but one (the one they are using), and forgets their
/// trusted devices, so that no copied device cookie opens an access link again.
pub async fn end_others(db: &Db, user_id: Uuid, keep: Uuid) -> Result<u64, DbError> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id).bind(keep).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    crate::devices::forget_all(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(n)
}

/// Ends one session by its token hash and starts `next` in its place, in one transaction: a
/// change of context gets a new token, like any change of privilege.
pub async fn replace(db: &Db, old_token_hash: &[u8], next: NewSession<'_>) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(old_token_hash).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    insert(&mut tx, next).await?;
    tx.commit().await
}

/// Ends the sessions in which a person acts for one membership (staff ending a client user's
/// access to their own portal, without touching the person's other firms), and forgets the
/// person's trusted devices in that firm.
pub async fn end_for_membership(db: &Db, membership_id: Uuid) -> Result<u64, DbError> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM sessions WHERE membership_id = $1")
        .bind(membership_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    crate::devices::forget_for_membership(&mut tx, membership_id).await?;
    tx.commit().await?;
    Ok(n)
}

/// Ends every session of a person and forgets their trusted devices, e.g. after a password
/// change.
pub async fn end_all_for_user(db: &Db, user_id: Uuid) -> Result<u64, DbError> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    crate::devices::forget_all(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(n)
}

/// Removes expired sessions (and expired trusted devices); run from the job worker now and
/// then. Returns how many sessions went.
pub async fn purge_expired(db: &Db) -> Result<u64, DbError> {
    let t = now();
    crate::devices::purge_expired(db).await?;
    Ok(
        on_db!(db, p => sqlx::query("DELETE FROM sessions WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1")
        .bind(t).execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Everything a signed-in page needs about its viewer, read in one query per context.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Chrome {
    pub user_name: String,
    pub user_email: String,
    pub firm_id: Uuid,
    pub firm_name: String,
    pub firm_slug: String,
    pub idle_timeout_secs: i64,
    pub role: Option<String>,
    pub client_id: Option<Uuid>,
    pub client_name: Option<String>,
    pub is_client_admin: Option<bool>,
    /// How many places (firms as staff, clients as a portal user) this person can switch between.
    pub places: i64,
    pub totp_enabled: bool,
    /// The person has a second step: an authenticator app or a passkey.
    /// (Named for the first of them.)
    pub totp_required: bool,
    /// The firm lets its clients read when staff opened their items.
    pub access_log_for_clients: bool,
    /// Versions of the firm's logo and the person's picture, when they have one.
    pub logo_version: Option<i64>,
    pub picture_version: Option<i64>,
    /// A client who has not yet accepted the current version of the firm's terms.
    pub terms_pending: bool,
    /// The person's time zone (IANA name; empty for UTC).
    pub time_zone: String,
    /// Unread notifications of this person in this firm.
    pub unread_notifications: i64,
    /// The firm shows clients when staff read their messages.
    pub client_read_receipts: bool,
    /// Versions of what pages show (migration 0016): the client's records (0 for staff), all
    /// of the firm's client records, and what the firm shows every client.
    pub client_version: i64,
    pub firm_data_version: i64,
    pub firm_shared_version: i64,
    /// The version of what the firm's client list shows.
    pub firm_clients_version: i64,
}

impl Chrome {
    /// The viewer this session acts as.
    pub fn viewer(&self, s: &Session) -> Option<portico_core::Viewer> {
        use portico_core::{StaffRole, Viewer};
        match s.context()? {
            Context::Staff => Some(Viewer::Staff {
                user_id: s.user_id,
                firm_id: self.firm_id,
                staff_id: s.membership_id,
                role: StaffRole::parse(self.role.as_deref()?)?,
            }),
            Context::Client => Some(Viewer::Client {
                user_id: s.user_id,
                firm_id: self.firm_id,
                client_id: self.client_id?,
                client_user_id: s.membership_id,
                is_client_admin: self.is_client_admin.unwrap_or(false),
            }),
        }
    }
}

#[derive(sqlx::FromRow)]
struct Resolved {
    #[sqlx(flatten)]
    session: Session,
    #[sqlx(flatten)]
    chrome: Chrome,
}

/// A live session (neither idle nor past its absolute end) with its person, membership and
/// firm, in one query, only while all are active (and, for a client, the client's portal is
/// open): deactivation and closing take effect on the next request.
pub async fn resolve(db: &Db, token_hash: &[u8]) -> Result<Option<(Session, Chrome)>, DbError> {
    let r: Option<Resolved> = on_db!(db, p => sqlx::query_as(
        "SELECT s.*, u.name AS user_name, u.email AS user_email, f.id AS firm_id, f.name AS firm_name, \
                f.slug AS firm_slug, f.idle_timeout_secs, sm.role, c.id AS client_id, c.name AS client_name, \
                cu.is_client_admin, \
                (SELECT COUNT(*) FROM staff_members x WHERE x.user_id = s.user_id AND x.active) + \
                (SELECT COUNT(*) FROM client_users y WHERE y.user_id = s.user_id AND y.active) AS places, \
                (u.totp_enabled OR EXISTS (SELECT 1 FROM passkeys pk WHERE pk.user_id = u.id)) AS totp_enabled, \
                CASE WHEN s.context = 'staff' THEN f.require_2fa_staff ELSE f.require_2fa_clients END AS totp_required, \
                f.access_log_for_clients, f.logo_version, u.picture_version, \
                CASE WHEN s.context = 'client' AND f.terms_text <> '' AND NOT EXISTS (\
                  SELECT 1 FROM terms_acceptances t WHERE t.user_id = s.user_id AND t.firm_id = f.id \
                  AND t.version = f.terms_version) THEN TRUE ELSE FALSE END AS terms_pending, \
                u.time_zone, f.client_read_receipts, \
                (SELECT COUNT(*) FROM notifications n WHERE n.user_id = s.user_id AND n.firm_id = f.id \
                 AND n.read_at IS NULL) AS unread_notifications, \
                COALESCE(c.version, 0) AS client_version, fv.data_version AS firm_data_version, \
                fv.shared_version AS firm_shared_version, fv.clients_version AS firm_clients_version \
         FROM sessions s \
         JOIN users u ON u.id = s.user_id AND u.active \
         LEFT JOIN staff_members sm ON s.context = 'staff' AND sm.id = s.membership_id \
              AND sm.user_id = s.user_id AND sm.active \
         LEFT JOIN client_users cu ON s.context = 'client' AND cu.id = s.membership_id \
              AND cu.user_id = s.user_id AND cu.active \
         LEFT JOIN clients c ON c.id = cu.client_id AND c.portal_open \
         JOIN firms f ON f.id = COALESCE(sm.firm_id, c.firm_id) \
         JOIN firm_versions fv ON fv.firm_id = f.id \
         WHERE s.token_hash = $1 AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2 AND NOT s.mfa_pending"
    ).bind(token_hash).bind(now()).fetch_optional(p).await)?;
    Ok(r.map(|r| (r.session, r.chrome)))
}

/// The firm of `token_hash` when it is a live client session whose portal the firm has closed:
/// the one case where a valid session is refused for a reason the person should hear, in the
/// firm's own colours.
pub async fn closed_portal(
    db: &Db,
    token_hash: &[u8],
) -> Result<Option<crate::firms::Brand>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT f.name, f.slug, f.logo_version FROM sessions s \
         JOIN client_users cu ON s.context = 'client' AND cu.id = s.membership_id AND cu.active \
         JOIN clients c ON c.id = cu.client_id AND NOT c.portal_open \
         JOIN firms f ON f.id = c.firm_id \
         WHERE s.token_hash = $1 AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2"
    ).bind(token_hash).bind(now()).fetch_optional(p).await)?)
}
