//! Facts about the request that go into audit events: request id, address, browser.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use portico_db::audit::Origin;
use tower_http::request_id::RequestId;

use crate::session::Signed;

pub struct ReqInfo {
    pub request_id: String,
    pub ip: String,
    pub user_agent: String,
}

impl ReqInfo {
    /// The audit origin of a signed-in person's action.
    pub fn by(&self, signed: &Signed) -> Origin {
        Origin {
            actor_user_id: Some(signed.viewer.user_id()),
            actor: signed.chrome.user_email.clone(),
            request_id: self.request_id.clone(),
            ip: self.ip.clone(),
        }
    }

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

impl<S: Send + Sync> FromRequestParts<S> for ReqInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqInfo {
            request_id: parts
                .extensions
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("")
                .to_string(),
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
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
