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

use crate::error::ErrorInfo;
use crate::state::AppState;

pub(crate) fn wrap(app: Router, state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let max_body = state.config.max_body_bytes;
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(TraceLayer::new_for_http())
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
            .layer(from_fn_with_state(state, same_origin_writes))
            .layer(from_fn(no_store_by_default)),
    )
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
            crate::views::files::human_size(max as i64)
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

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    request_id: &'a str,
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
    let res = next.run(req).await;
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
                let mut r = axum::Json(crate::api::ApiError {
                    error: message,
                    request_id,
                })
                .into_response();
                *r.status_mut() = status;
                r
            } else {
                let page = ErrorPage {
                    status: status.as_u16(),
                    title: status.canonical_reason().unwrap_or("Error"),
                    message: &message,
                    request_id: &request_id,
                };
                let html = page.render().unwrap_or_else(|_| message.clone());
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

/// Percent-encodes a path for use as a query value.
pub(crate) fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
