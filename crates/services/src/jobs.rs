//! The job registry: each feature declares the kinds of job it queues, with what runs one, and
//! the work it wants done on a schedule. The worker claims jobs and keeps time; what a job or a
//! scheduled run does, it asks the registry.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use portico_db::Db;
use portico_db::jobs::{Job, Kind};
use portico_db::notifications::Batching;
use portico_mail::Mailer;
use portico_storage::Storage;
use portico_storage::crypt::MasterKey;

use crate::MailSettings;
use crate::scan::Clamd;

/// What jobs and scheduled work run with: the real parts, opened at start-up.
pub struct Context {
    pub db: Db,
    pub storage: Storage,
    pub mailer: Mailer,
    /// The virus scanner new files wait for, if one is configured.
    pub scanner: Option<Clamd>,
    /// Opens sealed files for the scanner.
    pub encryption: Option<MasterKey>,
    /// Where links in emails point, and how often sending an email is tried.
    pub mail: MailSettings,
    /// How long notifications wait for company before they are mailed.
    pub batching: Batching,
}

/// Why a job did not succeed.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    /// Trying again cannot help: the job gives up now instead of after its last attempt.
    pub permanent: bool,
}

impl Failure {
    /// A failure that a later attempt may not meet (a server down, a timeout).
    pub fn retry(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            permanent: false,
        }
    }

    /// A failure that every attempt would meet (an unreadable payload, a refused address).
    pub fn permanent(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            permanent: true,
        }
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs one job of a kind.
pub type Handler = for<'a> fn(&'a Context, &'a Job) -> BoxFuture<'a, Result<(), Failure>>;

/// What a scheduled run did: how many things it handled, or why it could not.
pub type Ran = Result<usize, Box<dyn std::error::Error + Send + Sync>>;

/// Runs one round of scheduled work.
pub type Task = for<'a> fn(&'a Context) -> BoxFuture<'a, Ran>;

/// When scheduled work runs.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// On every pass of the worker, whenever it finds no job to run. Work that handled
    /// something may have queued jobs or left more to do: the worker looks again at once
    /// instead of waiting.
    EveryPass,
    /// Once `period` has passed since the last run; with `at_start`, also as the worker
    /// starts.
    Every { period: Duration, at_start: bool },
}

/// Work a feature wants done on a schedule.
pub struct Schedule {
    /// What it does, read after "could not" when it fails.
    pub what: &'static str,
    pub when: When,
    pub run: Task,
}

struct Registered {
    kind: Kind,
    run: Handler,
}

/// Every job kind and schedule of every feature.
pub struct Registry {
    jobs: Vec<Registered>,
    schedules: Vec<Schedule>,
}

impl Registry {
    /// The registry with each feature's registrations. A feature with jobs or schedules
    /// has a `register` function, called here.
    pub fn new() -> Registry {
        let mut registry = Registry {
            jobs: Vec::new(),
            schedules: Vec::new(),
        };
        crate::housekeeping::register(&mut registry);
        crate::leftovers::register(&mut registry);
        crate::tasks::register(&mut registry);
        crate::email::register(&mut registry);
        crate::scan::register(&mut registry);
        crate::notification_mail::register(&mut registry);
        registry
    }

    /// Declares what runs the jobs of `kind`.
    pub fn job(&mut self, kind: Kind, run: Handler) {
        assert!(
            self.jobs.iter().all(|r| r.kind != kind),
            "job kind `{}` is registered twice",
            kind.as_str()
        );
        self.jobs.push(Registered { kind, run });
    }

    /// Declares work to run on a schedule; on each pass, schedules run in the order declared.
    pub fn schedule(&mut self, what: &'static str, when: When, run: Task) {
        self.schedules.push(Schedule { what, when, run });
    }

    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }

    /// Runs a claimed job. A kind no feature declared fails like any other job, retried until
    /// its attempts are spent: a newer server sharing the queue may know it.
    pub async fn run(&self, context: &Context, job: &Job) -> Result<(), Failure> {
        (self.find(&job.kind)?.run)(context, job).await
    }

    fn find(&self, kind: &str) -> Result<&Registered, Failure> {
        self.jobs
            .iter()
            .find(|r| r.kind.as_str() == kind)
            .ok_or_else(|| Failure::retry(format!("unknown job kind `{kind}`")))
    }
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

#[cfg(test)]
mod tests {
    use super::{Failure, Registry};

    #[test]
    fn every_declared_kind_is_found_by_the_name_it_is_stored_under() {
        let registry = Registry::new();
        let names: Vec<&str> = registry.jobs.iter().map(|r| r.kind.as_str()).collect();
        // The names already in people's job tables.
        assert_eq!(names, ["email", "scan"]);
        for r in &registry.jobs {
            let found = registry.find(r.kind.as_str()).map(|f| f.kind);
            assert_eq!(found, Ok(r.kind));
        }
    }

    #[test]
    fn an_unknown_kind_is_refused_with_a_failure_that_may_be_retried() {
        let registry = Registry::new();
        let refused = registry.find("fax").map(|r| r.kind);
        assert_eq!(
            refused,
            Err(Failure::retry("unknown job kind `fax`".to_string()))
        );
        assert!(registry.find("Email").is_err());
        assert!(registry.find("").is_err());
    }

    #[test]
    #[should_panic(expected = "job kind `email` is registered twice")]
    fn a_kind_cannot_be_declared_twice() {
        let mut registry = Registry::new();
        crate::email::register(&mut registry);
    }

    #[test]
    fn scheduled_work_is_named_once_each() {
        let registry = Registry::new();
        let mut names: Vec<&str> = registry.schedules().iter().map(|s| s.what).collect();
        let declared = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), declared);
        assert!(declared >= 8);
    }
}
