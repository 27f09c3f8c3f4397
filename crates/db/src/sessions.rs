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
    crate::stats::note();
    let r = match db {
        Db::Sqlite(p) => {
            crate::readers::one_row(p, RESOLVE, (token_hash, now_text()), resolved_row)?
        }
        Db::Postgres(p) => resolve_on(p, token_hash).await?,
    };
    Ok(r.map(|r| (r.session, r.chrome)))
}

async fn resolve_on(pool: &sqlx::PgPool, token_hash: &[u8]) -> Result<Option<Resolved>, DbError> {
    Ok(sqlx::query_as(RESOLVE)
        .bind(token_hash)
        .bind(now())
        .fetch_optional(pool)
        .await?)
}

/// The session check's statement, with the condition on the token hash: `= $1` for one,
/// `= ANY($1)` for a group on PostgreSQL.
macro_rules! resolve_sql {
    ($key:literal) => {
        concat!("SELECT s.id, s.token_hash, s.user_id, s.context, s.membership_id, s.csrf_token, \
                s.auth_method, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.idle_expires_at, \
                s.absolute_expires_at, s.mfa_pending, u.name AS user_name, u.email AS user_email, f.id AS firm_id, f.name AS firm_name, \
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
                u.time_zone, \
                (SELECT COUNT(*) FROM notifications n WHERE n.user_id = s.user_id AND n.firm_id = f.id \
                 AND n.read_at IS NULL) AS unread_notifications, f.client_read_receipts, \
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
         WHERE s.token_hash ", $key, " AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2 AND NOT s.mfa_pending")
    };
}

const RESOLVE: &str = resolve_sql!("= $1");

/// Session checks, with those on PostgreSQL made in groups: checks that arrive while one
/// group's statement is under way go together in the next, so a busy server sends one
/// statement (one round trip, one plan) for many requests instead of one each. A group is
/// read only after every check in it arrived, so each request still sees every write
/// committed before it came: a session ended or a person deactivated is refused on the next
/// request, on every server. On SQLite a check is a read on the calling thread already.
#[derive(Clone, Debug)]
pub struct Checker {
    db: Db,
    queue: Option<tokio::sync::mpsc::Sender<Check>>,
}

type Checked = Result<Option<(Session, Chrome)>, DbError>;

struct Check {
    token_hash: Vec<u8>,
    done: tokio::sync::oneshot::Sender<Checked>,
}

/// The most checks read together.
const CHECK_GROUP: usize = 64;

impl Checker {
    /// Starts the group reader (on PostgreSQL) on the current runtime; it ends when the last
    /// handle is dropped.
    pub fn start(db: Db) -> Checker {
        let queue = match &db {
            Db::Sqlite(_) => None,
            Db::Postgres(p) => {
                let (queue, mut rx) = tokio::sync::mpsc::channel::<Check>(4096);
                let pool = p.clone();
                tokio::spawn(async move {
                    let mut group = Vec::with_capacity(CHECK_GROUP);
                    while rx.recv_many(&mut group, CHECK_GROUP).await > 0 {
                        check_group(&pool, &mut group).await;
                    }
                });
                Some(queue)
            }
        };
        Checker { db, queue }
    }

    /// The live session of `token_hash` with its viewer's page data, as [`resolve`] reads it.
    pub async fn resolve(&self, token_hash: &[u8]) -> Checked {
        let Some(queue) = &self.queue else {
            return resolve(&self.db, token_hash).await;
        };
        crate::stats::note();
        let gone = || DbError::Sqlx(sqlx::Error::PoolClosed);
        let (done, answer) = tokio::sync::oneshot::channel();
        let check = Check {
            token_hash: token_hash.to_vec(),
            done,
        };
        queue.send(check).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn check_group(pool: &sqlx::PgPool, group: &mut Vec<Check>) {
    let hashes: Vec<&[u8]> = group.iter().map(|c| c.token_hash.as_slice()).collect();
    let read: Result<Vec<Resolved>, sqlx::Error> = sqlx::query_as(RESOLVE_GROUP)
        .bind(hashes)
        .bind(now())
        .fetch_all(pool)
        .await;
    match read {
        Ok(rows) => {
            let found: std::collections::HashMap<Vec<u8>, Resolved> = rows
                .into_iter()
                .map(|r| (r.session.token_hash.clone(), r))
                .collect();
            // Two requests of one session may share a group: each gets its own copy.
            for c in group.drain(..) {
                let r = found.get(&c.token_hash);
                let _ = c
                    .done
                    .send(Ok(r.map(|r| (r.session.clone(), r.chrome.clone()))));
            }
        }
        // Each check is made on its own then, so that each gets its own answer or error.
        Err(_) => {
            for c in group.drain(..) {
                let one = resolve_on(pool, &c.token_hash).await;
                let _ = c.done.send(one.map(|r| r.map(|r| (r.session, r.chrome))));
            }
        }
    }
}
const RESOLVE_GROUP: &str = resolve_sql!("= ANY($1)");

/// The current time as sqlx writes it to SQLite, for a read made outside sqlx.
fn now_text() -> String {
    now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// [`Resolved`] from a row of [`RESOLVE`] read on SQLite outside sqlx: the same columns in
/// the order the statement names them, decoded as sqlx writes them there.
fn resolved_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Resolved> {
    use crate::readers::Columns;
    let mut c = Columns::new(r);
    Ok(Resolved {
        session: Session {
            id: c.id("id")?,
            token_hash: c.get("token_hash")?,
            user_id: c.id("user_id")?,
            context: c.get("context")?,
            membership_id: c.id("membership_id")?,
            csrf_token: c.get("csrf_token")?,
            auth_method: c.parsed("auth_method", AuthMethod::try_from)?,
            ip: c.get("ip")?,
            user_agent: c.get("user_agent")?,
            created_at: c.time("created_at")?,
            last_seen_at: c.time("last_seen_at")?,
            idle_expires_at: c.time("idle_expires_at")?,
            absolute_expires_at: c.time("absolute_expires_at")?,
            mfa_pending: c.get("mfa_pending")?,
        },
        chrome: Chrome {
            user_name: c.get("user_name")?,
            user_email: c.get("user_email")?,
            firm_id: c.id("firm_id")?,
            firm_name: c.get("firm_name")?,
            firm_slug: c.get("firm_slug")?,
            idle_timeout_secs: c.get("idle_timeout_secs")?,
            role: c.get("role")?,
            client_id: c.maybe_id("client_id")?,
            client_name: c.get("client_name")?,
            is_client_admin: c.get("is_client_admin")?,
            places: c.get("places")?,
            totp_enabled: c.get("totp_enabled")?,
            totp_required: c.get("totp_required")?,
            access_log_for_clients: c.get("access_log_for_clients")?,
            logo_version: c.get("logo_version")?,
            picture_version: c.get("picture_version")?,
            terms_pending: c.get("terms_pending")?,
            time_zone: c.get("time_zone")?,
            unread_notifications: c.get("unread_notifications")?,
            client_read_receipts: c.get("client_read_receipts")?,
            client_version: c.get("client_version")?,
            firm_data_version: c.get("firm_data_version")?,
            firm_shared_version: c.get("firm_shared_version")?,
            firm_clients_version: c.get("firm_clients_version")?,
        },
    })
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
