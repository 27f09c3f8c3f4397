//! Change signals for live pages. A write that others may be watching (a new message, a new
//! notification) emits its topic inside its transaction; every server process hears it once
//! the transaction commits, whichever server made the change. PostgreSQL carries signals with
//! NOTIFY; SQLite keeps them in a table that each process reads from where it left off.

use time::Duration;
use uuid::Uuid;

use crate::{Db, DbError, Tx, now, on_db};

/// The PostgreSQL channel signals travel on.
pub const CHANNEL: &str = "portico_signals";

/// Emits `topic` when the caller's transaction commits (and never if it rolls back).
pub(crate) async fn emit(tx: &mut Tx, topic: Uuid) -> Result<(), DbError> {
    match tx {
        Tx::Postgres(c) => {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(topic.to_string())
                .execute(&mut **c)
                .await?;
        }
        Tx::Sqlite(c) => {
            sqlx::query("INSERT INTO signals (topic, created_at) VALUES ($1, $2)")
                .bind(topic)
                .bind(now())
                .execute(&mut **c)
                .await?;
        }
    }
    Ok(())
}

/// SQLite: the newest signal's number, where a process starts reading.
pub async fn latest(db: &Db) -> Result<i64, DbError> {
    match db {
        Db::Sqlite(p) => Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM signals")
                .fetch_one(p)
                .await?,
        ),
        Db::Postgres(_) => Ok(0),
    }
}

/// SQLite: the signals after number `after`, oldest first.
pub async fn after(db: &Db, after: i64) -> Result<Vec<(i64, Uuid)>, DbError> {
    match db {
        Db::Sqlite(p) => Ok(sqlx::query_as(
            "SELECT id, topic FROM signals WHERE id > $1 ORDER BY id LIMIT 1000",
        )
        .bind(after)
        .fetch_all(p)
        .await?),
        Db::Postgres(_) => Ok(Vec::new()),
    }
}

/// Forgets signals older than a minute: every live process has read them long since.
pub async fn purge(db: &Db) -> Result<u64, DbError> {
    Ok(match db {
        Db::Sqlite(_) => on_db!(db, p => sqlx::query("DELETE FROM signals WHERE created_at < $1")
                .bind(now() - Duration::minutes(1)).execute(p).await.map(|r| r.rows_affected()))?,
        Db::Postgres(_) => 0,
    })
}

/// One process's ear for signals: PostgreSQL LISTEN on its own connection, or reading the
/// SQLite table every `every`.
pub enum Listener {
    Postgres(Box<sqlx::postgres::PgListener>),
    Sqlite {
        db: Db,
        last: i64,
        every: std::time::Duration,
    },
}

impl Listener {
    pub async fn start(db: &Db, every: std::time::Duration) -> Result<Listener, DbError> {
        Ok(match db {
            Db::Postgres(p) => {
                let mut l = sqlx::postgres::PgListener::connect_with(p).await?;
                l.listen(CHANNEL).await?;
                Listener::Postgres(Box::new(l))
            }
            Db::Sqlite(_) => Listener::Sqlite {
                db: db.clone(),
                last: latest(db).await?,
                every,
            },
        })
    }

    /// Waits for the next topics. `Uuid::nil()` among them means signals may have been missed
    /// (the connection dropped): listeners should look again at everything they show.
    pub async fn next(&mut self) -> Result<Vec<Uuid>, DbError> {
        match self {
            Listener::Postgres(l) => Ok(match l.try_recv().await? {
                Some(n) => vec![Uuid::parse_str(n.payload()).unwrap_or(Uuid::nil())],
                None => vec![Uuid::nil()],
            }),
            Listener::Sqlite { db, last, every } => loop {
                let rows = after(db, *last).await?;
                if let Some((id, _)) = rows.last() {
                    *last = *id;
                    return Ok(rows.into_iter().map(|(_, t)| t).collect());
                }
                tokio::time::sleep(*every).await;
            },
        }
    }
}
