//! The SQLite and PostgreSQL migrations stay twins: both, run on an empty database, make the
//! same tables, columns, keys and indexes, apart from the differences allowed below.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use portico_db::{Db, PoolSettings};

use crate::support::pg;

/// The differences meant to be there: (table, column or index, reason). A table ending in `*`
/// names every table starting so; an empty column or index allows anything about the table.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "_sqlx_migrations",
        "",
        "sqlx's own bookkeeping, declared by sqlx per backend",
    ),
    (
        "clients_search*",
        "",
        "SQLite's client search: an FTS5 table and the shadow tables FTS5 keeps for it",
    ),
    (
        "clients",
        "clients_name_trigrams",
        "PostgreSQL's client search: a pg_trgm index instead of an FTS5 table",
    ),
    (
        "signals",
        "",
        "SQLite only: change signals for live pages; PostgreSQL uses LISTEN/NOTIFY",
    ),
    (
        "firm_versions",
        "bumped_in",
        "PostgreSQL only: lets its trigger bump a firm's version once per transaction",
    ),
    (
        "files",
        "lineage_id",
        "NOT NULL on PostgreSQL only: SQLite adds NOT NULL to an existing column only by \
         rebuilding the table, which other tables reference; the one INSERT always sets it",
    ),
];

/// One fact about a schema, worded the same whichever database it was read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Fact {
    table: String,
    /// The column or index the fact is about, for the allow-list; `None` for the table itself
    /// and its keys.
    item: Option<String>,
    text: String,
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Fact {
    fn allowed(&self) -> bool {
        ALLOWED.iter().any(|(table, item, _)| {
            let table_matches = match table.strip_suffix('*') {
                Some(prefix) => self.table.starts_with(prefix),
                None => self.table == *table,
            };
            table_matches && (item.is_empty() || self.item.as_deref() == Some(*item))
        })
    }
}

/// One key column of an index, in order: table, index, unique, what the index is — the
/// primary key (`p`), a UNIQUE constraint (`u`) or an index of its own (`i`) — and the column
/// (`None` for an expression).
type IndexRow = (String, String, bool, String, Option<String>);

/// Builds the facts both databases are read into.
#[derive(Default)]
struct Schema {
    facts: BTreeSet<Fact>,
}

impl Schema {
    fn add(&mut self, table: &str, item: Option<&str>, text: String) {
        self.facts.insert(Fact {
            table: table.to_owned(),
            item: item.map(str::to_owned),
            text,
        });
    }

    /// A table, and a column of it. Types are compared coarsely, by the kind of value sqlx
    /// writes (see [`sqlite_kind`] and [`postgres_kind`]); SQLite's declared types are loose
    /// (any column takes any value), so a closer match would mean nothing.
    fn column(&mut self, table: &str, column: &str, kind: &str, not_null: bool) {
        self.add(table, None, format!("table {table}"));
        let null = if not_null { "not null" } else { "null" };
        self.add(
            table,
            Some(column),
            format!("column {table}.{column}: {kind}, {null}"),
        );
    }

    fn primary_key(&mut self, table: &str, columns: &[String]) {
        let columns = columns.join(", ");
        self.add(table, None, format!("primary key of {table} ({columns})"));
    }

    /// Indexes, from their rows in key order.
    fn indexes(&mut self, rows: Vec<IndexRow>) {
        let mut indexes: BTreeMap<(String, String), (bool, String, Vec<String>)> = BTreeMap::new();
        for (table, index, unique, kind, column) in rows {
            let entry = indexes
                .entry((table, index))
                .or_insert((unique, kind, Vec::new()));
            entry
                .2
                .push(column.unwrap_or_else(|| "(expression)".into()));
        }
        for ((table, index), (unique, kind, columns)) in indexes {
            match kind.as_str() {
                "p" => self.primary_key(&table, &columns),
                "u" => self.unique_constraint(&table, &columns),
                _ => self.index(&table, &index, unique, &columns),
            }
        }
    }

    /// A UNIQUE constraint: its index is named by the database, so only its columns count.
    fn unique_constraint(&mut self, table: &str, columns: &[String]) {
        let columns = columns.join(", ");
        self.add(
            table,
            None,
            format!("unique constraint on {table} ({columns})"),
        );
    }

    /// An index made by CREATE INDEX: its name, table, uniqueness and columns in order (an
    /// expression counts as one column, its text not compared; partial-index predicates are
    /// not compared either).
    fn index(&mut self, table: &str, name: &str, unique: bool, columns: &[String]) {
        let unique = if unique { "unique " } else { "" };
        let columns = columns.join(", ");
        self.add(
            table,
            Some(name),
            format!("{unique}index {name} on {table} ({columns})"),
        );
    }
}

/// The kind of a SQLite column, by its declared type.
fn sqlite_kind(declared: &str) -> String {
    match declared.to_ascii_uppercase().as_str() {
        "INTEGER" | "BIGINT" => "integer".into(),
        "BOOLEAN" => "boolean".into(),
        "TEXT" => "text".into(),
        "BLOB" => "bytes".into(),
        "DATE" => "date".into(),
        other => format!("unknown type {other}"),
    }
}

/// The kind of a PostgreSQL column: uuids are written to SQLite as bytes, timestamps as text.
fn postgres_kind(data_type: &str) -> String {
    match data_type {
        "smallint" | "integer" | "bigint" => "integer".into(),
        "boolean" => "boolean".into(),
        "text" | "timestamp with time zone" => "text".into(),
        "uuid" | "bytea" => "bytes".into(),
        "date" => "date".into(),
        other => format!("unknown type {other}"),
    }
}

/// Runs one catalogue query on whichever database `db` is.
async fn fetch<T>(db: &Db, sql: &'static str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    T: Send + Unpin,
{
    portico_db::on_db!(db, p => sqlx::query_as(sql).fetch_all(p).await).unwrap()
}

// Names starting with sqlite_ are SQLite's own (sqlite_sequence, automatic indexes).
const SQLITE_COLUMNS: &str = "SELECT m.name, c.name, c.type, c.\"notnull\", c.pk \
     FROM sqlite_master m, pragma_table_info(m.name) c \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
     ORDER BY m.name, c.pk, c.cid";

// The primary key's own index is left out: an INTEGER PRIMARY KEY has none.
const SQLITE_INDEXES: &str = "SELECT m.name, l.name, l.\"unique\", \
            CASE l.origin WHEN 'u' THEN 'u' ELSE 'i' END, i.name \
     FROM sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) i \
     WHERE m.type = 'table' AND l.origin <> 'pk' \
     ORDER BY m.name, l.name, i.seqno";

const POSTGRES_COLUMNS: &str = "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
            c.is_nullable::text \
     FROM information_schema.columns c \
     JOIN information_schema.tables t \
       ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'";

const POSTGRES_INDEXES: &str = "SELECT t.relname::text, i.relname::text, x.indisunique, \
            CASE WHEN x.indisprimary THEN 'p' \
                 WHEN EXISTS (SELECT 1 FROM pg_constraint k \
                               WHERE k.conindid = x.indexrelid AND k.contype = 'u') THEN 'u' \
                 ELSE 'i' END, \
            a.attname::text \
     FROM pg_index x \
     JOIN pg_class i ON i.oid = x.indexrelid \
     JOIN pg_class t ON t.oid = x.indrelid \
     JOIN pg_namespace n ON n.oid = t.relnamespace \
     CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) \
     LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
     WHERE n.nspname = current_schema() AND k.ord <= x.indnkeyatts \
     ORDER BY t.relname, i.relname, k.ord";

async fn read_sqlite(db: &Db) -> Schema {
    let mut schema = Schema::default();
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let columns: Vec<(String, String, String, bool, i64)> = fetch(db, SQLITE_COLUMNS).await;
    for (table, column, declared, not_null, pk) in columns {
        // SQLite lets NULL into a primary key column not declared NOT NULL (an old quirk it
        // keeps); the application never writes one, so a key column counts as NOT NULL, as
        // PostgreSQL makes it.
        schema.column(&table, &column, &sqlite_kind(&declared), not_null || pk > 0);
        if pk > 0 {
            keys.entry(table).or_default().push(column);
        }
    }
    for (table, columns) in keys {
        schema.primary_key(&table, &columns);
    }
    schema.indexes(fetch(db, SQLITE_INDEXES).await);
    schema
}

async fn read_postgres(db: &Db) -> Schema {
    let mut schema = Schema::default();
    let columns: Vec<(String, String, String, String)> = fetch(db, POSTGRES_COLUMNS).await;
    for (table, column, data_type, nullable) in columns {
        let kind = postgres_kind(&data_type);
        schema.column(&table, &column, &kind, nullable == "NO");
    }
    schema.indexes(fetch(db, POSTGRES_INDEXES).await);
    schema
}

async fn migrated(url: &str) -> Db {
    let db = Db::connect(url, PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_make_the_same_schema() {
    if !pg::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = migrated(&format!(
        "sqlite://{}",
        dir.path().join("schema.db").display()
    ))
    .await;
    let postgres = migrated(&pg::fresh_database().await).await;
    let lite = read_sqlite(&sqlite).await.facts;
    let pg = read_postgres(&postgres).await.facts;
    sqlite.close().await;
    postgres.close().await;

    let mut differences: Vec<(&Fact, &str)> = lite
        .difference(&pg)
        .map(|f| (f, "only on SQLite"))
        .chain(pg.difference(&lite).map(|f| (f, "only on PostgreSQL")))
        .filter(|(f, _)| !f.allowed())
        .collect();
    differences.sort();
    let report: Vec<String> = differences
        .iter()
        .map(|(fact, side)| format!("{side}: {fact}"))
        .collect();
    assert!(
        report.is_empty(),
        "the SQLite and PostgreSQL migrations differ (add a migration to each, or allow an \
         intended difference in tests/it/schema.rs):\n{}",
        report.join("\n")
    );
}
