//! Bulk data for demos and benchmarks: many clients with many matters, written in large
//! multi-row statements so that ten thousand clients take seconds, not minutes.

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::{Db, DbError, new_id, now, on_tx};

/// Rows per INSERT: well under SQLite's limit of 32,766 bound values.
const ROWS: usize = 500;

fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds `clients` clients to the firm, each with `matters` matters; when `comments_by` names
/// a staff member's user, each matter also gets one comment from them. Returns the client ids.
pub async fn clients_with_matters(
    db: &Db,
    firm_id: Uuid,
    clients: u32,
    matters: u32,
    comments_by: Option<Uuid>,
    origin: &Origin,
) -> Result<Vec<Uuid>, DbError> {
    let t = now();
    let mut ids = Vec::with_capacity(clients as usize);
    let all: Vec<u32> = (0..clients).collect();
    for chunk in all.chunks(ROWS) {
        let mut tx = db.begin().await?;
        let chunk_ids: Vec<Uuid> = chunk.iter().map(|_| new_id()).collect();
        let sql = format!(
            "INSERT INTO clients (id, firm_id, kind, name, created_at) VALUES {}",
            placeholders(chunk.len(), 5)
        );
        on_tx!(&mut tx, c => {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (n, id) in chunk.iter().zip(&chunk_ids) {
                let kind = if n % 4 == 0 { "organisation" } else { "person" };
                q = q.bind(*id).bind(firm_id).bind(kind).bind(format!("Client {:05}", n + 1)).bind(t);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
        let rows_of_matters: Vec<(Uuid, Uuid, u32)> = chunk_ids
            .iter()
            .flat_map(|id| (0..matters).map(move |m| (new_id(), *id, m)))
            .collect();
        for rows in rows_of_matters.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO matters (id, firm_id, client_id, title, reference, created_at) VALUES {}",
                placeholders(rows.len(), 6)
            );
            on_tx!(&mut tx, c => {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for (id, client_id, m) in rows {
                    q = q.bind(*id).bind(firm_id).bind(*client_id).bind(format!("Matter {}", m + 1))
                        .bind(format!("M-{:04}", m + 1)).bind(t);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
            let Some(author) = comments_by else { continue };
            let sql = format!(
                "INSERT INTO matter_comments (id, firm_id, matter_id, client_id, author_user_id, author_side, body, created_at) \
                 VALUES {}",
                placeholders(rows.len(), 8)
            );
            on_tx!(&mut tx, c => {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for (id, client_id, m) in rows {
                    q = q.bind(new_id()).bind(firm_id).bind(*id).bind(*client_id).bind(author).bind(portico_core::Side::Staff.as_str())
                        .bind(format!("Update {} on this matter.", m + 1)).bind(t);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        audit::append(
            &mut tx,
            origin,
            Event::new(Some(firm_id), "seed.clients")
                .detail(format!("clients={} matters_each={matters}", chunk.len())),
        )
        .await?;
        tx.commit().await?;
        ids.extend(chunk_ids);
    }
    // After a bulk load the planner's statistics are stale; refresh them so that lists use
    // their indexes from the first request.
    db.analyze().await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_every_cell() {
        assert_eq!(super::placeholders(2, 2), "($1, $2), ($3, $4)");
    }
}
