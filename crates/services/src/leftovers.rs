//! What crashes and expiries leave in storage, swept at start-up (so a crash loop cannot pile
//! it up) and then every minute: expired resumable uploads, objects on the loose list, and
//! staged files of writes that died.

use std::time::Duration;

use portico_db::Db;
use portico_storage::layout;

use crate::jobs::{Context, Ran, Registry, When};

/// How often leftovers are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A staged file on local disk untouched this long belongs to a write that died.
const STAGED_IDLE: Duration = Duration::from_secs(3600);

pub fn register(registry: &mut Registry) {
    let when = When::Every {
        period: SWEEP_EVERY,
        at_start: true,
    };
    registry.schedule("remove expired uploads", when, |context| {
        Box::pin(uploads(context))
    });
    registry.schedule("remove loose objects", when, |context| {
        Box::pin(loose_objects(context))
    });
    registry.schedule("remove stale staged files", when, |context| {
        Box::pin(staged(context))
    });
}

async fn uploads(context: &Context) -> Ran {
    Ok(sweep_uploads(&context.db, &context.storage).await?)
}

async fn loose_objects(context: &Context) -> Ran {
    Ok(sweep_loose_objects(&context.db, &context.storage).await?)
}

/// A write cut off by a dying server leaves its staged file on local disk; a live write
/// touches its file as its bytes arrive.
async fn staged(context: &Context) -> Ran {
    Ok(context.storage.remove_stale_staging(STAGED_IDLE).await?)
}

/// Removes expired resumable uploads and marks everything they stored for removal: their
/// parts, anything a request cut off while storing a part, and a joined file that was never
/// recorded. Returns how many uploads were removed.
pub async fn sweep_uploads(
    db: &Db,
    storage: &portico_storage::Storage,
) -> Result<usize, portico_db::DbError> {
    let mut removed = 0;
    loop {
        let batch = portico_db::system::uploads::sweep_expired(db, 100).await?;
        if batch.is_empty() {
            return Ok(removed);
        }
        removed += batch.len();
        for left in batch {
            let (firm, id) = (left.firm_id, left.upload_id);
            let mut keys = vec![layout::joined_key(firm, id)];
            for prefix in [layout::parts_prefix(id), layout::first_prefix(firm, id)] {
                keys.extend(storage.list(&prefix).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, %prefix, "could not list an upload's parts");
                    Vec::new()
                }));
            }
            keys.retain(|k| left.kept.as_ref() != Some(k));
            portico_db::loose_objects::remove_later(db, &keys).await?;
        }
    }
}

/// Removes the objects on the loose list whose time has come (see `loose_objects`): bytes no
/// row names any more, and bytes whose row never committed. Returns how many it removed.
pub async fn sweep_loose_objects(
    db: &Db,
    storage: &portico_storage::Storage,
) -> Result<usize, portico_db::DbError> {
    let mut removed = 0;
    loop {
        let (taken_off, due) = portico_db::system::loose_objects::take_due(db, 100).await?;
        if taken_off == 0 {
            return Ok(removed);
        }
        for key in due {
            match storage.delete(&key).await {
                Ok(()) => removed += 1,
                // Put back on the list, to be tried again later.
                Err(e) => {
                    tracing::warn!(error = %e, %key, "could not remove a loose object");
                    portico_db::loose_objects::remove_later(db, &[key]).await?;
                }
            }
        }
    }
}
