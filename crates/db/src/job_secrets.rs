//! The one secret a queued job may need (the token in a sign-in link), kept apart from the
//! job's payload and only while the job is pending: a trigger forgets it the moment the job is
//! done or gives up, so neither the job table nor a backup of it holds a usable token.

use uuid::Uuid;

use crate::{DbError, Tx, jobs, on_tx};

/// Queues a job whose payload refers to `secret` without containing it, in the caller's
/// transaction.
pub async fn enqueue(
    tx: &mut Tx,
    firm: Option<Uuid>,
    kind: jobs::Kind,
    payload: &str,
    secret: &str,
    max_attempts: i64,
) -> Result<Uuid, DbError> {
    let id = jobs::enqueue(tx, firm, kind, payload, max_attempts).await?;
    on_tx!(tx, c => sqlx::query("INSERT INTO job_secrets (job_id, secret) VALUES ($1, $2)")
        .bind(id).bind(secret).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}
