//! New conversations, started by staff for a client or by a client with the firm.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::messages::{self, NewConversation};
use portico_db::{DbError, clients, matters};
use uuid::Uuid;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

// ---------------------------------------------------------------- new conversations

pub(crate) struct Person {
    id: Uuid,
    label: String,
    checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "messages/message_new.html")]
pub(crate) struct NewPage {
    layout: Layout,
    action: String,
    back_href: String,
    client_name: String,
    matters: Vec<matters::Matter>,
    matter_id: String,
    people: Vec<Person>,
    people_label: &'static str,
    error: Option<String>,
    title: String,
    body: String,
}

async fn new_page(
    state: &AppState,
    signed: &Signed,
    client_id: Uuid,
    chosen: Option<&[Uuid]>,
) -> Result<NewPage, AppError> {
    let viewer = &signed.viewer;
    let staff = viewer.is_staff();
    let client = clients::get(&state.db, viewer, client_id).await?;
    let matters = matters::for_client(&state.db, viewer, client.id).await?;
    let people = clients::portal_users(&state.db, viewer, client.id)
        .await?
        .into_iter()
        .filter(|u| u.active && u.user_id != viewer.user_id())
        .map(|u| Person {
            checked: chosen.map_or(staff, |c| c.contains(&u.user_id)),
            label: format!("{} ({})", u.name, u.email),
            id: u.user_id,
        })
        .collect();
    let (action, back_href) = if staff {
        (
            paths::client_start_conversation(client.id),
            paths::client_messages(client.id),
        )
    } else {
        (
            paths::messages(false).to_string(),
            paths::messages(false).to_string(),
        )
    };
    Ok(NewPage {
        layout: Layout::new(signed, "New conversation", paths::messages(staff)),
        action,
        back_href,
        client_name: client.name,
        matters,
        matter_id: String::new(),
        people,
        people_label: if staff { "Send to" } else { "Copy colleagues" },
        error: None,
        title: String::new(),
        body: String::new(),
    })
}

pub(crate) async fn staff_new(
    State(state): State<AppState>,
    signed: Signed,
    Id(client): Id,
) -> Result<NewPage, AppError> {
    signed.require_staff()?;
    new_page(&state, &signed, client, None).await
}

pub(crate) async fn portal_new(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<NewPage, AppError> {
    let client = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    if signed.by_link() {
        return Err(AppError::NotFound);
    }
    new_page(&state, &signed, client, None).await
}

/// The form, read as pairs because "to" repeats (one per person ticked).
async fn create(
    state: &AppState,
    info: &ReqInfo,
    signed: &Signed,
    client_id: Uuid,
    pairs: &[(String, String)],
) -> Result<Response, AppError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut recipients = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "to") {
        recipients.push(
            Uuid::parse_str(v).map_err(|_| {
                AppError::Invalid("The people to send to could not be read.".into())
            })?,
        );
    }
    let matter_id = match field("matter").as_str() {
        "" => None,
        raw => Some(parse_id(raw)?),
    };
    let new = NewConversation {
        client_id: Some(client_id),
        matter_id,
        title: field("title"),
        body: field("body"),
        recipients: recipients.clone(),
    };
    match messages::start(&state.db, &signed.viewer, &new, &info.by(signed)).await {
        Ok((c, _)) => {
            state.jobs_waiting.notify_one();
            Ok(Redirect::to(&paths::conversation(signed.viewer.is_staff(), c.id)).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = new_page(state, signed, client_id, Some(&recipients)).await?;
            p.error = Some(e.message);
            p.title = new.title;
            p.body = new.body;
            p.matter_id = field("matter");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn staff_create(
    State(state): State<AppState>,
    Id(client): Id,
    info: ReqInfo,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    posted.signed.require_staff()?;
    create(&state, &info, &posted.signed, client, &posted.form).await
}

pub(crate) async fn portal_create(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let client = posted
        .signed
        .viewer
        .client_scope()
        .ok_or(AppError::NotFound)?;
    if posted.signed.by_link() {
        return Err(AppError::NotFound);
    }
    create(&state, &info, &posted.signed, client, &posted.form).await
}
