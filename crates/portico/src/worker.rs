//! The job worker: runs in every server process, claims due jobs from the database (so any
//! number of servers share the queue), and retries failures with exponential backoff. What a
//! job does, and what else runs on a schedule, the registry of `portico_services::jobs` says.

use std::sync::Arc;
use std::time::{Duration, Instant};

use portico_db::{jobs, system};
use portico_services::jobs::{Context, Failure, Registry, When};
use tokio::sync::{Notify, watch};

use crate::config::JobsSection;

/// How long a claimed job is held before another worker may assume this one died.
const LEASE: time::Duration = time::Duration::minutes(5);

pub struct Worker {
    pub context: Context,
    pub registry: Registry,
    pub settings: JobsSection,
    pub wake: Arc<Notify>,
}

impl Worker {
    /// Works until `stop` turns true; finishes the job in hand first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.poll_ms.max(10));
        let started = Instant::now();
        // When each schedule last ran; `None` for one that is due at start.
        let mut last: Vec<Option<Instant>> = self
            .registry
            .schedules()
            .iter()
            .map(|s| match s.when {
                When::Every {
                    at_start: false, ..
                } => Some(started),
                _ => None,
            })
            .collect();
        loop {
            if *stop.borrow() {
                return;
            }
            match system::jobs::claim(&self.context.db, LEASE).await {
                Ok(Some(job)) => {
                    self.handle(job).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim a job"),
            }
            let mut busy = false;
            for (schedule, last) in self.registry.schedules().iter().zip(&mut last) {
                if let When::Every { period, .. } = schedule.when {
                    if last.is_some_and(|t| t.elapsed() <= period) {
                        continue;
                    }
                    *last = Some(Instant::now());
                }
                match (schedule.run)(&self.context).await {
                    Ok(n) => busy |= n > 0 && matches!(schedule.when, When::EveryPass),
                    Err(e) => tracing::warn!(error = %e, "could not {}", schedule.what),
                }
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn handle(&self, job: jobs::Job) {
        let db = &self.context.db;
        let result = match self.registry.run(&self.context, &job).await {
            Ok(()) => system::jobs::complete(db, job.id).await,
            Err(Failure { error, permanent }) => {
                let retry_at = portico_db::now() + self.backoff(job.attempts);
                match system::jobs::failed(db, &job, &error, retry_at, permanent).await {
                    Ok(true) => {
                        tracing::error!(job = %job.id, kind = %job.kind, attempts = job.attempts, %error, "job gave up");
                        Ok(())
                    }
                    Ok(false) => {
                        tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, %error, "job failed; will retry");
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        };
        if let Err(e) = result {
            // The lease runs out and another attempt follows; nothing is lost.
            tracing::warn!(job = %job.id, error = %e, "could not record the job's outcome");
        }
    }

    /// Exponential, capped at an hour, with jitter: each wait is drawn from its upper half, so
    /// that jobs that failed together (a mail server restart) do not all come back together.
    fn backoff(&self, attempts: i64) -> time::Duration {
        let base = self.settings.retry_base_ms.max(1);
        let factor = 1_u64 << attempts.clamp(1, 20).saturating_sub(1);
        let ms = base.saturating_mul(factor).min(3_600_000);
        let ms = rand::Rng::gen_range(&mut rand::thread_rng(), ms / 2..=ms);
        time::Duration::milliseconds(ms as i64)
    }
}
