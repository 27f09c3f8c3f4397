//! The firm's audit log for its administrators: filtered by action, person and dates, paged
//! newest first, and exported as CSV (streamed page by page, safe to open in a spreadsheet).

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use portico_db::audit::{self, Filter, StoredEvent};
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use crate::kit::csv;
use crate::kit::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::paths::{self, url_encode};
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

const PAGE_SIZE: i64 = 100;
const EXPORT_BATCH: i64 = 1000;

/// The filter as typed into the page's form (and carried in its links).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FilterQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: Option<i64>,
}

fn day(field: &str, raw: &str) -> Result<Option<Date>, AppError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Date::parse(raw.trim(), format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| AppError::Invalid(format!("Give the {field} date as YYYY-MM-DD.")))
}

impl FilterQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        if self.action.chars().count() > 100 || self.actor.chars().count() > 254 {
            return Err(AppError::Invalid("That search is too long.".into()));
        }
        let midnight = |d: Date| OffsetDateTime::new_utc(d, Time::MIDNIGHT);
        Ok(Filter {
            action: self.action.clone(),
            actor: self.actor.clone(),
            from: day("from", &self.from)?.map(midnight),
            // "To" is inclusive: everything before the next midnight.
            until: day("to", &self.to)?.map(|d| {
                d.next_day()
                    .map_or(OffsetDateTime::new_utc(d, Time::MAX), midnight)
            }),
            before_seq: self.before,
        })
    }

    /// The filter's part of a URL query, for "Older" and "Export" links.
    fn encoded(&self) -> String {
        format!(
            "action={}&actor={}&from={}&to={}",
            url_encode(&self.action),
            url_encode(&self.actor),
            url_encode(&self.from),
            url_encode(&self.to)
        )
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/audit.html")]
pub(crate) struct AuditPage {
    layout: Layout,
    q: FilterQuery,
    q_encoded: String,
    events: Vec<StoredEvent>,
    older: Option<i64>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<FilterQuery>,
) -> Result<AuditPage, AppError> {
    if !signed.viewer.may_administer_firm() {
        return Err(AppError::NotFound);
    }
    let filter = q.filter()?;
    let mut events = audit::search(&state.db, &signed.viewer, &filter, PAGE_SIZE + 1).await?;
    let older = (events.len() as i64 > PAGE_SIZE).then(|| {
        events.truncate(PAGE_SIZE as usize);
        events.last().map_or(0, |e| e.seq)
    });
    Ok(AuditPage {
        layout: Layout::new(&signed, "Audit log", paths::audit()),
        q_encoded: q.encoded(),
        q,
        events,
        older,
    })
}

fn row(e: &StoredEvent) -> String {
    let when = e
        .created_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    csv::record([
        e.seq.to_string().as_str(),
        &when,
        &e.actor,
        &e.action,
        &e.object_type,
        &e.object_id,
        &e.ip,
        &e.request_id,
        &e.detail,
    ])
}

/// Every matching event as CSV, read from the database a thousand at a time while sending.
pub(crate) async fn export(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    Query(q): Query<FilterQuery>,
) -> Result<Response, AppError> {
    if !signed.viewer.may_administer_firm() {
        return Err(AppError::NotFound);
    }
    let filter = q.filter()?;
    let event =
        audit::Event::new(Some(signed.viewer.firm_id()), "audit.export").detail(q.encoded());
    audit::record(&state.db, &info.by(&signed), event).await?;
    let header_row = csv::record([
        "seq",
        "time",
        "actor",
        "action",
        "object_type",
        "object_id",
        "ip",
        "request_id",
        "detail",
    ]);
    let viewer = signed.viewer.clone();
    let batches = stream::unfold(Some(filter), move |next| {
        let (db, viewer) = (state.db.clone(), viewer.clone());
        async move {
            let mut filter = next?;
            match audit::search(&db, &viewer, &filter, EXPORT_BATCH).await {
                Ok(events) => {
                    let body: String = events.iter().map(row).collect();
                    let more = events.len() as i64 == EXPORT_BATCH;
                    filter.before_seq = events.last().map(|e| e.seq);
                    Some((Ok::<_, std::io::Error>(body), more.then_some(filter)))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let body = stream::iter([Ok::<_, std::io::Error>(header_row)]).chain(batches);
    let name = format!("audit-{}.csv", OffsetDateTime::now_utc().date());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
