//! The sweep of objects in storage that no row needs.

use crate::{Db, DbError, now, on_db, on_tx};

/// Takes up to `limit` objects whose time has come off the list: how many it took (0 when
/// none is due), and those of them the caller is to remove from storage. One a file or an
/// upload part names after all is only taken off the list.
pub async fn take_due(db: &Db, limit: i64) -> Result<(usize, Vec<String>), DbError> {
    let at = now();
    let due: Vec<String> = on_db!(db, p => sqlx::query_scalar(
        "SELECT storage_key FROM loose_objects WHERE remove_after <= $1 ORDER BY remove_after LIMIT $2"
    ).bind(at).bind(limit).fetch_all(p).await)?;
    let taken_off = due.len();
    let mut out = Vec::new();
    for key in due {
        let mut tx = db.begin().await?;
        let named: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM files WHERE storage_key = $1) \
             + (SELECT COUNT(*) FROM upload_parts WHERE storage_key = $1)"
        ).bind(&key).fetch_one(&mut **c).await)?;
        let taken = on_tx!(&mut tx, c => sqlx::query(
            "DELETE FROM loose_objects WHERE storage_key = $1 AND remove_after <= $2"
        ).bind(&key).bind(at).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        if taken == 1 && named == 0 {
            out.push(key);
        }
    }
    Ok((taken_off, out))
}

/// How many objects are on the list.
pub async fn count(db: &Db) -> Result<i64, DbError> {
    Ok(
        on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM loose_objects")
        .fetch_one(p).await)?,
    )
}
