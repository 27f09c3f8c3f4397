//! Failed sign-ins, stored so that every server sees the same count.

use portico_core::throttle::{Failures, WINDOW};

use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    count: i64,
    oldest: Option<time::OffsetDateTime>,
    newest: Option<time::OffsetDateTime>,
}

/// The failures of one key within the last hour.
pub async fn failures(db: &Db, key: &str) -> Result<Failures, DbError> {
    let since = now() - WINDOW;
    let r: Row = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*) AS count, MIN(at) AS oldest, MAX(at) AS newest FROM login_failures WHERE key = $1 AND at > $2"
    ).bind(key).bind(since).fetch_one(p).await)?;
    Ok(Failures {
        count: r.count,
        oldest: r.oldest,
        newest: r.newest,
    })
}

pub async fn record_failure(db: &Db, keys: &[&str]) -> Result<(), DbError> {
    let t = now();
    for key in keys {
        on_db!(db, p => sqlx::query("INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3)")
            .bind(new_id()).bind(*key).bind(t).execute(p).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Records events inside the caller's transaction (so that a request that writes anything
/// else commits once, whichever way it went).
pub async fn record_in(tx: &mut Tx, keys: &[&str]) -> Result<(), DbError> {
    let t = now();
    for key in keys {
        on_tx!(tx, c => sqlx::query("INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3)")
            .bind(new_id()).bind(*key).bind(t).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Forgets an account's failures after it signs in.
pub async fn clear(db: &Db, key: &str) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Drops failures older than the window.
pub async fn purge(db: &Db) -> Result<u64, DbError> {
    let before = now() - WINDOW;
    Ok(
        on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(before).execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Records one more use of `key` if it has had fewer than `limit` within the window, and says
/// whether it did. Exact under concurrency: uses of one key are counted one at a time (SQLite
/// has one writer; PostgreSQL takes a lock on the key for the transaction).
pub async fn record_if_under(db: &Db, key: &str, limit: i64) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    if let Tx::Postgres(c) = &mut tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(key)
            .execute(&mut **c)
            .await?;
    }
    let t = now();
    let count: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at > $2"
    ).bind(key).bind(t - WINDOW).fetch_one(&mut **c).await)?;
    if count >= limit {
        return Ok(false);
    }
    on_tx!(&mut tx, c => sqlx::query("INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3)")
        .bind(new_id()).bind(key).bind(t).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(true)
}
