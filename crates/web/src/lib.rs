//! Portico's HTTP layer: the router, its middleware, the server-rendered pages and the JSON API.
//! Handlers are thin: parse, call one store function with the viewer, render.

mod account;
mod api;
mod audit;
mod clients;
mod dashboard;
mod files;
mod forms;
mod kit;
pub mod live;
mod messages;
mod metrics;
mod middleware;
mod notifications;
mod page_cache;
mod pictures;
mod settings;
mod signin;
mod state;
mod system;
mod tasks;
mod totp;

pub use kit::error::AppError;
pub use live::Hub;
pub use notifications::notices;
pub use state::{AppState, WebConfig};

use axum::Router;

/// The whole application: pages, API, health and assets, wrapped in the security middleware.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .merge(signin::routes())
        .merge(account::routes())
        .merge(dashboard::routes())
        .merge(clients::routes())
        .merge(messages::routes())
        .merge(tasks::routes())
        .merge(forms::routes())
        .merge(files::routes())
        .merge(notifications::routes())
        .merge(settings::routes())
        .merge(audit::routes())
        .merge(system::routes())
        .merge(api::routes())
        .route_layer(axum::middleware::from_fn(
            middleware::refuse_over_form_limit,
        ))
        .merge(picture_uploads())
        .merge(file_uploads())
        .with_state(state.clone());
    middleware::wrap(app, state)
}

/// The image uploads, which accept bodies up to the picture limit instead of the form limit.
fn picture_uploads() -> Router<AppState> {
    let routes = Router::new()
        .merge(settings::picture_routes())
        .merge(account::picture_routes());
    middleware::with_body_limit(routes, pictures::MAX_UPLOAD + 64 * 1024)
}

/// Routes that stream files past the form body limit; their own size limit applies instead.
fn file_uploads() -> Router<AppState> {
    Router::new()
        .merge(files::upload_routes())
        .merge(forms::upload_routes())
        .merge(tasks::upload_routes())
        .merge(messages::upload_routes())
        .layer(axum::extract::DefaultBodyLimit::disable())
}
