//! Portico started for real on 127.0.0.1:0, on SQLite or PostgreSQL, with its mail going to
//! an SMTP sink over the network.

use portico::Config;
use portico::server::{self, Running};
use portico_db::Db;

use super::smtp::SmtpSink;
use super::{Browser, pg};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// The server's object storage (the same store, shared).
    pub storage: portico_storage::Storage,
    pub config: Config,
    pub smtp: SmtpSink,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts with the test defaults, adjusted by `adjust` (storage, mail, limits …).
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = SmtpSink::start().await;
        let mut config = test_config(backend, dir.path()).await;
        config.mail.smtp_port = smtp.port;
        adjust(&mut config);
        let services = server::open(&config).await.expect("open services");
        let db = services.db.clone();
        let storage = services.storage.clone();
        let running = server::start(&config, services)
            .await
            .expect("start server");
        TestApp {
            base: format!("http://{}", running.addr),
            db,
            storage,
            config,
            smtp,
            running: Some(running),
            _dir: dir,
        }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A plain HTTP client (no cookies, no redirects followed).
    pub fn http(&self) -> reqwest::Client {
        portico_storage::use_ring_for_tls();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .build()
            .expect("client")
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// Test defaults: a fresh database, memory storage, SMTP to the sink, fast retries.
pub async fn test_config(backend: Backend, dir: &std::path::Path) -> Config {
    let mut config = Config {
        bind: "127.0.0.1:0".into(),
        data: dir.to_path_buf(),
        ..Config::default()
    };
    config.database.url = Some(match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("portico.db").display()),
        Backend::Postgres => pg::fresh_database().await,
    });
    config.database.max_connections = Some(8);
    config.storage.backend = "memory".into();
    config.mail.transport = "smtp".into();
    config.mail.smtp_host = Some("127.0.0.1".into());
    config.mail.smtp_tls = "none".into();
    config.jobs.retry_base_ms = 100;
    config.jobs.poll_ms = 50;
    config
}
