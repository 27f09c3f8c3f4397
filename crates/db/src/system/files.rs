//! Virus scanning of new files, run by the scan job.

use portico_core::files::ScanStatus;
use portico_core::notices;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::files::{ITEM, StoredFile};
use crate::notifications::{self, Notice};
use crate::{Db, DbError, now, on_db, on_tx};

/// A file waiting for its scan, by id (the job worker's view, not a person's).
pub async fn pending_scan(db: &Db, id: Uuid) -> Result<Option<StoredFile>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT * FROM files WHERE id = $1 AND scan_status = 'pending'"
    ).bind(id).fetch_optional(p).await)?)
}

/// Records the scanner's verdict on a pending file: `None` for clean, or what it found. An
/// infected file stays stored but is never served, and the firm's staff are told.
pub async fn record_scan(db: &Db, file: &StoredFile, found: Option<&str>) -> Result<(), DbError> {
    let (status, verdict) = match found {
        None => (ScanStatus::Clean, ""),
        Some(v) => (ScanStatus::Infected, v),
    };
    let verdict: String = verdict.chars().take(200).collect();
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE files SET scan_status = $2, scan_verdict = $3, scanned_at = $4 WHERE id = $1 AND scan_status = 'pending'"
    ).bind(file.id).bind(status.as_str()).bind(&verdict).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(());
    }
    audit::append(
        &mut tx,
        &Origin::system("scanner"),
        Event::new(Some(file.firm_id), "file.scan")
            .object(ITEM, file.id)
            .detail(if verdict.is_empty() {
                ScanStatus::Clean.to_string()
            } else {
                format!("{}: {verdict}", ScanStatus::Infected)
            }),
    )
    .await?;
    if found.is_some() {
        let staff = notifications::firm_staff(&mut tx, file.firm_id).await?;
        let notice = Notice {
            firm_id: file.firm_id,
            event: notices::Event::FileQuarantined {
                client_id: file.client_id,
            },
            subject_id: file.id,
        };
        notifications::raise(&mut tx, &notice, &staff).await?;
    }
    tx.commit().await?;
    Ok(())
}
