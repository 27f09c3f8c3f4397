//! "Who opened what": when firm staff opened a client's items. The client reads their own
//! (unless the firm turned it off); staff read any client's from the client's page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use portico_db::Page;
use portico_db::access_log::{self, Opened};
use portico_db::clients;
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::session::Signed;
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "clients/access_log.html")]
pub(crate) struct AccessLogPage {
    layout: Layout,
    heading: String,
    back: Option<(String, String)>,
    entries: Vec<Opened>,
    page: u32,
    has_more: bool,
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: Option<u32>,
}

async fn load(
    state: &AppState,
    signed: &Signed,
    client_id: uuid::Uuid,
    page: u32,
) -> Result<(Vec<Opened>, bool), AppError> {
    // One more than a page tells whether there is a next one.
    let mut window = Page::new(page, PAGE_SIZE);
    window.limit += 1;
    let mut entries = access_log::for_client(&state.db, &signed.viewer, client_id, window).await?;
    let has_more = entries.len() > PAGE_SIZE as usize;
    entries.truncate(PAGE_SIZE as usize);
    Ok((entries, has_more))
}

/// The client's own log.
pub(crate) async fn portal(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<PageQuery>,
) -> Result<AccessLogPage, AppError> {
    let client_id = signed.viewer.client_scope().ok_or(AppError::NotFound)?;
    let page = q.page.unwrap_or(1).max(1);
    let (entries, has_more) = load(&state, &signed, client_id, page).await?;
    Ok(AccessLogPage {
        layout: Layout::new(&signed, "Who opened what", paths::portal_access_log()),
        heading: "When the firm opened your items".into(),
        back: None,
        entries,
        page,
        has_more,
    })
}

/// One client's log, for staff.
pub(crate) async fn staff(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
    Query(q): Query<PageQuery>,
) -> Result<AccessLogPage, AppError> {
    signed.require_staff()?;
    let client = clients::get(&state.db, &signed.viewer, id).await?;
    let page = q.page.unwrap_or(1).max(1);
    let (entries, has_more) = load(&state, &signed, client.id, page).await?;
    Ok(AccessLogPage {
        layout: Layout::new(&signed, "Who opened what", paths::clients()),
        heading: format!("Who at the firm opened {}'s items", client.name),
        back: Some((paths::client(client.id), client.name)),
        entries,
        page,
        has_more,
    })
}
