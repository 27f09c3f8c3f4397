//! Start-up: open every real part named by the configuration, each failure one clear sentence,
//! then serve until asked to stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use portico_db::{Db, PoolSettings};
use portico_mail::Mailer;
use portico_services::MailSettings;
use portico_services::jobs::{Context, Registry};
use portico_services::passwords::PasswordHasher;
use portico_services::scan::Clamd;
use portico_storage::Storage;
use portico_web::{AppState, WebConfig};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};

use crate::config::{Config, ConfigError};
use crate::worker::Worker;

/// The real parts a server works with, opened and checked.
pub struct Services {
    pub db: Db,
    pub storage: Storage,
    pub mailer: Mailer,
    pub hasher: PasswordHasher,
}

/// Opens the database and applies migrations.
pub async fn open_db(config: &Config) -> Result<Db, ConfigError> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data).map_err(|e| {
            ConfigError(format!(
                "data: cannot create the data folder {}: {e}",
                config.data.display()
            ))
        })?;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    let default_pool = if url.starts_with("sqlite:") {
        (cores * 2).clamp(2, 16)
    } else {
        16
    };
    let settings = PoolSettings {
        max_connections: config
            .database
            .max_connections
            .unwrap_or(default_pool)
            .max(1),
        ..PoolSettings::default()
    };
    let db = Db::connect(&url, settings)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    db.migrate()
        .await
        .map_err(|e| ConfigError(format!("database.url: {e}")))?;
    Ok(db)
}

/// Opens database, storage and mail, in that order, stopping at the first that fails.
pub async fn open(config: &Config) -> Result<Services, ConfigError> {
    config.bind_addr()?;
    config.client_ip_header()?;
    if config.public_url.is_some() {
        config.public_url()?;
    }
    let storage_config = config.storage_config()?;
    let mail_config = config.mail_config()?;
    let db = open_db(config).await?;
    let storage = Storage::open(&storage_config)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    let mailer =
        Mailer::new(&mail_config, &config.mail.from).map_err(|e| ConfigError(e.to_string()))?;
    let hasher = PasswordHasher::new(config.http.hash_parallelism);
    Ok(Services {
        db,
        storage,
        mailer,
        hasher,
    })
}

/// A server that is listening; `stop` ends it gracefully.
pub struct Running {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
    pub async fn until_signal(self) {
        shutdown_signal().await;
        tracing::info!("stopping");
        self.stop().await;
    }
}

/// Binds the listener, starts the job worker and serves.
pub async fn start(config: &Config, services: Services) -> Result<Running, ConfigError> {
    let addr = config.bind_addr()?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| ConfigError(format!("bind: cannot listen on {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ConfigError(format!("bind: {e}")))?;
    // Without a configured public URL, the address actually bound is the one people use.
    let public_url = match &config.public_url {
        Some(_) => config.public_url()?,
        None => url::Url::parse(&format!("http://{addr}"))
            .map_err(|e| ConfigError(format!("bind: {e}")))?,
    };
    let web = WebConfig {
        public_url,
        max_body_bytes: config.http.max_body_bytes,
        request_timeout: config.request_timeout(),
        client_ip_header: config.client_ip_header()?,
        mail_attempts: config.jobs.max_attempts,
        max_file_bytes: config.storage.max_file_bytes,
        firm_quota_bytes: config.storage.firm_quota_bytes,
        scan: config.storage.clamd.is_some(),
        encryption: config.encryption_key()?,
    };
    let wake = Arc::new(Notify::new());
    let (stop, stopped) = watch::channel(false);
    let live = portico_web::Hub::start(services.db.clone(), stopped.clone());
    let state = AppState::new(
        services.db.clone(),
        services.storage,
        web,
        services.hasher,
        wake.clone(),
        live,
    );
    let worker = Worker {
        context: Context {
            db: services.db.clone(),
            storage: state.storage.clone(),
            mailer: services.mailer,
            scanner: config.storage.clamd.clone().map(Clamd::new),
            encryption: state.config.encryption.clone(),
            mail: MailSettings {
                origin: state.config.origin(),
                mail_attempts: state.config.mail_attempts,
            },
            batching: config.jobs.batching(),
        },
        registry: Registry::new(),
        settings: config.jobs.clone(),
        wake,
    };
    let worker_task = tokio::spawn(worker.run(stopped.clone()));
    let app = portico_web::router(state);
    let db = services.db;
    let limits = Limits::of(config);
    let task = tokio::spawn(async move {
        serve(listener, app, limits, stopped).await;
        let _ = worker_task.await;
        db.close().await;
    });
    Ok(Running { addr, stop, task })
}

/// How connections are bounded: `http.*` settings.
#[derive(Debug, Clone, Copy)]
struct Limits {
    header: Duration,
    body_idle: Duration,
    connections: usize,
    grace: Duration,
}

impl Limits {
    fn of(config: &Config) -> Limits {
        let h = &config.http;
        Limits {
            header: Duration::from_secs(h.header_timeout_secs.max(1)),
            body_idle: Duration::from_secs(h.body_idle_secs.max(1)),
            connections: h.max_connections.max(4),
            grace: Duration::from_secs(h.shutdown_grace_secs),
        }
    }
}

/// Accepts and serves HTTP/1.1 connections until `stop`, then lets requests in flight finish
/// for the grace period and cuts off the rest (a request cut off commits nothing: its
/// transaction rolls back and a file it was storing is never recorded).
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // At the cap, further connections wait in the listen queue instead of taking a file
        // descriptor each.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stopping(&mut stop) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, most likely: wait instead of spinning.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopping(&mut stop) => break,
        };
        let crowded = permits.available_permits() < limits.connections / 4;
        let body_idle = limits.body_idle;
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |req: axum::http::Request<hyper::body::Incoming>| {
                let mut req = req.map(|body| {
                    axum::body::Body::new(tower_http::timeout::TimeoutBody::new(body_idle, body))
                });
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        );
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header)
            .keep_alive(!crowded);
        let connection = http.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.grace) => {
            tracing::warn!(
                grace_secs = limits.grace.as_secs(),
                "requests still in flight after the grace period are cut off"
            );
        }
    }
    connections.shutdown().await;
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
