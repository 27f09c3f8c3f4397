//! Signing in and out, and choosing a password from a one-time link.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portico_core::throttle as throttle_policy;
use portico_db::audit::{self, Event};
use portico_db::firms::Brand;
use portico_db::users::{self, Context};
use portico_db::{sessions, throttle, tokens};
use portico_services::tokens::hash_token;
use serde::Deserialize;
use time::Duration;

use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::{self, MaybeSigned};
use crate::signin::named_brand;
use crate::state::AppState;

/// The start page sends people where they belong.
pub(crate) async fn start(MaybeSigned(signed): MaybeSigned) -> Redirect {
    match signed {
        Some(s) if s.viewer.is_staff() => Redirect::to(paths::home(true)),
        Some(_) => Redirect::to(paths::home(false)),
        None => Redirect::to("/login"),
    }
}

/// Only same-origin paths may follow a sign-in; anything else goes to the start page.
pub(crate) fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if ok { next } else { "/" }
}

#[derive(Template, WebTemplate)]
#[template(path = "signin/login.html")]
pub(crate) struct LoginPage {
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
    /// The firm whose sign-in page this is, when its address names one.
    brand: Option<Brand>,
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    firm: String,
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    MaybeSigned(signed): MaybeSigned,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    if signed.is_some() {
        return Ok(Redirect::to(safe_next(&q.next)).into_response());
    }
    // Notices are chosen by code, never echoed from the URL.
    let notice = match q.notice.as_str() {
        "signed_out" => Some("You have signed out."),
        "password_set" => Some("Your password is saved. Sign in with it now."),
        _ => None,
    };
    Ok(LoginPage {
        next: safe_next(&q.next).to_string(),
        email: String::new(),
        error: None,
        notice,
        brand: named_brand(&state, &q.firm).await?,
    }
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    firm: String,
}

const LOGIN_FAILED: &str = "That email address and password do not match. Use the same email address that received your invitation.";

pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    info: ReqInfo,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next).to_string();
    let brand = named_brand(&state, &form.firm).await?;
    let refused = |email: String, message: String| {
        let page = LoginPage {
            next: next.clone(),
            email,
            error: Some(message),
            notice: None,
            brand: brand.clone(),
        };
        (StatusCode::UNAUTHORIZED, page).into_response()
    };
    let failed = |email: String| refused(email, LOGIN_FAILED.into());
    let email = portico_core::validate::email(&form.email).unwrap_or_default();
    // Unknown addresses are throttled exactly like known ones, so the answer reveals nothing.
    let typed: String = form.email.trim().to_lowercase().chars().take(254).collect();
    let account_key = format!("account:{typed}");
    let address_key = format!("address:{}", info.ip);
    if let Some(wait) = throttled(&state, &account_key, &address_key).await? {
        let secs = wait.whole_seconds().max(1);
        let message = format!("Too many sign-in attempts. Wait {secs} seconds, then try again.");
        let page = LoginPage {
            next: next.clone(),
            email: form.email.clone(),
            error: Some(message),
            notice: None,
            brand: brand.clone(),
        };
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, secs.to_string())],
            page,
        )
            .into_response());
    }
    let user = if email.is_empty() {
        None
    } else {
        users::by_email(&state.db, &email).await?
    };
    let password_ok = form.password.chars().count() <= portico_core::validate::PASSWORD_MAX
        && state
            .hasher
            .verify(
                &form.password,
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
            )
            .await;
    let user = match user {
        Some(u) if password_ok && u.active => u,
        other => {
            throttle::record_failure(&state.db, &[&account_key, &address_key]).await?;
            let origin = info.anonymous(&form.email, other.as_ref().map(|u| u.id));
            audit::record(&state.db, &origin, Event::new(None, "auth.login.failed")).await?;
            return Ok(failed(form.email));
        }
    };
    throttle::clear(&state.db, &account_key).await?;
    let second_step = crate::signin::passkey::has_second_factor(&state, &user).await?;
    match begin_session(
        &state,
        &headers,
        &info,
        &user,
        "password",
        second_step,
        &next,
    )
    .await?
    {
        SignedIn::Yes { cookie, target } => Ok((
            StatusCode::SEE_OTHER,
            [(SET_COOKIE, cookie)],
            [(LOCATION, target)],
        )
            .into_response()),
        SignedIn::Closed(message) => Ok(refused(form.email, message)),
        SignedIn::Nowhere => Ok(failed(form.email)),
    }
}

/// The outcome of starting a session for someone whose credentials checked out.
pub(crate) enum SignedIn {
    /// The session's cookie and where to go next (the second step, when one is due).
    Yes {
        cookie: axum::http::HeaderValue,
        target: String,
    },
    /// Every place of theirs is closed; the message says so (their credentials were right, so
    /// saying why is no leak).
    Closed(String),
    /// They have no place to go at all.
    Nowhere,
}

/// Starts a session for `user` in their first open place (staff work first; choosing among
/// several is the switcher's job), with a fresh token: whatever session the browser had
/// before is ended.
pub(crate) async fn begin_session(
    state: &AppState,
    headers: &HeaderMap,
    info: &ReqInfo,
    user: &users::User,
    auth_method: &str,
    second_step: bool,
    next: &str,
) -> Result<SignedIn, AppError> {
    let memberships = users::memberships(&state.db, user.id).await?;
    let open = || memberships.iter().filter(|m| m.portal_open);
    let Some(m) = open().find(|m| m.context == "staff").or(open().next()) else {
        let origin = info.anonymous(&user.email, Some(user.id));
        audit::record(&state.db, &origin, Event::new(None, "auth.login.no_access")).await?;
        return Ok(match memberships.first() {
            Some(closed) => SignedIn::Closed(crate::kit::error::closed_message(&closed.firm_name)),
            None => SignedIn::Nowhere,
        });
    };
    let context =
        Context::parse(&m.context).ok_or_else(|| AppError::Internal("unknown context".into()))?;
    let firm = portico_db::firms::by_id(&state.db, m.firm_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let old = session::request_token(headers, &state.config).map(|t| hash_token(&t));
    let start = session::Start {
        user_id: user.id,
        context,
        membership_id: m.membership_id,
        firm: &firm,
        auth_method,
        mfa_pending: second_step,
    };
    let cookie = session::start(state, info, old.as_deref(), start).await?;
    let origin = info.anonymous(&user.email, Some(user.id));
    let action = if second_step {
        "auth.password.ok"
    } else {
        "auth.login"
    };
    audit::record(
        &state.db,
        &origin,
        Event::new(Some(m.firm_id), action)
            .object("user", user.id)
            .detail(auth_method),
    )
    .await?;
    let landing = landing(context, next);
    let target = if second_step {
        format!(
            "/login/2fa?next={}",
            crate::kit::paths::url_encode(&landing)
        )
    } else {
        landing
    };
    Ok(SignedIn::Yes { cookie, target })
}

/// Where a sign-in lands. A page of the other side (left in `next` by someone else's session)
/// is never the right place: go home instead.
pub(crate) fn landing(context: Context, next: &str) -> String {
    let next = safe_next(next);
    let (home, other_side) = match context {
        Context::Staff => (paths::home(true), paths::home(false)),
        Context::Client => (paths::home(false), paths::home(true)),
    };
    if next == "/" || next == other_side || next.starts_with(&format!("{other_side}/")) {
        home.to_string()
    } else {
        next.to_string()
    }
}

/// How long this sign-in must wait, by the stricter of the account's and the address's limits.
pub(crate) async fn throttled(
    state: &AppState,
    account_key: &str,
    address_key: &str,
) -> Result<Option<Duration>, AppError> {
    let now = portico_db::now();
    let account =
        throttle_policy::ACCOUNT.wait(throttle::failures(&state.db, account_key).await?, now);
    let address =
        throttle_policy::ADDRESS.wait(throttle::failures(&state.db, address_key).await?, now);
    Ok(account.max(address))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Response, AppError> {
    if let Some(token) = session::request_token(&headers, &state.config) {
        sessions::end(&state.db, &hash_token(&token)).await?;
    }
    let signed = &posted.signed;
    audit::record(
        &state.db,
        &info.by(signed),
        Event::new(Some(signed.viewer.firm_id()), "auth.logout"),
    )
    .await?;
    // Back to the sign-in page of the firm they were in.
    let target = format!(
        "/login?notice=signed_out&firm={}",
        paths::url_encode(&signed.chrome.firm_slug)
    );
    Ok((
        [session::clear_cookie(&state.config)],
        Redirect::to(&target),
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "signin/set_password.html")]
pub(crate) struct SetPasswordPage {
    usable: bool,
    email: String,
    error: Option<String>,
    /// The link's token, for the "email me a new link" form; empty when it is not well formed.
    token: String,
    renewed: bool,
    /// The firm asked for a registration key, given to the person out of band.
    needs_key: bool,
    /// The firm that sent the link, when it is still usable.
    brand: Option<Brand>,
}

impl SetPasswordPage {
    fn new(token: &str, usable: bool, email: String, error: Option<String>) -> SetPasswordPage {
        let well_formed = token.len() == 43
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        SetPasswordPage {
            usable,
            email,
            error,
            token: if well_formed {
                token.to_string()
            } else {
                String::new()
            },
            renewed: false,
            needs_key: false,
            brand: None,
        }
    }
}

/// Shows the form only; the token is used by the POST, so a mail scanner opening the link
/// does not burn it.
pub(crate) async fn set_password_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let usable = tokens::peek(&state.db, &hash_token(&token), tokens::SET_PASSWORD).await?;
    let Some(usable) = usable else {
        let page = SetPasswordPage::new(&token, false, String::new(), None);
        return Ok((StatusCode::GONE, page).into_response());
    };
    let email = users::by_id(&state.db, usable.user_id)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let mut page = SetPasswordPage::new(&token, true, email, None);
    page.needs_key = !registration_keys(&state, &usable).await?.is_empty();
    if let Some(firm) = usable.firm_id {
        page.brand = portico_db::firms::brand_by_id(&state.db, firm).await?;
    }
    Ok(page.into_response())
}

/// The registration keys the person still has to give for the link's firm.
async fn registration_keys(
    state: &AppState,
    usable: &tokens::Usable,
) -> Result<Vec<Vec<u8>>, AppError> {
    Ok(match usable.firm_id {
        Some(firm) => {
            portico_db::clients::pending_registration_keys(&state.db, usable.user_id, firm).await?
        }
        None => Vec::new(),
    })
}

/// Wrong registration keys allowed per link before it must wait.
const KEY_TRIES: i64 = 5;

/// Checks the registration key typed for an invitation link, when the firm asked for one;
/// `Some` is the refusal to show. Wrong keys count against the link.
pub(crate) async fn check_registration_key(
    state: &AppState,
    link_hash: &[u8],
    usable: &tokens::Usable,
    typed: &str,
    firm_name: &str,
) -> Result<Option<(StatusCode, String)>, AppError> {
    use base64::Engine;
    use subtle::ConstantTimeEq;
    let keys = registration_keys(state, usable).await?;
    if keys.is_empty() {
        return Ok(None);
    }
    let key = format!(
        "registration-key:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(link_hash)
    );
    if throttle::failures(&state.db, &key).await?.count >= KEY_TRIES {
        return Ok(Some((
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many wrong registration keys. Ask {firm_name} to check the key, or try again in an hour."
            ),
        )));
    }
    let typed = portico_services::tokens::hash_registration_key(typed);
    if !keys.iter().any(|k| bool::from(k.as_slice().ct_eq(&typed))) {
        throttle::record_failure(&state.db, &[&key]).await?;
        return Ok(Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "That registration key does not match. Type the key {firm_name} gave you, like ABCD-2345."
            ),
        )));
    }
    Ok(None)
}

#[derive(Deserialize)]
pub(crate) struct SetPasswordForm {
    password: String,
    confirm: String,
    #[serde(default)]
    registration_key: String,
}

pub(crate) async fn set_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    info: ReqInfo,
    Form(form): Form<SetPasswordForm>,
) -> Result<Response, AppError> {
    let hash = hash_token(&token);
    let gone = || {
        (
            StatusCode::GONE,
            SetPasswordPage::new(&token, false, String::new(), None),
        )
            .into_response()
    };
    let Some(usable) = tokens::peek(&state.db, &hash, tokens::SET_PASSWORD).await? else {
        return Ok(gone());
    };
    let user = users::by_id(&state.db, usable.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let brand = match usable.firm_id {
        Some(id) => portico_db::firms::brand_by_id(&state.db, id).await?,
        None => None,
    };
    let firm_name = brand.as_ref().map(|b| b.name.as_str()).unwrap_or_default();
    let needs_key = !registration_keys(&state, &usable).await?.is_empty();
    let refuse = |status: StatusCode, error: String| {
        let mut page = SetPasswordPage::new(&token, true, user.email.clone(), Some(error));
        page.needs_key = needs_key;
        page.brand = brand.clone();
        (status, page).into_response()
    };
    if let Some((status, message)) =
        check_registration_key(&state, &hash, &usable, &form.registration_key, firm_name).await?
    {
        return Ok(refuse(status, message));
    }
    let problem = if form.password != form.confirm {
        Some("The two passwords are not the same. Type the same password twice.".to_string())
    } else {
        portico_core::validate::password(&form.password, &user.email, &user.name, firm_name)
            .err()
            .map(|e| e.message)
    };
    if let Some(error) = problem {
        return Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, error));
    }
    // Hash before taking the write lock: hashing is slow on purpose.
    let password_hash = state.hasher.hash(&form.password).await;
    let mut tx = state.db.begin().await?;
    if tokens::consume(&mut tx, &hash, tokens::SET_PASSWORD)
        .await?
        .is_none()
    {
        return Ok(gone());
    }
    users::set_password_hash(&mut tx, user.id, &password_hash).await?;
    if let (true, Some(firm)) = (needs_key, usable.firm_id) {
        portico_db::clients::clear_registration_keys(&mut tx, user.id, firm).await?;
    }
    let origin = info.anonymous(&user.email, Some(user.id));
    audit::append(
        &mut tx,
        &origin,
        Event::new(usable.firm_id, "auth.password.set").object("user", user.id),
    )
    .await?;
    tx.commit().await?;
    sessions::end_all_for_user(&state.db, user.id).await?;
    // The person has just proved their address and chosen a password: they land signed in,
    // through the second step when they have one (a reset never bypasses it) and the set-up
    // of one when their firm requires it.
    let second_step = crate::signin::passkey::has_second_factor(&state, &user).await?;
    match begin_session(&state, &headers, &info, &user, "password", second_step, "/").await? {
        SignedIn::Yes { cookie, target } => Ok((
            StatusCode::SEE_OTHER,
            [(SET_COOKIE, cookie)],
            [(LOCATION, target)],
        )
            .into_response()),
        SignedIn::Closed(_) | SignedIn::Nowhere => {
            Ok(Redirect::to("/login?notice=password_set").into_response())
        }
    }
}

/// Mails a fresh link to the owner of an expired or used one, at most three times an hour. The
/// answer is the same whatever the token was, and the link goes only to the original address.
pub(crate) async fn renew_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    info: ReqInfo,
) -> Result<Response, AppError> {
    let owner = tokens::owner(&state.db, &hash_token(&token), tokens::SET_PASSWORD).await?;
    if let Some(owner) = owner {
        let key = format!("renew:{}", owner.user_id);
        let user = users::by_id(&state.db, owner.user_id)
            .await?
            .filter(|u| u.active);
        let firm = match owner.firm_id {
            Some(id) => portico_db::firms::by_id(&state.db, id).await?,
            None => None,
        };
        let under_limit = throttle::failures(&state.db, &key).await?.count < 3;
        if let (Some(user), Some(firm), true) = (user, firm, under_limit) {
            let mut tx = state.db.begin().await?;
            throttle::record_in(&mut tx, &[&key]).await?;
            let origin = info.anonymous(&user.email, Some(user.id));
            let origin_url = state.config.origin();
            portico_services::invitations::send_set_password_link(
                &mut tx,
                &origin_url,
                &user,
                &firm,
                portico_services::invitations::Occasion::Renewal,
                &origin,
                state.config.mail_attempts,
            )
            .await?;
            tx.commit().await?;
            state.jobs_waiting.notify_one();
        }
    }
    let mut page = SetPasswordPage::new(&token, false, String::new(), None);
    page.renewed = true;
    Ok(page.into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_origin_paths_follow_a_sign_in() {
        assert_eq!(safe_next("/staff/clients?page=2"), "/staff/clients?page=2");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/\r\nx",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
