//! Forms sent to clients, as lists on both sides, and sending one (staff).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::forms::{self, Assignment, Send};
use portico_db::{DbError, clients, matters};
use serde::Deserialize;
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

// ---- lists and sending -----------------------------------------------------------------------

pub(crate) struct ListRow {
    pub a: Assignment,
    pub href: String,
    pub status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/forms.html")]
pub(crate) struct ListPage {
    layout: Layout,
    heading: String,
    back: Option<(String, String)>,
    rows: Vec<ListRow>,
    /// Staff on a client's page: where to send a form, the templates and the client's matters.
    send_action: Option<String>,
    templates: Vec<forms::Template>,
    matters: Vec<matters::Matter>,
    /// Staff on a template's page: the CSV export.
    export: Option<String>,
    show_client: bool,
    error: Option<String>,
}

pub(super) fn rows(list: Vec<Assignment>, staff: bool, layout: &Layout) -> Vec<ListRow> {
    list.into_iter()
        .map(|a| ListRow {
            href: paths::form(staff, a.id),
            status: match (&a.submitted_at, a.saved_at, a.review_comment.is_empty()) {
                (Some(t), _, _) => format!(
                    "Submitted {} by {}",
                    layout.when(t),
                    a.submitted_by_name.as_deref().unwrap_or("the client")
                ),
                (None, _, false) => "Changes requested".into(),
                (None, Some(t), _) => format!("In progress, saved {}", layout.when(&t)),
                (None, None, _) => "Not started".into(),
            },
            a,
        })
        .collect()
}

async fn client_list(
    state: &AppState,
    signed: &Signed,
    client_id: Uuid,
) -> Result<ListPage, AppError> {
    let viewer = &signed.viewer;
    let client = clients::get(&state.db, viewer, client_id).await?;
    let staff = viewer.is_staff();
    let list = forms::for_client(&state.db, viewer, client.id).await?;
    let layout = if staff {
        Layout::new(
            signed,
            format!("Forms of {}", client.name),
            paths::clients(),
        )
    } else {
        Layout::new(signed, "Forms", paths::portal_forms())
    };
    Ok(ListPage {
        heading: if staff {
            format!("Forms of {}", client.name)
        } else {
            "Forms".into()
        },
        back: staff.then(|| (paths::client(client.id), client.name.clone())),
        rows: rows(list, staff, &layout),
        send_action: staff.then(|| paths::client_forms(client.id)),
        templates: if staff {
            forms::templates(&state.db, viewer).await?
        } else {
            Vec::new()
        },
        matters: if staff {
            matters::for_client(&state.db, viewer, client.id).await?
        } else {
            Vec::new()
        },
        export: None,
        show_client: false,
        error: None,
        layout,
    })
}

pub(crate) async fn portal_list(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<ListPage, AppError> {
    let client = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    client_list(&state, &signed, client).await
}

pub(crate) async fn staff_list(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<ListPage, AppError> {
    signed.require_staff()?;
    client_list(&state, &signed, id).await
}

/// Staff: everyone a template was sent to, with the CSV export.
pub(crate) async fn sent(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<ListPage, AppError> {
    signed.require_staff()?;
    let (template, _) = forms::template(&state.db, &signed.viewer, id).await?;
    let list = forms::for_template(&state.db, &signed.viewer, id).await?;
    let layout = Layout::new(&signed, template.title.clone(), paths::forms());
    Ok(ListPage {
        heading: format!("“{}”: sent and submitted", template.title),
        back: Some((paths::form_template(id), template.title.clone())),
        rows: rows(list, true, &layout),
        send_action: None,
        templates: Vec::new(),
        matters: Vec::new(),
        export: Some(paths::form_export(id)),
        show_client: true,
        error: None,
        layout,
    })
}

#[derive(Deserialize)]
pub(crate) struct SendForm {
    template: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    due_on: String,
}

pub(crate) async fn send(
    State(state): State<AppState>,
    Id(client): Id,
    info: ReqInfo,
    posted: Posted<SendForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let f = &posted.form;
    let s = Send {
        template_id: parse_id(&f.template)?,
        client_id: client,
        matter_id: match f.matter.as_str() {
            "" => None,
            raw => Some(parse_id(raw)?),
        },
        due_on: f.due_on.clone(),
    };
    match forms::send(&state.db, &signed.viewer, &s, &info.by(signed)).await {
        Ok(_) => {
            state.jobs_waiting.notify_one();
            Ok(Redirect::to(&paths::client_forms(client)).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = client_list(&state, signed, client).await?;
            p.error = Some(e.message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
