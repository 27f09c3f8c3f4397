//! Configuration: built-in defaults, then an optional TOML file, then `PORTICO_*` variables.
//! Any setting can come from a file instead (`PORTICO_X_FILE=/run/secrets/x`), for secrets.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use portico_mail::{MailConfig, SmtpTls};
use portico_storage::StorageConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub bind: String,
    /// Folder for the embedded database, files and outbox.
    pub data: PathBuf,
    /// Where people reach this server (links in emails, cookie security). Defaults to
    /// `http://<bind>`.
    pub public_url: Option<String>,
    pub database: DatabaseSection,
    pub storage: StorageSection,
    pub mail: MailSection,
    pub jobs: JobsSection,
    pub http: HttpSection,
    pub log: LogSection,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".into(),
            data: PathBuf::from("./portico-data"),
            public_url: None,
            database: DatabaseSection::default(),
            storage: StorageSection::default(),
            mail: MailSection::default(),
            jobs: JobsSection::default(),
            http: HttpSection::default(),
            log: LogSection::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSection {
    /// `sqlite:PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`; defaults to SQLite in the data folder.
    pub url: Option<String>,
    /// Pool size; unset: 16 on PostgreSQL, twice the CPU cores (2 to 16) on SQLite, where
    /// every connection is a thread and writes take turns anyway.
    pub max_connections: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSection {
    /// `local` (default), `s3` or `memory`.
    pub backend: String,
    /// For `local`: the folder; defaults to `files` in the data folder.
    pub path: Option<PathBuf>,
    pub bucket: Option<String>,
    pub region: String,
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub allow_http: bool,
    /// Largest file one upload may carry, in bytes (default 5 GiB).
    pub max_file_bytes: u64,
    /// Most bytes of files one firm may keep; unset for no limit.
    pub firm_quota_bytes: Option<u64>,
    /// A clamd virus scanner, as `host:port` or the path of its socket; unset for no scanning.
    pub clamd: Option<String>,
    /// Encryption at rest: a 32-byte master key, base64; unset to store files as they are.
    pub encryption_key: Option<String>,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection {
            backend: "local".into(),
            path: None,
            bucket: None,
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            max_file_bytes: 5 * 1024 * 1024 * 1024,
            firm_quota_bytes: None,
            clamd: None,
            encryption_key: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSection {
    /// The sender of every email, e.g. `Portico <portal@example.com>`.
    pub from: String,
    /// `file` (default: .eml files in an outbox folder) or `smtp`.
    pub transport: String,
    pub outbox: Option<PathBuf>,
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `starttls` (default), `tls` or `none`.
    pub smtp_tls: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
}

impl Default for MailSection {
    fn default() -> Self {
        MailSection {
            from: "Portico <portico@localhost>".into(),
            transport: "file".into(),
            outbox: None,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsSection {
    /// First retry after this long; each further retry waits twice as long (capped at an hour).
    pub retry_base_ms: u64,
    pub max_attempts: i64,
    /// How often an idle worker looks for jobs queued by other servers.
    pub poll_ms: u64,
    /// Notification emails for people who want them "immediately" wait until nothing new has
    /// arrived for this many seconds, so that a burst makes one email…
    pub notify_quiet_secs: u64,
    /// …but never longer than this after the first item.
    pub notify_longest_secs: u64,
}

impl Default for JobsSection {
    fn default() -> Self {
        JobsSection {
            retry_base_ms: 5_000,
            max_attempts: 10,
            poll_ms: 1_000,
            notify_quiet_secs: 60,
            notify_longest_secs: 300,
        }
    }
}

impl JobsSection {
    /// How long notifications wait for company before they are mailed.
    pub fn batching(&self) -> portico_db::notifications::Batching {
        portico_db::notifications::Batching {
            quiet: time::Duration::seconds(self.notify_quiet_secs as i64),
            longest: time::Duration::seconds(self.notify_longest_secs as i64),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSection {
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// Password hashes computed at once (each takes 19 MiB and tens of milliseconds).
    pub hash_parallelism: usize,
    /// Behind a load balancer, the header carrying the client's address, e.g.
    /// `x-forwarded-for` (its last entry is used). Leave unset when clients connect directly.
    pub client_ip_header: Option<String>,
    /// Seconds a connection gets to send a request's headers, counted from when it opens or
    /// its previous answer ends (so also how long an idle kept-alive connection stays open).
    pub header_timeout_secs: u64,
    /// Longest pause, in seconds, within a request's body; a slow upload that keeps sending
    /// may take as long as it needs.
    pub body_idle_secs: u64,
    /// Connections served at once; more wait to be accepted. Above three quarters of this,
    /// new connections answer one request and close, so room stays for new requests.
    pub max_connections: usize,
    /// On SIGTERM, seconds requests in flight get to finish before they are cut off.
    pub shutdown_grace_secs: u64,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            hash_parallelism: 2,
            client_ip_header: None,
            header_timeout_secs: 10,
            body_idle_secs: 30,
            max_connections: 1000,
            shutdown_grace_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// `text` (default) or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `portico=debug,info`.
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// A setting that keeps Portico from starting, named in one sentence.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

const SECTIONS: [&str; 6] = ["database", "storage", "mail", "jobs", "http", "log"];

/// `PORTICO_DATABASE_URL` → `database.url`; `PORTICO_PUBLIC_URL` → `public_url`.
fn env_key(key: &str) -> String {
    for section in SECTIONS {
        if let Some(rest) = key.strip_prefix(section).and_then(|r| r.strip_prefix('_')) {
            return format!("{section}.{rest}");
        }
    }
    key.to_string()
}

impl Config {
    /// Reads defaults → TOML file (if given) → environment → `*_FILE` secrets.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "--config: the file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(
            Env::prefixed("PORTICO_")
                .filter(|k| {
                    let k = k.as_str().to_lowercase();
                    !k.ends_with("_file") && !k.starts_with("test_")
                })
                .map(|k| env_key(&k.as_str().to_lowercase()).into()),
        );
        for (name, path) in std::env::vars() {
            let Some(key) = name
                .strip_prefix("PORTICO_")
                .and_then(|k| k.strip_suffix("_FILE"))
                .filter(|k| !k.starts_with("TEST_"))
            else {
                continue;
            };
            let value = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError(format!("{name}: cannot read {path}: {e}")))?;
            fig = fig.merge((
                env_key(&key.to_lowercase()),
                value.trim_end_matches(['\n', '\r']).to_string(),
            ));
        }
        fig.extract()
            .map_err(|e| ConfigError(format!("configuration: {e}")))
    }

    /// The master key for encryption at rest, if one is set.
    pub fn encryption_key(&self) -> Result<Option<portico_storage::crypt::MasterKey>, ConfigError> {
        self.storage
            .encryption_key
            .as_deref()
            .map(|k| {
                portico_storage::crypt::MasterKey::parse(k)
                    .map_err(|e| ConfigError(format!("storage.encryption_key {e}")))
            })
            .transpose()
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.bind.parse().map_err(|_| {
            ConfigError(format!(
                "bind: `{}` is not an address like 127.0.0.1:8080",
                self.bind
            ))
        })
    }

    pub fn public_url(&self) -> Result<url::Url, ConfigError> {
        let raw = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind));
        let url = url::Url::parse(&raw).map_err(|_| {
            ConfigError(format!(
                "public_url: `{raw}` is not a URL like https://portal.example.com"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(ConfigError(format!(
                "public_url: `{raw}` must be an http or https URL"
            )));
        }
        Ok(url)
    }

    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data.join("portico.db").display()))
    }

    pub fn storage_config(&self) -> Result<StorageConfig, ConfigError> {
        let s = &self.storage;
        match s.backend.as_str() {
            "local" => Ok(StorageConfig::Local {
                path: s.path.clone().unwrap_or_else(|| self.data.join("files")),
            }),
            "memory" => Ok(StorageConfig::Memory),
            "s3" => Ok(StorageConfig::S3 {
                bucket: s.bucket.clone().ok_or_else(|| {
                    ConfigError("storage.bucket: required when storage.backend is s3".into())
                })?,
                region: s.region.clone(),
                endpoint: s.endpoint.clone(),
                access_key_id: s.access_key_id.clone(),
                secret_access_key: s.secret_access_key.clone(),
                allow_http: s.allow_http,
            }),
            other => Err(ConfigError(format!(
                "storage.backend: `{other}` is unknown; use local, s3 or memory"
            ))),
        }
    }

    pub fn mail_config(&self) -> Result<MailConfig, ConfigError> {
        let m = &self.mail;
        match m.transport.as_str() {
            "file" => Ok(MailConfig::File {
                outbox: m.outbox.clone().unwrap_or_else(|| self.data.join("outbox")),
            }),
            "smtp" => Ok(MailConfig::Smtp {
                host: m.smtp_host.clone().ok_or_else(|| {
                    ConfigError("mail.smtp_host: required when mail.transport is smtp".into())
                })?,
                port: m.smtp_port,
                tls: match m.smtp_tls.as_str() {
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Tls,
                    "none" => SmtpTls::None,
                    other => {
                        return Err(ConfigError(format!(
                            "mail.smtp_tls: `{other}` is unknown; use starttls, tls or none"
                        )));
                    }
                },
                username: m.smtp_username.clone(),
                password: m.smtp_password.clone(),
                timeout_secs: 10,
            }),
            other => Err(ConfigError(format!(
                "mail.transport: `{other}` is unknown; use file or smtp"
            ))),
        }
    }

    pub fn client_ip_header(&self) -> Result<Option<axum::http::HeaderName>, ConfigError> {
        self.http
            .client_ip_header
            .as_deref()
            .map(|h| {
                axum::http::HeaderName::try_from(h.trim()).map_err(|_| {
                    ConfigError(format!("http.client_ip_header: `{h}` is not a header name"))
                })
            })
            .transpose()
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.http.request_timeout_secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_keys_map_to_sections() {
        assert_eq!(env_key("database_url"), "database.url");
        assert_eq!(env_key("mail_smtp_host"), "mail.smtp_host");
        assert_eq!(env_key("public_url"), "public_url");
        assert_eq!(env_key("bind"), "bind");
    }

    #[test]
    fn defaults_work_on_one_machine() {
        let c = Config::default();
        assert_eq!(c.bind_addr().unwrap().to_string(), "127.0.0.1:8080");
        assert!(c.database_url().starts_with("sqlite://"));
        assert!(matches!(
            c.storage_config().unwrap(),
            StorageConfig::Local { .. }
        ));
        assert!(matches!(c.mail_config().unwrap(), MailConfig::File { .. }));
        assert_eq!(c.public_url().unwrap().as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn wrong_settings_name_themselves() {
        let c = Config {
            bind: "localhost:http".into(),
            ..Config::default()
        };
        assert!(c.bind_addr().unwrap_err().0.starts_with("bind:"));
        let mut c = Config::default();
        c.storage.backend = "ftp".into();
        assert!(
            c.storage_config()
                .unwrap_err()
                .0
                .starts_with("storage.backend:")
        );
        let mut c = Config::default();
        c.mail.transport = "smtp".into();
        assert!(
            c.mail_config()
                .unwrap_err()
                .0
                .starts_with("mail.smtp_host:")
        );
    }
}
