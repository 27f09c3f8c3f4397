//! Which transport carries mail, as read from the configuration file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How mail leaves Portico.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "transport", rename_all = "lowercase")]
pub enum MailConfig {
    /// The embedded default: each message is written as an `.eml` file into a folder, so a
    /// single-machine install needs no mail server and an operator can still read what was sent.
    File { outbox: PathBuf },
    /// Real delivery through a relay.
    Smtp {
        host: String,
        #[serde(default = "default_port")]
        port: u16,
        #[serde(default)]
        tls: SmtpTls,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
        /// Bounds connecting and each command, so a hung relay delays a job instead of a worker.
        #[serde(default = "default_timeout_secs")]
        timeout_secs: u64,
    },
}

/// How the SMTP connection is encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or a test listener.
    None,
    /// Upgrade with STARTTLS, refusing to continue without it (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpTls {
    /// The name used in configuration, so messages and logs match what the operator wrote.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }
}

fn default_port() -> u16 {
    587
}

fn default_timeout_secs() -> u64 {
    10
}
