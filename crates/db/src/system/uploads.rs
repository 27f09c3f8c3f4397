//! The sweep of resumable uploads that expired.

use sqlx::AssertSqlSafe;

use crate::uploads::{Leftover, Upload, remove};
use crate::{Db, DbError, now, on_db};

/// Takes up to `limit` expired uploads off the books (the job worker's view, not a person's)
/// and says what of them to remove from storage.
pub async fn sweep_expired(db: &Db, limit: i64) -> Result<Vec<Leftover>, DbError> {
    let gone: Vec<Upload> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT * FROM uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT {}",
        limit
    ))).bind(now()).fetch_all(p).await)?;
    let mut out = Vec::new();
    for u in gone {
        let kept: Option<String> = on_db!(db, p => sqlx::query_scalar(
            "SELECT storage_key FROM files WHERE id = $1"
        ).bind(u.id).fetch_optional(p).await)?;
        remove(db, u.id).await?;
        out.push(Leftover {
            firm_id: u.firm_id,
            upload_id: u.id,
            kept,
        });
    }
    Ok(out)
}
