//! Two-step sign-in with an authenticator app, on the account: enrolment (QR code, confirm with
//! a code, recovery codes shown once) and turning it off.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::audit::{self, Event};
use portico_db::mfa;
use portico_db::sessions;
use portico_db::users;
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::layout::Layout;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::signin::second_step::{second_factor_ok, secret_of};
use crate::state::AppState;
use crate::totp;

#[derive(Template, WebTemplate)]
#[template(path = "account/mfa_status.html")]
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
#[template(path = "account/mfa_setup.html")]
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
#[template(path = "account/mfa_codes.html")]
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
