//! Virus scanning through clamd (ClamAV's daemon): a stored file's bytes are streamed to it with
//! the INSTREAM command, over TCP (`host:port`) or its Unix socket (a path). Each new file is
//! scanned by a job, queued when the file is stored.

use std::time::Duration;

use futures_util::StreamExt;
use portico_storage::Storage;
use portico_storage::crypt::{self, FileKey};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::jobs::{Context, Failure, Registry};

/// The most bytes sent in one INSTREAM chunk.
const CHUNK: usize = 256 * 1024;
/// How long connecting may take before the scanner counts as down.
const CONNECT: Duration = Duration::from_secs(5);
/// How long one scan may take, whatever the file's size.
const SCAN: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct Clamd {
    address: String,
}

impl Clamd {
    pub fn new(address: String) -> Clamd {
        Clamd { address }
    }

    /// Scans an object: `Ok(None)` when clean, `Ok(Some(name))` with what was found, or an
    /// error when the scanner could not say (down, too large for its limits, a read failure).
    pub async fn scan(
        &self,
        storage: &Storage,
        file: &Stored<'_>,
    ) -> Result<Option<String>, String> {
        let run = async {
            if self.address.starts_with('/') {
                let conn =
                    tokio::time::timeout(CONNECT, tokio::net::UnixStream::connect(&self.address))
                        .await
                        .map_err(|_| "the scanner did not answer".to_string())?
                        .map_err(|e| format!("cannot reach the scanner: {e}"))?;
                instream(conn, storage, file).await
            } else {
                let conn =
                    tokio::time::timeout(CONNECT, tokio::net::TcpStream::connect(&self.address))
                        .await
                        .map_err(|_| "the scanner did not answer".to_string())?
                        .map_err(|e| format!("cannot reach the scanner: {e}"))?;
                instream(conn, storage, file).await
            }
        };
        tokio::time::timeout(SCAN, run)
            .await
            .map_err(|_| "the scan took too long".to_string())?
    }
}

/// A stored file to scan: where its bytes are, how many, and the key that opens them.
pub struct Stored<'a> {
    pub key: &'a str,
    pub size: u64,
    pub file_key: Option<FileKey>,
}

async fn instream<C: AsyncRead + AsyncWrite + Unpin>(
    mut conn: C,
    storage: &Storage,
    file: &Stored<'_>,
) -> Result<Option<String>, String> {
    let mut body = crypt::read(storage, file.key, file.file_key.as_ref(), file.size, None)
        .await
        .map_err(|e| format!("cannot read the file: {e}"))?;
    let io = |e: std::io::Error| format!("the scanner connection failed: {e}");
    conn.write_all(b"zINSTREAM\0").await.map_err(io)?;
    while let Some(bytes) = body.next().await {
        let bytes = bytes.map_err(|e| format!("cannot read the file: {e}"))?;
        for part in bytes.chunks(CHUNK) {
            conn.write_all(&(part.len() as u32).to_be_bytes())
                .await
                .map_err(io)?;
            conn.write_all(part).await.map_err(io)?;
        }
    }
    conn.write_all(&0u32.to_be_bytes()).await.map_err(io)?;
    let mut reply = Vec::new();
    conn.read_to_end(&mut reply).await.map_err(io)?;
    verdict(&String::from_utf8_lossy(&reply))
}

/// Reads clamd's reply to INSTREAM.
fn verdict(reply: &str) -> Result<Option<String>, String> {
    let reply = reply.trim_end_matches(['\0', '\n']);
    let rest = reply.strip_prefix("stream: ").unwrap_or(reply);
    if rest == "OK" {
        Ok(None)
    } else if let Some(name) = rest.strip_suffix(" FOUND") {
        Ok(Some(name.to_string()))
    } else {
        Err(format!("the scanner answered: {reply}"))
    }
}

pub fn register(registry: &mut Registry) {
    registry.job(portico_db::files::SCAN_JOB, |context, job| {
        Box::pin(async move {
            scan_new_file(context, &job.payload)
                .await
                .map_err(Failure::retry)
        })
    });
}

/// Scans one new file and records the verdict. While the scanner is down the job fails
/// and is retried, and the file stays pending: it is never served unscanned.
async fn scan_new_file(context: &Context, payload: &str) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Payload {
        file: uuid::Uuid,
    }
    let p: Payload =
        serde_json::from_str(payload).map_err(|e| format!("unreadable scan job: {e}"))?;
    let Some(file) = portico_db::system::files::pending_scan(&context.db, p.file)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let scanner = context
        .scanner
        .as_ref()
        .ok_or("no virus scanner is configured (storage.clamd)")?;
    let stored = Stored {
        key: &file.storage_key,
        size: file.size.max(0) as u64,
        file_key: crypt::key_for(
            context.encryption.as_ref(),
            file.firm_id.as_bytes(),
            file.id.as_bytes(),
            &file.key_wrapped,
        )?,
    };
    let found = scanner.scan(&context.storage, &stored).await?;
    if let Some(name) = &found {
        tracing::warn!(file = %file.id, found = %name, "virus scanner quarantined a file");
    }
    portico_db::system::files::record_scan(&context.db, &file, found.as_deref())
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::verdict;

    #[test]
    fn replies_are_read_as_clean_found_or_an_error() {
        assert_eq!(verdict("stream: OK\0"), Ok(None));
        assert_eq!(
            verdict("stream: Win.Test.EICAR_HDB-1 FOUND\0"),
            Ok(Some("Win.Test.EICAR_HDB-1".into()))
        );
        assert!(verdict("INSTREAM size limit exceeded. ERROR\0").is_err());
        assert!(verdict("").is_err());
    }
}
