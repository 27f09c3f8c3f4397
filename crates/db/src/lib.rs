//! Portico's storage of record: one `Db` over SQLite or PostgreSQL, chosen from the URL scheme.
//!
//! Every operation is written once as SQL with `$n` placeholders, which both drivers accept;
//! the [`on_db!`] and [`on_tx!`] macros expand that one body for each driver. Functions that
//! touch firm data take the [`portico_core::Viewer`] and put its scope in the query.
//!
//! Values are always bound, with one exception: `LIMIT` and `OFFSET` are written into the
//! text as integers (from typed, clamped numbers, never from input text). SQLite prepares a
//! statement afresh on every run when its `LIMIT` or `OFFSET` is a bound parameter, which
//! made the busiest pages several times slower; a written-in number keeps the statement
//! prepared and cached.

pub mod access_links;
pub mod access_log;
pub mod api_tokens;
pub mod audit;
pub mod clients;
pub mod comments;
mod connect;
pub mod devices;
mod error;
pub mod files;
pub mod firms;
pub mod folders;
pub mod forms;
pub mod job_secrets;
pub mod jobs;
pub mod loose_objects;
pub mod matters;
pub mod messages;
pub mod mfa;
pub mod moves;
pub mod notifications;
pub mod passkeys;
pub mod pictures;
mod readers;
pub mod sessions;
pub mod shares;
pub mod signals;
pub mod stats;
pub mod system;
pub mod tasks;
pub mod throttle;
pub mod tokens;
pub mod uploads;
pub mod users;

pub use connect::{PoolSettings, describe_url};
pub use error::{DbError, Outage};

use sqlx::{PgPool, Postgres, SqlSafeStr, Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;

/// Runs one body against whichever pool `$db` holds; `$pool` names the pool inside it.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {{
        $crate::stats::note();
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    }};
}

/// Runs one body inside whichever transaction `$tx` holds; `$conn` is the `&mut` transaction,
/// so queries execute on `&mut **$conn`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {{
        $crate::stats::note();
        match $tx {
            $crate::Tx::Sqlite($conn) => $body,
            $crate::Tx::Postgres($conn) => $body,
        }
    }};
}

/// The database: an embedded SQLite file by default, PostgreSQL for several servers.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either database. Dropping it without [`Tx::commit`] rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// "sqlite" or "postgres", for logs and reports.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (BEGIN IMMEDIATE)
    /// so that a transaction that reads before it writes waits its turn instead of failing.
    ///
    /// A connection still marked as inside a transaction is closed instead of used: SQLite
    /// ends a transaction by itself on some failures (a full disk, an I/O error), after which
    /// the driver's own rollback fails and the mark stays. Such a connection refuses every
    /// later BEGIN, so keeping it would fail each request that draws it until a restart.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        stats::note();
        Ok(match self {
            Db::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                let mut tries = p.options().get_max_connections();
                while sqlx::Connection::is_in_transaction(&*conn) {
                    tracing::warn!("closing a database connection left inside a transaction");
                    conn.close_on_drop();
                    drop(conn);
                    if tries == 0 {
                        return Err(DbError::Sqlx(sqlx::Error::PoolTimedOut));
                    }
                    tries -= 1;
                    conn = p.acquire().await?;
                }
                Tx::Sqlite(Transaction::begin(conn, Some("BEGIN IMMEDIATE".into_sql_str())).await?)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(p) => {
                sqlx::migrate!("./migrations/sqlite").run(p).await?;
                self.forget_value_statistics().await?;
            }
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Refreshes the planner's statistics after a bulk load. On SQLite only the per-index
    /// summaries are kept: with the sampled values of `sqlite_stat4` present, SQLite prepares
    /// a statement afresh whenever a value bound in its WHERE clause changes (every session
    /// check, every page), which costs far more than the plans it might improve.
    pub async fn analyze(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(p) => {
                sqlx::query("ANALYZE").execute(p).await?;
                self.forget_value_statistics().await?;
            }
            Db::Postgres(p) => {
                sqlx::query("ANALYZE").execute(p).await?;
            }
        }
        Ok(())
    }

    async fn forget_value_statistics(&self) -> Result<(), DbError> {
        let Db::Sqlite(p) = self else { return Ok(()) };
        let has: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat4'",
        )
        .fetch_optional(p)
        .await?;
        if has.is_some() {
            sqlx::query("DELETE FROM sqlite_stat4").execute(p).await?;
            // Loads the statistics that are left into the schema every connection reads.
            sqlx::query("ANALYZE sqlite_schema").execute(p).await?;
        }
        Ok(())
    }

    /// Answers when the database does (readiness).
    pub async fn ping(&self) -> Result<(), DbError> {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbError> {
        on_tx!(self, t => t.commit().await)?;
        Ok(())
    }
}

/// The current time as stored: UTC, truncated to microseconds so that it reads back equal
/// from both databases.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

/// A new row id: time-ordered, random in its low bits. Ids only ever appear behind a
/// permission check.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// One page of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub fn new(number: u32, size: u32) -> Page {
        let size = size.clamp(1, 200) as i64;
        Page {
            limit: size,
            offset: (number.max(1) as i64 - 1) * size,
        }
    }
}
