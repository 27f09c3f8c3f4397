//! Downloads streamed out as attachments with byte ranges, and previews of pictures and PDFs.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{self, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portico_db::files::{self};
use portico_db::{access_log, audit};
use portico_storage::crypt;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` over an object of `size` bytes, as a half-open
/// range; `Err` when it cannot be satisfied. Several ranges are answered with the whole file.
fn parse_range(value: &str, size: u64) -> Option<Result<std::ops::Range<u64>, ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end && start < size => start..(end + 1).min(size),
        (Some(start), None) if b.is_empty() && start < size => start..size,
        (None, Some(n)) if a.is_empty() && n > 0 && size > 0 => size.saturating_sub(n)..size,
        (Some(_), _) | (None, Some(_)) => return Some(Err(())),
        (None, None) => return None,
    };
    Some(Ok(range))
}

/// `attachment` with the original name: an ASCII fallback and the exact name in UTF-8
/// (RFC 6266 / RFC 5987).
pub(super) fn disposition(name: &str, how: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // RFC 5987: letters, digits and `-._~` as they are, every other byte as %XX.
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Streams a file the viewer may have, whole or one byte range, as an attachment that no
/// browser renders. Each download is audited; a staff download goes into the client's log.
pub(crate) async fn download(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    headers: HeaderMap,
    Id(id): Id,
) -> Result<Response, AppError> {
    serve(
        &state,
        &signed.viewer,
        &info.by(&signed),
        &headers,
        id,
        false,
    )
    .await
}

/// Types shown in the browser by "Preview", as sniffed from the file's first bytes at upload
/// (never from its name): pictures and PDFs. Anything else — HTML and SVG above all — is only
/// ever downloaded.
const PREVIEWABLE: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "application/pdf"];

/// Whether a file of this (sniffed) type can be previewed.
pub(crate) fn previewable(content_type: &str) -> bool {
    PREVIEWABLE.contains(&content_type)
}

/// The same file shown in the browser, from the same sandboxed endpoint: only pictures and
/// PDFs, with their sniffed type and no way to run anything.
pub(crate) async fn preview(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    headers: HeaderMap,
    Id(id): Id,
) -> Result<Response, AppError> {
    serve(
        &state,
        &signed.viewer,
        &info.by(&signed),
        &headers,
        id,
        true,
    )
    .await
}

/// Streams a file the viewer may have, whole or one byte range, and records the download in
/// the audit log and (for staff) the client's access log.
pub(crate) async fn serve(
    state: &AppState,
    viewer: &portico_core::Viewer,
    origin: &audit::Origin,
    headers: &HeaderMap,
    id: uuid::Uuid,
    inline: bool,
) -> Result<Response, AppError> {
    let f = files::get(&state.db, viewer, id).await?;
    if inline && !previewable(&f.content_type) {
        return Err(AppError::UnsupportedPreview);
    }
    if let Some(why) = f.unavailable() {
        return Err(AppError::Conflict(why));
    }
    let size = f.size.max(0) as u64;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(v) => match parse_range(v, size) {
            Some(Ok(r)) => Some(r),
            Some(Err(())) => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{size}"))],
                )
                    .into_response());
            }
            None => None,
        },
        None => None,
    };
    let file_key = crypt::key_for(
        state.config.encryption.as_ref(),
        f.firm_id.as_bytes(),
        f.id.as_bytes(),
        &f.key_wrapped,
    )
    .map_err(AppError::Internal)?;
    let stream = crypt::read(
        &state.storage,
        &f.storage_key,
        file_key.as_ref(),
        size,
        range.clone(),
    )
    .await
    .map_err(AppError::from)?;
    let detail = match &range {
        Some(r) => format!("bytes={}-{}", r.start, r.end - 1),
        None => "whole".into(),
    };
    let event = audit::Event::new(Some(f.firm_id), "file.download")
        .object(files::ITEM, f.id)
        .detail(detail.clone());
    // A download only reads; while the database cannot take writes (a full disk, a held
    // lock) the file is still served, and its audit event goes to the server log instead.
    let logged_instead = |e: portico_db::DbError| match e.outage() {
        Some(_) => {
            tracing::warn!(
                target: "audit",
                event = "file.download",
                firm = %f.firm_id,
                file = %f.id,
                actor = %origin.actor,
                actor_user_id = ?origin.actor_user_id,
                request_id = %origin.request_id,
                ip = %origin.ip,
                %detail,
                error = %e,
                "audit event not stored in the database; recorded in this log instead"
            );
            Ok(())
        }
        None => Err(AppError::from(e)),
    };
    let item = access_log::Item {
        client_id: f.client_id,
        item_type: files::ITEM,
        item_id: f.id,
        label: &f.name,
    };
    access_log::opened(&state.db, viewer, origin, event, item)
        .await
        .or_else(logged_instead)?;
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    if inline {
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(&f.content_type).expect("a known type"),
        );
        h.insert(header::CONTENT_DISPOSITION, disposition(&f.name, "inline"));
    } else {
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        h.insert(
            header::CONTENT_DISPOSITION,
            disposition(&f.name, "attachment"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    match range {
        Some(r) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = res.headers_mut();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(r.end - r.start));
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.start, r.end - 1))
                    .expect("digits"),
            );
        }
        None => {
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok(0..10)));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok(90..100)));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok(90..100)));
        assert_eq!(parse_range("bytes=95-200", 100), Some(Ok(95..100)));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=50-10", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=x-y", 100), None);
    }

    #[test]
    fn names_travel_in_both_forms() {
        let v = disposition("Résumé \"final\".pdf", "attachment");
        let s = v.to_str().unwrap();
        assert!(
            s.starts_with(
                "attachment; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9"
            ),
            "{s}"
        );
    }
}
