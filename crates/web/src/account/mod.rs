//! The person's own account: where they are signed in and with which devices, their profile
//! and picture, two-step sign-in, passkeys, and switching between the places they belong to.

mod passkeys;
mod profile;
pub(crate) mod sessions;
mod switch;
mod two_factor;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/sessions", get(sessions::list))
        .route("/account/sessions/end-others", post(sessions::end_others))
        .route("/account/sessions/{id}/end", post(sessions::end))
        .route(
            "/account/devices/{id}/remove",
            post(sessions::remove_device),
        )
        .route("/account/create-login", post(sessions::create_login))
        .route("/account/profile", get(profile::show).post(profile::save))
        .route("/account/profile/insurance", post(profile::save_insurance))
        .route(
            "/account/profile/picture/remove",
            post(profile::remove_picture),
        )
        .route("/account/2fa", get(two_factor::status))
        .route("/account/2fa/start", post(two_factor::start))
        .route("/account/2fa/confirm", post(two_factor::confirm))
        .route("/account/2fa/disable", post(two_factor::disable))
        .route("/account/switch", get(switch::page).post(switch::switch))
        .route("/account/passkeys", get(passkeys::list))
        .route("/account/passkeys/start", post(passkeys::register_start))
        .route("/account/passkeys/finish", post(passkeys::register_finish))
        .route("/account/passkeys/{id}/remove", post(passkeys::remove))
}

/// Uploads of a profile picture, which have the picture limit instead of the form limit.
pub(crate) fn picture_routes() -> Router<AppState> {
    Router::new().route("/account/profile/picture", post(profile::upload_picture))
}
