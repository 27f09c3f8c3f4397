//! Passkeys for signing in: the ceremonies' shared parts, signing in with a passkey alone, and
//! accepting an invitation with one. Each ceremony is two requests; its state waits in the
//! database in between (so any server may finish it) and is taken exactly once.

use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use portico_db::passkeys::{self, Purpose};
use portico_db::{audit, throttle, users};
use portico_services::tokens::{hash_token, new_token};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{
    CredentialID, Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn,
    WebauthnBuilder,
};

use crate::kit::error::AppError;
use crate::kit::request::ReqInfo;
use crate::signin::password::{SignedIn, begin_session, safe_next, throttled};
use crate::state::{AppState, WebConfig};

/// The relying party: this server's public address. Passkeys work for the host people use.
pub(crate) fn webauthn(config: &WebConfig) -> Result<Webauthn, AppError> {
    let origin: Url = config.public_url.clone();
    let host = origin
        .host_str()
        .ok_or_else(|| AppError::Internal("the public URL has no host".into()))?
        .to_string();
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name(&host).build())
        .map_err(|e| AppError::Internal(format!("passkeys are not available here: {e}")))
}

/// Why passkeys cannot work at this server's public address, as the page's script shows it:
/// browsers tie a passkey to a domain name, never to an IP address.
pub(crate) fn unavailable(config: &WebConfig) -> Option<Response> {
    let why = match config.public_url.host() {
        Some(url::Host::Domain(_)) => return None,
        Some(_) => {
            "Passkeys work only when the portal is opened at a domain name (such as \
             portal.example.com), not at an IP address. Sign in with your password, and ask \
             the firm to give the portal a domain name."
        }
        None => "Passkeys are not available at this address. Sign in with your password.",
    };
    Some(refuse(StatusCode::SERVICE_UNAVAILABLE, why))
}

/// A refusal as the page's script reads it.
pub(crate) fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The person has a second factor: an authenticator app or a passkey.
pub(crate) async fn has_second_factor(
    state: &AppState,
    user: &users::User,
) -> Result<bool, AppError> {
    Ok(user.totp_enabled || !passkeys::of_user(&state.db, user.id).await?.is_empty())
}

pub(crate) fn credentials(list: &[passkeys::StoredPasskey]) -> Vec<Passkey> {
    list.iter()
        .filter_map(|p| serde_json::from_str(&p.credential).ok())
        .collect()
}

fn credential_key(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// Starts registering a passkey for `user` that the device keeps (a discoverable key), so it
/// can later sign in alone; `exclude` are the person's passkeys already registered.
pub(crate) fn start_registration(
    state: &AppState,
    user: &users::User,
    exclude: Option<Vec<CredentialID>>,
) -> Result<(serde_json::Value, webauthn_rs::prelude::PasskeyRegistration), AppError> {
    let (options, ceremony) = webauthn(&state.config)?
        .start_passkey_registration(user.id, &user.email, &user.name, exclude)
        .map_err(|e| AppError::Internal(format!("passkey registration: {e}")))?;
    let mut options = serde_json::to_value(options)
        .map_err(|e| AppError::Internal(format!("passkey options: {e}")))?;
    options["publicKey"]["authenticatorSelection"]["residentKey"] = json!("required");
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = json!(true);
    Ok((options, ceremony))
}

/// A registration checked out: the passkey's credential key and its state as stored.
pub(crate) struct Registered {
    pub key: String,
    pub stored: String,
}

/// Finishes a registration ceremony of `purpose` begun for `user_id`, once: the new passkey,
/// or the refusal the page's script shows.
pub(crate) async fn finish_registration(
    state: &AppState,
    purpose: Purpose,
    user_id: uuid::Uuid,
    ceremony_key: &str,
    credential: &str,
) -> Result<Result<Registered, Response>, AppError> {
    let Some((Some(owner), saved)) =
        passkeys::take(&state.db, &hash_token(ceremony_key), purpose).await?
    else {
        return Ok(Err(refuse(
            StatusCode::CONFLICT,
            "That request ran out or was already used. Press the button again.",
        )));
    };
    let (true, Ok(ceremony), Ok(answer)) = (
        owner == user_id,
        serde_json::from_str(&saved),
        serde_json::from_str::<RegisterPublicKeyCredential>(credential),
    ) else {
        return Ok(Err(refuse(
            StatusCode::CONFLICT,
            "Your device's answer could not be read. Press the button again.",
        )));
    };
    let passkey = match webauthn(&state.config)?.finish_passkey_registration(&answer, &ceremony) {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(error = %e, "passkey registration refused");
            return Ok(Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Your device's answer did not check out. Try again, or use another device.",
            )));
        }
    };
    let stored =
        serde_json::to_string(&passkey).map_err(|e| AppError::Internal(format!("passkey: {e}")))?;
    Ok(Ok(Registered {
        key: credential_key(passkey.cred_id()),
        stored,
    }))
}

/// Keeps a ceremony's state and answers with its key and the browser's options.
pub(crate) async fn begin(
    state: &AppState,
    user_id: Option<uuid::Uuid>,
    purpose: Purpose,
    options: impl serde::Serialize,
    ceremony: impl serde::Serialize,
) -> Result<Response, AppError> {
    let key = new_token();
    let saved = serde_json::to_string(&ceremony)
        .map_err(|e| AppError::Internal(format!("ceremony state: {e}")))?;
    passkeys::begin(&state.db, &hash_token(&key), user_id, purpose, &saved).await?;
    Ok(Json(json!({ "ceremony": key, "options": options })).into_response())
}

/// The second request of a ceremony: its key, the browser's answer, and what comes with it.
#[derive(Deserialize)]
pub(crate) struct FinishForm {
    pub ceremony: String,
    pub credential: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub next: String,
}

// ---------------------------------------------------------------- signing in with one alone

pub(crate) async fn sign_in_start(State(state): State<AppState>) -> Result<Response, AppError> {
    if let Some(refused) = unavailable(&state.config) {
        return Ok(refused);
    }
    let (options, ceremony) = webauthn(&state.config)?
        .start_discoverable_authentication()
        .map_err(|e| AppError::Internal(format!("passkey sign-in: {e}")))?;
    begin(&state, None, Purpose::SignIn, options, ceremony).await
}

/// Checks an assertion against the passkey it names, of `expected` when given; returns the
/// passkey's owner, after recording the use.
pub(crate) async fn verify(
    state: &AppState,
    answer: &PublicKeyCredential,
    check: impl FnOnce(
        &Webauthn,
        &Passkey,
    ) -> Result<webauthn_rs::prelude::AuthenticationResult, String>,
    expected: Option<uuid::Uuid>,
) -> Result<Option<uuid::Uuid>, AppError> {
    let key = credential_key(answer.get_credential_id());
    let Some(stored) = passkeys::by_credential(&state.db, &key).await? else {
        return Ok(None);
    };
    if expected.is_some_and(|u| u != stored.user_id) {
        return Ok(None);
    }
    let Ok(mut passkey) = serde_json::from_str::<Passkey>(&stored.credential) else {
        return Ok(None);
    };
    let result = match check(&webauthn(&state.config)?, &passkey) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e, "passkey assertion refused");
            return Ok(None);
        }
    };
    passkey.update_credential(&result);
    let saved =
        serde_json::to_string(&passkey).map_err(|e| AppError::Internal(format!("passkey: {e}")))?;
    passkeys::used(&state.db, stored.id, &saved).await?;
    Ok(Some(stored.user_id))
}

pub(crate) async fn sign_in_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    info: ReqInfo,
    Form(form): Form<FinishForm>,
) -> Result<Response, AppError> {
    let address_key = format!("address:{}", info.ip);
    if let Some(wait) = throttled(&state, &address_key, &address_key).await? {
        let secs = wait.whole_seconds().max(1);
        return Ok(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many sign-in attempts. Wait {secs} seconds, then try again."),
        ));
    }
    let failed = || async {
        throttle::record_failure(&state.db, &[&address_key]).await?;
        let origin = info.anonymous("passkey", None);
        audit::record(
            &state.db,
            &origin,
            audit::Event::new(None, "auth.passkey.failed"),
        )
        .await?;
        Ok::<_, AppError>(refuse(
            StatusCode::UNAUTHORIZED,
            "That passkey could not sign you in. Use your password, or try again.",
        ))
    };
    let Some((_, saved)) =
        passkeys::take(&state.db, &hash_token(&form.ceremony), Purpose::SignIn).await?
    else {
        return failed().await;
    };
    let (Ok(ceremony), Ok(answer)) = (
        serde_json::from_str::<webauthn_rs::prelude::DiscoverableAuthentication>(&saved),
        serde_json::from_str::<PublicKeyCredential>(&form.credential),
    ) else {
        return failed().await;
    };
    let claimed = webauthn(&state.config)?
        .identify_discoverable_authentication(&answer)
        .ok()
        .map(|(user, _)| user);
    let Some(claimed) = claimed else {
        return failed().await;
    };
    let owner = verify(
        &state,
        &answer,
        |w, p| {
            w.finish_discoverable_authentication_v2(&answer, ceremony, p)
                .map_err(|e| e.to_string())
        },
        Some(claimed),
    )
    .await?;
    let user = match owner {
        Some(id) => users::by_id(&state.db, id).await?.filter(|u| u.active),
        None => None,
    };
    let Some(user) = user else {
        return failed().await;
    };
    // The passkey checked the person's presence and verified them: it is both steps.
    let next = safe_next(&form.next).to_string();
    match begin_session(&state, &headers, &info, &user, "passkey", false, &next).await? {
        SignedIn::Yes { cookie, target } => {
            Ok(([(SET_COOKIE, cookie)], Json(json!({ "redirect": target }))).into_response())
        }
        SignedIn::Closed(message) => Ok(refuse(StatusCode::FORBIDDEN, &message)),
        SignedIn::Nowhere => failed().await,
    }
}

#[derive(Deserialize)]
pub(crate) struct InvitationForm {
    #[serde(default)]
    registration_key: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

/// The invitation link, still usable, its person, and their firm's name.
async fn invitation(
    state: &AppState,
    token: &str,
) -> Result<Option<(portico_db::tokens::Usable, users::User, String)>, AppError> {
    let hash = hash_token(token);
    let Some(usable) =
        portico_db::tokens::peek(&state.db, &hash, portico_db::tokens::SET_PASSWORD).await?
    else {
        return Ok(None);
    };
    let Some(user) = users::by_id(&state.db, usable.user_id).await? else {
        return Ok(None);
    };
    let firm_name = match usable.firm_id {
        Some(id) => portico_db::firms::by_id(&state.db, id)
            .await?
            .map(|f| f.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(Some((usable, user, firm_name)))
}

const LINK_GONE: &str =
    "This link has expired or was already used. Reload the page to have a new one sent.";

/// An invitee who would rather not have a password registers a passkey instead.
pub(crate) async fn invitation_start(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<InvitationForm>,
) -> Result<Response, AppError> {
    if let Some(refused) = unavailable(&state.config) {
        return Ok(refused);
    }
    let Some((usable, user, firm_name)) = invitation(&state, &token).await? else {
        return Ok(refuse(StatusCode::GONE, LINK_GONE));
    };
    let link_hash = hash_token(&token);
    if let Some((status, message)) = crate::signin::password::check_registration_key(
        &state,
        &link_hash,
        &usable,
        &form.registration_key,
        &firm_name,
    )
    .await?
    {
        return Ok(refuse(status, &message));
    }
    let (options, ceremony) = start_registration(&state, &user, None)?;
    begin(
        &state,
        Some(user.id),
        Purpose::Invitation,
        options,
        ceremony,
    )
    .await
}

/// Finishes it: the link is used up, the passkey kept, and the person signed in.
pub(crate) async fn invitation_finish(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    info: ReqInfo,
    Form(form): Form<InvitationForm>,
) -> Result<Response, AppError> {
    let Some((usable, user, _)) = invitation(&state, &token).await? else {
        return Ok(refuse(StatusCode::GONE, LINK_GONE));
    };
    let registered = match finish_registration(
        &state,
        Purpose::Invitation,
        user.id,
        &form.ceremony,
        &form.credential,
    )
    .await?
    {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let origin = info.anonymous(&user.email, Some(user.id));
    let mut tx = state.db.begin().await?;
    let link_hash = hash_token(&token);
    if portico_db::tokens::consume(&mut tx, &link_hash, portico_db::tokens::SET_PASSWORD)
        .await?
        .is_none()
    {
        return Ok(refuse(StatusCode::GONE, LINK_GONE));
    }
    passkeys::insert(
        &mut tx,
        user.id,
        "Passkey",
        &registered.key,
        &registered.stored,
        &origin,
    )
    .await?;
    if let Some(firm) = usable.firm_id {
        portico_db::clients::clear_registration_keys(&mut tx, user.id, firm).await?;
    }
    tx.commit().await?;
    portico_db::sessions::end_all_for_user(&state.db, user.id).await?;
    match begin_session(&state, &headers, &info, &user, "passkey", false, "/").await? {
        SignedIn::Yes { cookie, target } => {
            Ok(([(SET_COOKIE, cookie)], Json(json!({ "redirect": target }))).into_response())
        }
        SignedIn::Closed(message) => Ok(refuse(StatusCode::FORBIDDEN, &message)),
        SignedIn::Nowhere => Ok(Json(json!({ "redirect": "/login" })).into_response()),
    }
}
