//! Signing in and out: with a password, a passkey, a one-time access link, the second step
//! after a password, choosing a password from an invitation, a forgotten password, and the
//! firm's terms accepted at the first sign-in.

pub(crate) mod link;
pub(crate) mod passkey;
pub(crate) mod password;
mod reset;
pub(crate) mod second_step;
mod terms;

use axum::Router;
use axum::routing::{get, post};
use portico_db::firms::{self, Brand};

use crate::kit::error::AppError;
use crate::state::AppState;

/// The firm a sign-in page is for, from the `firm` its address names, for its name and logo
/// on the page. Anything that is not a firm's slug shows the page as it is, unbranded.
pub(crate) async fn named_brand(state: &AppState, slug: &str) -> Result<Option<Brand>, AppError> {
    let well_formed = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !well_formed {
        return Ok(None);
    }
    Ok(firms::brand_by_slug(&state.db, slug).await?)
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(password::start))
        .route("/login", get(password::login_page).post(password::login))
        .route("/logout", post(password::logout))
        .route(
            "/set-password/{token}",
            get(password::set_password_page).post(password::set_password),
        )
        .route("/set-password/{token}/renew", post(password::renew_link))
        .route(
            "/set-password/{token}/passkey/start",
            post(passkey::invitation_start),
        )
        .route(
            "/set-password/{token}/passkey/finish",
            post(passkey::invitation_finish),
        )
        .route("/forgot-password", get(reset::page).post(reset::request))
        .route("/a/{token}", get(link::show).post(link::open))
        .route("/a/{token}/send", post(link::resend))
        .route(
            "/staff/matters/{id}/access-link",
            post(link::send_for_matter),
        )
        .route("/staff/client-forms/{id}/link", post(link::send_for_form))
        .route(
            "/login/2fa",
            get(second_step::page).post(second_step::check),
        )
        .route("/login/passkey/start", post(passkey::sign_in_start))
        .route("/login/passkey/finish", post(passkey::sign_in_finish))
        .route("/login/2fa/passkey/start", post(second_step::passkey_start))
        .route(
            "/login/2fa/passkey/finish",
            post(second_step::passkey_finish),
        )
        .route("/terms", get(terms::show).post(terms::accept))
}
