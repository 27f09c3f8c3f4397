use portico_core::Invalid;

/// What can go wrong below the web layer, in terms the web layer can map to a status.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Missing, or outside the viewer's scope: both answer the same.
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A setting that keeps the database from opening: one sentence naming the setting.
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// From a read made on the calling thread (see `readers`).
    #[error("database error: {0}")]
    Read(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl DbError {
    /// True when a unique constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

/// Why the database cannot do its part right now, when it is the database's state and not the
/// request that is at fault: the request may be tried again later as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Down, unreachable, restarting, or every connection taken.
    Unreachable,
    /// Locked by other work for longer than we wait (SQLite's write lock, a lock timeout).
    Busy,
    /// Out of space: the disk, or a size limit of the database.
    Full,
}

impl DbError {
    /// The outage behind this error, if it is one.
    pub fn outage(&self) -> Option<Outage> {
        if let DbError::Read(rusqlite::Error::SqliteFailure(e, _)) = self {
            return sqlite_outage(e.extended_code);
        }
        let DbError::Sqlx(e) = self else {
            return None;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Some(Outage::Unreachable),
            sqlx::Error::Database(d) => {
                if let Some(e) = d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                    let code = sqlx::error::DatabaseError::code(e)
                        .and_then(|c| c.parse::<i32>().ok())
                        .unwrap_or(0);
                    sqlite_outage(code)
                } else if let Some(e) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    postgres_outage(e.code())
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// SQLite reports extended result codes; the primary code is the low byte.
fn sqlite_outage(code: i32) -> Option<Outage> {
    match code & 0xff {
        5 | 6 => Some(Outage::Busy),          // SQLITE_BUSY, SQLITE_LOCKED
        13 => Some(Outage::Full),             // SQLITE_FULL
        10 | 14 => Some(Outage::Unreachable), // SQLITE_IOERR, SQLITE_CANTOPEN
        _ => None,
    }
}

/// PostgreSQL SQLSTATEs of a server in trouble rather than a request at fault.
fn postgres_outage(state: &str) -> Option<Outage> {
    match state {
        "53100" => Some(Outage::Full),                     // disk_full
        "55P03" | "40P01" | "57014" => Some(Outage::Busy), // lock_not_available, deadlock, statement timeout
        s if s.starts_with("08") || s.starts_with("53") || s.starts_with("57P") => {
            Some(Outage::Unreachable) // connection failures, out of resources, shutting down
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_told_from_faults_of_the_request() {
        assert_eq!(sqlite_outage(5), Some(Outage::Busy));
        assert_eq!(sqlite_outage(517), Some(Outage::Busy)); // SQLITE_BUSY_SNAPSHOT
        assert_eq!(sqlite_outage(13), Some(Outage::Full));
        assert_eq!(sqlite_outage(778), Some(Outage::Unreachable)); // SQLITE_IOERR_WRITE
        assert_eq!(sqlite_outage(2067), None); // SQLITE_CONSTRAINT_UNIQUE
        assert_eq!(postgres_outage("53100"), Some(Outage::Full));
        assert_eq!(postgres_outage("57P01"), Some(Outage::Unreachable));
        assert_eq!(postgres_outage("08006"), Some(Outage::Unreachable));
        assert_eq!(postgres_outage("55P03"), Some(Outage::Busy));
        assert_eq!(postgres_outage("23505"), None);
        let timed_out = DbError::Sqlx(sqlx::Error::PoolTimedOut);
        assert_eq!(timed_out.outage(), Some(Outage::Unreachable));
        assert_eq!(DbError::NotFound.outage(), None);
    }
}
