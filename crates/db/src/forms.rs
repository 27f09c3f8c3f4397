//! Forms and questionnaires. Staff keep templates per firm; every saved change to a template's
//! questions is a new, unchanging version. Sending a form to a client pins the version it was
//! sent with, so a later edit never loses or reinterprets what the client typed or submitted.
//!
//! A client's draft is a map of answers, each with the draft revision that last changed it.
//! A save names the revision its page was based on: answers changed elsewhere since then are
//! merged when they agree and refused, by name, when they do not, so two tabs never silently
//! overwrite each other. Submitting checks every shown field, keeps the submission with the
//! hash of its content, and records each signature.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use portico_core::forms::{self, Answers, AssignmentStatus, Definition, Problem, Value};
use portico_core::notices;
use portico_core::{Invalid, Viewer, validate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::notifications::{self, Notice};
use crate::{Db, DbError, Tx, clients, matters, new_id, now, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Template {
    pub id: Uuid,
    pub firm_id: Uuid,
    pub title: String,
    pub description: String,
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

/// A form sent to a client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Assignment {
    pub id: Uuid,
    pub firm_id: Uuid,
    pub client_id: Uuid,
    pub matter_id: Option<Uuid>,
    pub template_id: Uuid,
    pub version: i64,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub status: AssignmentStatus,
    pub rev: i64,
    pub saved_at: Option<OffsetDateTime>,
    pub review_comment: String,
    pub sent_at: OffsetDateTime,
    pub submitted_at: Option<OffsetDateTime>,
    pub submitted_by_name: Option<String>,
    pub client_name: String,
}

impl Assignment {
    pub fn is_open(&self) -> bool {
        self.status == AssignmentStatus::Open
    }
}

/// A client's form with its questions and the draft as it stands.
#[derive(Debug, Clone)]
pub struct Filled {
    pub assignment: Assignment,
    pub definition: Arc<Definition>,
    pub answers: Answers,
    /// The draft with the revision of each answer, for saving on top of it.
    draft: Draft,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Stored {
    v: Value,
    /// The draft revision that last changed this answer.
    r: i64,
}

type Draft = BTreeMap<String, Stored>;

fn parse_draft(raw: &str) -> Result<Draft, DbError> {
    serde_json::from_str(raw).map_err(|e| DbError::Conflict(format!("unreadable draft: {e}")))
}

fn plain(draft: &Draft) -> Answers {
    draft
        .iter()
        .map(|(k, s)| (k.clone(), s.v.clone()))
        .collect()
}

fn parse_definition(raw: &str) -> Result<Definition, DbError> {
    serde_json::from_str(raw).map_err(|e| DbError::Conflict(format!("unreadable form: {e}")))
}

fn staff_only(viewer: &Viewer) -> Result<(), DbError> {
    if viewer.is_staff() {
        Ok(())
    } else {
        Err(DbError::NotFound)
    }
}

// ---- templates -------------------------------------------------------------------------------

/// Starts a template with one empty section (staff).
pub async fn create_template(
    db: &Db,
    viewer: &Viewer,
    title: &str,
    description: &str,
    origin: &Origin,
) -> Result<Uuid, DbError> {
    staff_only(viewer)?;
    let title = validate::text("title", title, 200)?;
    let description = validate::optional_text("description", description.trim(), 2_000)?;
    let definition = Definition {
        sections: vec![forms::Section {
            title: "Questions".into(),
            help: String::new(),
            fields: Vec::new(),
        }],
        next_field: 1,
    };
    let id = new_id();
    let t = now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO form_templates (id, firm_id, title, description, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 1, $5, $6, $6)"
    ).bind(id).bind(viewer.firm_id()).bind(&title).bind(&description).bind(viewer.user_id()).bind(t)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    insert_version(&mut tx, viewer, id, 1, &definition).await?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "form.create").object("form_template", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_version(
    tx: &mut Tx,
    viewer: &Viewer,
    template_id: Uuid,
    version: i64,
    definition: &Definition,
) -> Result<(), DbError> {
    let json = serde_json::to_string(definition).expect("a definition serialises");
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO form_versions (template_id, version, definition, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5)"
    ).bind(template_id).bind(version).bind(json).bind(viewer.user_id()).bind(now())
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The firm's templates, by title (staff).
pub async fn templates(db: &Db, viewer: &Viewer) -> Result<Vec<Template>, DbError> {
    staff_only(viewer)?;
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT id, firm_id, title, description, version, updated_at FROM form_templates \
         WHERE firm_id = $1 ORDER BY title, id"
    ).bind(viewer.firm_id()).fetch_all(p).await)?)
}

/// A template and its current questions (staff).
pub async fn template(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
) -> Result<(Template, Definition), DbError> {
    staff_only(viewer)?;
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        t: Template,
        definition: String,
    }
    let row: Row = on_db!(db, p => sqlx::query_as(
        "SELECT t.id, t.firm_id, t.title, t.description, t.version, t.updated_at, v.definition \
         FROM form_templates t JOIN form_versions v ON v.template_id = t.id AND v.version = t.version \
         WHERE t.id = $1 AND t.firm_id = $2"
    ).bind(id).bind(viewer.firm_id()).fetch_optional(p).await)?
    .ok_or(DbError::NotFound)?;
    Ok((row.t, parse_definition(&row.definition)?))
}

/// Saves changed questions as the template's next version, if `based_on` is still the current
/// one; otherwise someone else saved first and the change is refused. Returns the new version.
pub async fn save_definition(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    based_on: i64,
    definition: &Definition,
    origin: &Origin,
) -> Result<i64, DbError> {
    staff_only(viewer)?;
    definition
        .check()
        .map_err(|m| Invalid::new("definition", m))?;
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE form_templates SET version = version + 1, updated_at = $4 \
         WHERE id = $1 AND firm_id = $2 AND version = $3"
    ).bind(id).bind(viewer.firm_id()).bind(based_on).bind(now())
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if changed == 0 {
        let exists: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT version FROM form_templates WHERE id = $1 AND firm_id = $2"
        ).bind(id).bind(viewer.firm_id()).fetch_optional(&mut **c).await)?;
        return Err(match exists {
            None => DbError::NotFound,
            Some(_) => DbError::Conflict(
                "Someone else changed this form since you opened it. Your change was not saved: \
                 look at the form as it is now and make it again."
                    .into(),
            ),
        });
    }
    let version = based_on + 1;
    insert_version(&mut tx, viewer, id, version, definition).await?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(viewer.firm_id()), "form.edit")
            .object("form_template", id)
            .detail(format!("version={version}")),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// Renames a template or changes its description; the questions are untouched.
pub async fn rename_template(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    title: &str,
    description: &str,
) -> Result<(), DbError> {
    staff_only(viewer)?;
    let title = validate::text("title", title, 200)?;
    let description = validate::optional_text("description", description.trim(), 2_000)?;
    let n = on_db!(db, p => sqlx::query(
        "UPDATE form_templates SET title = $3, description = $4, updated_at = $5 WHERE id = $1 AND firm_id = $2"
    ).bind(id).bind(viewer.firm_id()).bind(&title).bind(&description).bind(now())
    .execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

// ---- sending and listing ---------------------------------------------------------------------

/// What staff choose to send a form.
#[derive(Debug, Clone, Default)]
pub struct Send {
    pub template_id: Uuid,
    pub client_id: Uuid,
    pub matter_id: Option<Uuid>,
    /// `YYYY-MM-DD` or empty: the due date of the task that comes with it.
    pub due_on: String,
}

/// Sends the template's current version to a client, with a task to fill it in; the client's
/// people are notified. Returns the client's form.
pub async fn send(db: &Db, viewer: &Viewer, s: &Send, origin: &Origin) -> Result<Uuid, DbError> {
    staff_only(viewer)?;
    let (template, _) = template(db, viewer, s.template_id).await?;
    let client = clients::get(db, viewer, s.client_id).await?;
    if let Some(m) = s.matter_id
        && matters::get(db, viewer, m).await?.client_id != client.id
    {
        return Err(DbError::NotFound);
    }
    let due_on = crate::tasks::parse_due(&s.due_on)?;
    let id = new_id();
    let t = now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO form_assignments (id, firm_id, client_id, matter_id, template_id, version, title, sent_by, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ).bind(id).bind(client.firm_id).bind(client.id).bind(s.matter_id).bind(template.id)
    .bind(template.version).bind(&template.title).bind(viewer.user_id()).bind(t)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO tasks (id, firm_id, client_id, matter_id, title, description, due_on, created_by, created_at, form_id) \
         VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, $9)"
    ).bind(new_id()).bind(client.firm_id).bind(client.id).bind(s.matter_id)
    .bind(format!("Fill in “{}”", template.title)).bind(due_on).bind(viewer.user_id()).bind(t).bind(id)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(client.firm_id), "form.send")
            .object("form", id)
            .detail(format!(
                "client={} template={} version={}",
                client.id, template.id, template.version
            )),
    )
    .await?;
    let people = notifications::client_people(&mut tx, client.firm_id, client.id).await?;
    let notice = Notice {
        firm_id: client.firm_id,
        event: notices::Event::FormSent,
        subject_id: id,
    };
    notifications::raise(&mut tx, &notice, &people).await?;
    tx.commit().await?;
    Ok(id)
}

const ASSIGNMENT_COLUMNS: &str = "a.id, a.firm_id, a.client_id, a.matter_id, a.template_id, a.version, a.title, \
     a.status, a.rev, a.saved_at, a.review_comment, a.sent_at, a.submitted_at, \
     u.name AS submitted_by_name, c.name AS client_name";
const ASSIGNMENT_FROM: &str = "FROM form_assignments a JOIN clients c ON c.id = a.client_id \
     LEFT JOIN users u ON u.id = a.submitted_by LEFT JOIN matters m ON m.id = a.matter_id";

/// A client's forms, newest first: open ones, then submitted ones.
pub async fn for_client(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
) -> Result<Vec<Assignment>, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} {ASSIGNMENT_FROM} WHERE a.firm_id = $1 AND a.client_id = $2 \
         AND (a.matter_id IS NULL OR m.portal_open OR $3) \
         ORDER BY (a.status <> 'open'), a.sent_at DESC, a.id LIMIT 500"
    );
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(client.firm_id).bind(client.id).bind(viewer.is_staff()).fetch_all(p).await)?,
    )
}

/// The client's forms for its dashboard: those still to fill in first (the oldest sent on
/// top), then the latest submitted; with how many there are in all and how many are open.
pub async fn newest_for_portal(
    db: &Db,
    viewer: &Viewer,
    limit: i64,
) -> Result<(Vec<Assignment>, i64, i64), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        form: Assignment,
        total: i64,
        open: i64,
    }
    // The limit is written into the text: SQLite plans a bound LIMIT afresh on every run.
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS}, COUNT(*) OVER () AS total, \
                SUM(CASE WHEN a.status = 'open' THEN 1 ELSE 0 END) OVER () AS open \
         {ASSIGNMENT_FROM} WHERE a.firm_id = $1 AND a.client_id = $2 \
         AND (a.matter_id IS NULL OR m.portal_open) \
         ORDER BY (a.status <> 'open'), \
                  CASE WHEN a.status = 'open' THEN a.sent_at END, \
                  a.submitted_at DESC, a.id LIMIT {}",
        limit.clamp(1, 100)
    );
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(viewer.firm_id()).bind(client_id).fetch_all(p).await)?;
    let (total, open) = rows.first().map_or((0, 0), |r| (r.total, r.open));
    Ok((rows.into_iter().map(|r| r.form).collect(), total, open))
}

/// Everyone's forms of one template, newest submission first (staff review and export).
pub async fn for_template(
    db: &Db,
    viewer: &Viewer,
    template_id: Uuid,
) -> Result<Vec<Assignment>, DbError> {
    template(db, viewer, template_id).await?;
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} {ASSIGNMENT_FROM} WHERE a.firm_id = $1 AND a.template_id = $2 \
         ORDER BY (a.submitted_at IS NULL), a.submitted_at DESC, a.sent_at DESC, a.id LIMIT 5000"
    );
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(viewer.firm_id()).bind(template_id).fetch_all(p).await)?,
    )
}

/// A client's form with its questions and draft, as this viewer may see it.
pub async fn get(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Filled, DbError> {
    let (assignment, definition, draft) = fetch(db, viewer, id).await?;
    Ok(Filled {
        answers: plain(&draft),
        definition,
        assignment,
        draft,
    })
}

/// Versions never change once written, so each is read and parsed once per process.
static VERSIONS: LazyLock<Mutex<Versions>> = LazyLock::new(Default::default);

/// Parsed versions by (template, version).
type Versions = HashMap<(Uuid, i64), Arc<Definition>>;

/// A template's questions at one version (the caller has checked the viewer may see them).
async fn version(db: &Db, template_id: Uuid, version: i64) -> Result<Arc<Definition>, DbError> {
    let key = (template_id, version);
    if let Some(d) = VERSIONS.lock().expect("cache lock").get(&key) {
        return Ok(d.clone());
    }
    let raw: String = on_db!(db, p => sqlx::query_scalar(
        "SELECT definition FROM form_versions WHERE template_id = $1 AND version = $2"
    ).bind(template_id).bind(version).fetch_one(p).await)?;
    let parsed = Arc::new(parse_definition(&raw)?);
    let mut cache = VERSIONS.lock().expect("cache lock");
    if cache.len() >= 512 {
        cache.clear();
    }
    cache.insert(key, parsed.clone());
    Ok(parsed)
}

async fn fetch(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
) -> Result<(Assignment, Arc<Definition>, Draft), DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        a: Assignment,
        answers: String,
        portal_open: Option<bool>,
    }
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS}, a.answers, m.portal_open {ASSIGNMENT_FROM} \
         WHERE a.id = $1 AND a.firm_id = $2"
    );
    let row: Row = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id).bind(viewer.firm_id()).fetch_optional(p).await)?
    .ok_or(DbError::NotFound)?;
    if let Some(own) = viewer.client_scope()
        && (own != row.a.client_id || row.portal_open == Some(false))
    {
        return Err(DbError::NotFound);
    }
    let definition = version(db, row.a.template_id, row.a.version).await?;
    Ok((row.a, definition, parse_draft(&row.answers)?))
}

// ---- drafts ----------------------------------------------------------------------------------

/// One draft write: the row moves from revision `from` to `from + 1` with these answers.
struct Write {
    firm_id: Uuid,
    id: Uuid,
    from: i64,
    answers: String,
    by: Uuid,
    done: tokio::sync::oneshot::Sender<Result<bool, DbError>>,
}

/// Writes drafts in groups: saves that arrive while a commit is under way go together in the
/// next transaction, so many clients typing at once share one durable commit (one fsync)
/// instead of queueing for one each. A save is acknowledged only after its group commits.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: tokio::sync::mpsc::Sender<Write>,
}

/// The most writes committed together.
const GROUP: usize = 64;

impl Writer {
    /// Starts the writer task on the current runtime; it ends when the last handle is dropped.
    pub fn start(db: Db) -> Writer {
        let (queue, mut rx) = tokio::sync::mpsc::channel::<Write>(1024);
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(GROUP);
            while rx.recv_many(&mut group, GROUP).await > 0 {
                match write_group(&db, &group).await {
                    Ok(results) => {
                        for (w, ok) in group.drain(..).zip(results) {
                            let _ = w.done.send(Ok(ok));
                        }
                    }
                    // The group failed as a whole: each write is tried on its own, so one bad
                    // write does not fail the others.
                    Err(_) => {
                        for w in group.drain(..) {
                            let result = write_group(&db, std::slice::from_ref(&w))
                                .await
                                .map(|r| r[0]);
                            let _ = w.done.send(result);
                        }
                    }
                }
            }
        });
        Writer { queue }
    }

    /// Writes one draft if the row is still at revision `from` and open; false otherwise.
    async fn write(
        &self,
        firm_id: Uuid,
        id: Uuid,
        from: i64,
        answers: String,
        by: Uuid,
    ) -> Result<bool, DbError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let w = Write {
            firm_id,
            id,
            from,
            answers,
            by,
            done,
        };
        self.queue
            .send(w)
            .await
            .map_err(|_| DbError::Conflict("The server is shutting down; try again.".into()))?;
        result
            .await
            .map_err(|_| DbError::Conflict("The server is shutting down; try again.".into()))?
    }
}

async fn write_group(db: &Db, group: &[Write]) -> Result<Vec<bool>, DbError> {
    let t = now();
    let mut tx = db.begin().await?;
    let mut results = Vec::with_capacity(group.len());
    for w in group {
        let n = on_tx!(&mut tx, c => sqlx::query(
            "UPDATE form_assignments SET answers = $3, rev = $4, saved_at = $5, saved_by = $6 \
             WHERE id = $1 AND firm_id = $2 AND rev = $7 AND status = 'open'"
        ).bind(w.id).bind(w.firm_id).bind(&w.answers).bind(w.from + 1).bind(t).bind(w.by)
        .bind(w.from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        results.push(n == 1);
    }
    tx.commit().await?;
    Ok(results)
}

/// One save of a form page: the answers of the fields on that page (a field of the page that
/// is absent was emptied), and the draft revision the page was showing.
#[derive(Debug, Clone, Default)]
pub struct Save {
    pub based_on: i64,
    /// The fields the page showed; only these change.
    pub fields: Vec<String>,
    pub answers: Answers,
}

/// A save that changed answers someone else had changed since the page was opened.
#[derive(Debug, Clone)]
pub struct Clash {
    pub labels: Vec<String>,
    pub rev: i64,
}

pub enum Saved {
    /// The draft's revision after the save.
    Done(i64),
    Clash(Clash),
}

/// Saves part of the draft of `form`, as [`get`] read it for this viewer (clients of the form's
/// client, while it is open). Refuses values no form page sends; keeps anything else, even if
/// it is not yet valid, so nothing typed is lost.
pub async fn save_draft(
    db: &Db,
    writer: &Writer,
    viewer: &Viewer,
    form: &Filled,
    save: &Save,
) -> Result<Saved, DbError> {
    if viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let id = form.assignment.id;
    for attempt in 0..32 {
        let (assignment, def, mut draft) = if attempt == 0 {
            (
                form.assignment.clone(),
                form.definition.clone(),
                form.draft.clone(),
            )
        } else {
            fetch(db, viewer, id).await?
        };
        if !assignment.is_open() {
            return Err(DbError::Conflict(
                "This form has been submitted and can no longer be changed. Ask the firm to reopen it if something needs correcting.".into(),
            ));
        }
        let index = def.index();
        for key in save.fields.iter().chain(save.answers.keys()) {
            if !index.contains_key(key.as_str()) {
                return Err(Invalid::new(
                    "answers",
                    "The form has no such question; reload the page.",
                )
                .into());
            }
        }
        for (key, value) in &save.answers {
            let field = index[key.as_str()];
            forms::check_shape(field, value).map_err(|p| Invalid::new("answers", p.message))?;
        }
        let current_rev = assignment.rev;
        let next = current_rev + 1;
        let mut clashes = Vec::new();
        let mut changed = false;
        for key in &save.fields {
            let field = index[key.as_str()];
            let new = save.answers.get(key).cloned();
            let old = draft.get(key);
            if old.map(|s| &s.v) == new.as_ref()
                || (old.is_none_or(|s| s.v.is_empty()) && new.as_ref().is_none_or(Value::is_empty))
            {
                continue;
            }
            if old.is_some_and(|s| s.r > save.based_on) {
                clashes.push(field.label.clone());
                continue;
            }
            changed = true;
            match new {
                Some(v) => draft.insert(key.clone(), Stored { v, r: next }),
                None => draft.insert(
                    key.clone(),
                    Stored {
                        v: Value::Text(String::new()),
                        r: next,
                    },
                ),
            };
        }
        if !clashes.is_empty() {
            return Ok(Saved::Clash(Clash {
                labels: clashes,
                rev: current_rev,
            }));
        }
        if !changed {
            return Ok(Saved::Done(current_rev));
        }
        let json = serde_json::to_string(&draft).expect("a draft serialises");
        if writer
            .write(viewer.firm_id(), id, current_rev, json, viewer.user_id())
            .await?
        {
            return Ok(Saved::Done(next));
        }
        // Another save came between reading and writing: read again and merge on top of it.
    }
    Err(DbError::Conflict(
        "The form is being saved from several places at once; try again.".into(),
    ))
}

// ---- submitting and reviewing ----------------------------------------------------------------

/// Why a submission was refused.
pub enum Refused {
    /// Fields that keep it from being submitted, in the form's order.
    Problems(Vec<Problem>),
    Other(DbError),
}

impl From<DbError> for Refused {
    fn from(e: DbError) -> Refused {
        Refused::Other(e)
    }
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Refused {
        Refused::Other(e.into())
    }
}

/// The SHA-256 of what was submitted: the form's template and version and the answers.
pub fn content_hash(template_id: Uuid, version: i64, answers: &Answers) -> String {
    let canonical = serde_json::json!({
        "template": template_id,
        "version": version,
        "answers": answers,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Submits a client's form as its draft stands at revision `based_on`. Every shown field must
/// be answered and valid; a replay, or a page older than the draft, is refused. Returns the
/// submission's content hash.
pub async fn submit(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    based_on: i64,
    origin: &Origin,
) -> Result<String, Refused> {
    if viewer.is_staff() {
        return Err(DbError::NotFound.into());
    }
    let filled = get(db, viewer, id).await?;
    let a = &filled.assignment;
    if !a.is_open() {
        return Err(DbError::Conflict("This form has already been submitted.".into()).into());
    }
    if a.rev != based_on {
        return Err(DbError::Conflict(
            "The form was changed in another window since this page was opened. Check the answers below and submit again.".into(),
        )
        .into());
    }
    let problems = forms::check_complete(&filled.definition, &filled.answers);
    if !problems.is_empty() {
        return Err(Refused::Problems(problems));
    }
    let answers = forms::submitted(&filled.definition, &filled.answers);
    let hash = content_hash(a.template_id, a.version, &answers);
    let t = now();
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE form_assignments SET status = 'submitted', submitted_at = $3, submitted_by = $4, review_comment = '' \
         WHERE id = $1 AND firm_id = $2 AND status = 'open' AND rev = $5"
    ).bind(id).bind(a.firm_id).bind(t).bind(viewer.user_id()).bind(based_on)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::Conflict("This form has already been submitted.".into()).into());
    }
    let seq: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) + 1 AS BIGINT) FROM form_submissions WHERE assignment_id = $1"
    ).bind(id).fetch_one(&mut **c).await)?;
    let submission = new_id();
    let json = serde_json::to_string(&answers).expect("answers serialise");
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO form_submissions (id, assignment_id, firm_id, seq, answers, content_hash, submitted_by, submitted_at, ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ).bind(submission).bind(id).bind(a.firm_id).bind(seq).bind(json).bind(&hash)
    .bind(viewer.user_id()).bind(t).bind(&origin.ip)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(a.firm_id), "form.submit")
            .object("form", id)
            .detail(format!("submission={seq} sha256={hash}")),
    )
    .await?;
    for field in filled
        .definition
        .fields()
        .filter(|f| f.kind == forms::Kind::Signature)
    {
        let Some(value) = answers.get(&field.id) else {
            continue;
        };
        let name = value.part("name").trim().to_string();
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO form_signatures (submission_id, field_id, signer_id, typed_name, drawn, consent, signed_at, ip, content_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ).bind(submission).bind(&field.id).bind(viewer.user_id()).bind(&name)
        .bind(!value.part("drawn").is_empty()).bind(&field.consent).bind(t).bind(&origin.ip).bind(&hash)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        audit::append(
            &mut tx,
            origin,
            Event::new(Some(a.firm_id), "form.sign")
                .object("form", id)
                .detail(format!(
                    "field={} name={name:?} consent_sha256={} sha256={hash}",
                    field.id,
                    hex::encode(Sha256::digest(field.consent.as_bytes()))
                )),
        )
        .await?;
    }
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE tasks SET completed_at = $2, completed_by = $3 WHERE form_id = $1 AND completed_at IS NULL"
    ).bind(id).bind(t).bind(viewer.user_id()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let staff = notifications::firm_staff(&mut tx, a.firm_id).await?;
    let notice = Notice {
        firm_id: a.firm_id,
        event: notices::Event::FormSubmitted,
        subject_id: id,
    };
    notifications::raise(&mut tx, &notice, &staff).await?;
    tx.commit().await?;
    Ok(hash)
}

/// Staff reopen a submitted form for changes, saying what to change; the client is notified
/// and the task to fill it in is open again. Earlier submissions stay as they were.
pub async fn reopen(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    comment: &str,
    origin: &Origin,
) -> Result<(), DbError> {
    staff_only(viewer)?;
    let comment = validate::text("comment", comment, 2_000)?;
    let filled = get(db, viewer, id).await?;
    let a = &filled.assignment;
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE form_assignments SET status = 'open', review_comment = $3, submitted_at = NULL, submitted_by = NULL \
         WHERE id = $1 AND firm_id = $2 AND status = 'submitted'"
    ).bind(id).bind(a.firm_id).bind(&comment).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::Conflict(
            "This form is not submitted; it is already open for the client.".into(),
        ));
    }
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE tasks SET completed_at = NULL, completed_by = NULL, reminded_at = NULL WHERE form_id = $1"
    ).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(a.firm_id), "form.reopen").object("form", id),
    )
    .await?;
    let people = notifications::client_people(&mut tx, a.firm_id, a.client_id).await?;
    let notice = Notice {
        firm_id: a.firm_id,
        event: notices::Event::FormReopened,
        subject_id: id,
    };
    notifications::raise(&mut tx, &notice, &people).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Submission {
    pub id: Uuid,
    pub seq: i64,
    pub content_hash: String,
    pub submitted_at: OffsetDateTime,
    pub submitted_by_name: String,
    pub ip: String,
    pub answers: String,
}

impl Submission {
    pub fn answers(&self) -> Answers {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Signature {
    pub submission_id: Uuid,
    pub field_id: String,
    pub signer_name: String,
    pub typed_name: String,
    pub drawn: bool,
    pub consent: String,
    pub signed_at: OffsetDateTime,
    pub ip: String,
    pub content_hash: String,
}

/// A form's submissions, newest first, and their signatures (the viewer must see the form).
pub async fn submissions(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
) -> Result<(Vec<Submission>, Vec<Signature>), DbError> {
    let filled = get(db, viewer, id).await?;
    let firm = filled.assignment.firm_id;
    let subs: Vec<Submission> = on_db!(db, p => sqlx::query_as(
        "SELECT s.id, s.seq, s.content_hash, s.submitted_at, u.name AS submitted_by_name, s.ip, s.answers \
         FROM form_submissions s JOIN users u ON u.id = s.submitted_by \
         WHERE s.assignment_id = $1 AND s.firm_id = $2 ORDER BY s.seq DESC"
    ).bind(id).bind(firm).fetch_all(p).await)?;
    let sigs: Vec<Signature> = on_db!(db, p => sqlx::query_as(
        "SELECT g.submission_id, g.field_id, u.name AS signer_name, g.typed_name, g.drawn, g.consent, g.signed_at, \
                g.ip, g.content_hash \
         FROM form_signatures g JOIN form_submissions s ON s.id = g.submission_id JOIN users u ON u.id = g.signer_id \
         WHERE s.assignment_id = $1 AND s.firm_id = $2 ORDER BY s.seq DESC, g.field_id"
    ).bind(id).bind(firm).fetch_all(p).await)?;
    Ok((subs, sigs))
}

/// One row of a template's export: a client's latest submission with the questions it answered.
pub struct ExportRow {
    pub client_name: String,
    pub version: i64,
    pub submission: Submission,
}

/// The latest submission of each client's form of this template, with every version of the
/// template they were answered under (staff).
pub async fn export(
    db: &Db,
    viewer: &Viewer,
    template_id: Uuid,
) -> Result<(Vec<ExportRow>, BTreeMap<i64, Definition>), DbError> {
    template(db, viewer, template_id).await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        client_name: String,
        version: i64,
        #[sqlx(flatten)]
        submission: Submission,
    }
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(
        "SELECT c.name AS client_name, a.version, s.id, s.seq, s.content_hash, s.submitted_at, \
                u.name AS submitted_by_name, s.ip, s.answers \
         FROM form_assignments a JOIN clients c ON c.id = a.client_id \
         JOIN form_submissions s ON s.assignment_id = a.id \
         JOIN users u ON u.id = s.submitted_by \
         WHERE a.firm_id = $1 AND a.template_id = $2 \
         AND s.seq = (SELECT MAX(s2.seq) FROM form_submissions s2 WHERE s2.assignment_id = a.id) \
         ORDER BY s.submitted_at, s.id"
    ).bind(viewer.firm_id()).bind(template_id).fetch_all(p).await)?;
    let versions: Vec<(i64, String)> = on_db!(db, p => sqlx::query_as(
        "SELECT v.version, v.definition FROM form_versions v JOIN form_templates t ON t.id = v.template_id \
         WHERE v.template_id = $1 AND t.firm_id = $2"
    ).bind(template_id).bind(viewer.firm_id()).fetch_all(p).await)?;
    let mut defs = BTreeMap::new();
    for (v, raw) in versions {
        defs.insert(v, parse_definition(&raw)?);
    }
    Ok((
        rows.into_iter()
            .map(|r| ExportRow {
                client_name: r.client_name,
                version: r.version,
                submission: r.submission,
            })
            .collect(),
        defs,
    ))
}
