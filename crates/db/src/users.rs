//! Sign-in identities and their memberships: staff of a firm, or portal users of a client.

use portico_core::{StaffRole, Viewer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: OffsetDateTime,
    /// Base32 secret of the authenticator app; set while enrolling, kept while enabled.
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: i64,
    pub phone: String,
    /// IANA time zone name; empty for UTC.
    pub time_zone: String,
    /// How the person wants to hear of new things: "immediately", "daily" or "off".
    pub notify: String,
    pub picture_version: Option<i64>,
}

/// What a person may change about themselves on their profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub phone: String,
    pub notify: String,
    pub time_zone: String,
}

/// The notification choices, in the order a profile page offers them.
pub const NOTIFY_CHOICES: [&str; 3] = ["immediately", "daily", "off"];

/// Saves the viewer's own profile after checking every value.
pub async fn update_profile(
    db: &Db,
    viewer: &Viewer,
    profile: &Profile,
    origin: &Origin,
) -> Result<(), DbError> {
    use portico_core::{Invalid, validate};
    let name = validate::text("name", &profile.name, 200)?;
    let phone = profile.phone.trim();
    let phone_ok = phone.chars().count() <= 32
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !phone_ok {
        return Err(Invalid::new("phone", "Use digits, spaces and + - ( ) only.").into());
    }
    let time_zone = validate::time_zone(&profile.time_zone)?;
    if !NOTIFY_CHOICES.contains(&profile.notify.as_str()) {
        return Err(Invalid::new("notify", "Choose one of the offered options.").into());
    }
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE users SET name = $2, phone = $3, notify = $4, time_zone = $5 WHERE id = $1")
        .bind(viewer.user_id()).bind(&name).bind(phone).bind(&profile.notify).bind(&time_zone)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "user.profile")
            .object("user", viewer.user_id())
            .detail(format!("notify={}", profile.notify)),
    )
    .await?;
    tx.commit().await
}

/// Which side a session works on.
pub use portico_core::Side as Context;

/// One place a person can work: staff of a firm, or a portal user of one client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Membership {
    pub context: String,
    pub membership_id: Uuid,
    pub firm_id: Uuid,
    pub firm_name: String,
    pub client_name: Option<String>,
    /// False for a client whose portal the firm has closed (staff places are always open).
    pub portal_open: bool,
}

pub async fn by_email(db: &Db, email: &str) -> Result<Option<User>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT * FROM users WHERE email = $1")
        .bind(email).fetch_optional(p).await)?,
    )
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<User>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT * FROM users WHERE id = $1")
        .bind(id).fetch_optional(p).await)?,
    )
}

/// Finds the identity for an email or creates it (a person invited twice keeps one sign-in).
pub(crate) async fn find_or_create(tx: &mut Tx, email: &str, name: &str) -> Result<User, DbError> {
    let email = portico_core::validate::email(email)?;
    let name = portico_core::validate::text("name", name, 200)?;
    let existing: Option<User> = on_tx!(tx, c => sqlx::query_as("SELECT * FROM users WHERE email = $1")
        .bind(&email).fetch_optional(&mut **c).await)?;
    if let Some(u) = existing {
        return Ok(u);
    }
    Ok(on_tx!(tx, c => sqlx::query_as(
        "INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4) RETURNING *"
    ).bind(new_id()).bind(&email).bind(&name).bind(now()).fetch_one(&mut **c).await)?)
}

pub async fn set_password_hash(tx: &mut Tx, user_id: Uuid, hash: &str) -> Result<(), DbError> {
    on_tx!(tx, c => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash).bind(user_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every active place this person can work, firms and clients alike.
pub async fn memberships(db: &Db, user_id: Uuid) -> Result<Vec<Membership>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT 'staff' AS context, s.id AS membership_id, f.id AS firm_id, f.name AS firm_name, \
                CAST(NULL AS TEXT) AS client_name, TRUE AS portal_open \
         FROM staff_members s JOIN firms f ON f.id = s.firm_id \
         WHERE s.user_id = $1 AND s.active \
         UNION ALL \
         SELECT 'client', cu.id, f.id, f.name, c.name, c.portal_open \
         FROM client_users cu JOIN clients c ON c.id = cu.client_id JOIN firms f ON f.id = cu.firm_id \
         WHERE cu.user_id = $1 AND cu.active \
         ORDER BY 4, 5"
    ).bind(user_id).fetch_all(p).await)?)
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: Uuid,
    firm_id: Uuid,
    role: String,
}

#[derive(sqlx::FromRow)]
struct ClientUserRow {
    id: Uuid,
    firm_id: Uuid,
    client_id: Uuid,
    is_client_admin: bool,
}

/// Resolves a session's context to a viewer, only while the person, the membership and
/// (for clients) the client's portal are all active — so deactivation takes effect at once.
pub async fn viewer_for(
    db: &Db,
    user_id: Uuid,
    context: Context,
    membership_id: Uuid,
) -> Result<Option<Viewer>, DbError> {
    Ok(match context {
        Context::Staff => {
            let row: Option<StaffRow> = on_db!(db, p => sqlx::query_as(
                "SELECT s.id, s.firm_id, s.role FROM staff_members s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = $1 AND s.user_id = $2 AND s.active AND u.active"
            ).bind(membership_id).bind(user_id).fetch_optional(p).await)?;
            row.and_then(|r| {
                Some(Viewer::Staff {
                    user_id,
                    firm_id: r.firm_id,
                    staff_id: r.id,
                    role: StaffRole::parse(&r.role)?,
                })
            })
        }
        Context::Client => {
            let row: Option<ClientUserRow> = on_db!(db, p => sqlx::query_as(
                "SELECT cu.id, cu.firm_id, cu.client_id, cu.is_client_admin \
                 FROM client_users cu JOIN users u ON u.id = cu.user_id JOIN clients c ON c.id = cu.client_id \
                 WHERE cu.id = $1 AND cu.user_id = $2 AND cu.active AND u.active AND c.portal_open"
            ).bind(membership_id).bind(user_id).fetch_optional(p).await)?;
            row.map(|r| Viewer::Client {
                user_id,
                firm_id: r.firm_id,
                client_id: r.client_id,
                client_user_id: r.id,
                is_client_admin: r.is_client_admin,
            })
        }
    })
}

/// Ends a person's access to the viewer's firm (staff and portal memberships alike); their
/// live sessions stop working on the next request. Other firms they belong to are untouched.
pub async fn deactivate(
    db: &Db,
    viewer: &Viewer,
    user_id: Uuid,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.may_administer_firm() {
        return Err(DbError::Forbidden);
    }
    let firm_id = viewer.firm_id();
    let mut tx = db.begin().await?;
    let staff = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE staff_members SET active = FALSE WHERE user_id = $1 AND firm_id = $2"
    ).bind(user_id).bind(firm_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let clients = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE client_users SET active = FALSE WHERE user_id = $1 AND firm_id = $2"
    ).bind(user_id).bind(firm_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if staff + clients == 0 {
        return Err(DbError::NotFound);
    }
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(firm_id), "user.deactivate").object("user", user_id),
    )
    .await?;
    tx.commit().await
}
