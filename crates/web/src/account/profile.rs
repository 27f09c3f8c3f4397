//! The person's profile: name, phone, how they hear of new things, and the way to their
//! sessions and two-step sign-in.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::DbError;
use portico_db::clients::{self, Insurance};
use portico_db::pictures::{self, Owner};
use portico_db::users::{self, NOTIFY_CHOICES, Profile};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::layout::Layout;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::pictures::ImageUpload;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "account/profile.html")]
pub(crate) struct ProfilePage {
    layout: Layout,
    email: String,
    name: String,
    phone: String,
    notify: String,
    time_zone: String,
    zones: &'static [String],
    choices: [(&'static str, &'static str); 3],
    saved: bool,
    error: Option<String>,
    picture: Option<String>,
    picture_error: Option<String>,
    /// Clients of a practice that asks for insurance details: theirs.
    insurance: Option<Insurance>,
    insurance_error: Option<String>,
}

/// What each notification choice means, in words.
fn explain(choice: &str) -> &'static str {
    match choice {
        "immediately" => "Email me soon after something new arrives (a few together in one email)",
        "daily" => "One email a day with everything new",
        _ => "No emails except about my account's security",
    }
}

async fn page(state: &AppState, signed: &Signed) -> Result<ProfilePage, AppError> {
    let user = users::by_id(&state.db, signed.viewer.user_id())
        .await?
        .ok_or(AppError::SignInRequired)?;
    let insurance = if signed.viewer.is_staff()
        || !portico_db::firms::of_viewer(&state.db, &signed.viewer)
            .await?
            .ask_insurance
    {
        None
    } else {
        Some(clients::own_insurance(&state.db, &signed.viewer).await?)
    };
    Ok(ProfilePage {
        layout: Layout::new(signed, "Profile", "/account/profile"),
        email: user.email.clone(),
        name: user.name.clone(),
        phone: user.phone.clone(),
        notify: user.notify.clone(),
        time_zone: user.time_zone.clone(),
        zones: portico_core::validate::time_zones(),
        choices: NOTIFY_CHOICES.map(|c| (c, explain(c))),
        saved: false,
        error: None,
        picture: user
            .picture_version
            .map(|v| format!("/people/{}/picture?v={v}", user.id)),
        picture_error: None,
        insurance,
        insurance_error: None,
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
) -> Result<ProfilePage, AppError> {
    let mut p = page(&state, &signed).await?;
    p.saved = q.saved.is_some();
    Ok(p)
}

#[derive(Deserialize)]
pub(crate) struct ProfileForm {
    name: String,
    #[serde(default)]
    phone: String,
    notify: String,
    #[serde(default)]
    time_zone: String,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<ProfileForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = &posted.form;
    let profile = Profile {
        name: f.name.clone(),
        phone: f.phone.clone(),
        notify: f.notify.clone(),
        time_zone: f.time_zone.clone(),
    };
    match users::update_profile(&state.db, &signed.viewer, &profile, &info.by(signed)).await {
        Ok(()) => Ok(Redirect::to("/account/profile?saved=1").into_response()),
        Err(DbError::Invalid(e)) => {
            let mut p = page(&state, signed).await?;
            p.error = Some(e.message);
            p.name = f.name.clone();
            p.phone = f.phone.clone();
            p.time_zone = f.time_zone.clone();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Pictures are shrunk to fit this square, in pixels.
const PICTURE_BOX: u32 = 256;

pub(crate) async fn upload_picture(
    State(state): State<AppState>,
    info: ReqInfo,
    upload: ImageUpload,
) -> Result<Response, AppError> {
    let signed = &upload.signed;
    let (viewer, origin) = (&signed.viewer, info.by(signed));
    let bytes = upload.bytes;
    match crate::pictures::store(
        &state,
        viewer,
        bytes,
        Owner::Myself,
        (PICTURE_BOX, PICTURE_BOX),
        &origin,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/account/profile?saved=1").into_response()),
        Err(AppError::Invalid(message)) => {
            let mut p = page(&state, signed).await?;
            p.picture_error = Some(message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn remove_picture(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    pictures::set(
        &state.db,
        &signed.viewer,
        Owner::Myself,
        None,
        &info.by(signed),
    )
    .await?;
    Ok(Redirect::to("/account/profile?saved=1"))
}

#[derive(Deserialize)]
pub(crate) struct InsuranceForm {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    group: String,
}

pub(crate) async fn save_insurance(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<InsuranceForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    let f = &posted.form;
    let insurance = Insurance {
        provider: f.provider.clone(),
        member_id: f.member_id.clone(),
        group: f.group.clone(),
    };
    match clients::save_insurance(&state.db, &signed.viewer, &insurance, &info.by(signed)).await {
        Ok(()) => Ok(Redirect::to("/account/profile?saved=1#insurance").into_response()),
        Err(DbError::Invalid(e)) => {
            let mut p = page(&state, signed).await?;
            p.insurance_error = Some(e.message);
            p.insurance = Some(insurance);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
