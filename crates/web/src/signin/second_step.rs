//! The second step of signing in after a password: a code from an authenticator app, a
//! recovery code, or a passkey.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portico_core::throttle as policy;
use portico_db::audit::{self, Event};
use portico_db::passkeys::{self, Purpose};
use portico_db::sessions;
use portico_db::users;
use portico_db::{mfa, throttle};
use portico_services::tokens::hash_token;
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::PublicKeyCredential;

use crate::kit::error::AppError;
use crate::kit::request::ReqInfo;
use crate::kit::session::{self as cookie};
use crate::signin::passkey::{
    FinishForm, begin, credentials, refuse, unavailable, verify, webauthn,
};
use crate::signin::password::landing;
use crate::state::AppState;
use crate::totp;

/// Checks an app code (each step once) or a recovery code (each once).
pub(crate) async fn second_factor_ok(
    state: &AppState,
    user: &users::User,
    code: &str,
) -> Result<bool, AppError> {
    let Some(secret) = secret_of(state, user)?.filter(|_| user.totp_enabled) else {
        return Ok(false);
    };
    Ok(match totp::check(&secret, code) {
        Some(step) => mfa::use_step(&state.db, user.id, step).await?,
        None => mfa::use_recovery_code(&state.db, user.id, &totp::recovery_hash(code)).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "signin/login_2fa.html")]
pub(crate) struct SecondStepPage {
    next: String,
    error: Option<String>,
    /// Which second factors the person has.
    totp: bool,
    passkey: bool,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

pub(crate) async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<sessions::Session>, AppError> {
    match cookie::request_token(headers, &state.config) {
        Some(token) => Ok(sessions::pending(&state.db, &hash_token(&token)).await?),
        None => Ok(None),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let Some(session) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let user = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let passkey = !portico_db::passkeys::of_user(&state.db, user.id)
        .await?
        .is_empty();
    Ok(SecondStepPage {
        next: q.next,
        error: None,
        totp: user.totp_enabled,
        passkey,
    }
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct SecondStepForm {
    code: String,
    #[serde(default)]
    next: String,
}

/// The second step of signing in: a fresh session token once the code checks out.
pub(crate) async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    info: ReqInfo,
    Form(form): Form<SecondStepForm>,
) -> Result<Response, AppError> {
    let Some(session) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let user = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let key = format!("mfa:{}", user.id);
    let now = portico_db::now();
    if let Some(wait) = policy::ACCOUNT.wait(throttle::failures(&state.db, &key).await?, now) {
        let secs = wait.whole_seconds().max(1);
        let error = Some(format!(
            "Too many attempts. Wait {secs} seconds, then try again."
        ));
        let page = SecondStepPage {
            next: form.next,
            error,
            totp: true,
            passkey: false,
        };
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(axum::http::header::RETRY_AFTER, secs.to_string())],
            page,
        )
            .into_response());
    }
    let origin = info.anonymous(&user.email, Some(user.id));
    if !second_factor_ok(&state, &user, &form.code).await? {
        throttle::record_failure(&state.db, &[&key]).await?;
        audit::record(
            &state.db,
            &origin,
            Event::new(None, "auth.mfa.failed").object("user", user.id),
        )
        .await?;
        let page = SecondStepPage {
            next: form.next,
            totp: true,
            passkey: false,
            error: Some(
                "That code did not match, or was already used. Type the newest code from your app."
                    .into(),
            ),
        };
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    }
    throttle::clear(&state.db, &key).await?;
    complete_second_step(&state, &info, &session, &user, "totp", &form.next).await
}

/// Swaps a session past its first step for a full one, once the second factor checked out.
pub(crate) async fn complete_second_step(
    state: &AppState,
    info: &ReqInfo,
    session: &sessions::Session,
    user: &users::User,
    factor: &str,
    next: &str,
) -> Result<Response, AppError> {
    let origin = info.anonymous(&user.email, Some(user.id));
    let context = session.context().ok_or(AppError::SignInRequired)?;
    let firm_id = users::memberships(&state.db, user.id)
        .await?
        .into_iter()
        .find(|m| m.membership_id == session.membership_id)
        .map(|m| m.firm_id)
        .ok_or(AppError::SignInRequired)?;
    let firm = portico_db::firms::by_id(&state.db, firm_id)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let start = cookie::Start {
        user_id: user.id,
        context,
        membership_id: session.membership_id,
        firm: &firm,
        // A link session stays one after its second step, with the same limits.
        auth_method: &format!("{}+{factor}", session.auth_method),
        mfa_pending: false,
    };
    let set = cookie::start(state, info, Some(&session.token_hash), start).await?;
    audit::record(
        &state.db,
        &origin,
        Event::new(Some(firm.id), "auth.login")
            .object("user", user.id)
            .detail(format!("second factor: {factor}")),
    )
    .await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, set)],
        [(LOCATION, landing(context, next))],
    )
        .into_response())
}

/// The person's authenticator secret in the clear, opened with the master key when it is kept
/// sealed.
pub(crate) fn secret_of(state: &AppState, user: &users::User) -> Result<Option<String>, AppError> {
    user.totp_secret
        .as_deref()
        .map(|stored| {
            portico_storage::crypt::open_secret(
                state.config.encryption.as_ref(),
                user.id.as_bytes(),
                stored,
            )
            .map_err(AppError::Internal)
        })
        .transpose()
}

pub(crate) async fn passkey_start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(refused) = unavailable(&state.config) {
        return Ok(refused);
    }
    let Some(session) = crate::signin::second_step::pending(&state, &headers).await? else {
        return Ok(refuse(StatusCode::UNAUTHORIZED, "Sign in again."));
    };
    let list = credentials(&passkeys::of_user(&state.db, session.user_id).await?);
    if list.is_empty() {
        return Ok(refuse(
            StatusCode::CONFLICT,
            "You have no passkey. Use the code from your app.",
        ));
    }
    let (options, ceremony) = webauthn(&state.config)?
        .start_passkey_authentication(&list)
        .map_err(|e| AppError::Internal(format!("passkey second step: {e}")))?;
    begin(
        &state,
        Some(session.user_id),
        Purpose::SecondStep,
        options,
        ceremony,
    )
    .await
}

pub(crate) async fn passkey_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    info: ReqInfo,
    Form(form): Form<FinishForm>,
) -> Result<Response, AppError> {
    let Some(session) = crate::signin::second_step::pending(&state, &headers).await? else {
        return Ok(refuse(StatusCode::UNAUTHORIZED, "Sign in again."));
    };
    let refused = || {
        refuse(
            StatusCode::UNAUTHORIZED,
            "That passkey did not check out. Try again, or use the code from your app.",
        )
    };
    let Some((Some(owner), saved)) =
        passkeys::take(&state.db, &hash_token(&form.ceremony), Purpose::SecondStep).await?
    else {
        return Ok(refused());
    };
    let (true, Ok(ceremony), Ok(answer)) = (
        owner == session.user_id,
        serde_json::from_str::<webauthn_rs::prelude::PasskeyAuthentication>(&saved),
        serde_json::from_str::<PublicKeyCredential>(&form.credential),
    ) else {
        return Ok(refused());
    };
    let checked = verify(
        &state,
        &answer,
        |w, _| {
            w.finish_passkey_authentication(&answer, &ceremony)
                .map_err(|e| e.to_string())
        },
        Some(session.user_id),
    )
    .await?;
    if checked.is_none() {
        return Ok(refused());
    }
    let user = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let done = crate::signin::second_step::complete_second_step(
        &state, &info, &session, &user, "passkey", &form.next,
    )
    .await?;
    // The script follows the redirect itself; the cookie comes with this answer.
    let target = done
        .headers()
        .get(axum::http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/")
        .to_string();
    let mut out = Json(json!({ "redirect": target })).into_response();
    for cookie in done.headers().get_all(SET_COOKIE) {
        out.headers_mut().append(SET_COOKIE, cookie.clone());
    }
    Ok(out)
}
