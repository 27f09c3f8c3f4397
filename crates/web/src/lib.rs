//! Portico's HTTP layer: the router, its middleware, the server-rendered pages and the JSON API.
//! Handlers are thin: parse, call one store function with the viewer, render.

mod api;
mod csv;
mod dashboard;
mod error;
mod forms;
mod invitations;
pub mod live;
mod metrics;
mod middleware;
mod page_cache;
mod pdf;
mod pictures;
mod request;
mod rich;
mod session;
mod state;
mod totp;
mod views;

pub use error::AppError;
pub use live::Hub;
pub use state::{AppState, WebConfig};

use axum::Router;

/// The whole application: pages, API, health and assets, wrapped in the security middleware.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .merge(views::routes())
        .merge(api::routes())
        .route_layer(axum::middleware::from_fn(
            middleware::refuse_over_form_limit,
        ))
        .merge(views::routes_with_own_limits())
        .with_state(state.clone());
    middleware::wrap(app, state)
}
