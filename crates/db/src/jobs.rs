//! The durable job table: side effects written in the same transaction as the change that
//! needs them, claimed by whichever server's worker gets there first, retried with backoff.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: OffsetDateTime,
    pub last_error: String,
    pub created_at: OffsetDateTime,
}

/// A kind of job, stored by its name in the `kind` column. A feature declares its kinds as
/// constants and tells the job registry what runs each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(&'static str);

impl Kind {
    pub const fn new(name: &'static str) -> Kind {
        Kind(name)
    }

    /// The name the job table stores.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// Queues a job inside the caller's transaction: it exists if and only if the change commits.
/// `firm` is the firm it works for, whose administrators see it if it gives up.
pub async fn enqueue(
    tx: &mut Tx,
    firm: Option<Uuid>,
    kind: Kind,
    payload: &str,
    max_attempts: i64,
) -> Result<Uuid, DbError> {
    let id = new_id();
    let t = now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO jobs (id, kind, payload, status, max_attempts, run_at, created_at, updated_at, firm_id) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $5, $5, $6)"
    ).bind(id).bind(kind.as_str()).bind(payload).bind(max_attempts).bind(t).bind(firm).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Counts by status, for metrics.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
        .fetch_all(p).await)?,
    )
}

/// The firm's jobs that gave up (undelivered emails, checks that never finished), newest
/// first, for its administrators; anyone else is refused as if there were none.
pub async fn failed_for_firm(
    db: &Db,
    viewer: &portico_core::Viewer,
    limit: i64,
) -> Result<Vec<Job>, DbError> {
    if !viewer.may_administer_firm() {
        return Err(DbError::NotFound);
    }
    // The limit is written into the text: SQLite plans a bound LIMIT afresh on every run.
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, kind, payload, status, attempts, max_attempts, run_at, last_error, created_at \
         FROM jobs WHERE firm_id = $1 AND status = 'failed' ORDER BY updated_at DESC LIMIT {}",
        limit.clamp(1, 1000)
    ))).bind(viewer.firm_id()).fetch_all(p).await)?)
}

/// Queues one of the firm's jobs that gave up for a fresh round of attempts, now, as an
/// administrator asked. Another firm's job, one that did not give up, or one already queued
/// again (a second press, or two administrators at once) is not found.
pub async fn retry_for_firm(
    db: &Db,
    viewer: &portico_core::Viewer,
    id: Uuid,
    origin: &crate::audit::Origin,
) -> Result<(), DbError> {
    if !viewer.may_administer_firm() {
        return Err(DbError::NotFound);
    }
    let t = now();
    let mut tx = db.begin().await?;
    let kind: Option<String> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $3, locked_until = NULL, updated_at = $3 \
         WHERE id = $1 AND firm_id = $2 AND status = 'failed' RETURNING kind"
    ).bind(id).bind(viewer.firm_id()).bind(t).fetch_optional(&mut **c).await)?;
    let kind = kind.ok_or(DbError::NotFound)?;
    crate::audit::append(
        &mut tx,
        origin,
        crate::audit::Event::new(Some(viewer.firm_id()), "job.retry")
            .object("job", id)
            .detail(kind),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
