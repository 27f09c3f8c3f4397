//! Facts about the request that go into audit events: request id, address, browser.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use portico_db::audit::Origin;
use tower_http::request_id::RequestId;

use crate::state::AppState;

pub struct ReqInfo {
    pub request_id: String,
    pub ip: String,
    pub user_agent: String,
}

impl ReqInfo {
    /// The audit origin of an action by someone not (yet) signed in.
    pub fn anonymous(&self, actor: &str, user_id: Option<uuid::Uuid>) -> Origin {
        Origin {
            actor_user_id: user_id,
            actor: actor.chars().take(254).collect(),
            request_id: self.request_id.clone(),
            ip: self.ip.clone(),
        }
    }
}

/// The client's address: from the configured proxy header when there is one, otherwise the
/// connection's peer.
fn client_ip(parts: &Parts, state: &AppState) -> String {
    if let Some(name) = &state.config.client_ip_header {
        let forwarded = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| v.parse::<std::net::IpAddr>().is_ok());
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for ReqInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ReqInfo {
            request_id: parts
                .extensions
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("")
                .to_string(),
            ip: client_ip(parts, state),
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(300)
                .collect(),
        })
    }
}
