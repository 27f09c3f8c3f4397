//! The firm's settings, for its administrators: name, colour, security policies, privacy and
//! the quick links shown to clients.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::DbError;
use portico_db::firms::{self, QuickLink, Settings};
use portico_db::pictures::{self, Owner};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::pictures::ImageUpload;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "settings/staff_settings.html")]
pub(crate) struct SettingsPage {
    layout: Layout,
    name: String,
    brand_colour: String,
    idle_minutes: i64,
    absolute_hours: i64,
    require_2fa_staff: bool,
    require_2fa_clients: bool,
    access_log_for_clients: bool,
    terms_text: String,
    terms_version: i64,
    link_lifetime_days: i64,
    ask_insurance: bool,
    client_read_receipts: bool,
    clients_move_shared_files: bool,
    quick_links: Vec<QuickLink>,
    saved: bool,
    error: Option<String>,
    link_error: Option<String>,
    link_label: String,
    link_url: String,
    logo: Option<String>,
    logo_error: Option<String>,
    /// The firm's own sign-in page, under its name and logo.
    sign_in_url: String,
}

/// The page as stored, before any message or typed-in values are added.
async fn page(state: &AppState, signed: &Signed) -> Result<SettingsPage, AppError> {
    let firm = firms::of_viewer(&state.db, &signed.viewer).await?;
    let quick_links = firms::quick_links(&state.db, &signed.viewer).await?;
    Ok(SettingsPage {
        layout: Layout::new(signed, "Firm settings", paths::settings()),
        name: firm.name.clone(),
        brand_colour: firm.brand_colour.clone(),
        idle_minutes: firm.idle_timeout_secs / 60,
        absolute_hours: firm.absolute_timeout_secs / 3600,
        require_2fa_staff: firm.require_2fa_staff,
        require_2fa_clients: firm.require_2fa_clients,
        access_log_for_clients: firm.access_log_for_clients,
        terms_text: firm.terms_text.clone(),
        terms_version: firm.terms_version,
        link_lifetime_days: firm.link_lifetime_days,
        ask_insurance: firm.ask_insurance,
        client_read_receipts: firm.client_read_receipts,
        clients_move_shared_files: firm.clients_move_shared_files,
        quick_links,
        saved: false,
        error: None,
        link_error: None,
        link_label: String::new(),
        link_url: String::new(),
        logo: firm
            .logo_version
            .map(|v| format!("/logos/{}?v={v}", firm.slug)),
        logo_error: None,
        sign_in_url: format!("{}/login?firm={}", state.config.origin(), firm.slug),
    })
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
    let mut p = page(&state, &signed).await?;
    p.saved = q.saved.is_some();
    Ok(p)
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
    #[serde(default)]
    access_log_for_clients: Option<String>,
    /// Left out: kept as they are.
    #[serde(default)]
    terms_text: Option<String>,
    #[serde(default)]
    link_lifetime_days: Option<i64>,
    #[serde(default)]
    ask_insurance: Option<String>,
    #[serde(default)]
    client_read_receipts: Option<String>,
    #[serde(default)]
    clients_move_shared_files: Option<String>,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<SettingsForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = &posted.form;
    let current = firms::of_viewer(&state.db, &signed.viewer).await?;
    let settings = Settings {
        name: f.name.clone(),
        brand_colour: f.brand_colour.clone(),
        idle_timeout_minutes: f.idle_timeout_minutes,
        absolute_timeout_hours: f.absolute_timeout_hours,
        require_2fa_staff: f.require_2fa_staff.is_some(),
        require_2fa_clients: f.require_2fa_clients.is_some(),
        access_log_for_clients: f.access_log_for_clients.is_some(),
        terms_text: f.terms_text.clone().unwrap_or(current.terms_text),
        link_lifetime_days: f.link_lifetime_days.unwrap_or(current.link_lifetime_days),
        ask_insurance: f.ask_insurance.is_some(),
        client_read_receipts: f.client_read_receipts.is_some(),
        clients_move_shared_files: f.clients_move_shared_files.is_some(),
    };
    match firms::update_settings(&state.db, &signed.viewer, &settings, &info.by(signed)).await {
        Ok(_) => Ok(Redirect::to(&format!("{}?saved=1", paths::settings())).into_response()),
        Err(DbError::Invalid(e)) => {
            let mut p = page(&state, signed).await?;
            p.error = Some(e.message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct QuickLinkForm {
    label: String,
    url: String,
}

pub(crate) async fn add_quick_link(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<QuickLinkForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = &posted.form;
    let added = firms::add_quick_link(
        &state.db,
        &signed.viewer,
        &f.label,
        &f.url,
        &info.by(signed),
    )
    .await;
    match added {
        Ok(_) => {
            Ok(Redirect::to(&format!("{}?saved=1#quick-links", paths::settings())).into_response())
        }
        Err(DbError::Invalid(e)) => {
            let mut p = page(&state, signed).await?;
            p.link_error = Some(e.message);
            p.link_label = f.label.clone();
            p.link_url = f.url.clone();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn remove_quick_link(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    firms::remove_quick_link(&state.db, &signed.viewer, id, &info.by(signed)).await?;
    Ok(Redirect::to(&format!(
        "{}?saved=1#quick-links",
        paths::settings()
    )))
}

/// Logos are shrunk to fit this box, in pixels.
const LOGO_BOX: (u32, u32) = (480, 160);

pub(crate) async fn upload_logo(
    State(state): State<AppState>,
    info: ReqInfo,
    upload: ImageUpload,
) -> Result<Response, AppError> {
    let signed = &upload.signed;
    if !signed.viewer.may_administer_firm() {
        return Err(AppError::NotFound);
    }
    let (viewer, origin) = (&signed.viewer, info.by(signed));
    let bytes = upload.bytes;
    match crate::pictures::store(&state, viewer, bytes, Owner::FirmLogo, LOGO_BOX, &origin).await {
        Ok(()) => Ok(Redirect::to(&format!("{}?saved=1", paths::settings())).into_response()),
        Err(AppError::Invalid(message)) => {
            let mut p = page(&state, signed).await?;
            p.logo_error = Some(message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn remove_logo(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    pictures::set(
        &state.db,
        &signed.viewer,
        Owner::FirmLogo,
        None,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to(&format!("{}?saved=1", paths::settings())))
}
