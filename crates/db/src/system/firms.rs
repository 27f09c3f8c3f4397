//! Setting up firms and their first staff, from the command line or the demo.

use portico_core::StaffRole;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::firms::{Firm, slug_for};
use crate::users::{User, find_or_create};
use crate::{Db, DbError, new_id, now, on_db, on_tx};

/// Creates a firm (an operator action: from the command line or set-up, not from a viewer).
pub async fn create(db: &Db, name: &str, origin: &Origin) -> Result<Firm, DbError> {
    let name = portico_core::validate::text("name", name, 200)?;
    let slug = slug_for(&name);
    let mut tx = db.begin().await?;
    let taken: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM firms WHERE slug = $1 OR slug LIKE $2"
    ).bind(&slug).bind(format!("{slug}-%")).fetch_one(&mut **c).await)?;
    let slug = if taken == 0 {
        slug
    } else {
        format!("{slug}-{}", taken + 1)
    };
    let firm: Firm = on_tx!(&mut tx, c => sqlx::query_as(
        "INSERT INTO firms (id, name, slug, created_at) VALUES ($1, $2, $3, $4) RETURNING *"
    ).bind(new_id()).bind(&name).bind(&slug).bind(now()).fetch_one(&mut **c).await)?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(firm.id), "firm.create").object("firm", firm.id),
    )
    .await?;
    tx.commit().await?;
    Ok(firm)
}

pub async fn all(db: &Db) -> Result<Vec<Firm>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as("SELECT * FROM firms ORDER BY name").fetch_all(p).await)?)
}

/// Adds a staff member to a firm (an operator or firm-admin action), audited.
pub async fn add_staff(
    db: &Db,
    firm_id: Uuid,
    email: &str,
    name: &str,
    role: StaffRole,
    origin: &Origin,
) -> Result<(User, Uuid), DbError> {
    let mut tx = db.begin().await?;
    let user = find_or_create(&mut tx, email, name).await?;
    let staff_id = new_id();
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO staff_members (id, firm_id, user_id, role, created_at) VALUES ($1, $2, $3, $4, $5)"
    ).bind(staff_id).bind(firm_id).bind(user.id).bind(role.as_str()).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))
    .map_err(|e| {
        let e = DbError::from(e);
        if e.is_unique_violation() { DbError::Conflict(format!("{} is already staff of this firm", user.email)) } else { e }
    })?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(firm_id), "staff.add")
            .object("user", user.id)
            .detail(format!("role={}", role.as_str())),
    )
    .await?;
    tx.commit().await?;
    Ok((user, staff_id))
}
