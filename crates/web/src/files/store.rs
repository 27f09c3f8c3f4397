//! Storing a file: uploads streamed into storage, hashed, sniffed, sealed and counted on the
//! way (never held whole), and recorded only once every byte is stored.

use bytes::Bytes;
use futures_util::StreamExt;
use portico_db::files::{self, NewFile};
use portico_db::new_id;
use sha2::{Digest, Sha256};

use crate::kit::error::AppError;
use crate::kit::layout::human_size;
use crate::kit::session::Signed;
use crate::state::AppState;

/// Recognises a few types from a file's first bytes; anything else is plain bytes. Downloads
/// are attachments whatever this says, so a wrong guess can never make a page of a file.
pub(crate) fn sniff(head: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if starts(b"PK\x03\x04") {
        "application/zip"
    } else {
        "application/octet-stream"
    }
}

fn too_large(max: u64) -> AppError {
    AppError::TooLarge(format!(
        "That file is larger than {}, the most one upload may carry. Share it in parts, or ask the firm.",
        human_size(max as i64)
    ))
}

fn quota_full() -> AppError {
    AppError::TooLarge(
        "The firm's file storage is full, so this file cannot be kept. Please tell the firm; nothing was stored."
            .into(),
    )
}

/// The most one upload may carry for a firm now: the per-file limit, or less when the firm's
/// quota has less room left; and whether the per-file limit is what binds. A full quota is
/// refused at once.
pub(crate) async fn upload_limit(
    state: &AppState,
    firm_id: uuid::Uuid,
) -> Result<(u64, bool), AppError> {
    let mut max = state.config.max_file_bytes;
    if let Some(quota) = state.config.firm_quota_bytes {
        let used = files::firm_bytes(&state.db, firm_id).await?.max(0) as u64;
        let left = quota.saturating_sub(used);
        if left == 0 {
            return Err(quota_full());
        }
        max = max.min(left);
    }
    Ok((max, max == state.config.max_file_bytes))
}

/// The answer to a file over a limit: the per-file limit or the firm's quota.
pub(crate) fn over_limit(max: u64, per_file: bool) -> AppError {
    if per_file {
        too_large(max)
    } else {
        quota_full()
    }
}

/// Streams one multipart file field into storage under a new key, hashing and counting it;
/// over the limit, the upload stops, nothing is kept and the answer is 413.
pub(crate) async fn store_field(
    state: &AppState,
    viewer: &portico_core::Viewer,
    field: axum::extract::multipart::Field<'_>,
) -> Result<(NewFileOwned, String), AppError> {
    let name = field.file_name().unwrap_or("file").to_string();
    // Checked before the first byte and while the bytes stream.
    let (max, per_file) = upload_limit(state, viewer.firm_id()).await?;
    let body = field.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
    let id = new_id();
    let key = portico_storage::layout::file_key(viewer.firm_id(), id);
    store_stream(state, viewer.firm_id(), id, key, name, body, max, per_file).await
}

/// Streams bytes into storage under `key` as file `id` of a firm: hashed, counted, their type
/// sniffed and, with a master key, sealed on the way. Past `max` bytes it stops, keeps nothing
/// and answers 413.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn store_stream<S>(
    state: &AppState,
    firm_id: uuid::Uuid,
    id: uuid::Uuid,
    key: String,
    name: String,
    body: S,
    max: u64,
    per_file: bool,
) -> Result<(NewFileOwned, String), AppError>
where
    S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send,
{
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::new();
    let mut over = false;
    let body = body.map(|chunk| {
        let chunk = chunk?;
        size += chunk.len() as u64;
        if size > max {
            over = true;
            return Err(std::io::Error::other("over the size limit"));
        }
        if head.len() < 16 {
            head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len())]);
        }
        hasher.update(&chunk);
        Ok::<Bytes, std::io::Error>(chunk)
    });
    let mut key_wrapped = String::new();
    let body = match &state.config.encryption {
        Some(master) => {
            let (file_key, wrapped) = master.new_file_key(firm_id.as_bytes(), id.as_bytes());
            key_wrapped = wrapped;
            file_key.seal_stream(body)
        }
        None => body.boxed(),
    };
    let held = Held::start(&state.db, &key).await?;
    let stored = state.storage.put_stream(&key, body).await;
    if over {
        return Err(over_limit(max, per_file));
    }
    stored.map_err(AppError::from)?;
    let file = NewFileOwned {
        id,
        name,
        size: size as i64,
        content_type: sniff(&head).to_string(),
        sha256: hex_lower(&hasher.finalize()),
        storage_key: key.clone(),
        scan: state.config.scan,
        key_wrapped,
        _held: held,
    };
    Ok((file, key))
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores an uploaded file as one of the client's files (in `folder`, or at the top) and
/// records it; if recording fails, the stored bytes are removed again, so they never linger
/// unreferenced.
pub(crate) async fn store_and_record(
    state: &AppState,
    signed: &Signed,
    client_id: uuid::Uuid,
    folder: Option<uuid::Uuid>,
    field: axum::extract::multipart::Field<'_>,
    origin: &portico_db::audit::Origin,
) -> Result<files::StoredFile, AppError> {
    let (f, key) = store_field(state, &signed.viewer, field).await?;
    let new = NewFile {
        folder_id: folder,
        ..f.as_new()
    };
    match files::record(&state.db, &signed.viewer, client_id, new, origin).await {
        Ok(stored) => Ok(stored),
        Err(e) => {
            let _ = state.storage.delete(&key).await;
            Err(e.into())
        }
    }
}

/// A file whose bytes are stored, not yet recorded.
pub(crate) struct NewFileOwned {
    id: uuid::Uuid,
    name: String,
    size: i64,
    content_type: String,
    sha256: String,
    storage_key: String,
    scan: bool,
    key_wrapped: String,
    /// Keeps the stored bytes from the sweep until the row naming them is recorded.
    _held: Held,
}

/// Holds an object on the loose list while its bytes are written and until its row is
/// recorded: entered before the first byte, renewed every minute while this lives. Should the
/// process die, the hold runs out and the sweep removes what was written.
pub(crate) struct Held(tokio::task::JoinHandle<()>);

impl Held {
    pub(crate) async fn start(db: &portico_db::Db, key: &str) -> Result<Held, AppError> {
        // Out of space before the first byte is out of space for this file.
        portico_db::loose_objects::hold(db, key)
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Full { cause, .. } => AppError::Full {
                    upload: true,
                    cause,
                },
                other => other,
            })?;
        let (db, key) = (db.clone(), key.to_string());
        Ok(Held(tokio::spawn(async move {
            let every = std::time::Duration::from_secs(60);
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = portico_db::loose_objects::hold(&db, &key).await {
                    tracing::warn!(error = %e, %key, "could not renew the hold on an object being written");
                }
            }
        })))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl NewFileOwned {
    pub(crate) fn as_new(&self) -> NewFile<'_> {
        NewFile {
            id: self.id,
            name: &self.name,
            size: self.size,
            content_type: &self.content_type,
            sha256: &self.sha256,
            storage_key: &self.storage_key,
            scan: self.scan,
            key_wrapped: &self.key_wrapped,
            folder_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7"), "application/pdf");
        assert_eq!(sniff(b"<html><script>"), "application/octet-stream");
        assert_eq!(sniff(b"<svg xmlns="), "application/octet-stream");
    }
}
