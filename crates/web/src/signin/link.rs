//! Access links, the way trademark and legal portals send them: staff email a client a unique
//! link to what they should look at. Opening it shows one button; pressing it (a POST, so mail
//! scanners that fetch links do not use it up) signs the person in to that page and makes this
//! browser the link's trusted device. Another browser is declined, with one thing to do: have
//! a new link sent to the address the first one went to.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portico_db::access_links::{self, AccessLink, NewLink};
use portico_db::firms::{Brand, Firm};
use portico_db::users::{self, Context};
use portico_db::{audit, devices, matters, throttle};
use portico_services::email::{SECRET_SLOT, queue_email_with_secret};
use portico_services::invitations::link_html;
use portico_services::tokens::{hash_token, new_token};
use serde::Deserialize;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::parse_id;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::{self as cookie, device_token, set_device_cookie};
use crate::state::AppState;

/// New links a person may ask for within the throttle window, whatever link they start from.
const RESENDS: i64 = 3;

#[derive(Template, WebTemplate)]
#[template(path = "signin/access_link.html")]
pub(crate) struct LinkPage {
    token: String,
    firm_name: String,
    /// The sending firm's name and logo at the top of the page.
    brand: Option<Brand>,
    label: String,
    state: LinkState,
}

#[derive(PartialEq)]
pub(crate) enum LinkState {
    /// Ready: one button opens it.
    Open,
    /// Used on another device, or expired: one button sends a new link.
    OtherDevice,
    Expired,
    /// A new link was sent (or would have been).
    Sent,
    /// Revoked, unknown or no longer usable: nothing to do here.
    Gone,
    /// The firm requires two-step sign-in and this person has not set it up.
    NeedsPassword,
}

fn page(token: &str, firm: Option<&Firm>, label: String, state: LinkState) -> Response {
    let status = match state {
        LinkState::Open | LinkState::Sent => StatusCode::OK,
        LinkState::Gone | LinkState::Expired => StatusCode::GONE,
        LinkState::OtherDevice | LinkState::NeedsPassword => StatusCode::FORBIDDEN,
    };
    let p = LinkPage {
        token: token.to_string(),
        firm_name: firm.map(|f| f.name.clone()).unwrap_or_default(),
        brand: firm.map(Brand::from),
        label,
        state,
    };
    (status, p).into_response()
}

fn gone(token: &str) -> Response {
    page(token, None, String::new(), LinkState::Gone)
}

/// Whether this browser may use the link: it is unused, or this is its device and the
/// device is still trusted (ending the person's sessions, or removing the device, retires
/// it). `using` keeps the device trusted for longer.
async fn this_device(
    link: &AccessLink,
    headers: &HeaderMap,
    state: &AppState,
    using: bool,
) -> Result<bool, AppError> {
    let mine = match (&link.device_hash, device_token(headers, &state.config)) {
        (None, _) => return Ok(true),
        (Some(bound), Some(mine)) => {
            use subtle::ConstantTimeEq;
            let mine = hash_token(&mine);
            if !bool::from(bound.as_slice().ct_eq(&mine)) {
                return Ok(false);
            }
            mine
        }
        (Some(_), None) => return Ok(false),
    };
    let (user, firm) = (link.user_id, link.firm_id);
    Ok(if using {
        devices::use_trusted(&state.db, user, firm, &mine).await?
    } else {
        devices::is_trusted(&state.db, user, firm, &mine).await?
    })
}

/// The firm that sent a link: its name on the pages, its policies at sign-in.
async fn sender(state: &AppState, link: &AccessLink) -> Result<Firm, AppError> {
    portico_db::firms::by_id(&state.db, link.firm_id)
        .await?
        .ok_or(AppError::NotFound)
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(link) = access_links::find(&state.db, &hash_token(&token)).await? else {
        return Ok(gone(&token));
    };
    let firm = sender(&state, &link).await?;
    let st = if link.expired() {
        LinkState::Expired
    } else if this_device(&link, &headers, &state, false).await? {
        LinkState::Open
    } else {
        LinkState::OtherDevice
    };
    Ok(page(&token, Some(&firm), link.label.clone(), st))
}

/// Uses the link: binds this browser (first use) and signs the person in to its page.
pub(crate) async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    info: ReqInfo,
) -> Result<Response, AppError> {
    let hash = hash_token(&token);
    let Some(link) = access_links::find(&state.db, &hash).await? else {
        return Ok(gone(&token));
    };
    let firm = sender(&state, &link).await?;
    if link.expired() {
        return Ok(page(&token, Some(&firm), link.label, LinkState::Expired));
    }
    // First use: this browser becomes the trusted device, unless another won the race.
    let mut new_device = None;
    if link.device_hash.is_none() {
        // This browser's device token, if the person still trusts it; a fresh one otherwise,
        // so that a retired device cookie never comes back into use.
        let mut device = None;
        if let Some(t) = device_token(&headers, &state.config)
            && devices::is_trusted(&state.db, link.user_id, link.firm_id, &hash_token(&t)).await?
        {
            device = Some(t);
        }
        let device = device.unwrap_or_else(new_token);
        let device_hash = hash_token(&device);
        if !access_links::bind_device(&state.db, &hash, &device_hash).await? {
            return Ok(page(
                &token,
                Some(&firm),
                link.label,
                LinkState::OtherDevice,
            ));
        }
        devices::trust(
            &state.db,
            link.user_id,
            link.firm_id,
            &device_hash,
            &info.user_agent,
        )
        .await?;
        new_device = Some(device);
    } else if !this_device(&link, &headers, &state, true).await? {
        let origin = info.anonymous("access link", Some(link.user_id));
        let event = audit::Event::new(Some(link.firm_id), "access_link.other_device")
            .object("user", link.user_id);
        audit::record(&state.db, &origin, event).await?;
        return Ok(page(
            &token,
            Some(&firm),
            link.label,
            LinkState::OtherDevice,
        ));
    }
    let Some(user) = users::by_id(&state.db, link.user_id)
        .await?
        .filter(|u| u.active)
    else {
        return Ok(gone(&token));
    };
    let membership =
        users::viewer_for(&state.db, user.id, Context::Client, link.client_user_id).await?;
    if membership.is_none() {
        // The membership ended or the client's portal closed since the link was sent.
        return Ok(gone(&token));
    }
    let second_step = crate::signin::passkey::has_second_factor(&state, &user).await?;
    if firm.require_2fa_clients && !second_step {
        return Ok(page(
            &token,
            Some(&firm),
            link.label,
            LinkState::NeedsPassword,
        ));
    }
    let old = cookie::request_token(&headers, &state.config).map(|t| hash_token(&t));
    let start = cookie::Start {
        user_id: user.id,
        context: Context::Client,
        membership_id: link.client_user_id,
        firm: &firm,
        auth_method: "link",
        mfa_pending: second_step,
    };
    let session = cookie::start(&state, &info, old.as_deref(), start).await?;
    let origin = info.anonymous(&user.email, Some(user.id));
    let event = audit::Event::new(Some(link.firm_id), "auth.link").object("user", user.id);
    audit::record(&state.db, &origin, event).await?;
    let target = if second_step {
        format!(
            "/login/2fa?next={}",
            crate::kit::paths::url_encode(&link.target)
        )
    } else {
        link.target.clone()
    };
    let mut res = (StatusCode::SEE_OTHER, [(LOCATION, target)]).into_response();
    res.headers_mut().append(SET_COOKIE, session);
    if let Some(device) = new_device {
        res.headers_mut()
            .append(SET_COOKIE, set_device_cookie(&state.config, &device));
    }
    Ok(res)
}

/// Sends a new link for the same page to the address the first one went to, and retires the
/// old one. Limited per person; the answer is the same whether or not a link was sent.
pub(crate) async fn resend(
    State(state): State<AppState>,
    Path(token): Path<String>,
    info: ReqInfo,
) -> Result<Response, AppError> {
    let hash = hash_token(&token);
    let Some(link) = access_links::find(&state.db, &hash).await? else {
        return Ok(gone(&token));
    };
    let firm = sender(&state, &link).await?;
    let key = format!("access-link:{}", link.user_id);
    let under_limit = throttle::failures(&state.db, &key).await?.count < RESENDS;
    let user = users::by_id(&state.db, link.user_id)
        .await?
        .filter(|u| u.active);
    if let (Some(user), true) = (user, under_limit) {
        let mut tx = state.db.begin().await?;
        throttle::record_in(&mut tx, &[&key]).await?;
        access_links::revoke(&mut tx, &hash).await?;
        let origin = info.anonymous(&user.email, Some(user.id));
        let new = NewLink {
            token_hash: &[],
            client_user_id: link.client_user_id,
            target: &link.target,
            label: &link.label,
        };
        mail_link(
            &state,
            &mut tx,
            &firm,
            user.id,
            &user.email,
            &user.name,
            new,
            &origin,
        )
        .await?;
        tx.commit().await?;
        state.jobs_waiting.notify_one();
    }
    Ok(page(&token, Some(&firm), link.label, LinkState::Sent))
}

/// Makes a link (with a fresh token; `link.token_hash` is ignored) and queues its email, in
/// the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn mail_link(
    state: &AppState,
    tx: &mut portico_db::Tx,
    firm: &Firm,
    user_id: uuid::Uuid,
    email: &str,
    name: &str,
    link: NewLink<'_>,
    origin: &portico_db::audit::Origin,
) -> Result<(), AppError> {
    let token = new_token();
    let hash = hash_token(&token);
    let link = NewLink {
        token_hash: &hash,
        ..link
    };
    let expires = access_links::create(tx, firm.id, user_id, link, origin).await?;
    let url = format!("{}/a/{SECRET_SLOT}", state.config.origin());
    let days = (expires - portico_db::now()).whole_days().max(1);
    // What the link opens stays in the portal: a matter's title can be confidential too.
    let why = format!(
        "{} sent you something to look at in their secure portal.",
        firm.name
    );
    let note = format!(
        "The link works for {days} days, on the first device you open it on. Nothing about your case is in this email."
    );
    let message = portico_mail::Email {
        to: email.to_string(),
        subject: format!("{} sent you a secure link", firm.name),
        text: format!("Hello {name},\n\n{why}\nOpen it here:\n\n{url}\n\n{note}\n"),
        html: link_html(firm, name, &why, &url, "Open in the portal", &note),
        sender_name: Some(firm.name.clone()),
    };
    queue_email_with_secret(
        tx,
        Some(firm.id),
        &message,
        &token,
        state.config.mail_attempts,
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
pub(crate) struct SendForm {
    client_user_id: String,
}

/// Staff email a portal user of the matter's client a link to the matter.
pub(crate) async fn send_for_matter(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<SendForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let matter = matters::get(&state.db, &signed.viewer, id).await?;
    let target = paths::matter(false, matter.id);
    let to = Target {
        client_id: matter.client_id,
        path: &target,
        label: &matter.title,
    };
    send(&state, &info, signed, &posted.form, to).await?;
    Ok(Redirect::to(&format!("{}?link_sent=1", paths::matter(true, matter.id))).into_response())
}

/// Staff email a portal user of the form's client a link to fill it in.
pub(crate) async fn send_for_form(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<SendForm>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let form = portico_db::forms::get(&state.db, &signed.viewer, id).await?;
    let a = form.assignment;
    let target = paths::form(false, a.id);
    let to = Target {
        client_id: a.client_id,
        path: &target,
        label: &a.title,
    };
    send(&state, &info, signed, &posted.form, to).await?;
    Ok(Redirect::to(&format!("{}?link_sent=1", paths::form(true, a.id))).into_response())
}

/// Where a link leads: a page of one client's portal.
struct Target<'a> {
    client_id: uuid::Uuid,
    path: &'a str,
    label: &'a str,
}

/// Makes and mails a link to `to` for the chosen portal user, who must be one of its client's.
async fn send(
    state: &AppState,
    info: &ReqInfo,
    signed: &crate::kit::session::Signed,
    form: &SendForm,
    to: Target<'_>,
) -> Result<(), AppError> {
    let recipient =
        access_links::recipient(&state.db, &signed.viewer, parse_id(&form.client_user_id)?).await?;
    if recipient.client_id != to.client_id {
        return Err(AppError::NotFound);
    }
    let firm = portico_db::firms::of_viewer(&state.db, &signed.viewer).await?;
    let link = NewLink {
        token_hash: &[],
        client_user_id: recipient.client_user_id,
        target: to.path,
        label: to.label,
    };
    let origin = info.by(signed);
    let mut tx = state.db.begin().await?;
    mail_link(
        state,
        &mut tx,
        &firm,
        recipient.user_id,
        &recipient.email,
        &recipient.name,
        link,
        &origin,
    )
    .await?;
    tx.commit().await?;
    state.jobs_waiting.notify_one();
    Ok(())
}
