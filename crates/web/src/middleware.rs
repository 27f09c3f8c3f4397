//! The layers around every request: request ids, tracing, error pages, security headers,
//! panics, time and size limits, and the cross-site check on state-changing requests.

use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::kit::error::ErrorInfo;
use crate::kit::paths::url_encode;
use crate::kit::session::{Actor, Signed};
use crate::state::AppState;

pub(crate) fn wrap(app: Router, state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let max_body = state.config.max_body_bytes;
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(span_without_tokens))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(from_fn_with_state(state.clone(), security_headers))
            .layer(from_fn_with_state(state.clone(), finish_errors))
            .layer(CatchPanicLayer::new())
            .layer(from_fn(move |req: Request, next: Next| {
                deadline(timeout, req, next)
            }))
            .layer(CompressionLayer::new().compress_when(NotDownloads))
            .layer(DefaultBodyLimit::max(max_body))
            .layer(axum::Extension(FormLimit(max_body)))
            .layer(from_fn_with_state(state.clone(), audit_refusals))
            .layer(from_fn_with_state(state.clone(), same_origin_writes))
            .layer(from_fn_with_state(state, no_nul_in_text))
            .layer(from_fn(no_store_by_default)),
    )
}

/// The span of a request names its method and path, with the token of a sign-in link
/// (`/a/<token>`, `/set-password/<token>`) left out: a log is no place for a usable token.
fn span_without_tokens(req: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        path = %path_without_tokens(req.uri().path()),
    )
}

fn path_without_tokens(path: &str) -> String {
    for prefix in ["/a/", "/set-password/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
            return format!("{prefix}…{tail}");
        }
    }
    path.to_string()
}

/// Requests get `timeout` to produce their response, except uploads, which stream a body of
/// any size at the sender's pace (their own size limit and the server's idle timeout bound
/// them). A response body streams after the deadline too: only its start is timed.
async fn deadline(timeout: std::time::Duration, req: Request, next: Next) -> Response {
    // Uploads take as long as their bytes do; live streams stay open while their page is.
    let path = req.uri().path();
    if (req.method() == Method::POST && path.ends_with("/upload"))
        || (req.method() == Method::PATCH && path.contains("/uploads/"))
        || (req.method() == Method::GET && path.ends_with("/live"))
    {
        return next.run(req).await;
    }
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The body limit of ordinary routes (forms, JSON), known to every request.
#[derive(Clone, Copy)]
struct FormLimit(usize);

/// A body that says it is larger than `max` bytes is refused before any of it is read; one
/// that says nothing (or lies) is cut off at `max` by the extractors.
async fn refuse_declared_over(max: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        let mut res = crate::AppError::TooLarge(format!(
            "That was too large to accept: at most {} can be sent here.",
            crate::kit::layout::human_size(max as i64)
        ))
        .into_response();
        // The rest of the body is never read, so the connection cannot carry another request.
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    next.run(req).await
}

/// Ordinary routes: the form limit.
pub(crate) async fn refuse_over_form_limit(req: Request, next: Next) -> Response {
    let max = req
        .extensions()
        .get::<FormLimit>()
        .map_or(usize::MAX, |l| l.0);
    refuse_declared_over(max, req, next).await
}

/// A route group's own body limit, for extractors and for declared lengths alike.
pub(crate) fn with_body_limit<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    max: usize,
) -> Router<S> {
    router
        .route_layer(from_fn(move |req: Request, next: Next| {
            refuse_declared_over(max, req, next)
        }))
        .layer(DefaultBodyLimit::max(max))
}

/// Pages and JSON are compressed; downloads (sent as attachments, often already compressed,
/// and served in ranges) never are.
#[derive(Clone, Copy)]
struct NotDownloads;

impl Predicate for NotDownloads {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        !response.headers().contains_key(header::CONTENT_DISPOSITION)
            && DefaultPredicate::new().should_compress(response)
    }
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
                   frame-ancestors 'none'";

async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if state.config.secure() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    res
}

/// Pages are private unless a handler says otherwise (static assets do).
async fn no_store_by_default(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// Refuses state-changing requests that a browser says came from another site. Browsers
/// send `Sec-Fetch-Site` (all current ones) or at least `Origin` on cross-site POSTs; the
/// former decides when present, because with `Referrer-Policy: no-referrer` a same-origin form
/// post carries `Origin: null`. Requests with neither are not from a browser, and signed-in
/// forms also carry a session-bound token. The bearer-token API uses no cookies, so it cannot
/// be forged this way.
async fn same_origin_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let h = req.headers();
    let allowed = match h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => match h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) => origin == state.config.origin(),
            None => true,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        crate::AppError::Csrf.into_response()
    }
}

/// Refused requests audited per person (or, before sign-in, per address) within the throttle
/// window; more are refused all the same but not written down, so a flood cannot fill the log.
const REFUSALS_AUDITED: i64 = 20;

/// Leaves one audit event for each refused request: a signed-in person asking for something
/// that is not theirs (another tenant's id answers 404 like a missing one) and any refused
/// write (a failed anti-forgery check, a link session's limits, a cross-site post).
async fn audit_refusals(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use axum::extract::FromRequestParts;
    let actor = req.extensions().get::<Actor>().cloned().unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(actor.clone());
    let Ok(info) = crate::kit::request::ReqInfo::from_request_parts(&mut parts, &state).await;
    let what = format!("{} {}", parts.method, path_without_tokens(parts.uri.path()));
    let res = next.run(Request::from_parts(parts, body)).await;
    let status = res.status();
    let who = actor.get();
    // Our own refusals carry their error; a page that answers 403 by design (an access link
    // used on another device) records its own event.
    let ours = res.extensions().get::<ErrorInfo>().is_some();
    let refused = (status == StatusCode::FORBIDDEN && ours)
        || (status == StatusCode::NOT_FOUND && who.is_some());
    if refused && let Err(e) = record_refusal(&state, &info, who, status, &what).await {
        tracing::warn!(error = %e, "could not audit a refused request");
    }
    res
}

async fn record_refusal(
    state: &AppState,
    info: &crate::kit::request::ReqInfo,
    who: Option<&Signed>,
    status: StatusCode,
    what: &str,
) -> Result<(), portico_db::DbError> {
    use portico_db::{audit, throttle};
    let key = match who {
        Some(a) => format!("refused:user:{}", a.viewer.user_id()),
        None => format!("refused:address:{}", info.ip),
    };
    if !throttle::record_if_under(&state.db, &key, REFUSALS_AUDITED).await? {
        return Ok(());
    }
    let origin = match who {
        Some(a) => info.anonymous(&a.chrome.user_email, Some(a.viewer.user_id())),
        None => info.anonymous("", None),
    };
    let detail: String = format!("{} {what}", status.as_u16())
        .chars()
        .take(300)
        .collect();
    let event = audit::Event::new(who.map(|a| a.chrome.firm_id), "request.refused").detail(detail);
    audit::record(&state.db, &origin, event).await
}

/// One rule for all text a request carries: no NUL character, which no one types and no
/// database column stores (PostgreSQL refuses it). Checked here for the path, the query
/// string (searches, filters) and form and JSON bodies; the text parts of multipart forms are
/// checked where they are read (`forms::multipart_text`). File bytes are not text.
async fn no_nul_in_text(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let refused =
        || crate::AppError::Invalid(crate::kit::error::NUL_REFUSED.into()).into_response();
    let uri = req.uri();
    if uri.path().to_ascii_lowercase().contains("%00")
        || uri.query().is_some_and(|q| query_has_nul(q.as_bytes()))
    {
        return refused();
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json");
    // A body declared over the limit is refused, unread, by the route's own limit.
    let declared_over = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > state.config.max_body_bytes as u64);
    if (!form && !json) || declared_over {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config.max_body_bytes).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if (form && query_has_nul(&bytes)) || (json && json_has_nul(&bytes)) {
        return refused();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// A NUL in a URL-encoded query or form, in a name or a value.
fn query_has_nul(encoded: &[u8]) -> bool {
    url::form_urlencoded::parse(encoded).any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

/// A NUL in a JSON text: raw, or written `\u0000` in a string (an escaped backslash before
/// it, `\\u0000`, is text, not a NUL).
fn json_has_nul(body: &[u8]) -> bool {
    if body.contains(&0) {
        return true;
    }
    let needle = b"u0000";
    body.windows(needle.len()).enumerate().any(|(i, w)| {
        w == needle && {
            let slashes = body[..i].iter().rev().take_while(|b| **b == b'\\').count();
            slashes % 2 == 1
        }
    })
}

#[derive(Template)]
#[template(path = "layout/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    request_id: &'a str,
}

/// An error for a signed-in person, inside their own frame: firm, navigation, Log out.
#[derive(Template)]
#[template(path = "layout/error_framed.html")]
struct FramedErrorPage<'a> {
    layout: crate::kit::layout::Layout,
    status: u16,
    message: &'a str,
    request_id: &'a str,
}

/// A client's portal that its firm closed: the firm's calm notice in the firm's colours.
#[derive(Template)]
#[template(path = "layout/closed.html")]
struct ClosedPage<'a> {
    brand: Option<&'a portico_db::firms::Brand>,
    message: &'a str,
}

/// A heading a person understands, for an error page.
fn error_title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::CONFLICT => "That could not be done",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            "Please check what you entered"
        }
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        s if s.is_server_error() => "Not available just now",
        _ => "That did not work",
    }
}

/// Turns every error response — ours, the framework's rejections, panics, limits — into a
/// page (or JSON under `/api`) with a clear sentence and the request id, never the cause.
async fn finish_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("")
        .to_string();
    let path = req.uri().path().to_string();
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let is_api = path.starts_with("/api/");
    let is_get = req.method() == Method::GET;
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string());
    // Filled in by the session extractor: an error page for a signed-in person keeps their
    // frame.
    let actor = Actor::default();
    let mut req = req;
    req.extensions_mut().insert(actor.clone());
    let (res, statements) = portico_db::stats::counting(next.run(req)).await;
    if let Some(route) = &route {
        state.metrics.record_route(route, statements);
    }
    let status = res.status();
    let res = if status.is_client_error() || status.is_server_error() {
        let info = res.extensions().get::<ErrorInfo>().cloned();
        let rendered = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
        if rendered && info.is_none() {
            res
        } else {
            let message = info
                .as_ref()
                .map(|i| i.message.clone())
                .unwrap_or_else(|| default_message(status).to_string());
            let mut rendered = if info.as_ref().is_some_and(|i| i.sign_in) && !is_api {
                let next_path = if is_get {
                    format!("{path}{query}")
                } else {
                    "/".to_string()
                };
                let target = format!("/login?next={}", url_encode(&next_path));
                Redirect::to(&target).into_response()
            } else if is_api {
                let mut r = axum::Json(crate::kit::api::ApiError {
                    error: message,
                    request_id,
                })
                .into_response();
                *r.status_mut() = status;
                r
            } else {
                // A signed-in person keeps their frame; a client whose portal is closed (and so
                // not signed in) sees the firm's notice in its colours.
                let closed = info.as_ref().and_then(|i| i.closed.as_ref());
                let html = if let Some(signed) = actor.get() {
                    FramedErrorPage {
                        layout: crate::kit::layout::Layout::new(signed, error_title(status), ""),
                        status: status.as_u16(),
                        message: &message,
                        request_id: &request_id,
                    }
                    .render()
                } else if let Some(firm) = closed {
                    ClosedPage {
                        brand: Some(firm),
                        message: &message,
                    }
                    .render()
                } else {
                    ErrorPage {
                        status: status.as_u16(),
                        title: error_title(status),
                        message: &message,
                        request_id: &request_id,
                    }
                    .render()
                };
                let html = html.unwrap_or_else(|_| message.clone());
                let mut r = axum::response::Html(html).into_response();
                *r.status_mut() = status;
                r
            };
            // Headers that say how to go on survive the rendering: when to retry, the size
            // of a file, where a resumable upload stands.
            for kept in [
                "retry-after",
                "content-range",
                "tus-resumable",
                "tus-version",
                "upload-offset",
            ] {
                if let Some(v) = res.headers().get(kept) {
                    rendered.headers_mut().insert(kept, v.clone());
                }
            }
            rendered
        }
    } else {
        res
    };
    state
        .metrics
        .record(res.status().as_u16(), started.elapsed().as_micros() as u64);
    res
}

fn default_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => {
            "We could not find that page. It may have moved, or you may not have access to it."
        }
        StatusCode::METHOD_NOT_ALLOWED => "That action is not available here.",
        StatusCode::PAYLOAD_TOO_LARGE => "That was too large to accept. Try something smaller.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "That kind of content is not accepted here.",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            "The request could not be read. Check what you entered and try again."
        }
        StatusCode::REQUEST_TIMEOUT => "That took too long. Please try again.",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts. Wait a moment and try again.",
        StatusCode::FORBIDDEN => "This form has expired. Go back, reload the page and try again.",
        _ => "Something went wrong on our side. Nothing you entered was lost; please try again.",
    }
}

#[cfg(test)]
mod tests {
    use super::path_without_tokens;

    #[test]
    fn request_logs_leave_out_the_tokens_of_sign_in_links() {
        let t = "A".repeat(43);
        assert_eq!(path_without_tokens(&format!("/a/{t}")), "/a/…");
        assert_eq!(path_without_tokens(&format!("/a/{t}/send")), "/a/…/send");
        assert_eq!(
            path_without_tokens(&format!("/set-password/{t}/passkey/start")),
            "/set-password/…/passkey/start"
        );
        assert_eq!(path_without_tokens("/portal/files"), "/portal/files");
    }

    #[test]
    fn a_nul_is_found_however_it_is_written() {
        use super::{json_has_nul, query_has_nul};
        assert!(query_has_nul(b"q=a%00b"));
        assert!(query_has_nul(b"x%00=1"));
        assert!(!query_has_nul(b"q=a%2500b&r=100"));
        assert!(json_has_nul(br#"{"body":"a\u0000b"}"#));
        assert!(json_has_nul(b"{\"a\":\"\0\"}"));
        assert!(!json_has_nul(br#"{"body":"a\\u0000b"}"#));
        assert!(!json_has_nul(br#"{"n":10000}"#));
    }
}
