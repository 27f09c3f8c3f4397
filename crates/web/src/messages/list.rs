//! Conversation lists with search, for both sides.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::Uri;
use portico_db::clients;
use portico_db::messages::{self, ListFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::conversation::LISTED;
use crate::kit::error::AppError;
use crate::kit::extract::{check_side, parse_id};
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::session::Signed;
use crate::state::AppState;

// ---------------------------------------------------------------- lists and search

pub(crate) struct Row {
    href: String,
    title: String,
    client_name: String,
    matter_title: Option<String>,
    when: String,
    unread: bool,
    people: String,
}

pub(crate) struct HitRow {
    href: String,
    title: String,
    client_name: String,
    author_name: String,
    excerpt: String,
    when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "messages/messages.html")]
pub(crate) struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    resolved: bool,
    query: String,
    hits: Option<Vec<HitRow>>,
    /// Staff looking at one client's conversations: the client.
    client: Option<(Uuid, String)>,
    new_href: Option<String>,
    base: &'static str,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, AppError> {
    check_side(&uri, &signed)?;
    let base = paths::messages(signed.viewer.is_staff());
    let mut layout = Layout::new(&signed, "Messages", base);
    let client = match (&q.client, signed.viewer.is_staff()) {
        (Some(raw), true) if !raw.is_empty() => {
            let c = clients::get(&state.db, &signed.viewer, parse_id(raw)?).await?;
            Some((c.id, c.name))
        }
        _ => None,
    };
    let resolved = q.resolved.as_deref() == Some("1");
    let filter = ListFilter {
        client_id: client.as_ref().map(|(id, _)| *id),
        resolved,
    };
    let listed = messages::list(&state.db, &signed.viewer, filter, LISTED).await?;
    let staff = signed.viewer.is_staff();
    let ids: Vec<Uuid> = listed.iter().map(|l| l.conversation.id).collect();
    let people = messages::participants(&state.db, &signed.viewer, &ids).await?;
    let rows = listed
        .iter()
        .map(|l| Row {
            people: people
                .iter()
                .filter(|(c, _, _)| *c == l.conversation.id)
                .map(|(_, name, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            href: paths::conversation(staff, l.conversation.id),
            title: l.conversation.title.clone(),
            client_name: l.client_name.clone(),
            matter_title: l.matter_title.clone(),
            when: layout.when(&l.conversation.last_message_at),
            unread: l.unread(),
        })
        .collect();
    let query = q.q.unwrap_or_default();
    let hits = if query.trim().is_empty() {
        None
    } else {
        let found = messages::search(&state.db, &signed.viewer, &query, LISTED).await?;
        Some(
            found
                .into_iter()
                .map(|h| HitRow {
                    href: format!(
                        "{}#m{}",
                        paths::conversation(staff, h.conversation_id),
                        h.seq
                    ),
                    title: h.title,
                    client_name: h.client_name,
                    author_name: h.author_name,
                    excerpt: crate::kit::sections::excerpt(&h.body, 160),
                    when: layout.when(&h.created_at),
                })
                .collect(),
        )
    };
    if resolved {
        layout.title = "Resolved conversations".into();
    }
    let new_href = match (&client, staff) {
        (Some((id, _)), true) => Some(paths::client_new_conversation(*id)),
        (None, true) => None,
        (_, false) if signed.by_link() => None,
        (_, false) => Some(paths::portal_new_conversation().into()),
    };
    Ok(ListPage {
        layout,
        rows,
        resolved,
        query,
        hits,
        client,
        new_href,
        base,
    })
}
