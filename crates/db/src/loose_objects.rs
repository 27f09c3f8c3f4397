//! Objects in storage that no row needs, or may not need yet: the list the sweep removes from.
//!
//! An object a row stopped naming is removed a day later, not at once, so that a backup copying
//! the objects of an earlier snapshot still finds every one. An object is entered before its
//! bytes are stored and released by the transaction that records it, so bytes whose row never
//! committed (a crash, a refused insert) are found and removed too; while its bytes are being
//! written the entry is held a little way ahead, so the sweep never races a live write.

use time::Duration;

use crate::{Db, DbError, Tx, now, on_db, on_tx};

/// How long an object no row names any more is kept: longer than a backup takes to copy the
/// objects of its snapshot.
pub const REMOVAL_DELAY: Duration = Duration::hours(24);

/// How far ahead a write in progress holds its object; it renews the hold well before then.
pub const WRITE_HOLD: Duration = Duration::minutes(5);

/// Holds `key` until `WRITE_HOLD` from now: entered before the bytes are written, renewed
/// while they are.
pub async fn hold(db: &Db, key: &str) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO loose_objects (storage_key, remove_after) VALUES ($1, $2) \
         ON CONFLICT (storage_key) DO UPDATE SET remove_after = excluded.remove_after"
    ).bind(key).bind(now() + WRITE_HOLD).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes `key` off the list in the transaction that records the row naming it. `false` when
/// it was not held (the sweep took it, or it was never entered).
pub(crate) async fn release(tx: &mut Tx, key: &str) -> Result<bool, DbError> {
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM loose_objects WHERE storage_key = $1")
        .bind(key).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Marks objects no row needs any more, to be removed after `REMOVAL_DELAY`.
pub async fn remove_later(db: &Db, keys: &[String]) -> Result<(), DbError> {
    let at = now() + REMOVAL_DELAY;
    for key in keys {
        on_db!(db, p => sqlx::query(
            "INSERT INTO loose_objects (storage_key, remove_after) VALUES ($1, $2) \
             ON CONFLICT (storage_key) DO UPDATE SET remove_after = excluded.remove_after"
        ).bind(key).bind(at).execute(p).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}
