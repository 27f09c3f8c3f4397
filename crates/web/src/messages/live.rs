//! The live stream that adds new messages to an open conversation.

use std::collections::VecDeque;
use std::convert::Infallible;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use portico_db::messages::{self, Conversation};
use serde::Deserialize;
use uuid::Uuid;

use super::conversation::{Fragment, PAGE, show};
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::session::{self, Signed};
use crate::state::AppState;

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
    Id(id): Id,
    Query(q): Query<LiveQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let conversation = messages::get(&state.db, &signed.viewer, id).await?;
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
