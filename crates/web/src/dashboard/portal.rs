//! The client's side of the portal.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use portico_core::Viewer;
use portico_db::firms::{self, QuickLink};
use portico_db::matters::{self, Matter};

use crate::kit::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::sections::{self, Card};
use crate::kit::session::Signed;
use crate::page_cache::Kept;
use crate::state::AppState;

fn client_of(signed: &Signed) -> Result<uuid::Uuid, AppError> {
    match signed.viewer {
        Viewer::Client { client_id, .. } => Ok(client_id),
        Viewer::Staff { .. } => Err(AppError::NotFound),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/portal_home.html")]
pub(crate) struct HomePage {
    layout: Layout,
    data: Arc<HomeData>,
}

/// What the dashboard shows besides the layout, kept while nothing in it changed.
pub(crate) struct HomeData {
    cards: Vec<Card>,
    quick_links: Vec<QuickLink>,
}

/// The client's dashboard: a card per section of the registry, then the firm's quick links.
/// On a repeat visit with nothing changed it costs the session check alone.
pub(crate) async fn home(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<HomePage, AppError> {
    client_of(&signed)?;
    let c = &signed.chrome;
    let versions = [c.client_version, 0, c.firm_shared_version];
    let data = state
        .pages
        .get_or_load(Kept::ClientDashboard, &signed.viewer, versions, || async {
            Ok::<_, AppError>(HomeData {
                cards: sections::cards(&state, &signed.viewer).await?,
                quick_links: firms::quick_links(&state.db, &signed.viewer).await?,
            })
        })
        .await?;
    Ok(HomePage {
        layout: Layout::new(&signed, "Home", paths::home(false)),
        data,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/portal_matters.html")]
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
        layout: Layout::new(&signed, "Matters", paths::portal_matters()),
        matters,
    })
}
