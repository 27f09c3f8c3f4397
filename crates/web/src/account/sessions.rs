//! The person's own account: where they are signed in, and ending sessions they do not
//! recognise.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Redirect;
use portico_db::audit::{self, Event};
use portico_db::{devices, sessions};

use crate::kit::error::AppError;
use crate::kit::extract::Empty;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

pub(crate) struct SessionRow {
    id: uuid::Uuid,
    device: String,
    ip: String,
    created: String,
    last_seen: String,
    current: bool,
}

/// A browser trusted for access links, as the person or staff see it.
pub(crate) struct DeviceRow {
    pub id: uuid::Uuid,
    pub device: String,
    pub last_used: String,
    pub expires: String,
}

/// A person's trusted devices in the viewer's firm, for showing.
pub(crate) async fn device_rows(
    state: &AppState,
    viewer: &portico_core::Viewer,
    layout: &Layout,
    user_id: uuid::Uuid,
) -> Result<Vec<DeviceRow>, AppError> {
    Ok(devices::of_user(&state.db, viewer, user_id)
        .await?
        .into_iter()
        .map(|d| DeviceRow {
            id: d.id,
            device: device(&d.user_agent),
            last_used: layout.when(&d.last_used_at),
            expires: layout.when(&d.expires_at),
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "account/account_sessions.html")]
pub(crate) struct SessionsPage {
    layout: Layout,
    sessions: Vec<SessionRow>,
    devices: Vec<DeviceRow>,
}

/// A short, readable name for a browser from its user agent.
pub(crate) fn device(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => "Unknown device".to_string(),
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<SessionsPage, AppError> {
    let mine = sessions::of_user(&state.db, signed.viewer.user_id()).await?;
    let layout = Layout::new(&signed, "Your sessions", "/account/sessions");
    let rows = mine
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == signed.session.id,
            id: s.id,
            device: device(&s.user_agent),
            ip: s.ip,
            created: layout.when(&s.created_at),
            last_seen: layout.when(&s.last_seen_at),
        })
        .collect();
    let devices = device_rows(&state, &signed.viewer, &layout, signed.viewer.user_id()).await?;
    Ok(SessionsPage {
        layout,
        sessions: rows,
        devices,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "account/create_login.html")]
pub(crate) struct CreateLoginPage {
    layout: Layout,
}

/// How many "Create a login" emails a person may have sent within the throttle window.
const LOGIN_LINKS: i64 = 3;

/// Signed in from an access link, the person asks for a login of their own: a link to choose a
/// password is mailed to their own address (the link session itself never sets credentials).
/// Limited per person; the page says the same whether or not an email went.
pub(crate) async fn create_login(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<CreateLoginPage, AppError> {
    let signed = &posted.signed;
    if !signed.by_link() {
        return Err(AppError::NotFound);
    }
    let user_id = signed.viewer.user_id();
    let key = format!("create-login:{user_id}");
    if portico_db::throttle::failures(&state.db, &key).await?.count < LOGIN_LINKS {
        let user = portico_db::users::by_id(&state.db, user_id)
            .await?
            .ok_or(AppError::SignInRequired)?;
        let firm = portico_db::firms::of_viewer(&state.db, &signed.viewer).await?;
        let origin = info.by(signed);
        let mut tx = state.db.begin().await?;
        portico_db::throttle::record_in(&mut tx, &[&key]).await?;
        // Only the newest link works.
        portico_db::tokens::revoke(&mut tx, user.id, firm.id, portico_db::tokens::SET_PASSWORD)
            .await?;
        portico_services::invitations::send_set_password_link(
            &mut tx,
            &state.config.origin(),
            &user,
            &firm,
            portico_services::invitations::Occasion::CreateLogin,
            &origin,
            state.config.mail_attempts,
        )
        .await?;
        tx.commit().await?;
        state.jobs_waiting.notify_one();
    }
    Ok(CreateLoginPage {
        layout: Layout::new(signed, "Create a login", ""),
    })
}

/// The person stops trusting one of their devices: access links bound to it stop opening.
pub(crate) async fn remove_device(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    let me = signed.viewer.user_id();
    if !devices::remove(&state.db, &signed.viewer, me, id).await? {
        return Err(AppError::NotFound);
    }
    let event = Event::new(Some(signed.viewer.firm_id()), "device.remove").object("device", id);
    audit::record(&state.db, &info.by(signed), event).await?;
    Ok(Redirect::to("/account/sessions"))
}

pub(crate) async fn end(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    // Only the person's own sessions can be named here; any other id is simply not found.
    if !sessions::end_by_id(&state.db, signed.viewer.user_id(), id).await? {
        return Err(AppError::NotFound);
    }
    let event = Event::new(Some(signed.viewer.firm_id()), "session.end").object("session", id);
    audit::record(&state.db, &info.by(signed), event).await?;
    Ok(Redirect::to("/account/sessions"))
}

pub(crate) async fn end_others(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Empty>,
) -> Result<Redirect, AppError> {
    let signed = &posted.signed;
    let n = sessions::end_others(&state.db, signed.viewer.user_id(), signed.session.id).await?;
    let event = Event::new(Some(signed.viewer.firm_id()), "session.end_others")
        .detail(format!("ended={n}"));
    audit::record(&state.db, &info.by(signed), event).await?;
    Ok(Redirect::to("/account/sessions"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn devices_have_readable_names() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(super::device(iphone), "Safari on iPhone");
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(super::device(chrome), "Chrome on Linux");
        assert_eq!(super::device(""), "Unknown device");
    }
}
