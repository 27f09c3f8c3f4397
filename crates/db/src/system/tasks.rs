//! Reminders of tasks coming due.

use portico_core::notices;
use uuid::Uuid;

use crate::notifications::{self, Notice};
use crate::{Db, DbError, now, on_tx};

/// Reminds clients of open tasks due by tomorrow (or overdue), once per task: each becomes a
/// notification for the client's people. Safe on several servers at once: a task is claimed by
/// the update that marks it reminded. Returns how many tasks were reminded.
pub async fn send_reminders(db: &Db) -> Result<usize, DbError> {
    let t = now();
    let by = (t + time::Duration::days(1)).date();
    let mut tx = db.begin().await?;
    let due: Vec<(Uuid, Uuid, Uuid)> = on_tx!(&mut tx, c => sqlx::query_as(
        "UPDATE tasks SET reminded_at = $1 WHERE id IN (\
           SELECT id FROM tasks WHERE completed_at IS NULL AND reminded_at IS NULL AND due_on <= $2 LIMIT 200) \
         AND reminded_at IS NULL RETURNING id, firm_id, client_id"
    ).bind(t).bind(by).fetch_all(&mut **c).await)?;
    for (id, firm_id, client_id) in &due {
        let people = notifications::client_people(&mut tx, *firm_id, *client_id).await?;
        let notice = Notice {
            firm_id: *firm_id,
            event: notices::Event::TaskDue,
            subject_id: *id,
        };
        notifications::raise(&mut tx, &notice, &people).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}
