//! A consistent copy of the whole database for backups, and loading one into a new database.
//!
//! Tables are found in the database's own catalogue, never listed here, so a copy carries
//! whatever the migrations have made. SQLite is copied whole with `VACUUM INTO`; PostgreSQL is
//! read in one repeatable-read, read-only transaction, one JSON line per row, and loaded back
//! with its foreign keys deferred and its own triggers off, so the order of tables and rows
//! does not matter.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::Path;

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

use crate::{Db, DbError, on_db};

/// The table sqlx keeps applied migrations in: the schema version, not data.
const MIGRATIONS: &str = "_sqlx_migrations";
/// Objects in storage are named by columns of this name, in any table.
const OBJECT_COLUMN: &str = "storage_key";
/// Rows sent to PostgreSQL in one statement when loading.
const LOAD_BATCH: usize = 500;

/// The newest migration this program knows for a backend ("sqlite" or "postgres").
pub fn known_version(backend: &str) -> i64 {
    let migrator = if backend == "postgres" {
        sqlx::migrate!("./migrations/postgres")
    } else {
        sqlx::migrate!("./migrations/sqlite")
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The rows of every table but the migrations' own, by table name.
pub async fn row_counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    let names: Vec<String> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(p)
        .await?,
        Db::Postgres(p) => sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
        )
        .fetch_all(p)
        .await?,
    };
    let mut out = Vec::new();
    for name in names.into_iter().filter(|n| n != MIGRATIONS) {
        let sql = format!("SELECT COUNT(*) FROM {}", quoted(&name));
        let n: i64 = on_db!(db, p => sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(p).await)?;
        out.push((name, n));
    }
    Ok(out)
}

impl Db {
    /// Applies the embedded migrations up to and including `version` only.
    pub async fn migrate_to(&self, version: i64) -> Result<(), DbError> {
        match self {
            Db::Sqlite(p) => {
                sqlx::migrate!("./migrations/sqlite")
                    .run_to(version, p)
                    .await?
            }
            Db::Postgres(p) => {
                sqlx::migrate!("./migrations/postgres")
                    .run_to(version, p)
                    .await?
            }
        }
        Ok(())
    }

    /// How many tables the database has (of its own schema); 0 for a new database.
    pub async fn table_count(&self) -> Result<i64, DbError> {
        Ok(match self {
            Db::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_one(p)
                .await?
            }
            Db::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
                )
                .fetch_one(p)
                .await?
            }
        })
    }
}

/// What a snapshot holds: its schema version, the rows of each table, and the storage keys
/// its rows name.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub schema_version: i64,
    pub tables: Vec<(String, i64)>,
    pub object_keys: BTreeSet<String>,
    /// Rows holding a file key wrapped by the master key: their files need the same key.
    pub sealed_rows: i64,
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Writes a snapshot of `db` into the folder `dir`: for SQLite the file `database.sqlite`,
/// for PostgreSQL one `TABLE.jsonl` per table. Writes going on meanwhile are either wholly in
/// it or wholly not.
pub async fn take(db: &Db, dir: &Path) -> Result<Snapshot, DbError> {
    match db {
        Db::Sqlite(p) => {
            let file = dir.join("database.sqlite");
            sqlx::query("VACUUM INTO $1")
                .bind(file.to_string_lossy().into_owned())
                .execute(p)
                .await?;
            let url = format!("sqlite://{}?mode=ro", file.display());
            let mut conn = SqliteConnection::connect(&url).await?;
            let s = describe_sqlite(&mut conn).await;
            conn.close().await.ok();
            s
        }
        Db::Postgres(p) => {
            let mut tx = p
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?;
            let s = dump_postgres(&mut tx, dir).await;
            tx.rollback().await.ok();
            s
        }
    }
}

async fn describe_sqlite(conn: &mut SqliteConnection) -> Result<Snapshot, DbError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut s = Snapshot {
        schema_version: sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&mut *conn)
        .await?,
        ..Snapshot::default()
    };
    for name in names.into_iter().filter(|n| n != MIGRATIONS) {
        let t = quoted(&name);
        let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
            .fetch_one(&mut *conn)
            .await?;
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?;
        if columns.iter().any(|c| c == OBJECT_COLUMN) {
            let keys: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT {OBJECT_COLUMN} FROM {t} WHERE {OBJECT_COLUMN} <> ''"
            )))
            .fetch_all(&mut *conn)
            .await?;
            s.object_keys.extend(keys);
        }
        for sealed in columns.iter().filter(|c| is_sealed_column(c)) {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {t} WHERE {} IS NOT NULL AND {} <> ''",
                quoted(sealed),
                quoted(sealed)
            )))
            .fetch_one(&mut *conn)
            .await?;
            s.sealed_rows += n;
        }
        s.tables.push((name, rows));
    }
    Ok(s)
}

/// Columns holding what the master key sealed: wrapped file keys.
fn is_sealed_column(name: &str) -> bool {
    name == "key_wrapped"
}

async fn dump_postgres(conn: &mut PgConnection, dir: &Path) -> Result<Snapshot, DbError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut s = Snapshot {
        schema_version: sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&mut *conn)
        .await?,
        ..Snapshot::default()
    };
    for name in names.into_iter().filter(|n| n != MIGRATIONS) {
        check_name(&name)?;
        let t = quoted(&name);
        let file = std::fs::File::create(dir.join(format!("{name}.jsonl")))
            .map_err(|e| DbError::Config(format!("cannot write the snapshot: {e}")))?;
        let mut out = std::io::BufWriter::new(file);
        let mut rows = 0_i64;
        {
            let sql = format!("SELECT row_to_json(t)::text FROM {t} t");
            let mut lines = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql)).fetch(&mut *conn);
            while let Some(line) = lines.try_next().await? {
                writeln!(out, "{line}")
                    .map_err(|e| DbError::Config(format!("cannot write the snapshot: {e}")))?;
                rows += 1;
            }
        }
        out.into_inner()
            .map_err(|e| DbError::Config(format!("cannot write the snapshot: {e}")))?
            .sync_all()
            .map_err(|e| DbError::Config(format!("cannot write the snapshot: {e}")))?;
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        if columns.iter().any(|c| c == OBJECT_COLUMN) {
            let keys: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT {OBJECT_COLUMN} FROM {t} WHERE {OBJECT_COLUMN} <> ''"
            )))
            .fetch_all(&mut *conn)
            .await?;
            s.object_keys.extend(keys);
        }
        for sealed in columns.iter().filter(|c| is_sealed_column(c)) {
            let c = quoted(sealed);
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL AND {c}::text <> ''"
            )))
            .fetch_one(&mut *conn)
            .await?;
            s.sealed_rows += n;
        }
        s.tables.push((name, rows));
    }
    Ok(s)
}

/// Table names from an archive end up in SQL: only plain lower-case names are accepted.
fn check_name(name: &str) -> Result<(), DbError> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        Ok(())
    } else {
        Err(DbError::Config(format!(
            "the backup names a table `{}` that cannot be restored",
            name.escape_default()
        )))
    }
}

/// The schema version recorded in a SQLite snapshot file.
pub async fn sqlite_file_version(file: &Path) -> Result<i64, DbError> {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = SqliteConnection::connect(&url).await?;
    let v =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await;
    conn.close().await.ok();
    Ok(v?)
}

/// Loads a PostgreSQL snapshot (`TABLE.jsonl` files in `dir`) into `db`, which must have been
/// migrated to the snapshot's schema version and hold no data of its own. In one transaction:
/// the rows migrations wrote are replaced, foreign keys are checked once at the end, the
/// database's own triggers do not fire, and sequences continue after the loaded rows.
pub async fn load_postgres(db: &Db, dir: &Path, tables: &[String]) -> Result<(), DbError> {
    let Db::Postgres(pool) = db else {
        return Err(DbError::Config(
            "this snapshot is of a PostgreSQL database".into(),
        ));
    };
    let mut tx = pool.begin().await?;
    let present: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename <> $1",
    )
    .bind(MIGRATIONS)
    .fetch_all(&mut *tx)
    .await?;
    for name in tables {
        check_name(name)?;
        if !present.contains(name) {
            return Err(DbError::Config(format!(
                "the backup has a table `{name}` that the database at its schema version does not"
            )));
        }
    }
    let fks: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text FROM pg_constraint c \
         WHERE c.contype = 'f' AND NOT c.condeferrable AND c.connamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (table, constraint) in &fks {
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE {table} ALTER CONSTRAINT {} DEFERRABLE INITIALLY DEFERRED",
            quoted(constraint)
        )))
        .execute(&mut *tx)
        .await?;
    }
    for name in &present {
        let t = quoted(name);
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE {t} DISABLE TRIGGER USER"
        )))
        .execute(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {t}")))
            .execute(&mut *tx)
            .await?;
    }
    for name in tables {
        let t = quoted(name);
        let sql =
            format!("INSERT INTO {t} SELECT * FROM json_populate_recordset(NULL::{t}, $1::json)");
        let file = std::fs::File::open(dir.join(format!("{name}.jsonl")))
            .map_err(|e| DbError::Config(format!("cannot read the snapshot of `{name}`: {e}")))?;
        let mut batch = Vec::with_capacity(LOAD_BATCH);
        let mut lines = std::io::BufReader::new(file).lines();
        loop {
            let line = lines.next().transpose().map_err(|e| {
                DbError::Config(format!("cannot read the snapshot of `{name}`: {e}"))
            })?;
            let done = line.is_none();
            if let Some(l) = line {
                batch.push(l);
            }
            if batch.len() >= LOAD_BATCH || (done && !batch.is_empty()) {
                let json = format!("[{}]", batch.join(","));
                sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(json)
                    .execute(&mut *tx)
                    .await?;
                batch.clear();
            }
            if done {
                break;
            }
        }
    }
    sqlx::query("SET CONSTRAINTS ALL IMMEDIATE")
        .execute(&mut *tx)
        .await?;
    for (table, constraint) in &fks {
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE {table} ALTER CONSTRAINT {} NOT DEFERRABLE",
            quoted(constraint)
        )))
        .execute(&mut *tx)
        .await?;
    }
    for name in &present {
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE {} ENABLE TRIGGER USER",
            quoted(name)
        )))
        .execute(&mut *tx)
        .await?;
    }
    let sequences: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, pg_get_serial_sequence(quote_ident(table_name), column_name) \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (table, column, sequence) in sequences {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval($1, COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)",
            quoted(&column),
            quoted(&table)
        )))
        .bind(sequence)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
