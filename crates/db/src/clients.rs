//! Clients of a firm (people or organisations) and their portal users.

use portico_core::clients::ClientKind;
use portico_core::{Viewer, policy, validate};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, Page, new_id, now, on_db, on_tx, users};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Client {
    pub id: Uuid,
    #[serde(skip)]
    pub firm_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: ClientKind,
    pub name: String,
    pub email: Option<String>,
    pub portal_open: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What staff type to create a client. It carries no firm: the firm is the viewer's.
#[derive(Debug, Clone, Deserialize)]
pub struct NewClient {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

fn staff_only(viewer: &Viewer) -> Result<(), DbError> {
    if viewer.is_staff() {
        Ok(())
    } else {
        Err(DbError::NotFound)
    }
}

/// Clients the viewer can see, by name: the whole firm for staff, their own client for clients.
pub async fn list(
    db: &Db,
    viewer: &Viewer,
    search: &str,
    page: Page,
) -> Result<Vec<Client>, DbError> {
    let firm = viewer.firm_id();
    let (limit, offset) = (page.limit, page.offset);
    Ok(match viewer.client_scope() {
        None if search.is_empty() => on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
            "SELECT * FROM clients WHERE firm_id = $1 ORDER BY name, id LIMIT {limit} OFFSET {offset}"
        ))).bind(firm).fetch_all(p).await)?,
        // A substring of three characters or more is looked up in the names' trigram index
        // (FTS5 on SQLite; pg_trgm on PostgreSQL where the extension could be installed,
        // a scan of the firm's names otherwise); shorter ones scan the firm's names.
        None => match db {
            Db::Sqlite(p) if search.chars().count() >= 3 => {
                crate::stats::note();
                let phrase = format!("\"{}\"", search.replace('"', "\"\""));
                sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT * FROM clients WHERE firm_id = $1 AND id IN \
                     (SELECT client_id FROM clients_search WHERE clients_search MATCH $2) \
                     ORDER BY name, id LIMIT {limit} OFFSET {offset}"
                )))
                .bind(firm)
                .bind(phrase)
                .fetch_all(p)
                .await?
            }
            _ => {
                let pattern = format!("%{}%", crate::audit::like_literal(search));
                on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT * FROM clients WHERE firm_id = $1 AND LOWER(name) LIKE LOWER($2) ESCAPE '\\' \
                     ORDER BY name, id LIMIT {limit} OFFSET {offset}"
                ))).bind(firm).bind(pattern).fetch_all(p).await)?
            }
        },
        Some(client_id) => on_db!(db, p => sqlx::query_as(
            "SELECT * FROM clients WHERE firm_id = $1 AND id = $2"
        ).bind(firm).bind(client_id).fetch_all(p).await)?,
    })
}

/// The firm's newest clients (staff only), for the home page.
pub async fn newest(db: &Db, viewer: &Viewer, limit: i64) -> Result<Vec<Client>, DbError> {
    staff_only(viewer)?;
    Ok(on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT * FROM clients WHERE firm_id = $1 ORDER BY created_at DESC, id DESC LIMIT {}",
        limit
    ))).bind(viewer.firm_id()).fetch_all(p).await)?)
}

/// One client, if the viewer may see it; otherwise `NotFound`, exactly as if it did not exist.
pub async fn get(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Client, DbError> {
    if !policy::reaches_client(viewer, id) {
        return Err(DbError::NotFound);
    }
    on_db!(db, p => sqlx::query_as("SELECT * FROM clients WHERE id = $1 AND firm_id = $2")
        .bind(id).bind(viewer.firm_id()).fetch_optional(p).await)?
    .ok_or(DbError::NotFound)
}

pub async fn create(
    db: &Db,
    viewer: &Viewer,
    input: &NewClient,
    origin: &Origin,
) -> Result<Client, DbError> {
    staff_only(viewer)?;
    let Some(kind) = ClientKind::parse(&input.kind) else {
        return Err(portico_core::Invalid::new("kind", "Choose person or organisation.").into());
    };
    let name = validate::text("name", &input.name, 200)?;
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(validate::email(e)?),
        None => None,
    };
    let mut tx = db.begin().await?;
    let client: Client = on_tx!(&mut tx, c => sqlx::query_as(
        "INSERT INTO clients (id, firm_id, kind, name, email, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *"
    ).bind(new_id()).bind(viewer.firm_id()).bind(kind.as_str()).bind(&name).bind(&email).bind(now())
    .fetch_one(&mut **c).await)?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(client.firm_id), "client.create").object("client", client.id),
    )
    .await?;
    tx.commit().await?;
    Ok(client)
}

/// A portal user of a client, as staff see them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PortalUser {
    pub client_user_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub is_client_admin: bool,
    pub active: bool,
    pub picture_version: Option<i64>,
    /// Invited but has not chosen a password yet.
    pub pending: bool,
    #[sqlx(flatten)]
    pub insurance: Insurance,
}

/// A portal user's insurance details, for practices that ask for them.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Insurance {
    #[sqlx(rename = "insurance_provider")]
    pub provider: String,
    #[sqlx(rename = "insurance_member_id")]
    pub member_id: String,
    #[sqlx(rename = "insurance_group")]
    pub group: String,
}

impl Insurance {
    pub fn is_empty(&self) -> bool {
        self.provider.is_empty() && self.member_id.is_empty() && self.group.is_empty()
    }
}

/// Gives a person a portal account for a client (staff only). Invitations build on this.
pub async fn add_portal_user(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    email: &str,
    name: &str,
    is_client_admin: bool,
    origin: &Origin,
) -> Result<PortalUser, DbError> {
    // Staff add anyone; a client admin adds colleagues to their own client, never as admins.
    let is_client_admin = match viewer {
        Viewer::Staff { .. } => is_client_admin,
        Viewer::Client {
            client_id: own,
            is_client_admin: true,
            ..
        } if *own == client_id => false,
        Viewer::Client { .. } => return Err(DbError::NotFound),
    };
    let client = get(db, viewer, client_id).await?;
    let mut tx = db.begin().await?;
    let user = users::find_or_create(&mut tx, email, name).await?;
    // A revoked or deactivated membership comes back to life; an active one is a conflict.
    let id: Option<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO client_users (id, firm_id, client_id, user_id, is_client_admin, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (client_id, user_id) DO UPDATE SET active = TRUE, is_client_admin = excluded.is_client_admin \
         WHERE client_users.active = FALSE RETURNING id"
    ).bind(new_id()).bind(client.firm_id).bind(client.id).bind(user.id).bind(is_client_admin).bind(now())
    .fetch_optional(&mut **c).await)?;
    let id = id.ok_or_else(|| {
        DbError::Conflict(format!("{} already has access for this client", user.email))
    })?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(client.firm_id), "client.user.add")
            .object("client", client.id)
            .detail(format!("user={}", user.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(PortalUser {
        client_user_id: id,
        user_id: user.id,
        email: user.email,
        name: user.name,
        is_client_admin,
        active: true,
        picture_version: user.picture_version,
        pending: user.password_hash.is_none(),
        insurance: Insurance::default(),
    })
}

pub async fn portal_users(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
) -> Result<Vec<PortalUser>, DbError> {
    let client = get(db, viewer, client_id).await?;
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT cu.id AS client_user_id, u.id AS user_id, u.email, u.name, cu.is_client_admin, cu.active, \
                u.picture_version, (u.password_hash IS NULL AND NOT EXISTS (SELECT 1 FROM passkeys pk WHERE pk.user_id = u.id)) AS pending, \
                cu.insurance_provider, cu.insurance_member_id, cu.insurance_group \
         FROM client_users cu JOIN users u ON u.id = cu.user_id WHERE cu.client_id = $1 AND cu.firm_id = $2 \
         ORDER BY u.name"
    ).bind(client.id).bind(client.firm_id).fetch_all(p).await)?)
}

/// Opens or closes a client's whole portal (staff only); takes effect on the next request.
pub async fn set_portal_open(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    open: bool,
    origin: &Origin,
) -> Result<(), DbError> {
    staff_only(viewer)?;
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query("UPDATE clients SET portal_open = $1 WHERE id = $2 AND firm_id = $3")
        .bind(open).bind(client_id).bind(viewer.firm_id()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    let action = if open {
        "client.portal.open"
    } else {
        "client.portal.close"
    };
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), action).object("client", client_id),
    )
    .await?;
    tx.commit().await
}

pub async fn count(db: &Db, viewer: &Viewer) -> Result<i64, DbError> {
    staff_only(viewer)?;
    Ok(
        on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE firm_id = $1")
        .bind(viewer.firm_id()).fetch_one(p).await)?,
    )
}

/// A portal user's invitation that is still open (active, no password chosen yet), for staff
/// who resend or revoke it; anything else is a clear conflict.
pub async fn pending_invitation(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    client_user_id: Uuid,
) -> Result<PortalUser, DbError> {
    staff_only(viewer)?;
    let user = portal_users(db, viewer, client_id)
        .await?
        .into_iter()
        .find(|u| u.client_user_id == client_user_id)
        .ok_or(DbError::NotFound)?;
    if !user.active {
        return Err(DbError::Conflict(format!(
            "The invitation of {} was revoked; invite them again instead.",
            user.email
        )));
    }
    if !user.pending {
        return Err(DbError::Conflict(format!(
            "{} has already accepted the invitation and signs in with a password.",
            user.email
        )));
    }
    Ok(user)
}

/// Revokes an open invitation: the membership is deactivated and the person's unused links
/// from this firm stop working (and cannot be renewed). Staff only, audited.
pub async fn revoke_invitation(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    client_user_id: Uuid,
    origin: &Origin,
) -> Result<PortalUser, DbError> {
    let user = pending_invitation(db, viewer, client_id, client_user_id).await?;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE client_users SET active = FALSE WHERE id = $1 AND firm_id = $2")
        .bind(user.client_user_id).bind(viewer.firm_id()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    crate::tokens::revoke(
        &mut tx,
        user.user_id,
        viewer.firm_id(),
        crate::tokens::SET_PASSWORD,
    )
    .await?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "client.invitation.revoke")
            .object("client", client_id)
            .detail(format!("user={}", user.user_id)),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Requires a registration key (given out of band) of an invited portal user: the hash is
/// stored on the membership and asked for when they choose a password. Staff only, audited.
pub async fn require_registration_key(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    client_user_id: Uuid,
    key_hash: &[u8],
    origin: &Origin,
) -> Result<(), DbError> {
    let user = pending_invitation(db, viewer, client_id, client_user_id).await?;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE client_users SET registration_key_hash = $1 WHERE id = $2 AND firm_id = $3")
        .bind(key_hash).bind(user.client_user_id).bind(viewer.firm_id()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "client.invitation.registration_key")
            .object("client", client_id)
            .detail(format!("user={}", user.user_id)),
    )
    .await?;
    tx.commit().await
}

/// The registration keys a person still has to give for a firm (hashes, one per pending
/// membership): empty when none is asked.
pub async fn pending_registration_keys(
    db: &Db,
    user_id: Uuid,
    firm_id: Uuid,
) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT registration_key_hash FROM client_users \
         WHERE user_id = $1 AND firm_id = $2 AND active AND registration_key_hash IS NOT NULL"
    ).bind(user_id).bind(firm_id).fetch_all(p).await)?)
}

/// Marks the person's registration keys for a firm as given, inside the caller's transaction.
pub async fn clear_registration_keys(
    tx: &mut crate::Tx,
    user_id: Uuid,
    firm_id: Uuid,
) -> Result<(), DbError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE client_users SET registration_key_hash = NULL WHERE user_id = $1 AND firm_id = $2"
    ).bind(user_id).bind(firm_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The client viewer's own insurance details.
pub async fn own_insurance(db: &Db, viewer: &Viewer) -> Result<Insurance, DbError> {
    let Viewer::Client { client_user_id, .. } = viewer else {
        return Err(DbError::NotFound);
    };
    on_db!(db, p => sqlx::query_as(
        "SELECT insurance_provider, insurance_member_id, insurance_group FROM client_users WHERE id = $1 AND firm_id = $2"
    ).bind(client_user_id).bind(viewer.firm_id()).fetch_optional(p).await)?
    .ok_or(DbError::NotFound)
}

/// Saves the client viewer's insurance details, when their practice asks for them.
pub async fn save_insurance(
    db: &Db,
    viewer: &Viewer,
    insurance: &Insurance,
    origin: &Origin,
) -> Result<(), DbError> {
    let Viewer::Client { client_user_id, .. } = viewer else {
        return Err(DbError::NotFound);
    };
    if !crate::firms::of_viewer(db, viewer).await?.ask_insurance {
        return Err(DbError::NotFound);
    }
    let provider = validate::optional_text("insurance_provider", insurance.provider.trim(), 100)?;
    let member_id = validate::optional_text("insurance_member_id", insurance.member_id.trim(), 60)?;
    let group = validate::optional_text("insurance_group", insurance.group.trim(), 60)?;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE client_users SET insurance_provider = $1, insurance_member_id = $2, insurance_group = $3 \
         WHERE id = $4 AND firm_id = $5"
    ).bind(&provider).bind(&member_id).bind(&group).bind(client_user_id).bind(viewer.firm_id())
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "client.insurance").object("user", viewer.user_id()),
    )
    .await?;
    tx.commit().await
}
