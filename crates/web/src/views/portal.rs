//! The client's side of the portal.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use portico_core::Viewer;
use portico_db::matters::{self, Matter};

use super::layout::Layout;
use super::parse_id;
use super::staff::MatterPage;
use crate::error::AppError;
use crate::session::Signed;
use crate::state::AppState;

fn client_of(signed: &Signed) -> Result<uuid::Uuid, AppError> {
    match signed.viewer {
        Viewer::Client { client_id, .. } => Ok(client_id),
        Viewer::Staff { .. } => Err(AppError::NotFound),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_home.html")]
pub(crate) struct HomePage {
    layout: Layout,
    matters: Vec<Matter>,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<HomePage, AppError> {
    let client_id = client_of(&signed)?;
    let mut matters = matters::for_client(&state.db, &signed.viewer, client_id).await?;
    matters.truncate(5);
    Ok(HomePage {
        layout: Layout::new(&signed, "Home", "/portal"),
        matters,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_matters.html")]
pub(crate) struct MattersPage {
    layout: Layout,
    matters: Vec<Matter>,
}

pub(crate) async fn matters(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<MattersPage, AppError> {
    let client_id = client_of(&signed)?;
    let matters = matters::for_client(&state.db, &signed.viewer, client_id).await?;
    Ok(MattersPage {
        layout: Layout::new(&signed, "Matters", "/portal/matters"),
        matters,
    })
}

pub(crate) async fn matter(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<MatterPage, AppError> {
    client_of(&signed)?;
    let matter = matters::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    Ok(MatterPage {
        layout: Layout::new(&signed, matter.title.clone(), "/portal/matters"),
        back_href: "/portal/matters".into(),
        back_label: "Matters".into(),
        matter,
    })
}
