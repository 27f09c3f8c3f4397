//! Firms: the tenants. Every other row carries its firm.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, new_id, now, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Firm {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub brand_colour: String,
    pub idle_timeout_secs: i64,
    pub absolute_timeout_secs: i64,
    pub created_at: OffsetDateTime,
    pub require_2fa_staff: bool,
    pub require_2fa_clients: bool,
    pub access_log_for_clients: bool,
    pub logo_version: Option<i64>,
    /// The terms clients accept; empty for none. The version rises with every change.
    pub terms_text: String,
    pub terms_version: i64,
    /// How long access links work, in days (1 to 30).
    pub link_lifetime_days: i64,
    /// The practice asks its clients for insurance details.
    pub ask_insurance: bool,
    /// Clients see when staff read their messages.
    pub client_read_receipts: bool,
    /// Clients may move files the firm shared with them, not only their own.
    pub clients_move_shared_files: bool,
}

/// What a firm's administrators may change about it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub brand_colour: String,
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
    pub require_2fa_staff: bool,
    pub require_2fa_clients: bool,
    pub access_log_for_clients: bool,
    pub terms_text: String,
    pub link_lifetime_days: i64,
    pub ask_insurance: bool,
    pub client_read_receipts: bool,
    pub clients_move_shared_files: bool,
}

/// Changes the viewer's firm (administrators only), after checking every value.
pub async fn update_settings(
    db: &Db,
    viewer: &portico_core::Viewer,
    s: &Settings,
    origin: &Origin,
) -> Result<Firm, DbError> {
    use portico_core::{Invalid, validate};
    if !viewer.may_administer_firm() {
        return Err(DbError::NotFound);
    }
    let name = validate::text("name", &s.name, 200)?;
    let colour = validate::colour(&s.brand_colour)?;
    if !(5..=480).contains(&s.idle_timeout_minutes) {
        return Err(
            Invalid::new("idle_timeout_minutes", "Choose between 5 and 480 minutes.").into(),
        );
    }
    if !(1..=24).contains(&s.absolute_timeout_hours) {
        return Err(
            Invalid::new("absolute_timeout_hours", "Choose between 1 and 24 hours.").into(),
        );
    }
    let terms = validate::optional_text("terms_text", s.terms_text.trim(), 50_000)?;
    if !(1..=crate::access_links::MAX_DAYS).contains(&s.link_lifetime_days) {
        return Err(Invalid::new("link_lifetime_days", "Choose between 1 and 30 days.").into());
    }
    let mut tx = db.begin().await?;
    // A change of the terms makes a new version, which every client is asked to accept.
    let firm: Firm = on_tx!(&mut tx, c => sqlx::query_as(
        "UPDATE firms SET name = $2, brand_colour = $3, idle_timeout_secs = $4, absolute_timeout_secs = $5, \
         require_2fa_staff = $6, require_2fa_clients = $7, access_log_for_clients = $8, \
         terms_version = CASE WHEN terms_text <> $9 THEN terms_version + 1 ELSE terms_version END, \
         terms_text = $9, link_lifetime_days = $10, ask_insurance = $11, client_read_receipts = $12, \
         clients_move_shared_files = $13 WHERE id = $1 RETURNING *"
    ).bind(viewer.firm_id()).bind(&name).bind(&colour).bind(s.idle_timeout_minutes * 60)
    .bind(s.absolute_timeout_hours * 3600).bind(s.require_2fa_staff).bind(s.require_2fa_clients)
    .bind(s.access_log_for_clients).bind(&terms).bind(s.link_lifetime_days)
    .bind(s.ask_insurance).bind(s.client_read_receipts).bind(s.clients_move_shared_files)
    .fetch_optional(&mut **c).await)?.ok_or(DbError::NotFound)?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(firm.id), "firm.settings")
            .object("firm", firm.id)
            .detail(format!(
                "idle={}m absolute={}h 2fa_staff={} 2fa_clients={} access_log={} read_receipts={} client_moves={} terms_version={}",
                s.idle_timeout_minutes,
                s.absolute_timeout_hours,
                s.require_2fa_staff,
                s.require_2fa_clients,
                s.access_log_for_clients,
                s.client_read_receipts,
                s.clients_move_shared_files,
                firm.terms_version
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(firm)
}

/// A link the firm shows on every client's dashboard.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuickLink {
    pub id: Uuid,
    pub label: String,
    pub url: String,
}

/// The most quick links a firm keeps.
pub const MAX_QUICK_LINKS: i64 = 12;

/// The firm's quick links, oldest first, for anyone of the firm.
pub async fn quick_links(
    db: &Db,
    viewer: &portico_core::Viewer,
) -> Result<Vec<QuickLink>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT id, label, url FROM quick_links WHERE firm_id = $1 ORDER BY created_at, id"
    ).bind(viewer.firm_id()).fetch_all(p).await)?)
}

/// Adds a quick link (administrators only): a label and an http(s) address.
pub async fn add_quick_link(
    db: &Db,
    viewer: &portico_core::Viewer,
    label: &str,
    url: &str,
    origin: &Origin,
) -> Result<QuickLink, DbError> {
    use portico_core::{Invalid, validate};
    if !viewer.may_administer_firm() {
        return Err(DbError::NotFound);
    }
    let label = validate::text("label", label, 80)?;
    let url = validate::web_link("url", url)?;
    let mut tx = db.begin().await?;
    let count: i64 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM quick_links WHERE firm_id = $1")
        .bind(viewer.firm_id()).fetch_one(&mut **c).await)?;
    if count >= MAX_QUICK_LINKS {
        return Err(Invalid::new(
            "url",
            format!("A firm keeps at most {MAX_QUICK_LINKS} quick links; remove one first."),
        )
        .into());
    }
    let link: QuickLink = on_tx!(&mut tx, c => sqlx::query_as(
        "INSERT INTO quick_links (id, firm_id, label, url, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, label, url"
    ).bind(new_id()).bind(viewer.firm_id()).bind(&label).bind(&url).bind(now()).fetch_one(&mut **c).await)?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "firm.quick_link.add")
            .object("quick_link", link.id)
            .detail(url),
    )
    .await?;
    tx.commit().await?;
    Ok(link)
}

/// Removes one of the firm's quick links (administrators only).
pub async fn remove_quick_link(
    db: &Db,
    viewer: &portico_core::Viewer,
    id: Uuid,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.may_administer_firm() {
        return Err(DbError::NotFound);
    }
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM quick_links WHERE id = $1 AND firm_id = $2")
        .bind(id).bind(viewer.firm_id()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "firm.quick_link.remove").object("quick_link", id),
    )
    .await?;
    tx.commit().await
}

/// Records that a client accepted version `version` of their firm's terms. Accepting a
/// version that is no longer current is refused, so nobody accepts text they did not see.
pub async fn accept_terms(
    db: &Db,
    viewer: &portico_core::Viewer,
    version: i64,
    origin: &Origin,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    let current: Option<(String, i64)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT terms_text, terms_version FROM firms WHERE id = $1"
    ).bind(viewer.firm_id()).fetch_optional(&mut **c).await)?;
    let (text, current) = current.ok_or(DbError::NotFound)?;
    if text.is_empty() || version != current {
        return Err(DbError::Conflict(
            "The terms changed while you were reading them. Please read the new version.".into(),
        ));
    }
    let added = on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO terms_acceptances (user_id, firm_id, version, accepted_at, ip) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, firm_id, version) DO NOTHING"
    ).bind(viewer.user_id()).bind(viewer.firm_id()).bind(version).bind(now()).bind(&origin.ip)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if added > 0 {
        audit::append(
            &mut tx,
            origin,
            Event::new(Some(viewer.firm_id()), "terms.accept")
                .object("user", viewer.user_id())
                .detail(format!("version={version}")),
        )
        .await?;
    }
    tx.commit().await
}

/// A URL-safe short name made from the firm's name.
pub fn slug_for(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "firm".to_string()
    } else {
        slug.chars().take(48).collect()
    }
}

/// The viewer's own firm.
pub async fn of_viewer(db: &Db, viewer: &portico_core::Viewer) -> Result<Firm, DbError> {
    by_id(db, viewer.firm_id()).await?.ok_or(DbError::NotFound)
}

/// A firm by id, for operators and for resolving a session's context.
pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<Firm>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT * FROM firms WHERE id = $1").bind(id).fetch_optional(p).await)?,
    )
}

/// What a page shows of a firm to someone not signed in to it: its name and logo, and its slug
/// for its colours.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Brand {
    pub name: String,
    pub slug: String,
    pub logo_version: Option<i64>,
}

impl From<&Firm> for Brand {
    fn from(f: &Firm) -> Brand {
        Brand {
            name: f.name.clone(),
            slug: f.slug.clone(),
            logo_version: f.logo_version,
        }
    }
}

/// The brand of the firm at `slug`, when there is one.
pub async fn brand_by_slug(db: &Db, slug: &str) -> Result<Option<Brand>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT name, slug, logo_version FROM firms WHERE slug = $1"
    ).bind(slug).fetch_optional(p).await)?)
}

/// The brand of the firm `id`, when there is one.
pub async fn brand_by_id(db: &Db, id: Uuid) -> Result<Option<Brand>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT name, slug, logo_version FROM firms WHERE id = $1"
    ).bind(id).fetch_optional(p).await)?)
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Firm>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT * FROM firms WHERE slug = $1").bind(slug).fetch_optional(p).await)?,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(
            super::slug_for("Hartley & Co. Immigration"),
            "hartley-co-immigration"
        );
        assert_eq!(super::slug_for("!!!"), "firm");
    }
}
