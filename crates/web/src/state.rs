use std::sync::Arc;
use std::time::Duration;

use portico_db::Db;
use portico_services::passwords::PasswordHasher;
use portico_storage::Storage;
use tokio::sync::Notify;

use crate::metrics::Metrics;

/// Settings the web layer needs, resolved from the configuration at start-up.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where people reach this server, e.g. `https://portal.example.com`; links in emails and
    /// the Origin check use it.
    pub public_url: url::Url,
    /// Largest request body accepted (uploads stream through their own limit).
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Behind a load balancer: the header in which it passes the client's address (e.g.
    /// `x-forwarded-for`; its last entry is used, the one the balancer appended).
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// Attempts a queued email gets before it is given up.
    pub mail_attempts: i64,
    /// Largest file accepted by an upload, in bytes.
    pub max_file_bytes: u64,
    /// Most bytes of files one firm may keep, if limited.
    pub firm_quota_bytes: Option<u64>,
    /// A virus scanner is configured: new files wait for it before they are served.
    pub scan: bool,
    /// Encryption at rest: new files are sealed under keys wrapped by this master key's firm
    /// keys; sealed files need it to be read.
    pub encryption: Option<portico_storage::crypt::MasterKey>,
}

impl WebConfig {
    /// Cookies are `Secure` and `__Host-` prefixed whenever the public URL is https.
    pub fn secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The origin browsers send in the Origin header, e.g. `https://portal.example.com`.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// An absolute link to a path on this server.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.origin(), path)
    }
}

/// What every handler can reach: one `Arc`, so the clones each request makes cost a
/// reference count. Nothing in it is per-process state that a second server would need
/// (sessions and jobs live in the database).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub db: Db,
    /// Checks the session of every signed-in request (in groups on PostgreSQL).
    pub(crate) sessions: portico_db::sessions::Checker,
    pub storage: Storage,
    pub config: Arc<WebConfig>,
    pub hasher: PasswordHasher,
    /// Wakes this process's job worker early when a request queued a job.
    pub jobs_waiting: Arc<Notify>,
    /// This process's fan-out of the database's change signals, for live pages.
    pub live: crate::live::Hub,
    pub(crate) metrics: Arc<Metrics>,
    /// Writes form drafts in groups that share one commit.
    pub(crate) drafts: portico_db::forms::Writer,
    /// The data of busy pages, kept under the versions it was read at: dashboards and home
    /// pages, and pages of the client list.
    pub(crate) pages: crate::page_cache::PageCache,
    pub(crate) lists: crate::page_cache::PageCache,
}

impl AppState {
    /// The state of one server; starts its draft writer, so it is made on the runtime.
    pub fn new(
        db: Db,
        storage: Storage,
        config: WebConfig,
        hasher: PasswordHasher,
        jobs_waiting: Arc<Notify>,
        live: crate::live::Hub,
    ) -> AppState {
        AppState(Arc::new(Shared {
            drafts: portico_db::forms::Writer::start(db.clone()),
            sessions: portico_db::sessions::Checker::start(db.clone()),
            db,
            storage,
            config: Arc::new(config),
            hasher,
            jobs_waiting,
            live,
            metrics: Arc::new(Metrics::default()),
            pages: crate::page_cache::PageCache::new(crate::page_cache::PAGES),
            lists: crate::page_cache::PageCache::new(crate::page_cache::LISTS),
        }))
    }
}
