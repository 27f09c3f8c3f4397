//! Portico's mail: one small interface over lettre. SMTP for real delivery; an outbox folder
//! of `.eml` files as the embedded default, so a laptop install needs no mail server.

mod config;
mod message;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use config::{MailConfig, SmtpTls};
pub use message::Email;

/// Why mail was not sent, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A setting keeps mail from working: the operator must fix it; retrying will not help.
    #[error("{0}")]
    Config(String),
    /// The recipient's address is unusable: retrying will not help.
    #[error("invalid recipient: {0}")]
    Address(String),
    /// The transport failed for now (server down, timeout, disk full): try again later.
    #[error("mail transport failed: {0}")]
    Transport(String),
    /// The mail server refused the message for good (a 5xx reply): retrying will not help.
    #[error("mail server refused the message: {0}")]
    Refused(String),
}

impl MailError {
    /// True when sending the same message again cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Address(_) | MailError::Refused(_))
    }
}

#[derive(Clone)]
enum Transport {
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        outbox: PathBuf,
    },
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        description: String,
    },
}

/// Sends [`Email`]s through the configured transport. Cheap to clone: each send opens its own
/// connection, so one `Mailer` serves every worker.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl Mailer {
    /// Checks the settings and prepares the transport without connecting, so the server starts
    /// even while the mail relay is down (mail waits in the job table). Creates the outbox folder.
    pub fn new(config: &MailConfig, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse().map_err(|_| {
            MailError::Config(format!("mail.from: `{from}` is not a valid address"))
        })?;
        let transport = match config {
            MailConfig::File { outbox } => {
                std::fs::create_dir_all(outbox).map_err(|e| {
                    MailError::Config(format!(
                        "mail.outbox: cannot create folder {}: {e}",
                        outbox.display()
                    ))
                })?;
                Transport::File {
                    transport: AsyncFileTransport::new(outbox),
                    outbox: outbox.clone(),
                }
            }
            MailConfig::Smtp {
                host,
                port,
                tls,
                username,
                password,
                timeout_secs,
            } => smtp(
                host,
                *port,
                *tls,
                username.as_deref(),
                password.as_deref(),
                *timeout_secs,
            )?,
        };
        Ok(Mailer { from, transport })
    }

    /// Where mail goes, in words, for start-up logs and the admin's health page.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::File { outbox, .. } => format!("outbox folder {}", outbox.display()),
            Transport::Smtp { description, .. } => description.clone(),
        }
    }

    /// Sends one email: multipart/alternative when it has HTML, else text/plain.
    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = email.to_message(&self.from)?;
        match &self.transport {
            Transport::File { transport, outbox } => {
                transport.send(message).await.map_err(|e| {
                    MailError::Transport(format!(
                        "cannot write to outbox folder {}: {e}",
                        outbox.display()
                    ))
                })?;
            }
            Transport::Smtp {
                transport,
                description,
            } => {
                transport.send(message).await.map_err(|e| {
                    if e.is_permanent() {
                        MailError::Refused(format!("{description}: {e}"))
                    } else {
                        MailError::Transport(format!("{description}: {e}"))
                    }
                })?;
            }
        }
        tracing::debug!(transport = %self.describe(), "mail sent");
        Ok(())
    }

    /// Checks that mail can leave now: the SMTP server answers, or the outbox folder is writable.
    pub async fn check(&self) -> Result<(), MailError> {
        match &self.transport {
            Transport::File { outbox, .. } => {
                let probe = outbox.join(".portico-write-check");
                let unwritable = |e: std::io::Error| {
                    MailError::Transport(format!(
                        "outbox folder {} is not writable: {e}",
                        outbox.display()
                    ))
                };
                tokio::fs::write(&probe, b"ok").await.map_err(unwritable)?;
                tokio::fs::remove_file(&probe).await.map_err(unwritable)
            }
            Transport::Smtp {
                transport,
                description,
            } => match transport.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(MailError::Transport(format!(
                    "{description} did not answer NOOP"
                ))),
                Err(e) => Err(MailError::Transport(format!("{description}: {e}"))),
            },
        }
    }
}

/// Builds the SMTP transport. lettre's `builder_dangerous` is only "dangerous" because it starts
/// without TLS; TLS is added here unless the operator chose `none`.
fn smtp(
    host: &str,
    port: u16,
    tls: SmtpTls,
    username: Option<&str>,
    password: Option<&str>,
    timeout_secs: u64,
) -> Result<Transport, MailError> {
    if host.trim().is_empty() {
        return Err(MailError::Config(
            "mail.smtp_host: must not be empty when mail.transport is smtp".into(),
        ));
    }
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(Duration::from_secs(timeout_secs.max(1))));
    if tls == SmtpTls::None {
        if !is_loopback(host) {
            tracing::warn!(
                host,
                "mail.smtp_tls is none: mail to this relay travels unencrypted"
            );
        }
    } else {
        let params = TlsParameters::new(host.to_owned()).map_err(|e| {
            MailError::Config(format!(
                "mail.smtp_host: `{host}` cannot be used for TLS: {e}"
            ))
        })?;
        builder = builder.tls(match tls {
            SmtpTls::Tls => Tls::Wrapper(params),
            _ => Tls::Required(params),
        });
    }
    match (username, password) {
        (Some(user), Some(pass)) => {
            builder = builder.credentials(Credentials::new(user.to_owned(), pass.to_owned()))
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(MailError::Config(
                "mail.smtp_password: required when mail.smtp_username is set".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(MailError::Config(
                "mail.smtp_username: required when mail.smtp_password is set".into(),
            ));
        }
    }
    Ok(Transport::Smtp {
        transport: builder.build(),
        description: format!("SMTP {host}:{port} ({})", tls.as_str()),
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
