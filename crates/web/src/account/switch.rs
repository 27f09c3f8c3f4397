//! One sign-in, several places: a person who is staff of a firm and a client of another, or a
//! client of two firms, switches between them. Each switch starts a new session token.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use portico_db::audit::{self, Event};

use portico_db::users::{self, Context};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::{self as cookie, Signed};
use crate::state::AppState;

pub(crate) struct Place {
    value: String,
    firm_name: String,
    client_name: Option<String>,
    current: bool,
    open: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/account_switch.html")]
pub(crate) struct SwitchPage {
    layout: Layout,
    places: Vec<Place>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<SwitchPage, AppError> {
    let places = users::memberships(&state.db, signed.viewer.user_id())
        .await?
        .into_iter()
        .map(|m| Place {
            value: format!("{}:{}", m.context, m.membership_id),
            current: m.membership_id == signed.session.membership_id,
            firm_name: m.firm_name,
            client_name: m.client_name,
            open: m.portal_open,
        })
        .collect();
    Ok(SwitchPage {
        layout: Layout::new(&signed, "Switch portal", "/account/switch"),
        places,
    })
}

#[derive(Deserialize)]
pub(crate) struct SwitchForm {
    place: String,
}

pub(crate) async fn switch(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<SwitchForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    // Only the person's own active memberships can be chosen; anything else is not found.
    let target = users::memberships(&state.db, signed.viewer.user_id())
        .await?
        .into_iter()
        .find(|m| format!("{}:{}", m.context, m.membership_id) == posted.form.place)
        .ok_or(AppError::NotFound)?;
    let firm = portico_db::firms::by_id(&state.db, target.firm_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !target.portal_open {
        // Told inside the place the person is in, which stays open to them.
        return Err(AppError::PortalClosed((&firm).into()));
    }
    let context = Context::parse(&target.context).ok_or(AppError::NotFound)?;
    let start = cookie::Start {
        user_id: signed.viewer.user_id(),
        context,
        membership_id: target.membership_id,
        firm: &firm,
        auth_method: &signed.session.auth_method.to_string(),
        mfa_pending: false,
    };
    let set = cookie::start(&state, &info, Some(&signed.session.token_hash), start).await?;
    let event =
        Event::new(Some(firm.id), "session.switch").object("membership", target.membership_id);
    audit::record(&state.db, &info.by(signed), event).await?;
    let home = paths::home(context == Context::Staff);
    Ok((
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, set)],
        [(LOCATION, home)],
    )
        .into_response())
}
