//! Server-rendered pages. Each works without JavaScript and on a phone.

mod access_log;
mod account;
mod assets;
mod audit;
mod auth;
mod colleagues;
pub(crate) mod files;
mod form_builder;
mod forms;
mod health;
mod layout;
mod links;
mod matters;
pub(crate) mod messages;
mod notifications;
mod passkeys;
mod portal;
mod profile;
mod reset;
mod settings;
mod staff;
mod switch;
mod tasks;
mod terms;
mod two_factor;
mod uploads;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(auth::start))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/set-password/{token}",
            get(auth::set_password_page).post(auth::set_password),
        )
        .route("/set-password/{token}/renew", post(auth::renew_link))
        .route(
            "/set-password/{token}/passkey/start",
            post(passkeys::invitation_start),
        )
        .route(
            "/set-password/{token}/passkey/finish",
            post(passkeys::invitation_finish),
        )
        .route("/forgot-password", get(reset::page).post(reset::request))
        .route("/a/{token}", get(links::show).post(links::open))
        .route("/a/{token}/send", post(links::resend))
        .route("/account/sessions", get(account::list))
        .route("/account/profile", get(profile::show).post(profile::save))
        .route("/account/profile/insurance", post(profile::save_insurance))
        .route(
            "/account/profile/picture/remove",
            post(profile::remove_picture),
        )
        .route("/staff/settings/logo/remove", post(settings::remove_logo))
        .route("/account/2fa", get(two_factor::status))
        .route("/account/2fa/start", post(two_factor::start))
        .route("/account/2fa/confirm", post(two_factor::confirm))
        .route("/account/2fa/disable", post(two_factor::disable))
        .route(
            "/login/2fa",
            get(two_factor::second_step_page).post(two_factor::second_step),
        )
        .route("/account/switch", get(switch::page).post(switch::switch))
        .route("/account/sessions/end-others", post(account::end_others))
        .route("/account/sessions/{id}/end", post(account::end))
        .route("/account/devices/{id}/remove", post(account::remove_device))
        .route("/account/create-login", post(account::create_login))
        .route(
            "/staff/clients/{id}/users/{user}/devices/{device}/remove",
            post(staff::remove_device),
        )
        .route("/staff", get(staff::home))
        .route(
            "/staff/clients",
            get(staff::clients).post(staff::create_client),
        )
        .route("/staff/clients/{id}", get(staff::client))
        .route("/staff/clients/{id}/matters", post(staff::create_matter))
        .route("/staff/clients/{id}/portal", post(staff::client_portal))
        .route("/staff/clients/{id}/invite", post(staff::invite))
        .route(
            "/staff/clients/{id}/users/{user}/end-sessions",
            post(staff::end_user_sessions),
        )
        .route(
            "/staff/clients/{id}/users/{user}/invitation/{action}",
            post(staff::invitation),
        )
        .route("/staff/matters/{id}", get(matters::staff_view))
        .route("/staff/matters/{id}/comments", post(matters::comment))
        .route(
            "/staff/matters/{id}/access-link",
            post(links::send_for_matter),
        )
        .route("/staff/matters/{id}/portal", post(staff::matter_portal))
        .route("/staff/audit", get(audit::page))
        .route("/staff/audit.csv", get(audit::export))
        .route("/staff/settings", get(settings::show).post(settings::save))
        .route(
            "/staff/settings/quick-links",
            post(settings::add_quick_link),
        )
        .route(
            "/staff/settings/quick-links/{id}/remove",
            post(settings::remove_quick_link),
        )
        .route("/portal", get(portal::home))
        .route("/terms", get(terms::show).post(terms::accept))
        .route("/portal/matters", get(portal::matters))
        .route("/portal/access-log", get(access_log::portal))
        .route("/staff/clients/{id}/access-log", get(access_log::staff))
        .route(
            "/portal/colleagues",
            get(colleagues::list).post(colleagues::invite),
        )
        .route("/portal/matters/{id}", get(matters::portal_view))
        .route("/portal/matters/{id}/comments", post(matters::comment))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/portico.css", get(assets::stylesheet))
        .route("/static/live.js", get(assets::script))
        .route("/static/passkeys.js", get(assets::passkeys_script))
        .route("/static/forms.js", get(assets::forms_script))
        .route("/static/uploads.js", get(assets::uploads_script))
        .route("/account/passkeys", get(passkeys::list))
        .route("/account/passkeys/start", post(passkeys::register_start))
        .route("/account/passkeys/finish", post(passkeys::register_finish))
        .route("/account/passkeys/{id}/remove", post(passkeys::remove))
        .route("/login/passkey/start", post(passkeys::sign_in_start))
        .route("/login/passkey/finish", post(passkeys::sign_in_finish))
        .route(
            "/login/2fa/passkey/start",
            post(passkeys::second_step_start),
        )
        .route(
            "/login/2fa/passkey/finish",
            post(passkeys::second_step_finish),
        )
        .route("/staff/messages", get(messages::list))
        .route(
            "/portal/messages",
            get(messages::list).post(messages::portal_create),
        )
        .route("/portal/messages/new", get(messages::portal_new))
        .route("/staff/clients/{id}/messages/new", get(messages::staff_new))
        .route("/staff/clients/{id}/messages", post(messages::staff_create))
        .route("/staff/messages/{id}", get(messages::view))
        .route("/portal/messages/{id}", get(messages::view))
        .route("/staff/messages/{id}/reply", post(messages::reply))
        .route("/portal/messages/{id}/reply", post(messages::reply))
        .route("/staff/messages/{id}/resolve", post(messages::resolve))
        .route("/staff/messages/{id}/people", post(messages::add_people))
        .route("/portal/messages/{id}/people", post(messages::add_people))
        .route("/staff/messages/{id}/{seq}/edit", post(messages::edit))
        .route("/portal/messages/{id}/{seq}/edit", post(messages::edit))
        .route("/staff/messages/{id}/{seq}/delete", post(messages::delete))
        .route("/messages/{id}/live", get(messages::live))
        .route("/portal/tasks", get(tasks::portal_list))
        .route("/portal/tasks/{id}/done", post(tasks::set_done))
        .route("/staff/tasks/{id}/done", post(tasks::set_done))
        .route(
            "/staff/clients/{id}/tasks",
            get(tasks::staff_list).post(tasks::create),
        )
        .route(
            "/staff/forms",
            get(form_builder::list).post(form_builder::create),
        )
        .route("/staff/forms/{id}", get(form_builder::show))
        .route("/staff/forms/{id}/edit", post(form_builder::edit))
        .route("/staff/forms/{id}/sent", get(forms::sent))
        .route("/staff/forms/{id}/export.csv", get(forms::export_csv))
        .route(
            "/staff/clients/{id}/forms",
            get(forms::staff_list).post(forms::send),
        )
        .route("/staff/client-forms/{id}", get(forms::review))
        .route("/staff/client-forms/{id}/reopen", post(forms::reopen))
        .route("/staff/client-forms/{id}/link", post(links::send_for_form))
        .route("/staff/client-forms/{id}/pdf", get(forms::pdf))
        .route("/portal/forms", get(forms::portal_list))
        .route("/portal/forms/{id}", get(forms::fill))
        .route("/portal/forms/{id}/pdf", get(forms::pdf))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read-all", post(notifications::read_all))
        .route("/notifications/live", get(notifications::live))
        .route("/brand/{file}", get(assets::brand))
        .route("/logos/{slug}", get(assets::logo))
        .route("/people/{id}/picture", get(assets::person))
        .route("/files/{id}", get(files::download))
        .route("/files/{id}/preview", get(files::preview))
        .route("/files/zip", post(files::zip))
        .route(
            "/files/{id}/comments",
            get(files::comments_page).post(files::add_comment),
        )
        .route("/portal/files", get(files::portal_list))
        .route("/portal/files/{id}/read", post(files::mark_read))
        .route("/staff/clients/{id}/files", get(files::staff_list))
        .route("/staff/clients/{id}/files/share", post(files::share))
        .route("/staff/clients/{id}/folders", post(files::staff_new_folder))
        .route("/portal/folders", post(files::portal_new_folder))
        .route("/folders/{id}/rename", post(files::rename_folder))
        .route("/folders/{id}/delete", post(files::delete_folder))
        .route("/files/move", post(files::move_selected))
}

/// The routes whose bodies have a limit of their own instead of the form limit.
pub(crate) fn routes_with_own_limits() -> Router<AppState> {
    Router::new().merge(picture_uploads()).merge(file_uploads())
}

/// The image uploads, which accept bodies up to the picture limit instead of the form limit.
fn picture_uploads() -> Router<AppState> {
    let routes = Router::new()
        .route("/staff/settings/logo", post(settings::upload_logo))
        .route("/account/profile/picture", post(profile::upload_picture));
    crate::middleware::with_body_limit(routes, crate::pictures::MAX_UPLOAD + 64 * 1024)
}

/// File uploads stream past the form body limit; their own size limit applies instead.
fn file_uploads() -> Router<AppState> {
    Router::new()
        .route("/portal/files/upload", post(files::portal_upload))
        .route("/portal/forms/{id}", post(forms::save))
        .route("/portal/tasks/{id}/upload", post(tasks::upload))
        .route("/staff/messages/{id}/upload", post(messages::reply_upload))
        .route("/portal/messages/{id}/upload", post(messages::reply_upload))
        .route(
            "/staff/clients/{id}/files/upload",
            post(files::staff_upload),
        )
        .route(
            "/uploads",
            axum::routing::options(uploads::options).post(uploads::create),
        )
        .route(
            "/uploads/{id}",
            axum::routing::head(uploads::head)
                .patch(uploads::patch)
                .delete(uploads::delete),
        )
        .route(
            "/api/v1/uploads",
            axum::routing::options(uploads::options).post(uploads::create),
        )
        .route(
            "/api/v1/uploads/{id}",
            axum::routing::head(uploads::head)
                .patch(uploads::patch)
                .delete(uploads::delete),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// The URL's side (`/staff/…` or `/portal/…`) must be the viewer's; the other side's URLs
/// simply do not exist for them.
pub(crate) fn check_side(
    uri: &axum::http::Uri,
    signed: &crate::session::Signed,
) -> Result<(), crate::AppError> {
    if uri.path().starts_with("/staff/") == signed.viewer.is_staff() {
        Ok(())
    } else {
        Err(crate::AppError::NotFound)
    }
}

/// Parses an id from a URL; anything that is not one is simply not found.
pub(crate) fn parse_id(raw: &str) -> Result<uuid::Uuid, crate::AppError> {
    uuid::Uuid::parse_str(raw).map_err(|_| crate::AppError::NotFound)
}
