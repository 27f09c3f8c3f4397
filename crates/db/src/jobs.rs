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

/// Counts by status, for metrics.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
        .fetch_all(p).await)?,
    )
}
