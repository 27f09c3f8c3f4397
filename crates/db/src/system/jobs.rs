//! The job worker's side of the job table: claiming, finishing and failing jobs, and the
//! operators' view of what gave up. Queuing a job stays with [`crate::jobs::enqueue`], in the
//! transaction of the change that needs it.

use sqlx::AssertSqlSafe;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::jobs::Job;
use crate::{Db, DbError, now, on_db};

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

/// The secret of a pending job, if it has one.
pub async fn secret_of(db: &Db, job_id: Uuid) -> Result<Option<String>, DbError> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT s.secret FROM job_secrets s JOIN jobs j ON j.id = s.job_id \
         WHERE s.job_id = $1 AND j.status = 'pending'"
    ).bind(job_id).fetch_optional(p).await)?)
}
