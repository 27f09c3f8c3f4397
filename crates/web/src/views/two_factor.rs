//! Two-step sign-in with an authenticator app: enrolment (QR code, confirm with a code,
//! recovery codes shown once), turning it off, and the second step of signing in.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portico_core::throttle as policy;
use portico_db::audit::{self, Event};
use portico_db::sessions;
use portico_db::users;
use portico_db::{mfa, throttle};
use portico_services::tokens::hash_token;
use serde::Deserialize;

use super::auth::{Empty, landing};
use super::layout::Layout;
use crate::error::AppError;
use crate::forms::Posted;
use crate::request::ReqInfo;
use crate::session::{self as cookie, Signed};
use crate::state::AppState;
use crate::totp;

#[derive(Template, WebTemplate)]
#[template(path = "mfa_status.html")]
pub(crate) struct StatusPage {
    layout: Layout,
    enabled: bool,
    required: bool,
    codes_left: i64,
    error: Option<String>,
}

/// The signed-in person's own account row.
async fn current_user(state: &AppState, signed: &Signed) -> Result<users::User, AppError> {
    users::by_id(&state.db, signed.viewer.user_id())
        .await?
        .ok_or(AppError::SignInRequired)
}

async fn status_page(
    state: &AppState,
    signed: &Signed,
    error: Option<String>,
) -> Result<StatusPage, AppError> {
    let user = current_user(state, signed).await?;
    let codes_left = mfa::recovery_codes_left(&state.db, user.id).await?;
    Ok(StatusPage {
        layout: Layout::new(signed, "Two-step sign-in", "/account/2fa"),
        enabled: user.totp_enabled,
        required: signed.chrome.totp_required,
        codes_left,
        error,
    })
}

pub(crate) async fn status(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<StatusPage, AppError> {
    status_page(&state, &signed, None).await
}

#[derive(Template, WebTemplate)]
#[template(path = "mfa_setup.html")]
pub(crate) struct SetupPage {
    layout: Layout,
    qr: String,
    secret: String,
    error: Option<String>,
}

async fn setup_page(
    state: &AppState,
    signed: &Signed,
    error: Option<String>,
) -> Result<SetupPage, AppError> {
    let user = current_user(state, signed).await?;
    let secret = secret_of(state, &user)?
        .ok_or_else(|| AppError::Invalid("Start the set-up again.".into()))?;
    let qr = totp::qr_data_uri(&secret, &signed.chrome.firm_name, &user.email)
        .ok_or_else(|| AppError::Internal("could not draw the QR code".into()))?;
    Ok(SetupPage {
        layout: Layout::new(signed, "Set up two-step sign-in", "/account/2fa"),
        qr,
        secret: totp::grouped(&secret),
        error,
    })
}

/// Makes a new secret (not yet in force) and shows it.
pub(crate) async fn start(
    State(state): State<AppState>,
    posted: Posted<Empty>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let user = current_user(&state, signed).await?;
    if user.totp_enabled {
        return Ok(Redirect::to("/account/2fa").into_response());
    }
    // With a master key configured, the secret is kept sealed.
    let secret = totp::new_secret();
    let stored = match &state.config.encryption {
        Some(master) => master.seal_secret(user.id.as_bytes(), &secret),
        None => secret,
    };
    mfa::set_pending_secret(&state.db, user.id, &stored).await?;
    Ok(setup_page(&state, signed, None).await?.into_response())
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    code: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "mfa_codes.html")]
pub(crate) struct CodesPage {
    layout: Layout,
    codes: Vec<String>,
}

/// Turns the second factor on once the app's first code checks out.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<CodeForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let user = current_user(&state, signed).await?;
    let step = secret_of(&state, &user)?
        .as_deref()
        .and_then(|s| totp::check(s, &posted.form.code));
    let Some(step) = step.filter(|_| !user.totp_enabled) else {
        let error = Some(
            "That code did not match. Check the time on your phone and type the newest code."
                .to_string(),
        );
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            setup_page(&state, signed, error).await?,
        )
            .into_response());
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let mut tx = state.db.begin().await?;
    if !mfa::enable(&mut tx, user.id, step, &hashes).await? {
        return Ok(Redirect::to("/account/2fa").into_response());
    }
    audit::append(
        &mut tx,
        &info.by(signed),
        Event::new(Some(signed.viewer.firm_id()), "auth.mfa.enable").object("user", user.id),
    )
    .await?;
    tx.commit().await?;
    // A change to how one signs in ends every other session.
    sessions::end_others(&state.db, user.id, signed.session.id).await?;
    Ok(CodesPage {
        layout: Layout::new(signed, "Two-step sign-in is on", "/account/2fa"),
        codes,
    }
    .into_response())
}

/// Checks an app code (each step once) or a recovery code (each once).
async fn second_factor_ok(
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

pub(crate) async fn disable(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<CodeForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let user = current_user(&state, signed).await?;
    if !second_factor_ok(&state, &user, &posted.form.code).await? {
        let page = status_page(
            &state,
            signed,
            Some("That code did not match, or was already used.".into()),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let mut tx = state.db.begin().await?;
    mfa::disable(&mut tx, user.id).await?;
    audit::append(
        &mut tx,
        &info.by(signed),
        Event::new(Some(signed.viewer.firm_id()), "auth.mfa.disable").object("user", user.id),
    )
    .await?;
    tx.commit().await?;
    sessions::end_others(&state.db, user.id, signed.session.id).await?;
    Ok(Redirect::to("/account/2fa").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "login_2fa.html")]
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

pub(crate) async fn second_step_page(
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
pub(crate) async fn second_step(
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
fn secret_of(state: &AppState, user: &users::User) -> Result<Option<String>, AppError> {
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
