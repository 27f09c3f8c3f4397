//! The job worker: runs in every server process, claims due jobs from the database (so any
//! number of servers share the queue), and retries failures with exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use portico_db::{Db, jobs};
use portico_mail::{Email, Mailer};
use portico_services::MailSettings;
use tokio::sync::{Notify, watch};

use crate::config::JobsSection;

/// How long a claimed job is held before another worker may assume this one died.
const LEASE: time::Duration = time::Duration::minutes(5);

/// How often leftovers in storage are swept (and once at start-up).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A staged file on local disk untouched this long belongs to a write that died.
const STAGED_IDLE: Duration = Duration::from_secs(3600);

pub struct Worker {
    pub db: Db,
    pub storage: portico_storage::Storage,
    /// The virus scanner new files wait for, if one is configured.
    pub scanner: Option<crate::scan::Clamd>,
    /// Opens sealed files for the scanner.
    pub encryption: Option<portico_storage::crypt::MasterKey>,
    pub mailer: Mailer,
    /// Where links in notification emails point, and how often their sending is tried.
    pub mail: MailSettings,
    pub settings: JobsSection,
    pub wake: Arc<Notify>,
}

impl Worker {
    /// Works until `stop` turns true; finishes the job in hand first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.poll_ms.max(10));
        let mut since_purge = std::time::Instant::now();
        let mut since_signals = std::time::Instant::now();
        let mut since_sweep: Option<std::time::Instant> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            match jobs::claim(&self.db, LEASE).await {
                Ok(Some(job)) => {
                    self.handle(job).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim a job"),
            }
            if since_purge.elapsed() > Duration::from_secs(600) {
                since_purge = std::time::Instant::now();
                if let Err(e) = portico_db::sessions::purge_expired(&self.db).await {
                    tracing::warn!(error = %e, "could not purge expired sessions");
                }
                if let Err(e) = portico_db::throttle::purge(&self.db).await {
                    tracing::warn!(error = %e, "could not purge old sign-in failures");
                }
            }
            // Leftovers are swept at start-up, so a crash loop cannot pile them up, and then
            // every minute.
            if since_sweep.is_none_or(|t| t.elapsed() > SWEEP_EVERY) {
                since_sweep = Some(std::time::Instant::now());
                self.sweep().await;
            }
            if since_signals.elapsed() > Duration::from_secs(60) {
                since_signals = std::time::Instant::now();
                if let Err(e) = portico_db::tasks::send_reminders(&self.db).await {
                    tracing::warn!(error = %e, "could not send task reminders");
                }
                if let Err(e) = portico_db::signals::purge(&self.db).await {
                    tracing::warn!(error = %e, "could not purge old live-update signals");
                }
            }
            match portico_services::notification_mail::send_due(
                &self.db,
                &self.mail,
                self.batching(),
            )
            .await
            {
                Ok(0) => {}
                Ok(_) => continue,
                Err(e) => tracing::warn!(error = %e, "could not queue notification emails"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Removes what crashes and expiries leave in storage.
    async fn sweep(&self) {
        if let Err(e) = sweep_uploads(&self.db, &self.storage).await {
            tracing::warn!(error = %e, "could not remove expired uploads");
        }
        if let Err(e) = sweep_loose_objects(&self.db, &self.storage).await {
            tracing::warn!(error = %e, "could not remove loose objects");
        }
        // A write cut off by a dying server leaves its staged file on local disk; a live
        // write touches its file as its bytes arrive.
        if let Err(e) = self.storage.remove_stale_staging(STAGED_IDLE).await {
            tracing::warn!(error = %e, "could not remove stale staged files");
        }
    }

    async fn handle(&self, job: jobs::Job) {
        // A failure is (what happened, whether trying again could help).
        let outcome: Result<(), (String, bool)> = match job.kind.as_str() {
            "email" => match serde_json::from_str::<Email>(&job.payload) {
                Ok(email) => self.send(&job, email).await,
                Err(e) => Err((format!("unreadable email job: {e}"), true)),
            },
            portico_db::files::SCAN_JOB => self.scan(&job.payload).await.map_err(|e| (e, false)),
            other => Err((format!("unknown job kind `{other}`"), false)),
        };
        let result = match outcome {
            Ok(()) => jobs::complete(&self.db, job.id).await,
            Err((error, permanent)) => {
                let retry_at = portico_db::now() + self.backoff(job.attempts);
                match jobs::failed(&self.db, &job, &error, retry_at, permanent).await {
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

    /// Sends one queued email with its secret (a sign-in link's token) put in place; the
    /// database forgets the secret once the job is done or gives up.
    /// Sends an email job, its link's secret put in place; a failure says whether trying
    /// again could help.
    async fn send(&self, job: &jobs::Job, email: Email) -> Result<(), (String, bool)> {
        let secret = portico_db::job_secrets::of(&self.db, job.id)
            .await
            .map_err(|e| (e.to_string(), false))?;
        // Without its secret the email's link cannot be made again: nothing to retry.
        let email =
            portico_services::email::reveal(email, secret.as_deref()).map_err(|e| (e, true))?;
        self.mailer
            .send(&email)
            .await
            .map_err(|e| (e.to_string(), e.is_permanent()))
    }

    /// Scans one new file and records the verdict. While the scanner is down the job fails
    /// and is retried, and the file stays pending: it is never served unscanned.
    async fn scan(&self, payload: &str) -> Result<(), String> {
        #[derive(serde::Deserialize)]
        struct Payload {
            file: uuid::Uuid,
        }
        let p: Payload =
            serde_json::from_str(payload).map_err(|e| format!("unreadable scan job: {e}"))?;
        let Some(file) = portico_db::files::pending_scan(&self.db, p.file)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let scanner = self
            .scanner
            .as_ref()
            .ok_or("no virus scanner is configured (storage.clamd)")?;
        let stored = crate::scan::Stored {
            key: &file.storage_key,
            size: file.size.max(0) as u64,
            file_key: portico_storage::crypt::key_for(
                self.encryption.as_ref(),
                file.firm_id.as_bytes(),
                file.id.as_bytes(),
                &file.key_wrapped,
            )?,
        };
        let found = scanner.scan(&self.storage, &stored).await?;
        if let Some(name) = &found {
            tracing::warn!(file = %file.id, found = %name, "virus scanner quarantined a file");
        }
        portico_db::files::record_scan(&self.db, &file, found.as_deref())
            .await
            .map_err(|e| e.to_string())
    }

    fn batching(&self) -> portico_db::notifications::Batching {
        portico_db::notifications::Batching {
            quiet: time::Duration::seconds(self.settings.notify_quiet_secs as i64),
            longest: time::Duration::seconds(self.settings.notify_longest_secs as i64),
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

/// Removes expired resumable uploads and marks everything they stored for removal: their
/// parts, anything a request cut off while storing a part, and a joined file that was never
/// recorded. Returns how many uploads were removed.
pub async fn sweep_uploads(
    db: &Db,
    storage: &portico_storage::Storage,
) -> Result<usize, portico_db::DbError> {
    let mut removed = 0;
    loop {
        let batch = portico_db::uploads::sweep_expired(db, 100).await?;
        if batch.is_empty() {
            return Ok(removed);
        }
        removed += batch.len();
        for left in batch {
            let mut keys = vec![left.joined_key.clone()];
            for prefix in &left.prefixes {
                keys.extend(storage.list(prefix).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, %prefix, "could not list an upload's parts");
                    Vec::new()
                }));
            }
            keys.retain(|k| left.kept.as_ref() != Some(k));
            portico_db::loose_objects::remove_later(db, &keys).await?;
        }
    }
}

/// Removes the objects on the loose list whose time has come (see `loose_objects`): bytes no
/// row names any more, and bytes whose row never committed. Returns how many it removed.
pub async fn sweep_loose_objects(
    db: &Db,
    storage: &portico_storage::Storage,
) -> Result<usize, portico_db::DbError> {
    let mut removed = 0;
    loop {
        let (taken_off, due) = portico_db::loose_objects::take_due(db, 100).await?;
        if taken_off == 0 {
            return Ok(removed);
        }
        for key in due {
            match storage.delete(&key).await {
                Ok(()) => removed += 1,
                // Put back on the list, to be tried again later.
                Err(e) => {
                    tracing::warn!(error = %e, %key, "could not remove a loose object");
                    portico_db::loose_objects::remove_later(db, &[key]).await?;
                }
            }
        }
    }
}
