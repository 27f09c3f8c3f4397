//! The person's notifications: the in-app list with its unread count, and the live stream
//! that keeps the count in the page header current.

use std::convert::Infallible;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::Stream;
use portico_db::notifications;

use super::notices;
use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::layout::Layout;
use crate::kit::posted::Posted;
use crate::kit::session::{self, Signed};
use crate::state::AppState;

/// How many notifications the list shows.
const SHOWN: i64 = 100;

#[derive(Template, WebTemplate)]
#[template(path = "notifications/notifications.html")]
pub(crate) struct NotificationsPage {
    layout: Layout,
    list: Vec<Listed>,
}

/// One notification as the list shows it.
pub(crate) struct Listed {
    sentence: String,
    href: String,
    unread: bool,
    when: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<NotificationsPage, AppError> {
    let layout = Layout::new(&signed, "Notifications", "/notifications");
    let list = notifications::list(&state.db, &signed.viewer, SHOWN)
        .await?
        .into_iter()
        .map(|n| Listed {
            sentence: notices::sentence(&n.about).to_string(),
            href: notices::address(&n.about, signed.viewer.is_staff()),
            unread: n.read_at.is_none(),
            when: layout.when(&n.created_at),
        })
        .collect();
    Ok(NotificationsPage { layout, list })
}

pub(crate) async fn read_all(
    State(state): State<AppState>,
    posted: Posted<Empty>,
) -> Result<Response, AppError> {
    notifications::mark_read(&state.db, &posted.signed.viewer, None).await?;
    Ok(Redirect::to("/notifications").into_response())
}

/// The unread count, sent at once and again whenever something arrives for the person.
pub(crate) async fn live(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let hash = session::session_hash(&headers, &state.config).ok_or(AppError::NotFound)?;
    let topic = signed.viewer.user_id();
    let sub = state.live.subscribe();
    // The stream wakes when something arrives, or when the session would idle out; then it
    // checks the session again and ends with it.
    let stream = futures_util::stream::unfold(
        (state, hash, sub, None),
        move |(state, hash, mut sub, until)| async move {
            if let Some(until) = until {
                sub.wait_for_until(topic, until).await?;
            }
            let signed = session::by_hash(&state, &hash).await.ok().flatten()?;
            let n = notifications::unread(&state.db, &signed.viewer)
                .await
                .ok()?;
            let event = Event::default().event("unread").data(n.to_string());
            Some((Ok(event), (state, hash, sub, Some(signed.ends_at()))))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
