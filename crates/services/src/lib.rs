//! What is not a page but is shared by the pages, the job worker and the operator's commands:
//! the emails Portico sends (links, invitations, notification batches), the secrets it hands
//! out, password hashing, virus scanning, sweeps of storage, and the job registry in which each
//! of them declares its job kinds and schedules. It sits above the database, storage and mail
//! crates and below the web crate, so the worker and the CLI need no part of the web layer.

pub mod email;
pub mod housekeeping;
pub mod invitations;
pub mod jobs;
pub mod leftovers;
pub mod notification_mail;
pub mod passwords;
pub mod scan;
pub mod tasks;
pub mod tokens;

/// What outgoing mail needs to know about this server, resolved at start-up.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Where people reach this server, e.g. `https://portal.example.com`.
    pub origin: String,
    /// Attempts a queued email gets before it is given up.
    pub mail_attempts: i64,
}

impl MailSettings {
    /// An absolute link to a path on this server.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.origin, path)
    }
}
