//! The session cookie and the extractors that turn it into a viewer.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use portico_core::Viewer;
use portico_db::sessions::{self, Chrome, Session};
use portico_services::tokens::hash_token;
use subtle::ConstantTimeEq;
use time::Duration;

use crate::kit::error::AppError;
use crate::kit::request::ReqInfo;
use crate::state::{AppState, WebConfig};

/// Activity is written back at most this often, so pages do not write on every request.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// The cookie's name: `__Host-` prefixed (Secure, whole host, path /) when served over https.
pub(crate) fn cookie_name(config: &WebConfig) -> &'static str {
    if config.secure() {
        "__Host-portico"
    } else {
        "portico"
    }
}

pub(crate) fn set_cookie(config: &WebConfig, token: &str) -> HeaderValue {
    let secure = if config.secure() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(config)
    ))
    .expect("token is base64url")
}

pub(crate) fn clear_cookie(config: &WebConfig) -> (axum::http::HeaderName, HeaderValue) {
    let secure = if config.secure() { "; Secure" } else { "" };
    let v = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(config)
    );
    (
        SET_COOKIE,
        HeaderValue::from_str(&v).expect("static cookie"),
    )
}

/// The long-lived cookie that marks a browser as the trusted device of access links.
fn device_cookie_name(config: &WebConfig) -> &'static str {
    if config.secure() {
        "__Host-portico-device"
    } else {
        "portico-device"
    }
}

/// This browser's device token, if it has one.
pub(crate) fn device_token(headers: &HeaderMap, config: &WebConfig) -> Option<String> {
    cookie_token(headers, device_cookie_name(config))
}

/// Marks this browser with a device token for about a year.
pub(crate) fn set_device_cookie(config: &WebConfig, token: &str) -> HeaderValue {
    let secure = if config.secure() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000{secure}",
        device_cookie_name(config)
    ))
    .expect("token is base64url")
}

fn cookie_token(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 43)
}

/// A signed-in person: who they are acting as, and what their pages show about them.
#[derive(Debug, Clone)]
pub struct Signed {
    pub viewer: Viewer,
    pub chrome: Chrome,
    pub session: Session,
}

impl Signed {
    /// Signed in through an access link: enough to work on what it was for, never to change
    /// how the person signs in.
    pub fn by_link(&self) -> bool {
        self.session.auth_method.is_link()
    }

    /// When the session ends unless the person does something: a live stream ends then.
    pub fn ends_at(&self) -> time::OffsetDateTime {
        self.session
            .idle_expires_at
            .min(self.session.absolute_expires_at)
    }

    /// Checks a form's anti-forgery token against the session's, in constant time.
    /// For staff pages and actions: to anyone else they simply do not exist.
    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.viewer.is_staff() {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        if bool::from(sent.as_bytes().ct_eq(self.session.csrf_token.as_bytes())) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }
}

/// The hash of the session token this request carries, if any.
pub(crate) fn session_hash(headers: &HeaderMap, config: &WebConfig) -> Option<Vec<u8>> {
    cookie_token(headers, cookie_name(config)).map(|t| hash_token(&t))
}

/// The signed-in person behind a session token's hash, checked afresh (a live stream asks
/// again before every update), without counting as activity.
pub(crate) async fn by_hash(state: &AppState, hash: &[u8]) -> Result<Option<Signed>, AppError> {
    let Some((session, chrome)) = state.sessions.resolve(hash).await? else {
        if let Some(firm) = sessions::closed_portal(&state.db, hash).await? {
            return Err(AppError::PortalClosed(firm));
        }
        return Ok(None);
    };
    Ok(chrome.viewer(&session).map(|viewer| Signed {
        viewer,
        chrome,
        session,
    }))
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Signed>, AppError> {
    let Some(hash) = session_hash(&parts.headers, &state.config) else {
        return Ok(None);
    };
    let Some(signed) = by_hash(state, &hash).await? else {
        return Ok(None);
    };
    if counts_as_activity(parts) && portico_db::now() - signed.session.last_seen_at > TOUCH_EVERY {
        sessions::touch(
            &state.db,
            &hash,
            Duration::seconds(signed.chrome.idle_timeout_secs),
        )
        .await?;
    }
    Ok(Some(signed))
}

/// Whether a request is the person's own doing, and so keeps their session alive. A page's
/// live stream, opened and reopened by the browser on its own, is not: an open tab must not
/// defeat the firm's idle timeout (automatic logoff).
fn counts_as_activity(parts: &Parts) -> bool {
    let event_stream = parts
        .headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    !event_stream && !parts.uri.path().ends_with("/live")
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(Checked(s)) = parts.extensions.get::<Checked>() {
            return Ok(Signed::clone(s));
        }
        let signed = resolve(parts, state)
            .await?
            .ok_or(AppError::SignInRequired)?;
        let signed = std::sync::Arc::new(signed);
        // The refusal audit names who asked, and an error page shows the person's frame.
        if let Some(actor) = parts.extensions.get::<Actor>() {
            actor.set(signed.clone());
        }
        // A firm that requires two-step sign-in sends those without it to set it up first.
        if signed.chrome.totp_required
            && !signed.chrome.totp_enabled
            && !may_skip_enrolment(parts.uri.path())
        {
            return Err(AppError::EnrolFirst);
        }
        // A client reads and accepts the firm's current terms before anything else.
        if signed.chrome.terms_pending && !may_skip_terms(parts.uri.path()) {
            return Err(AppError::AcceptTermsFirst);
        }
        if signed.by_link() && closed_to_link_sessions(&parts.method, parts.uri.path()) {
            return Err(AppError::LinkSession);
        }
        parts.extensions.insert(Checked(signed.clone()));
        Ok(std::sync::Arc::unwrap_or_clone(signed))
    }
}

/// Pages reachable before the two-step sign-in a firm requires is set up.
fn may_skip_enrolment(path: &str) -> bool {
    path == "/account/2fa"
        || path.starts_with("/account/2fa/")
        || path == "/account/passkeys"
        || path.starts_with("/account/passkeys/")
        || path == "/logout"
}

/// What a session opened from an emailed access link may not do, in one place: anything that
/// gives lasting access (a password, two-step sign-in, a passkey, a colleague's invitation, a
/// person added to a conversation) or changes who can get in (ending sessions, acting in
/// another place). Such a session can work on what its link was for, and read these pages.
pub(crate) fn closed_to_link_sessions(method: &axum::http::Method, path: &str) -> bool {
    const CLOSED: &[&str] = &[
        "/account/2fa",
        "/account/passkeys",
        "/account/sessions",
        "/account/switch",
        "/account/devices",
        "/portal/colleagues",
    ];
    if method.is_safe() {
        return false;
    }
    let under = |p: &str| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    CLOSED.iter().any(|p| under(p))
        || (path.starts_with("/portal/messages/") && path.ends_with("/people"))
}

/// Pages reachable before the firm's current terms are accepted.
fn may_skip_terms(path: &str) -> bool {
    path == "/terms" || may_skip_enrolment(path)
}

/// The signed-in person if there is one (for pages anyone may open).
pub struct MaybeSigned(pub Option<Signed>);

impl FromRequestParts<AppState> for MaybeSigned {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Signed::from_request_parts(parts, state).await {
            Ok(s) => Ok(MaybeSigned(Some(s))),
            Err(AppError::SignInRequired | AppError::PortalClosed(_)) => Ok(MaybeSigned(None)),
            Err(e) => Err(e),
        }
    }
}

/// The raw session token of this request, if any (logout ends exactly this session).
pub(crate) fn request_token(headers: &HeaderMap, config: &WebConfig) -> Option<String> {
    cookie_token(headers, cookie_name(config))
}

/// How long a session may wait for its second factor.
const SECOND_STEP: Duration = Duration::minutes(10);

/// Who a new session is for, where they act, and how they proved it.
pub(crate) struct Start<'a> {
    pub user_id: uuid::Uuid,
    pub context: portico_db::users::Context,
    pub membership_id: uuid::Uuid,
    pub firm: &'a portico_db::firms::Firm,
    pub auth_method: &'a str,
    /// Past the password only: the session is good for the second step alone, briefly.
    pub mfa_pending: bool,
}

/// Starts a session with fresh tokens — at sign-in, after the second step, on a switch —
/// ending `replaces` in the same transaction, and returns the cookie that carries it.
pub(crate) async fn start(
    state: &AppState,
    info: &ReqInfo,
    replaces: Option<&[u8]>,
    s: Start<'_>,
) -> Result<HeaderValue, AppError> {
    let token = portico_services::tokens::new_token();
    let csrf = portico_services::tokens::new_token();
    let next = sessions::NewSession {
        token_hash: &hash_token(&token),
        user_id: s.user_id,
        context: s.context,
        membership_id: s.membership_id,
        csrf_token: &csrf,
        auth_method: s
            .auth_method
            .parse()
            .map_err(|e| AppError::Internal(format!("{e}")))?,
        ip: &info.ip,
        user_agent: &info.user_agent,
        idle: if s.mfa_pending {
            SECOND_STEP
        } else {
            Duration::seconds(s.firm.idle_timeout_secs)
        },
        absolute: Duration::seconds(s.firm.absolute_timeout_secs),
        mfa_pending: s.mfa_pending,
    };
    match replaces {
        Some(old) => sessions::replace(&state.db, old, next).await?,
        None => sessions::create(&state.db, next).await?,
    }
    Ok(set_cookie(&state.config, &token))
}

/// A session that passed every check of the extractor, for a second extractor of the same
/// request.
#[derive(Clone)]
struct Checked(std::sync::Arc<Signed>);

/// Who made a request, filled in by the session extractor once it resolves a session, so that
/// the layers around the handler can name the person (the refusals' audit) and show an error
/// inside the person's own frame (the error pages), both in `middleware`.
#[derive(Clone, Default)]
pub(crate) struct Actor(std::sync::Arc<std::sync::OnceLock<std::sync::Arc<Signed>>>);

impl Actor {
    /// Names the person, once a session is resolved.
    pub(crate) fn set(&self, signed: std::sync::Arc<Signed>) {
        let _ = self.0.set(signed);
    }

    /// The person, if a session was resolved.
    pub(crate) fn get(&self) -> Option<&Signed> {
        self.0.get().map(|s| &**s)
    }
}

impl ReqInfo {
    /// The audit origin of a signed-in person's action.
    pub fn by(&self, signed: &Signed) -> portico_db::audit::Origin {
        portico_db::audit::Origin {
            actor_user_id: Some(signed.viewer.user_id()),
            actor: signed.chrome.user_email.clone(),
            request_id: self.request_id.clone(),
            ip: self.ip.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_must_be_well_formed() {
        let token = "a".repeat(43);
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_str(&format!("x=1; portico={token}; y=2")).unwrap(),
        );
        assert_eq!(cookie_token(&h, "portico"), Some(token));
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("portico=short"));
        assert_eq!(cookie_token(&h, "portico"), None);
    }

    #[test]
    fn link_sessions_are_closed_out_of_sign_in_changes_but_may_read_and_work() {
        use axum::http::Method;
        let post = Method::POST;
        for path in [
            "/account/2fa/start",
            "/account/passkeys/x/remove",
            "/account/sessions/end-others",
            "/account/switch",
            "/portal/colleagues",
            "/portal/messages/abc/people",
        ] {
            assert!(closed_to_link_sessions(&post, path), "{path}");
            assert!(!closed_to_link_sessions(&Method::GET, path), "{path}");
        }
        for path in [
            "/portal/messages/abc/reply",
            "/account/2faX",
            "/logout",
            "/portal/files/upload",
        ] {
            assert!(!closed_to_link_sessions(&post, path), "{path}");
        }
    }
}
