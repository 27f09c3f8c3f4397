//! One conversation: its history a page at a time, read receipts, the people in it, and how
//! a message is shown.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::messages::{self, Conversation, Member, Message};
use portico_db::{DbError, clients, matters};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::check_side;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// Messages per page of a conversation.
pub(super) const PAGE: i64 = 50;
/// Conversations a list shows.
pub(super) const LISTED: i64 = 100;

/// One message as a page shows it.
pub(crate) struct Shown {
    pub seq: i64,
    pub author_name: String,
    pub side: String,
    pub mine: bool,
    pub html: String,
    pub body: String,
    pub when: String,
    pub edited: bool,
    pub deleted: Option<String>,
    pub receipt: Option<String>,
    pub can_edit: bool,
    pub can_delete: bool,
    /// The conversation's address on the viewer's side, for the edit and delete forms.
    pub base: String,
    pub csrf: String,
    /// Sent files: where to download, name, size.
    pub attachments: Vec<(String, String, String)>,
}

pub(super) fn show(
    signed: &Signed,
    layout: &Layout,
    m: &Message,
    members: &[Member],
    marks: &[messages::ReadMark],
    base: &str,
) -> Shown {
    let mine = m.author_user_id == signed.viewer.user_id();
    let deleted = m.deleted_at.map(|at| {
        format!(
            "Deleted by {} on {}",
            m.deleted_by_name.as_deref().unwrap_or("the firm"),
            layout.when(&at)
        )
    });
    // Who on the other side has read it, and when they first did.
    let mut readers: Vec<(Uuid, String, time::OffsetDateTime)> = Vec::new();
    for r in marks
        .iter()
        .filter(|r| r.up_to_seq >= m.seq && r.side != m.author_side)
    {
        if !readers.iter().any(|(id, _, _)| *id == r.user_id) {
            readers.push((r.user_id, r.name.clone(), r.read_at));
        }
    }
    let receipt = if readers.is_empty() || deleted.is_some() {
        None
    } else if signed.viewer.is_staff() {
        Some(format!(
            "Read by {}",
            readers
                .iter()
                .map(|(_, name, at)| format!("{name} ({})", layout.when(at)))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else if m.author_side == "client" && signed.chrome.client_read_receipts {
        Some(format!(
            "Read by the firm on {}",
            layout.when(&readers[0].2)
        ))
    } else {
        None
    };
    let read_by_other_side = members
        .iter()
        .any(|x| x.side != m.author_side && x.read_seq >= m.seq);
    Shown {
        seq: m.seq,
        author_name: m.author_name.clone(),
        side: m.author_side.clone(),
        mine,
        html: crate::kit::rich::to_html(&m.body),
        body: m.body.clone(),
        when: layout.when(&m.created_at),
        edited: m.edited_at.is_some(),
        can_edit: mine && deleted.is_none() && !read_by_other_side && !signed.by_link(),
        can_delete: signed.viewer.is_staff() && deleted.is_none(),
        deleted,
        receipt,
        base: base.to_string(),
        csrf: signed.session.csrf_token.clone(),
        attachments: m
            .attachments
            .iter()
            .map(|a| {
                (
                    format!("/files/{}", a.file_id),
                    a.name.clone(),
                    crate::kit::layout::human_size(a.size),
                )
            })
            .collect(),
    }
}

// ---------------------------------------------------------------- one conversation

#[derive(Template, WebTemplate)]
#[template(path = "messages/conversation.html")]
pub(crate) struct ConversationPage {
    layout: Layout,
    conversation: Conversation,
    base: String,
    back_href: String,
    client_name: String,
    matter: Option<(String, String)>,
    members: Vec<Member>,
    shown: Vec<Shown>,
    earlier: Option<String>,
    newest: bool,
    error: Option<String>,
    draft: String,
    /// The client's people who could be added: (user id, name).
    addable: Vec<(Uuid, String)>,
}

#[derive(Template)]
#[template(path = "messages/message_fragment.html")]
pub(super) struct Fragment<'a> {
    pub(super) m: &'a Shown,
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    before: Option<i64>,
}

/// The conversation again (422), saying what was refused above the reply form and keeping
/// the reply that was being written, so nothing typed is lost.
pub(super) async fn refused(
    state: &AppState,
    signed: &Signed,
    id: Uuid,
    message: String,
    draft: String,
) -> Result<Response, AppError> {
    let mut p = conversation_page(state, signed, id, None).await?;
    p.error = Some(message);
    p.draft = draft;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
}

pub(super) async fn conversation_page(
    state: &AppState,
    signed: &Signed,
    id: Uuid,
    before: Option<i64>,
) -> Result<ConversationPage, AppError> {
    let viewer = &signed.viewer;
    let conversation = messages::get(&state.db, viewer, id).await?;
    let list = messages::page(&state.db, &conversation, before, PAGE).await?;
    let newest = before.is_none_or(|b| b > conversation.last_seq);
    let mut marked = false;
    if newest
        && let Some(last) = list.last()
        && last.seq > conversation.read_seq
    {
        messages::mark_read(&state.db, viewer, &conversation, last.seq).await?;
        marked = true;
    }
    let members = messages::members(&state.db, &conversation).await?;
    let from = list.first().map(|m| m.seq).unwrap_or(0);
    let marks = messages::read_marks(&state.db, &conversation, from).await?;
    let staff = viewer.is_staff();
    let base = paths::conversation(staff, conversation.id);
    let mut layout = Layout::new(signed, conversation.title.clone(), paths::messages(staff));
    if marked {
        // Reading may have read notifications too: the header counts what is left.
        layout.unread_notifications = portico_db::notifications::unread(&state.db, viewer).await?;
    }
    let shown = list
        .iter()
        .map(|m| show(signed, &layout, m, &members, &marks, &base))
        .collect();
    let client = clients::get(&state.db, viewer, conversation.client_id).await?;
    let addable = if signed.by_link() {
        Vec::new()
    } else {
        clients::portal_users(&state.db, viewer, client.id)
            .await?
            .into_iter()
            .filter(|u| u.active && !members.iter().any(|m| m.user_id == u.user_id))
            .map(|u| (u.user_id, u.name))
            .collect()
    };
    let matter = match conversation.matter_id {
        Some(mid) => {
            let m = matters::get(&state.db, viewer, mid).await?;
            Some((paths::matter(staff, m.id), m.title))
        }
        None => None,
    };
    let back_href = if staff {
        paths::client_messages(client.id)
    } else {
        paths::messages(false).into()
    };
    Ok(ConversationPage {
        layout,
        earlier: (from > 1).then(|| format!("{base}?before={from}")),
        conversation,
        base,
        back_href,
        client_name: client.name,
        matter,
        members,
        shown,
        newest,
        error: None,
        draft: String::new(),
        addable,
    })
}

/// Adds people of the client to a conversation, from either side.
pub(crate) async fn add_people(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    uri: Uri,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    let conversation = messages::get(&state.db, &signed.viewer, id).await?;
    let mut people = Vec::new();
    for (_, v) in posted.form.iter().filter(|(k, _)| k == "to") {
        people.push(
            Uuid::parse_str(v)
                .map_err(|_| AppError::Invalid("The people to add could not be read.".into()))?,
        );
    }
    let origin = info.by(signed);
    match messages::add_people(&state.db, &signed.viewer, &conversation, &people, &origin).await {
        Ok(_) => {
            state.jobs_waiting.notify_one();
            let to = paths::conversation(signed.viewer.is_staff(), conversation.id);
            Ok(Redirect::to(&to).into_response())
        }
        Err(DbError::Invalid(e)) => {
            refused(&state, signed, conversation.id, e.message, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn view(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    uri: Uri,
    Id(id): Id,
    Query(q): Query<PageQuery>,
) -> Result<ConversationPage, AppError> {
    check_side(&uri, &signed)?;
    let page = conversation_page(&state, &signed, id, q.before).await?;
    let shown = (page.shown.first(), page.shown.last());
    let seqs = match shown {
        (Some(a), Some(b)) => Some((a.seq, b.seq)),
        _ => None,
    };
    record_read(
        &state,
        &signed.viewer,
        &info.by(&signed),
        &page.conversation,
        seqs,
    )
    .await?;
    Ok(page)
}

/// Notes that `viewer` read messages `seqs` (first, last) of a conversation: an audit event
/// for anyone, and for staff an entry in the client's "who opened what". Reading a message is
/// a sensitive read, like downloading a file.
pub(crate) async fn record_read(
    state: &AppState,
    viewer: &portico_core::Viewer,
    origin: &portico_db::audit::Origin,
    conversation: &Conversation,
    seqs: Option<(i64, i64)>,
) -> Result<(), AppError> {
    let detail = match seqs {
        Some((from, to)) => format!("messages={from}-{to}"),
        None => "messages=none".into(),
    };
    let event = portico_db::audit::Event::new(Some(conversation.firm_id), "message.read")
        .object(messages::ITEM, conversation.id)
        .detail(detail);
    let item = portico_db::access_log::Item {
        client_id: conversation.client_id,
        item_type: messages::ITEM,
        item_id: conversation.id,
        label: &conversation.title,
    };
    portico_db::access_log::opened(&state.db, viewer, origin, event, item).await?;
    Ok(())
}
