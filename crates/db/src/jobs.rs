//! The durable job table: side effects written in the same transaction as the change that
//! needs them, claimed by whichever server's worker gets there first, retried with backoff.

use sqlx::AssertSqlSafe;
use time::{Duration, OffsetDateTime};
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
pub async fn enqueue(
    tx: &mut Tx,
    kind: Kind,
    payload: &str,
    max_attempts: i64,
) -> Result<Uuid, DbError> {
    let id = new_id();
    let t = now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO jobs (id, kind, payload, status, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $5, $5)"
    ).bind(id).bind(kind.as_str()).bind(payload).bind(max_attempts).bind(t).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Claims one due job for `lease` (another worker may take it after the lease runs out, if this
/// one died). PostgreSQL skips rows other servers hold; SQLite has one writer at a time.
pub async fn claim(db: &Db, lease: Duration) -> Result<Option<Job>, DbError> {
    let t = now();
    let until = t + lease;
    Ok(match db {
        Db::Postgres(p) => sqlx::query_as(
            "UPDATE jobs SET attempts = attempts + 1, locked_until = $2, updated_at = $1 WHERE id = (\
               SELECT id FROM jobs WHERE status = 'pending' AND run_at <= $1 \
               AND (locked_until IS NULL OR locked_until <= $1) \
               ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, payload, status, attempts, max_attempts, run_at, last_error, created_at",
        )
        .bind(t)
        .bind(until)
        .fetch_optional(p)
        .await?,
        Db::Sqlite(p) => sqlx::query_as(
            "UPDATE jobs SET attempts = attempts + 1, locked_until = $2, updated_at = $1 WHERE id = (\
               SELECT id FROM jobs WHERE status = 'pending' AND run_at <= $1 \
               AND (locked_until IS NULL OR locked_until <= $1) \
               ORDER BY run_at LIMIT 1) \
             RETURNING id, kind, payload, status, attempts, max_attempts, run_at, last_error, created_at",
        )
        .bind(t)
        .bind(until)
        .fetch_optional(p)
        .await?,
    })
}

pub async fn complete(db: &Db, id: Uuid) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query("UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = $2 WHERE id = $1")
        .bind(id).bind(now()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed attempt: tried again at `retry_at`, or given up for good (status
/// `failed`, kept for operators to see) once the attempts are spent or when the failure is
/// `permanent` (trying again cannot help, e.g. a mail server's 5xx refusal).
pub async fn failed(
    db: &Db,
    job: &Job,
    error: &str,
    retry_at: OffsetDateTime,
    permanent: bool,
) -> Result<bool, DbError> {
    let give_up = permanent || job.attempts >= job.max_attempts;
    let status = if give_up { "failed" } else { "pending" };
    let error: String = error.chars().take(2000).collect();
    on_db!(db, p => sqlx::query(
        "UPDATE jobs SET status = $2, run_at = $3, locked_until = NULL, last_error = $4, updated_at = $5 WHERE id = $1"
    ).bind(job.id).bind(status).bind(retry_at).bind(&error).bind(now()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(give_up)
}

/// Jobs in a given status, newest first (operators' view of what gave up).
pub async fn with_status(db: &Db, status: &str, limit: i64) -> Result<Vec<Job>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, kind, payload, status, attempts, max_attempts, run_at, last_error, created_at \
         FROM jobs WHERE status = $1 ORDER BY created_at DESC LIMIT {}",
        limit
    ))).bind(status).fetch_all(p).await)?)
}

/// Counts by status, for metrics.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
        .fetch_all(p).await)?,
    )
}

/// Puts a job that gave up back in the queue for a fresh round of attempts, now. Only a
/// `failed` job can be retried; returns whether it was.
pub async fn retry(db: &Db, id: Uuid) -> Result<bool, DbError> {
    let t = now();
    let n = on_db!(db, p => sqlx::query(
        "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $2, locked_until = NULL, updated_at = $2 \
         WHERE id = $1 AND status = 'failed'"
    ).bind(id).bind(t).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
