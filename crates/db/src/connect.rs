//! Opening the database named by `database.url`, with one clear sentence when it cannot be.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Db, DbError};

/// How long a SQLite write waits for the write lock before it answers "busy".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The same for a PostgreSQL statement waiting for a lock another holds.
const PG_LOCK_TIMEOUT: &str = "5s";

/// Pool sizes and timeouts; the defaults suit one small server.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The URL without its password, for messages and logs.
pub fn describe_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Db {
    /// Connects to `sqlite:PATH` or `postgres://…`. A new SQLite file is created (and logged);
    /// its folder must exist.
    pub async fn connect(url: &str, settings: PoolSettings) -> Result<Db, DbError> {
        let shown = describe_url(url);
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| {
                    DbError::Config(format!(
                        "database.url: `{shown}` is not a usable SQLite URL ({e})"
                    ))
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let path = opts.get_filename().to_path_buf();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                return Err(DbError::Config(format!(
                    "database.url: the folder {} for the SQLite database does not exist",
                    dir.display()
                )));
            }
            let existed = path.exists();
            // Writers waiting for the write lock each hold a connection; a reader waits for
            // one longer than a writer waits for the lock, so a held lock makes writers give
            // up (and answer "try again") before it makes readers fail.
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                // No ping when a connection is taken: sqlx tests each one as it goes back into
                // the pool and drops it on an error; a ping per statement only cost a round trip.
                .test_before_acquire(false)
                .acquire_timeout(settings.connect_timeout.max(SQLITE_BUSY_TIMEOUT * 2))
                .connect_with(opts)
                .await
                .map_err(|e| {
                    DbError::Config(format!(
                        "database.url: cannot open the SQLite database {}: {e}",
                        path.display()
                    ))
                })?;
            if !existed {
                tracing::info!(path = %path.display(), "created a new SQLite database");
            }
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| {
                    DbError::Config(format!(
                        "database.url: `{shown}` is not a usable PostgreSQL URL ({e})"
                    ))
                })?
                // A write blocked by a held lock gives up like SQLite's does, instead of
                // holding its connection and its request for as long as the lock is held.
                .options([("lock_timeout", PG_LOCK_TIMEOUT)]);
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .test_before_acquire(false)
                .acquire_timeout(settings.connect_timeout)
                .connect_with(opts)
                .await
                .map_err(|e| {
                    DbError::Config(format!(
                        "database.url: cannot reach PostgreSQL at {shown}: {e}"
                    ))
                })?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::Config(format!(
                "database.url: `{shown}` has an unknown scheme; use sqlite:PATH or postgres://USER@HOST/DB"
            )))
        }
    }
}
