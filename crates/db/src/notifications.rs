//! Notifications: the one mechanism through which every feature tells a person that something
//! arrived for them. Each becomes an entry in the person's in-app list at once, and — per the
//! person's preference — part of a batched email later. The email names kinds and counts and
//! links to the portal; it never carries the content.

use portico_core::Viewer;
use portico_core::notices::{Event, Kind};
use sqlx::AssertSqlSafe;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{Db, DbError, Tx, new_id, now, on_db, on_tx, signals};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Notification {
    pub id: Uuid,
    pub about: About,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

/// What a notification tells of.
#[derive(Debug, Clone, serde::Serialize)]
pub enum About {
    /// What happened to which thing.
    Event { event: Event, subject_id: Uuid },
    /// A notification written before they held events: its sentence and address as stored.
    Written { summary: String, href: String },
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    subject_id: Option<Uuid>,
    params: Option<String>,
    summary: Option<String>,
    href: Option<String>,
    created_at: OffsetDateTime,
    read_at: Option<OffsetDateTime>,
}

impl Row {
    fn about(&self) -> Option<About> {
        if let (Some(subject_id), Some(params)) = (self.subject_id, &self.params) {
            return match serde_json::from_str(params) {
                Ok(event) => Some(About::Event { event, subject_id }),
                Err(e) => {
                    tracing::warn!(id = %self.id, error = %e, "notification with unknown params");
                    None
                }
            };
        }
        Some(About::Written {
            summary: self.summary.clone()?,
            href: self.href.clone()?,
        })
    }
}

/// Something for some people: what happened, to which thing (the conversation, task, form
/// assignment, file, folder or shared item), in which firm.
pub struct Notice {
    pub firm_id: Uuid,
    pub event: Event,
    pub subject_id: Uuid,
}

/// Raises `notice` for each of `recipients` inside the caller's transaction, and signals each
/// recipient's live counter.
pub(crate) async fn raise(
    tx: &mut Tx,
    notice: &Notice,
    recipients: &[Uuid],
) -> Result<(), DbError> {
    let t = now();
    let kind = notice.event.kind().as_str();
    let params = serde_json::to_string(&notice.event).expect("an event serialises");
    for user_id in recipients {
        on_tx!(&mut *tx, c => sqlx::query(
            "INSERT INTO notifications (id, firm_id, user_id, kind, subject_id, params, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ).bind(new_id()).bind(notice.firm_id).bind(user_id).bind(kind).bind(notice.subject_id).bind(&params).bind(t)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        signals::emit(tx, *user_id).await?;
    }
    Ok(())
}

/// The viewer's newest notifications in the current firm.
pub async fn list(db: &Db, viewer: &Viewer, limit: i64) -> Result<Vec<Notification>, DbError> {
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, subject_id, params, summary, href, created_at, read_at FROM notifications \
         WHERE user_id = $1 AND firm_id = $2 ORDER BY created_at DESC, id DESC LIMIT {}",
        limit
    ))).bind(viewer.user_id()).bind(viewer.firm_id()).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Notification {
                about: r.about()?,
                id: r.id,
                created_at: r.created_at,
                read_at: r.read_at,
            })
        })
        .collect())
}

/// How many of the viewer's notifications in the current firm are unread.
pub async fn unread(db: &Db, viewer: &Viewer) -> Result<i64, DbError> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND firm_id = $2 AND read_at IS NULL"
    ).bind(viewer.user_id()).bind(viewer.firm_id()).fetch_one(p).await)?)
}

/// Marks read the viewer's notifications about one thing (the person opened it), or all of
/// them when `subject` is `None`. Returns how many changed.
pub async fn mark_read(
    db: &Db,
    viewer: &Viewer,
    subject: Option<(Kind, Uuid)>,
) -> Result<u64, DbError> {
    let (kind, subject_id) = subject.map(|(k, id)| (k.as_str(), id)).unzip();
    let n = on_db!(db, p => sqlx::query(
        "UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND firm_id = $2 AND read_at IS NULL \
         AND (CAST($4 AS TEXT) IS NULL OR (kind = $4 AND subject_id = $5))"
    ).bind(viewer.user_id()).bind(viewer.firm_id()).bind(now()).bind(kind).bind(subject_id)
    .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// When batched emails go out.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// "Immediately": once nothing new has arrived for this long…
    pub quiet: Duration,
    /// …or once the oldest waiting item is this old, whichever comes first.
    pub longest: Duration,
}

/// One person's batch, taken for emailing: who, in which firm, and how many of each kind.
#[derive(Debug, Clone)]
pub struct Batch {
    pub user_id: Uuid,
    pub firm_id: Uuid,
    pub email: String,
    pub name: String,
    pub counts: Vec<(String, i64)>,
}

/// The active portal users of a client: the people who hear of what the firm gives them.
pub(crate) async fn client_people(
    tx: &mut Tx,
    firm_id: Uuid,
    client_id: Uuid,
) -> Result<Vec<Uuid>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT user_id FROM client_users WHERE firm_id = $1 AND client_id = $2 AND active"
    ).bind(firm_id).bind(client_id).fetch_all(&mut **c).await)?)
}

/// The active staff of a firm who hear of client actions nobody in particular is following.
pub(crate) async fn firm_staff(tx: &mut Tx, firm_id: Uuid) -> Result<Vec<Uuid>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT user_id FROM staff_members WHERE firm_id = $1 AND active"
    ).bind(firm_id).fetch_all(&mut **c).await)?)
}
