//! The firm's settings, for its administrators: name, colour and security policies.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::DbError;
use portico_db::firms::{self, Firm, Settings};
use serde::Deserialize;

use super::layout::Layout;
use crate::error::AppError;
use crate::forms::Posted;
use crate::request::ReqInfo;
use crate::session::Signed;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "staff_settings.html")]
pub(crate) struct SettingsPage {
    layout: Layout,
    name: String,
    brand_colour: String,
    idle_minutes: i64,
    absolute_hours: i64,
    require_2fa_staff: bool,
    require_2fa_clients: bool,
    saved: bool,
    error: Option<String>,
}

fn page(signed: &Signed, firm: &Firm, saved: bool, error: Option<String>) -> SettingsPage {
    SettingsPage {
        layout: Layout::new(signed, "Firm settings", "/staff/settings"),
        name: firm.name.clone(),
        brand_colour: firm.brand_colour.clone(),
        idle_minutes: firm.idle_timeout_secs / 60,
        absolute_hours: firm.absolute_timeout_secs / 3600,
        require_2fa_staff: firm.require_2fa_staff,
        require_2fa_clients: firm.require_2fa_clients,
        saved,
        error,
    }
}

#[derive(Deserialize)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<SavedQuery>,
) -> Result<SettingsPage, AppError> {
    if !signed.viewer.may_administer_firm() {
        return Err(AppError::NotFound);
    }
    let firm = firms::of_viewer(&state.db, &signed.viewer).await?;
    Ok(page(&signed, &firm, q.saved.is_some(), None))
}

#[derive(Deserialize)]
pub(crate) struct SettingsForm {
    name: String,
    brand_colour: String,
    idle_timeout_minutes: i64,
    absolute_timeout_hours: i64,
    #[serde(default)]
    require_2fa_staff: Option<String>,
    #[serde(default)]
    require_2fa_clients: Option<String>,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<SettingsForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = &posted.form;
    let settings = Settings {
        name: f.name.clone(),
        brand_colour: f.brand_colour.clone(),
        idle_timeout_minutes: f.idle_timeout_minutes,
        absolute_timeout_hours: f.absolute_timeout_hours,
        require_2fa_staff: f.require_2fa_staff.is_some(),
        require_2fa_clients: f.require_2fa_clients.is_some(),
    };
    match firms::update_settings(&state.db, &signed.viewer, &settings, &info.by(signed)).await {
        Ok(_) => Ok(Redirect::to("/staff/settings?saved=1").into_response()),
        Err(DbError::Invalid(e)) => {
            let firm = firms::of_viewer(&state.db, &signed.viewer).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(signed, &firm, false, Some(e.message)),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
