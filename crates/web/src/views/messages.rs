//! Secure messages, both sides: conversation lists with search, a conversation with its
//! history, replies, edits and deletions, new conversations, and the live stream that adds new
//! messages to an open conversation.

use std::collections::VecDeque;
use std::convert::Infallible;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::Stream;
use portico_db::messages::{self, Conversation, ListFilter, Member, Message, NewConversation};
use portico_db::{DbError, clients, matters};
use serde::Deserialize;
use uuid::Uuid;

use super::layout::Layout;
use super::{check_side, parse_id};
use crate::error::AppError;
use crate::forms::{Posted, multipart_csrf, multipart_text};
use crate::paths;
use crate::request::ReqInfo;
use crate::session::{self, Signed};
use crate::state::AppState;

/// Messages per page of a conversation.
const PAGE: i64 = 50;
/// Conversations a list shows.
const LISTED: i64 = 100;

fn list_href(signed: &Signed) -> &'static str {
    if signed.viewer.is_staff() {
        "/staff/messages"
    } else {
        "/portal/messages"
    }
}

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

fn show(
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
        html: crate::rich::to_html(&m.body),
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
                    super::files::human_size(a.size),
                )
            })
            .collect(),
    }
}

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
#[template(path = "messages.html")]
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
    let base = list_href(&signed);
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
                    excerpt: crate::dashboard::excerpt(&h.body, 160),
                    when: layout.when(&h.created_at),
                })
                .collect(),
        )
    };
    if resolved {
        layout.title = "Resolved conversations".into();
    }
    let new_href = match (&client, staff) {
        (Some((id, _)), true) => Some(format!("/staff/clients/{id}/messages/new")),
        (None, true) => None,
        (_, false) if signed.by_link() => None,
        (_, false) => Some("/portal/messages/new".into()),
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

// ---------------------------------------------------------------- one conversation

#[derive(Template, WebTemplate)]
#[template(path = "conversation.html")]
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
#[template(path = "message_fragment.html")]
struct Fragment<'a> {
    m: &'a Shown,
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    before: Option<i64>,
}

async fn conversation_page(
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
    let mut layout = Layout::new(signed, conversation.title.clone(), list_href(signed));
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
            let side = if staff { "staff" } else { "portal" };
            Some((format!("/{side}/matters/{}", m.id), m.title))
        }
        None => None,
    };
    let back_href = if staff {
        format!("/staff/messages?client={}", client.id)
    } else {
        "/portal/messages".into()
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
    Path(id): Path<String>,
    info: ReqInfo,
    uri: Uri,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    let conversation = messages::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
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
            let mut p = conversation_page(&state, signed, conversation.id, None).await?;
            p.error = Some(e.message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn view(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<ConversationPage, AppError> {
    check_side(&uri, &signed)?;
    let page = conversation_page(&state, &signed, parse_id(&id)?, q.before).await?;
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
    portico_db::audit::record(&state.db, origin, event).await?;
    let item = portico_db::access_log::Item {
        client_id: conversation.client_id,
        item_type: messages::ITEM,
        item_id: conversation.id,
        label: &conversation.title,
    };
    portico_db::access_log::record(&state.db, viewer, item).await?;
    Ok(())
}

#[derive(Deserialize)]
pub(crate) struct BodyForm {
    body: String,
}

pub(crate) async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    info: ReqInfo,
    uri: Uri,
    posted: Posted<BodyForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    let id = parse_id(&id)?;
    let origin = info.by(signed);
    match messages::reply(
        &state.db,
        &signed.viewer,
        id,
        &posted.form.body,
        &[],
        &origin,
    )
    .await
    {
        Ok(m) => {
            state.jobs_waiting.notify_one();
            let to = format!(
                "{}#m{}",
                paths::conversation(signed.viewer.is_staff(), id),
                m.seq
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = conversation_page(&state, signed, id, None).await?;
            p.error = Some(e.message);
            p.draft = posted.form.body.clone();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The page's reply form: text and files together, as multipart. The form's token comes
/// first; files stream into storage as they arrive and are recorded with the message, or
/// removed again if the message is refused.
pub(crate) async fn reply_upload(
    State(state): State<AppState>,
    info: ReqInfo,
    signed: Signed,
    uri: Uri,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    check_side(&uri, &signed)?;
    let id = parse_id(&id)?;
    // Nothing is read, let alone stored, for a conversation the person cannot see.
    messages::get(&state.db, &signed.viewer, id).await?;
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(AppError::Invalid(
            "Send the reply with the form on the page.".into(),
        ));
    }
    let mut form = Multipart::from_request(req, &state)
        .await
        .map_err(|_| AppError::Invalid("The reply could not be read.".into()))?;
    let mut checked = false;
    let mut body = String::new();
    let mut stored = Vec::new();
    let read: Result<(), AppError> = async {
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|_| AppError::Invalid("The reply was cut off. Please try again.".into()))?
        {
            match field.name() {
                Some("csrf") => {
                    multipart_csrf(&signed, field).await?;
                    checked = true;
                }
                _ if !checked => return Err(AppError::Csrf),
                Some("body") => {
                    let too_long = format!(
                        "The message is longer than {} characters. Shorten it, or send it in parts.",
                        messages::MAX_BODY_CHARS
                    );
                    body = multipart_text(field, messages::MAX_BODY_CHARS * 4, &too_long).await?;
                }
                Some("file") => {
                    if field.file_name().is_none_or(str::is_empty) {
                        continue;
                    }
                    if stored.len() >= messages::MAX_ATTACHMENTS {
                        return Err(AppError::Invalid(format!(
                            "Attach at most {} files to one message.",
                            messages::MAX_ATTACHMENTS
                        )));
                    }
                    stored.push(super::files::store_field(&state, &signed.viewer, field).await?);
                }
                _ => {}
            }
        }
        if checked { Ok(()) } else { Err(AppError::Csrf) }
    }
    .await;
    let forget = |stored: Vec<(super::files::NewFileOwned, String)>| {
        let storage = state.storage.clone();
        async move {
            for (_, key) in stored {
                let _ = storage.delete(&key).await;
            }
        }
    };
    if let Err(e) = read {
        forget(stored).await;
        return Err(e);
    }
    let news: Vec<_> = stored.iter().map(|(f, _)| f.as_new()).collect();
    let result = messages::reply(
        &state.db,
        &signed.viewer,
        id,
        &body,
        &news,
        &info.by(&signed),
    )
    .await;
    drop(news);
    match result {
        Ok(m) => {
            state.jobs_waiting.notify_one();
            let to = format!(
                "{}#m{}",
                paths::conversation(signed.viewer.is_staff(), id),
                m.seq
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            forget(stored).await;
            match e {
                DbError::Invalid(e) => {
                    let mut p = conversation_page(&state, &signed, id, None).await?;
                    p.error = Some(e.message);
                    p.draft = body;
                    Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
                }
                e => Err(e.into()),
            }
        }
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, i64)>,
    info: ReqInfo,
    uri: Uri,
    posted: Posted<BodyForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    check_side(&uri, signed)?;
    if signed.by_link() {
        return Err(AppError::NotFound);
    }
    let conversation = messages::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    let origin = info.by(signed);
    match messages::edit(
        &state.db,
        &signed.viewer,
        &conversation,
        seq,
        &posted.form.body,
        &origin,
    )
    .await
    {
        Ok(()) => {
            let to = format!(
                "{}#m{seq}",
                paths::conversation(signed.viewer.is_staff(), conversation.id)
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = conversation_page(&state, signed, conversation.id, None).await?;
            p.error = Some(e.message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct Nothing {}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, i64)>,
    info: ReqInfo,
    posted: Posted<Nothing>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    if !signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    let conversation = messages::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    messages::delete(
        &state.db,
        &signed.viewer,
        &conversation,
        seq,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/messages/{}#m{seq}", conversation.id)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ResolveForm {
    resolved: bool,
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    info: ReqInfo,
    posted: Posted<ResolveForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let id = parse_id(&id)?;
    messages::set_resolved(
        &state.db,
        &signed.viewer,
        id,
        posted.form.resolved,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/messages/{id}")).into_response())
}

// ---------------------------------------------------------------- new conversations

pub(crate) struct Person {
    id: Uuid,
    label: String,
    checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "message_new.html")]
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
            format!("/staff/clients/{}/messages", client.id),
            format!("/staff/messages?client={}", client.id),
        )
    } else {
        (
            "/portal/messages".to_string(),
            "/portal/messages".to_string(),
        )
    };
    Ok(NewPage {
        layout: Layout::new(signed, "New conversation", list_href(signed)),
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
    Path(client): Path<String>,
) -> Result<NewPage, AppError> {
    if !signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    new_page(&state, &signed, parse_id(&client)?, None).await
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
    Path(client): Path<String>,
    info: ReqInfo,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    if !posted.signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    create(
        &state,
        &info,
        &posted.signed,
        parse_id(&client)?,
        &posted.form,
    )
    .await
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

// ---------------------------------------------------------------- live

#[derive(Deserialize)]
pub(crate) struct LiveQuery {
    #[serde(default)]
    after: i64,
}

/// How long a stream trusts its last check of the session and the conversation: a person
/// signed out, removed or closed out stops receiving within this time.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

struct Live {
    state: AppState,
    hash: Vec<u8>,
    id: Uuid,
    after: i64,
    /// The person's read mark as this stream last knew it.
    read: i64,
    checked: Option<(std::time::Instant, Signed, Conversation)>,
    queue: VecDeque<Event>,
}

impl Live {
    /// Reads what arrived since the last message sent, as the person may see it now; `false`
    /// once they may not (signed out, removed, portal closed).
    async fn refresh(&mut self, woken_by: u64) -> bool {
        let db = &self.state.db;
        if self
            .checked
            .as_ref()
            .is_none_or(|(at, _, _)| at.elapsed() >= RECHECK)
        {
            self.checked = None;
            let Ok(Some(signed)) = session::by_hash(&self.state, &self.hash).await else {
                return false;
            };
            let Ok(conversation) = messages::get(db, &signed.viewer, self.id).await else {
                return false;
            };
            self.read = self.read.max(conversation.read_seq);
            self.checked = Some((std::time::Instant::now(), signed, conversation));
        }
        let Some((_, signed, conversation)) = &self.checked else {
            return false;
        };
        let Ok(list) = self
            .state
            .live
            .messages_after(db, conversation, self.after, PAGE, woken_by)
            .await
        else {
            return false;
        };
        let Some(last) = list.last().map(|m| m.seq) else {
            return true;
        };
        let layout = Layout::new(signed, "", "");
        let base = paths::conversation(signed.viewer.is_staff(), conversation.id);
        for m in list.iter() {
            // Just arrived: nobody on the other side has read it yet.
            let shown = show(signed, &layout, m, &[], &[], &base);
            let html = Fragment { m: &shown }.render().unwrap_or_default();
            self.queue.push_back(
                Event::default()
                    .event("message")
                    .id(m.seq.to_string())
                    .data(html),
            );
        }
        self.after = last;
        // Shown on an open page: read. (Another of the person's pages may have said so already.)
        if last > self.read
            && self
                .state
                .live
                .claim_read_mark(conversation.id, signed.viewer.user_id(), last)
        {
            let mut seen = conversation.clone();
            seen.last_seq = last;
            match messages::mark_read(db, &signed.viewer, &seen, last).await {
                Ok(()) => self.read = last,
                Err(e) => tracing::warn!(error = %e, "could not mark streamed messages read"),
            }
        }
        true
    }
}

/// The open conversation's stream of new messages (Server-Sent Events). The browser's
/// `Last-Event-ID` resumes after a dropped connection.
pub(crate) async fn live(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LiveQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let conversation = messages::get(&state.db, &signed.viewer, parse_id(&id)?).await?;
    let hash = session::session_hash(&headers, &state.config).ok_or(AppError::NotFound)?;
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let subscription = state.live.subscribe();
    let mut live = Live {
        state,
        hash,
        id: conversation.id,
        after: resumed.unwrap_or(q.after).max(0),
        read: 0,
        checked: None,
        queue: VecDeque::new(),
    };
    // Whatever arrived between the page and this stream goes first.
    let open = live.refresh(subscription.heard()).await;
    let stream = futures_util::stream::unfold(
        (live, open, subscription),
        |(mut live, mut open, mut sub)| async move {
            loop {
                if let Some(e) = live.queue.pop_front() {
                    return Some((Ok(e), (live, open, sub)));
                }
                if !open {
                    return None;
                }
                // Woken at the latest when the session would idle out: the check in
                // `refresh` then ends the stream.
                let until = live
                    .checked
                    .as_ref()
                    .map_or_else(portico_db::now, |(_, signed, _)| signed.ends_at());
                let woken_by = sub.wait_for_until(live.id, until).await?;
                open = live.refresh(woken_by).await;
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
