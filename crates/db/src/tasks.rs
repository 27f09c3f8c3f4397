//! Tasks: what the firm asks a client to do, optionally about a matter and by a date. Anyone
//! of the client ticks a task off (and may undo it); staff see who did and when.

use portico_core::notices;
use portico_core::{Invalid, Viewer, policy, validate};
use sqlx::AssertSqlSafe;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::notifications::{self, Notice};
use crate::{Db, DbError, clients, matters, new_id, now, on_db, on_tx};

/// How many tasks of each kind a page lists.
pub const PAGE: i64 = 100;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Task {
    pub id: Uuid,
    pub client_id: Uuid,
    pub matter_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub due_on: Option<Date>,
    pub created_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
    pub completed_by_name: Option<String>,
    pub matter_title: Option<String>,
    /// The client's form that completes this task when submitted.
    pub form_id: Option<Uuid>,
    /// A document to read, and its name.
    pub file_id: Option<Uuid>,
    pub file_name: Option<String>,
    /// The task asks for a file; the client's upload through it ticks it off.
    pub wants_upload: bool,
    pub upload_id: Option<Uuid>,
    pub upload_name: Option<String>,
}

/// What staff type to give a client a task.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    pub matter_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    /// `YYYY-MM-DD`, or empty for no date.
    pub due_on: String,
    /// A file of the client's, which the client can see, to read.
    pub file_id: Option<Uuid>,
    /// Ask the client for a file.
    pub wants_upload: bool,
}

/// A due date as staff type it: `YYYY-MM-DD`, or empty for none.
pub fn parse_due(raw: &str) -> Result<Option<Date>, Invalid> {
    match raw.trim() {
        "" => Ok(None),
        raw => Date::parse(
            raw,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(Some)
        .map_err(|_| Invalid::new("due_on", "Give the date as YYYY-MM-DD, or leave it empty.")),
    }
}

/// Gives a client a task (staff only); the client's people are notified.
pub async fn create(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    new: &NewTask,
    origin: &Origin,
) -> Result<Uuid, DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let client = clients::get(db, viewer, client_id).await?;
    let matter_id = match new.matter_id {
        Some(id) => {
            let m = matters::get(db, viewer, id).await?;
            if m.client_id != client.id {
                return Err(DbError::NotFound);
            }
            Some(m.id)
        }
        None => None,
    };
    let title = validate::text("title", &new.title, 200)?;
    let description = validate::optional_text("description", new.description.trim(), 5_000)?;
    let due_on = parse_due(&new.due_on)?;
    if let Some(file_id) = new.file_id {
        let file = crate::files::get(db, viewer, file_id).await?;
        if file.client_id != client.id {
            return Err(DbError::NotFound);
        }
        if !crate::files::client_sees(db, &file).await? {
            return Err(Invalid::new(
                "file_id",
                "Share the document with the client first, so they can read it.",
            )
            .into());
        }
    }
    let id = new_id();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO tasks (id, firm_id, client_id, matter_id, title, description, due_on, created_by, created_at, \
         file_id, wants_upload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ).bind(id).bind(client.firm_id).bind(client.id).bind(matter_id).bind(&title).bind(&description)
    .bind(due_on).bind(viewer.user_id()).bind(now()).bind(new.file_id).bind(new.wants_upload)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(client.firm_id), "task.create")
            .object("task", id)
            .detail(format!("client={}", client.id)),
    )
    .await?;
    let people = notifications::client_people(&mut tx, client.firm_id, client.id).await?;
    let notice = Notice {
        firm_id: client.firm_id,
        event: notices::Event::TaskGiven,
        subject_id: id,
    };
    notifications::raise(&mut tx, &notice, &people).await?;
    tx.commit().await?;
    Ok(id)
}

/// A client's tasks as the viewer may see them: open ones by due date (undated last), or
/// completed ones newest first; `offset` pages on. Clients see tasks of closed matters no more.
pub async fn for_client(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    completed: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<Task>, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    let order = if completed {
        "t.completed_at DESC, t.id DESC"
    } else {
        "(t.due_on IS NULL), t.due_on, t.created_at, t.id"
    };
    let sql = format!(
        "SELECT t.id, t.client_id, t.matter_id, t.title, t.description, t.due_on, t.created_at, t.completed_at, \
                u.name AS completed_by_name, m.title AS matter_title, t.form_id, t.file_id, f.name AS file_name, \
                t.wants_upload, t.upload_id, up.name AS upload_name \
         FROM tasks t LEFT JOIN users u ON u.id = t.completed_by LEFT JOIN matters m ON m.id = t.matter_id \
         LEFT JOIN files f ON f.id = t.file_id LEFT JOIN files up ON up.id = t.upload_id \
         WHERE t.firm_id = $1 AND t.client_id = $2 AND ((t.completed_at IS NOT NULL) = $3) \
         AND (t.matter_id IS NULL OR m.portal_open OR $4) ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    );
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(client.firm_id).bind(client.id).bind(completed).bind(viewer.is_staff())
        .fetch_all(p).await)?,
    )
}

/// The client's next open tasks and how many are open, in one statement: the dashboard card.
pub async fn next_for_portal(
    db: &Db,
    viewer: &Viewer,
    limit: i64,
) -> Result<(Vec<Task>, i64), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        task: Task,
        open_total: i64,
    }
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT t.id, t.client_id, t.matter_id, t.title, t.description, t.due_on, t.created_at, t.completed_at, \
                NULL AS completed_by_name, m.title AS matter_title, t.form_id, t.file_id, NULL AS file_name, \
                t.wants_upload, NULL AS upload_id, NULL AS upload_name, COUNT(*) OVER () AS open_total \
         FROM tasks t LEFT JOIN matters m ON m.id = t.matter_id \
         WHERE t.firm_id = $1 AND t.client_id = $2 AND t.completed_at IS NULL \
         AND (t.matter_id IS NULL OR m.portal_open) \
         ORDER BY (t.due_on IS NULL), t.due_on, t.created_at, t.id LIMIT {}",
        limit
    ))).bind(viewer.firm_id()).bind(client_id).fetch_all(p).await)?;
    let total = rows.first().map_or(0, |r| r.open_total);
    Ok((rows.into_iter().map(|r| r.task).collect(), total))
}

/// Ticks a task off, or back on (`done = false`): its client's people, or staff. Doing what is
/// already done changes nothing. Returns the task's client.
pub async fn set_done(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    done: bool,
    origin: &Origin,
) -> Result<Uuid, DbError> {
    let found: Option<(Uuid, Option<Uuid>, Option<Uuid>)> = on_db!(db, p => sqlx::query_as(
        "SELECT client_id, matter_id, form_id FROM tasks WHERE id = $1 AND firm_id = $2"
    ).bind(id).bind(viewer.firm_id()).fetch_optional(p).await)?;
    let (client_id, matter_id, form_id) = found.ok_or(DbError::NotFound)?;
    if !policy::reaches_client(viewer, client_id) {
        return Err(DbError::NotFound);
    }
    if form_id.is_some() {
        return Err(DbError::Conflict(
            "This task is done by submitting its form.".into(),
        ));
    }
    if let Some(m) = matter_id {
        matters::get(db, viewer, m).await?;
    }
    let (at, by) = if done {
        (Some(now()), Some(viewer.user_id()))
    } else {
        (None, None)
    };
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE tasks SET completed_at = $3, completed_by = $4 \
         WHERE id = $1 AND firm_id = $2 AND ((completed_at IS NULL) = $5)"
    ).bind(id).bind(viewer.firm_id()).bind(at).bind(by).bind(done)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if changed > 0 {
        audit::append(
            &mut tx,
            origin,
            Event::new(
                Some(viewer.firm_id()),
                if done { "task.complete" } else { "task.reopen" },
            )
            .object("task", id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(client_id)
}

/// Fulfils a task that asks for a file with the client's upload (already recorded as one of
/// the client's files): the task is done and points at it. Only the task's client, while the
/// task is open.
pub async fn fulfil(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    file_id: Uuid,
    origin: &Origin,
) -> Result<(), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::NotFound);
    };
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE tasks SET completed_at = $4, completed_by = $5, upload_id = $6 \
         WHERE id = $1 AND firm_id = $2 AND client_id = $3 AND wants_upload AND completed_at IS NULL"
    ).bind(id).bind(viewer.firm_id()).bind(client_id).bind(now()).bind(viewer.user_id()).bind(file_id)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Err(DbError::Conflict(
            "This task no longer waits for a file. Your file is kept with your files.".into(),
        ));
    }
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "task.complete")
            .object("task", id)
            .detail(format!("file={file_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An open task of the viewer's client that asks for a file, if `id` is one.
pub async fn open_upload_task(db: &Db, viewer: &Viewer, id: Uuid) -> Result<(), DbError> {
    let client_id = viewer.client_scope().ok_or(DbError::NotFound)?;
    let found: Option<(bool, Option<OffsetDateTime>)> = on_db!(db, p => sqlx::query_as(
        "SELECT t.wants_upload, t.completed_at FROM tasks t LEFT JOIN matters m ON m.id = t.matter_id \
         WHERE t.id = $1 AND t.firm_id = $2 AND t.client_id = $3 AND (t.matter_id IS NULL OR m.portal_open)"
    ).bind(id).bind(viewer.firm_id()).bind(client_id).fetch_optional(p).await)?;
    match found {
        None => Err(DbError::NotFound),
        Some((false, _)) => Err(Invalid::new("file", "This task does not ask for a file.").into()),
        Some((true, Some(_))) => Err(DbError::Conflict(
            "This task is already done; the firm has your file.".into(),
        )),
        Some((true, None)) => Ok(()),
    }
}
