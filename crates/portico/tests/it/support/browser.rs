//! A small browser for tests: keeps the session cookie, sends Origin on posts like a real
//! browser does, and reads the anti-forgery token out of pages.

use std::sync::{Arc, Mutex};

use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};

#[derive(Clone)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Arc<Mutex<Option<String>>>,
    device: Arc<Mutex<Option<String>>>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The anti-forgery token of the first form on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .map(|i| i + marker.len())
            .expect("page has a csrf field");
        let end = self.body[start..].find('"').expect("csrf value ends");
        self.body[start..start + end].to_string()
    }
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        portico_storage::use_ring_for_tls();
        Browser {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .expect("client"),
            cookie: Arc::new(Mutex::new(None)),
            device: Arc::new(Mutex::new(None)),
        }
    }

    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    pub fn set_cookie(&self, value: Option<String>) {
        *self.cookie.lock().unwrap() = value;
    }

    /// The device cookie an access link gave this browser (`name=value`), to copy elsewhere.
    pub fn device_cookie(&self) -> Option<String> {
        self.device.lock().unwrap().clone()
    }

    pub fn set_device_cookie(&self, value: Option<String>) {
        *self.device.lock().unwrap() = value;
    }

    async fn finish(&self, res: Response) -> Page {
        for v in res.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap_or("");
            let pair = v.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if name.ends_with("portico-device") {
                    *self.device.lock().unwrap() = Some(pair.to_string());
                    continue;
                }
                self.set_cookie(if value.is_empty() {
                    None
                } else {
                    Some(pair.to_string())
                });
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = res.text().await.unwrap_or_default();
        Page {
            status,
            location,
            body,
            headers,
        }
    }

    /// Sends the session cookie and, once an access link marked this browser, its device cookie.
    pub fn with_cookie(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let cookies: Vec<String> = [self.cookie(), self.device.lock().unwrap().clone()]
            .into_iter()
            .flatten()
            .collect();
        if cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, cookies.join("; "))
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let req = self.with_cookie(self.http.get(format!("{}{}", self.base, path)));
        self.finish(req.send().await.expect("GET")).await
    }

    /// Posts a form as a same-origin page would.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .with_cookie(self.http.post(format!("{}{}", self.base, path)))
            .header(ORIGIN, &self.base)
            .form(form);
        self.finish(req.send().await.expect("POST")).await
    }

    /// Posts with full control of the request (hostile tests).
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        self.finish(self.with_cookie(req).send().await.expect("request"))
            .await
    }

    /// The absolute address of a path on the server under test.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.post("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Posts a form from a signed-in page, with the session's anti-forgery token.
    pub async fn submit(&self, page_path: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.get(page_path).await.csrf();
        let mut fields: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(action, &fields).await
    }
}
