//! Notification mail: whose batch is due, and taking a batch for its email.

use sqlx::AssertSqlSafe;
use time::Duration;
use uuid::Uuid;

use crate::notifications::{Batch, Batching};
use crate::{Db, DbError, Tx, now, on_db, on_tx};

/// People with unread, unmailed notifications whose batch is due, at most `limit` of them.
/// Daily digests are due once the oldest waiting item is a day old; "off" never is.
pub async fn due(db: &Db, batching: Batching, limit: i64) -> Result<Vec<(Uuid, Uuid)>, DbError> {
    let t = now();
    Ok(on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT n.user_id, n.firm_id FROM notifications n JOIN users u ON u.id = n.user_id \
         WHERE n.emailed_at IS NULL AND n.read_at IS NULL AND u.active AND u.notify <> 'off' \
         GROUP BY n.user_id, n.firm_id, u.notify \
         HAVING (u.notify = 'immediately' AND (MAX(n.created_at) <= $1 OR MIN(n.created_at) <= $2)) \
             OR (u.notify = 'daily' AND MIN(n.created_at) <= $3) \
         LIMIT {}",
        limit
    ))).bind(t - batching.quiet).bind(t - batching.longest).bind(t - Duration::days(1)).fetch_all(p).await)?)
}

/// Takes one person's waiting notifications for an email, inside the transaction that queues
/// the email: of two servers taking the same batch, one gets the rows and the other none.
pub async fn take(tx: &mut Tx, user_id: Uuid, firm_id: Uuid) -> Result<Option<Batch>, DbError> {
    let kinds: Vec<String> = on_tx!(&mut *tx, c => sqlx::query_scalar(
        "UPDATE notifications SET emailed_at = $3 WHERE user_id = $1 AND firm_id = $2 \
         AND emailed_at IS NULL AND read_at IS NULL RETURNING kind"
    ).bind(user_id).bind(firm_id).bind(now()).fetch_all(&mut **c).await)?;
    if kinds.is_empty() {
        return Ok(None);
    }
    let (email, name): (String, String) = on_tx!(&mut *tx, c => sqlx::query_as(
        "SELECT email, name FROM users WHERE id = $1"
    ).bind(user_id).fetch_one(&mut **c).await)?;
    let mut counts: Vec<(String, i64)> = Vec::new();
    for kind in kinds {
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    counts.sort();
    Ok(Some(Batch {
        user_id,
        firm_id,
        email,
        name,
        counts,
    }))
}
