//! "Forgot your password?": a single-use link, valid for an hour, mailed to the address if an
//! account uses it. The answer is the same whether or not one does.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_db::firms::{self, Brand};
use portico_db::{throttle, users};
use portico_services::invitations::{Occasion, send_set_password_link};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::request::ReqInfo;
use crate::signin::named_brand;
use crate::state::AppState;

/// Links per address per hour, and requests per client address per hour.
const PER_EMAIL: i64 = 3;
const PER_CLIENT_ADDRESS: i64 = 20;

#[derive(Template, WebTemplate)]
#[template(path = "signin/forgot_password.html")]
pub(crate) struct ForgotPage {
    sent: bool,
    error: Option<String>,
    /// The firm whose sign-in page led here, when its address named one.
    brand: Option<Brand>,
}

#[derive(Deserialize)]
pub(crate) struct ForgotQuery {
    #[serde(default)]
    firm: String,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Query(q): Query<ForgotQuery>,
) -> Result<ForgotPage, AppError> {
    Ok(ForgotPage {
        sent: false,
        error: None,
        brand: named_brand(&state, &q.firm).await?,
    })
}

#[derive(Deserialize)]
pub(crate) struct ForgotForm {
    email: String,
    #[serde(default)]
    firm: String,
}

pub(crate) async fn request(
    State(state): State<AppState>,
    info: ReqInfo,
    Form(form): Form<ForgotForm>,
) -> Result<Response, AppError> {
    // The page keeps the firm it was opened for; the answer never names the account's firm.
    let brand = named_brand(&state, &form.firm).await?;
    let Ok(email) = portico_core::validate::email(&form.email) else {
        let page = ForgotPage {
            sent: false,
            error: Some("Enter an email address like name@example.com.".into()),
            brand,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let (email_key, address_key) = (
        format!("reset:{email}"),
        format!("reset-address:{}", info.ip),
    );
    let over_limit = throttle::failures(&state.db, &email_key).await?.count >= PER_EMAIL
        || throttle::failures(&state.db, &address_key).await?.count >= PER_CLIENT_ADDRESS;
    let user = users::by_email(&state.db, &email)
        .await?
        .filter(|u| u.active);
    let firm = match &user {
        Some(u) => match users::memberships(&state.db, u.id).await?.first() {
            Some(m) => firms::by_id(&state.db, m.firm_id).await?,
            None => None,
        },
        None => None,
    };
    // One transaction either way, so known and unknown addresses take the same time.
    let mut tx = state.db.begin().await?;
    throttle::record_in(&mut tx, &[&email_key, &address_key]).await?;
    if let (Some(user), Some(firm), false) = (&user, &firm, over_limit) {
        let origin = info.anonymous(&user.email, Some(user.id));
        let origin_url = state.config.origin();
        send_set_password_link(
            &mut tx,
            &origin_url,
            user,
            firm,
            Occasion::Reset,
            &origin,
            state.config.mail_attempts,
        )
        .await?;
    }
    tx.commit().await?;
    state.jobs_waiting.notify_one();
    Ok(ForgotPage {
        sent: true,
        error: None,
        brand,
    }
    .into_response())
}
