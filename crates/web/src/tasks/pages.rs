//! Tasks, both sides: staff give a client tasks and see who ticked them off; the client ticks
//! them off (and may undo it). Up to 100 open and the last 100 done on one page, then paged.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::tasks::{self, NewTask, Task};
use portico_db::{DbError, clients, matters};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::{check_side, parse_id};
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::posted::{MultipartPost, Refusals};
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

pub(crate) struct Row {
    pub task: Task,
    pub due: Option<String>,
    pub overdue: bool,
    pub done: Option<String>,
    /// Where its form is, for a task that comes with one.
    pub form_href: Option<String>,
    /// Where its "done" form posts.
    pub done_action: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/tasks.html")]
pub(crate) struct TasksPage {
    layout: Layout,
    heading: String,
    back: Option<(String, String)>,
    open: Vec<Row>,
    done: Vec<Row>,
    /// Staff: where a new task is posted, and the client's matters.
    create_action: Option<String>,
    matters: Vec<matters::Matter>,
    /// Staff: the client's files a task can point at (shared with the client, or theirs).
    documents: Vec<portico_db::files::Listed>,
    error: Option<String>,
    draft: (String, String, String),
    more_open: Option<String>,
    more_done: Option<String>,
    page_open: i64,
    page_done: i64,
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    open: Option<i64>,
    #[serde(default)]
    done: Option<i64>,
}

async fn page(
    state: &AppState,
    signed: &Signed,
    client_id: Uuid,
    q: &PageQuery,
) -> Result<TasksPage, AppError> {
    let viewer = &signed.viewer;
    let client = clients::get(&state.db, viewer, client_id).await?;
    let (page_open, page_done) = (q.open.unwrap_or(1).max(1), q.done.unwrap_or(1).max(1));
    let mut open = tasks::for_client(
        &state.db,
        viewer,
        client.id,
        false,
        tasks::PAGE + 1,
        (page_open - 1) * tasks::PAGE,
    )
    .await?;
    let mut done = tasks::for_client(
        &state.db,
        viewer,
        client.id,
        true,
        tasks::PAGE + 1,
        (page_done - 1) * tasks::PAGE,
    )
    .await?;
    let staff = viewer.is_staff();
    let base = paths::tasks(staff, client.id);
    let more = |list: &mut Vec<Task>, href: String| {
        (list.len() as i64 > tasks::PAGE).then(|| {
            list.truncate(tasks::PAGE as usize);
            href
        })
    };
    let more_open = more(
        &mut open,
        format!("{base}?open={}&done={page_done}", page_open + 1),
    );
    let more_done = more(
        &mut done,
        format!("{base}?open={page_open}&done={}", page_done + 1),
    );
    let layout = if staff {
        Layout::new(
            signed,
            format!("Tasks of {}", client.name),
            paths::clients(),
        )
    } else {
        Layout::new(signed, "Tasks", paths::portal_tasks())
    };
    let today = layout.today();
    let rows = |list: Vec<Task>| {
        list.into_iter()
            .map(|task| Row {
                form_href: task.form_id.map(|f| paths::form(staff, f)),
                done_action: paths::task_done(staff, task.id),
                due: task.due_on.map(|d| d.to_string()),
                overdue: task.completed_at.is_none() && task.due_on.is_some_and(|d| d < today),
                done: task.completed_at.map(|t| {
                    format!(
                        "Done by {} on {}",
                        task.completed_by_name.as_deref().unwrap_or("the client"),
                        layout.when(&t)
                    )
                }),
                task,
            })
            .collect::<Vec<_>>()
    };
    let (open, done) = (rows(open), rows(done));
    Ok(TasksPage {
        heading: if staff {
            format!("Tasks of {}", client.name)
        } else {
            "Tasks".into()
        },
        back: staff.then(|| (paths::client(client.id), client.name.clone())),
        open,
        done,
        create_action: staff.then(|| paths::client_tasks(client.id)),
        matters: if staff {
            matters::for_client(&state.db, viewer, client.id).await?
        } else {
            Vec::new()
        },
        documents: if staff {
            portico_db::files::for_client(&state.db, viewer, client.id, 200)
                .await?
                .into_iter()
                .filter(|f| f.shared || f.uploaded_side == "client")
                .collect()
        } else {
            Vec::new()
        },
        error: None,
        draft: Default::default(),
        more_open,
        more_done,
        page_open,
        page_done,
        layout,
    })
}

pub(crate) async fn portal_list(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<PageQuery>,
) -> Result<TasksPage, AppError> {
    let client = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    page(&state, &signed, client, &q).await
}

pub(crate) async fn staff_list(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
    Query(q): Query<PageQuery>,
) -> Result<TasksPage, AppError> {
    signed.require_staff()?;
    page(&state, &signed, id, &q).await
}

#[derive(Deserialize)]
pub(crate) struct NewForm {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    wants_upload: Option<String>,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<NewForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let client = id;
    let f = &posted.form;
    let new = NewTask {
        matter_id: match f.matter.as_str() {
            "" => None,
            raw => Some(parse_id(raw)?),
        },
        title: f.title.clone(),
        description: f.description.clone(),
        due_on: f.due_on.clone(),
        file_id: match f.document.as_str() {
            "" => None,
            raw => Some(parse_id(raw)?),
        },
        wants_upload: f.wants_upload.is_some(),
    };
    match tasks::create(&state.db, &signed.viewer, client, &new, &info.by(signed)).await {
        Ok(_) => {
            state.jobs_waiting.notify_one();
            Ok(Redirect::to(&paths::client_tasks(client)).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = page(&state, signed, client, &PageQuery::default()).await?;
            p.error = Some(e.message);
            p.draft = (f.title.clone(), f.description.clone(), f.due_on.clone());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct DoneForm {
    done: bool,
}

/// Ticks a task off or back on, from either side; the URL's side must be the viewer's.
pub(crate) async fn set_done(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    uri: Uri,
    posted: Posted<DoneForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    let client = tasks::set_done(
        &state.db,
        &signed.viewer,
        id,
        posted.form.done,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&paths::tasks(signed.viewer.is_staff(), client)).into_response())
}

/// The client answers a task that asks for a file: the file goes into the client's files (the
/// firm is told, as for any upload) and ticks the task off. The form's token comes first.
pub(crate) async fn upload(
    State(state): State<AppState>,
    info: ReqInfo,
    signed: Signed,
    Id(id): Id,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    let client = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    // Nothing is read, let alone stored, for a task that is not this client's open request.
    tasks::open_upload_task(&state.db, &signed.viewer, id).await?;
    let mut form = MultipartPost::open(
        req,
        &state,
        &signed,
        Refusals {
            not_multipart: "Choose a file with the form on the page.",
            unreadable: "Choose a file with the form on the page.",
            cut_off: "The upload was cut off. Please try again.",
        },
    )
    .await?;
    while let Some(field) = form.next().await? {
        if field.name() != Some("file") || field.file_name().is_none_or(str::is_empty) {
            continue;
        }
        let origin = info.by(&signed);
        let file =
            crate::files::store::store_and_record(&state, &signed, client, None, field, &origin)
                .await?;
        tasks::fulfil(&state.db, &signed.viewer, id, file.id, &origin).await?;
        state.jobs_waiting.notify_one();
        return Ok(Redirect::to(paths::portal_tasks()).into_response());
    }
    Err(AppError::Invalid("Choose a file to send.".into()))
}
