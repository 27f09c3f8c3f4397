//! Conversations and their messages over JSON, with the same permission checks as the pages.
//! Reading through the API does not mark anything read: read receipts mean a person read it.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use portico_db::messages::{self, ListFilter, NewConversation};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::kit::api::ApiError;
use crate::kit::api::ApiViewer;
use crate::kit::api::{origin, rfc3339};
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::request::ReqInfo;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub(crate) struct ConversationOut {
    id: Uuid,
    client_id: Uuid,
    matter_id: Option<Uuid>,
    title: String,
    /// The number of the newest message.
    last_seq: i64,
    last_message_at: String,
    resolved_at: Option<String>,
    created_at: String,
}

impl From<messages::Conversation> for ConversationOut {
    fn from(c: messages::Conversation) -> Self {
        ConversationOut {
            id: c.id,
            client_id: c.client_id,
            matter_id: c.matter_id,
            title: c.title,
            last_seq: c.last_seq,
            last_message_at: rfc3339(c.last_message_at),
            resolved_at: c.resolved_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AttachmentOut {
    file_id: Uuid,
    name: String,
    size: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct MessageOut {
    /// The message's number within its conversation, from 1.
    seq: i64,
    author_name: String,
    /// `staff` or `client`.
    author_side: String,
    /// Exactly as written; empty once deleted.
    body: String,
    created_at: String,
    edited_at: Option<String>,
    deleted_at: Option<String>,
    attachments: Vec<AttachmentOut>,
}

impl From<messages::Message> for MessageOut {
    fn from(m: messages::Message) -> Self {
        MessageOut {
            seq: m.seq,
            author_name: m.author_name,
            author_side: m.author_side,
            body: m.body,
            created_at: rfc3339(m.created_at),
            edited_at: m.edited_at.map(rfc3339),
            deleted_at: m.deleted_at.map(rfc3339),
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentOut {
                    file_id: a.file_id,
                    name: a.name,
                    size: a.size,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct ListParams {
    /// Only this client's conversations.
    #[serde(default)]
    client: Option<Uuid>,
    /// Resolved conversations instead of open ones.
    #[serde(default)]
    resolved: bool,
}

/// The firm's conversations, most recently active first (at most 200).
#[utoipa::path(get, path = "/api/v1/conversations", tag = "messages", params(ListParams),
    responses((status = 200, body = Vec<ConversationOut>), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Query(q): Query<ListParams>,
) -> Result<Json<Vec<ConversationOut>>, AppError> {
    let filter = ListFilter {
        client_id: q.client,
        resolved: q.resolved,
    };
    if let Some(client) = q.client {
        portico_db::clients::get(&state.db, &viewer, client).await?;
    }
    let list = messages::list(&state.db, &viewer, filter, 200).await?;
    Ok(Json(
        list.into_iter()
            .map(|l| ConversationOut::from(l.conversation))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewConversationIn {
    title: String,
    /// The first message: plain text, up to 20,000 characters.
    body: String,
    #[serde(default)]
    matter_id: Option<Uuid>,
    /// User ids of the client's portal users it is for; empty or absent: all of them.
    #[serde(default)]
    recipients: Vec<Uuid>,
}

/// Starts a conversation with a client; the people it is for are notified.
#[utoipa::path(post, path = "/api/v1/clients/{id}/conversations", tag = "messages", params(("id" = Uuid, Path)),
    request_body = NewConversationIn,
    responses((status = 201, body = ConversationOut), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn start(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Id(id): Id,
    Json(input): Json<NewConversationIn>,
) -> Result<(StatusCode, Json<ConversationOut>), AppError> {
    let origin = origin(&state, &viewer, &info).await?;
    let new = NewConversation {
        client_id: Some(id),
        matter_id: input.matter_id,
        title: input.title,
        body: input.body,
        recipients: input.recipients,
    };
    let (c, _) = messages::start(&state.db, &viewer, &new, &origin).await?;
    state.jobs_waiting.notify_one();
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct PageParams {
    /// Messages numbered below this (from the previous page's `next_before`); absent: newest.
    #[serde(default)]
    before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct MessagePage {
    conversation: ConversationOut,
    /// Oldest first.
    messages: Vec<MessageOut>,
    /// Pass as `before` for the page before this one; absent on the first page.
    next_before: Option<i64>,
}

/// A page of a conversation's messages, by number: the same cost on any page.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "messages",
    params(("id" = Uuid, Path), PageParams),
    responses((status = 200, body = MessagePage), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn page(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Id(id): Id,
    Query(q): Query<PageParams>,
) -> Result<Json<MessagePage>, AppError> {
    let conversation = messages::get(&state.db, &viewer, id).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let list = messages::page(&state.db, &conversation, q.before, limit).await?;
    let seqs = list.first().zip(list.last()).map(|(a, b)| (a.seq, b.seq));
    let origin = origin(&state, &viewer, &info).await?;
    crate::messages::record_read(&state, &viewer, &origin, &conversation, seqs).await?;
    let next_before = list.first().map(|m| m.seq).filter(|s| *s > 1);
    Ok(Json(MessagePage {
        conversation: conversation.into(),
        messages: list.into_iter().map(MessageOut::from).collect(),
        next_before,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplyIn {
    /// Plain text, up to 20,000 characters.
    body: String,
}

/// Replies in a conversation as the firm; the client's people in it are notified.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages", params(("id" = Uuid, Path)),
    request_body = ReplyIn,
    responses((status = 201, body = MessageOut), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn reply(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    info: ReqInfo,
    Id(id): Id,
    Json(input): Json<ReplyIn>,
) -> Result<(StatusCode, Json<MessageOut>), AppError> {
    let origin = origin(&state, &viewer, &info).await?;
    let m = messages::reply(&state.db, &viewer, id, &input.body, &[], &origin).await?;
    state.jobs_waiting.notify_one();
    Ok((StatusCode::CREATED, Json(m.into())))
}
