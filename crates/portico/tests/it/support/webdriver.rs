//! A real browser for page walkthroughs: Debian's chromium driven through chromedriver over
//! the W3C WebDriver protocol (a handful of JSON calls, made with the HTTP client the tests
//! already use). Where chromedriver is absent the test is skipped with a notice, never in CI.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Chrome {
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

fn find_binary(names: &[&str]) -> Option<String> {
    names
        .iter()
        .map(|n| n.to_string())
        .find(|p| std::path::Path::new(p).exists())
}

impl Chrome {
    pub async fn start() -> Option<Chrome> {
        let (Some(driver_bin), Some(browser)) = (
            find_binary(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
            find_binary(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]),
        ) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("chromium and chromedriver must be installed in CI");
            }
            eprintln!("NOTICE: browser test skipped: chromium or chromedriver is not installed");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        portico_storage::use_ring_for_tls();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": browser, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.path().display()),
            ]}
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_string();
        Some(Chrome {
            driver,
            base: format!("{base}/session/{session}"),
            http,
            _profile: profile,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"]["error"].is_string() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits (up to five seconds) for a navigation to land on a URL ending with `suffix`.
    pub async fn wait_for_url(&self, suffix: &str) -> String {
        self.wait_until(|url| url.ends_with(suffix)).await
    }

    /// Waits (up to five seconds) for the URL to satisfy `done`; returns the last URL seen.
    pub async fn wait_until(&self, done: impl Fn(&str) -> bool) -> String {
        let mut url = String::new();
        for _ in 0..100 {
            url = self.url().await;
            if done(&url) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        url
    }

    /// Waits (up to five seconds) for the page, as scripts have changed it, to satisfy `done`;
    /// returns the last page seen.
    pub async fn wait_for_page(&self, done: impl Fn(&str) -> bool) -> String {
        let mut page = String::new();
        for _ in 0..100 {
            page = self.source().await;
            if done(&page) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        page
    }

    /// Gives the browser a platform authenticator that holds passkeys and verifies its user
    /// without asking (the W3C WebAuthn automation extension).
    pub async fn add_authenticator(&self) {
        self.call(
            reqwest::Method::POST,
            "/webauthn/authenticator",
            Some(json!({
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true,
                "automaticPresenceSimulation": true
            })),
        )
        .await;
    }

    /// Runs an asynchronous script in the page; it calls its last argument with the result.
    pub async fn run_async(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// How long a navigation may take before the command waiting for it fails.
    pub async fn page_load_timeout(&self, limit: Duration) {
        self.call(
            reqwest::Method::POST,
            "/timeouts",
            Some(json!({"pageLoad": limit.as_millis() as u64})),
        )
        .await;
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn window(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn displayed(&self, css: &str) -> bool {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{id}/displayed"),
            None,
        )
        .await
        .as_bool()
        .unwrap()
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.base).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
