//! The one read every signed-in request makes, run on SQLite in the calling thread.
//!
//! sqlx runs each SQLite statement on a worker thread of its connection and hands the
//! request and every row across threads. For the session check, a lookup by key that SQLite
//! answers in a few microseconds, those hand-offs (two thread wake-ups each way) cost several
//! times the statement and took more than a quarter of the server's CPU on a busy signed-in
//! page. So that one statement runs here instead: each thread keeps its own connection to
//! the same file, with the statement prepared once, and steps it directly.
//!
//! The text is the same one-text-per-operation SQL as elsewhere (`$n` placeholders, numbered
//! in order of first use, which SQLite accepts as positional parameters). The connection is
//! read-only (`query_only`), and every statement is reset as soon as its row is read, so no
//! read transaction outlives the call: a write committed through the pool is seen by the
//! next check. A read waits for a lock at most [`BUSY_WAIT`]; in WAL mode readers wait only
//! while the file is being recovered.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};
use sqlx::SqlitePool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::DbError;

const BUSY_WAIT: Duration = Duration::from_secs(1);

/// The statements one connection keeps prepared.
const CACHED_STATEMENTS: usize = 8;

struct Reader {
    path: PathBuf,
    conn: Connection,
}

thread_local! {
    /// This thread's connection, to the file it last read. A process normally has one
    /// database; tests have many, and a thread that moves to another file reopens.
    static READER: RefCell<Option<Reader>> = const { RefCell::new(None) };
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_WAIT)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(conn)
}

/// Runs `sql` with `params` on this thread's connection to `pool`'s file and maps its first
/// row, if any.
pub(crate) fn one_row<T>(
    pool: &SqlitePool,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, DbError> {
    // A closed database is closed to these reads too.
    if pool.is_closed() {
        return Err(DbError::Sqlx(sqlx::Error::PoolClosed));
    }
    let options = pool.connect_options();
    let path = options.get_filename();
    READER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|r| r.path != path) {
            *slot = Some(Reader {
                path: path.to_path_buf(),
                conn: open(path)?,
            });
        }
        let reader = slot.as_ref().expect("a reader was just opened");
        let result = (|| {
            let mut stmt = reader.conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params)?;
            match rows.next()? {
                Some(row) => map(row).map(Some),
                None => Ok(None),
            }
        })();
        // A connection that failed for a reason other than the statement is opened afresh.
        if let Err(rusqlite::Error::SqliteFailure(e, _)) = &result
            && !matches!(e.code, rusqlite::ErrorCode::DatabaseBusy)
        {
            *slot = None;
        }
        Ok(result?)
    })
}

/// The columns of a row, read in the order the statement names them (by position: a lookup
/// by name scans every column's name). Debug builds check each name against the statement.
pub(crate) struct Columns<'r, 's> {
    row: &'r Row<'s>,
    next: usize,
}

impl<'r, 's> Columns<'r, 's> {
    pub(crate) fn new(row: &'r Row<'s>) -> Self {
        Columns { row, next: 0 }
    }

    fn take(&mut self, name: &str) -> usize {
        let i = self.next;
        debug_assert_eq!(
            self.row.as_ref().column_name(i).ok(),
            Some(name),
            "column {i} of the statement"
        );
        self.next += 1;
        i
    }

    pub(crate) fn get<T: rusqlite::types::FromSql>(&mut self, name: &str) -> rusqlite::Result<T> {
        let i = self.take(name);
        self.row.get(i)
    }

    /// A value stored as text and parsed into its type.
    pub(crate) fn parsed<T, E>(
        &mut self,
        name: &str,
        parse: impl FnOnce(String) -> Result<T, E>,
    ) -> rusqlite::Result<T>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let text: String = self.get(name)?;
        parse(text).map_err(|e| bad_column(name, e))
    }

    /// A time as sqlx writes it to SQLite (RFC 3339), or as SQLite's own `CURRENT_TIMESTAMP`.
    pub(crate) fn time(&mut self, name: &str) -> rusqlite::Result<OffsetDateTime> {
        use time::format_description::well_known::Rfc3339;
        use time::macros::format_description;
        self.parsed(name, |text| {
            OffsetDateTime::parse(&text, &Rfc3339).or_else(|_| {
                time::PrimitiveDateTime::parse(
                    &text,
                    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
                )
                .map(|t| t.assume_utc())
            })
        })
    }

    /// An id as sqlx writes it to SQLite: its 16 bytes.
    pub(crate) fn id(&mut self, name: &str) -> rusqlite::Result<Uuid> {
        self.maybe_id(name)?
            .ok_or_else(|| bad_column(name, "missing id"))
    }

    /// An id that may be missing.
    pub(crate) fn maybe_id(&mut self, name: &str) -> rusqlite::Result<Option<Uuid>> {
        let i = self.take(name);
        match self.row.get_ref(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => Uuid::from_slice(b)
                .map(Some)
                .map_err(|e| bad_column(name, e)),
            _ => Err(bad_column(name, "not an id")),
        }
    }
}

fn bad_column(
    name: &str,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    let e: Box<dyn std::error::Error + Send + Sync> = e.into();
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{name}: {e}").into(),
    )
}
