//! The staff home: the newest clients, what clients said lately, and the newest conversations.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use portico_db::clients::{self, Client};
use portico_db::comments::{self, Comment};
use portico_db::messages;

use crate::kit::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::session::Signed;
use crate::page_cache::Kept;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/staff_home.html")]
pub(crate) struct HomePage {
    layout: Layout,
    data: Arc<HomeData>,
}

/// What the staff home shows besides the layout, kept while nothing in the firm changed.
pub(crate) struct HomeData {
    recent: Vec<Client>,
    from_clients: Vec<(String, Comment)>,
    conversations: Vec<messages::Listed>,
    unread_conversations: i64,
}

/// The staff home; on a repeat visit with nothing changed in the firm it costs the session
/// check alone.
pub(crate) async fn home(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<HomePage, AppError> {
    signed.require_staff()?;
    let c = &signed.chrome;
    let versions = [0, c.firm_data_version, c.firm_shared_version];
    let (db, viewer) = (&state.db, &signed.viewer);
    let data = state
        .pages
        .get_or_load(Kept::StaffHome, viewer, versions, || async {
            let filter = messages::ListFilter::default();
            Ok::<_, AppError>(HomeData {
                recent: clients::newest(db, viewer, 5).await?,
                from_clients: comments::from_clients_for_firm(db, viewer, 5).await?,
                conversations: messages::list(db, viewer, filter, 5).await?,
                unread_conversations: messages::unread_count(db, viewer).await?,
            })
        })
        .await?;
    Ok(HomePage {
        layout: Layout::new(&signed, "Home", paths::home(true)),
        data,
    })
}
