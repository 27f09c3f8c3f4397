//! Several files as one zip, made as it streams out.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{self, CONTENT_TYPE};
use axum::response::Response;
use futures_util::StreamExt;
use portico_db::files::{self};
use portico_db::{access_log, audit};
use portico_storage::crypt;

use super::download::disposition;
use super::folders::{ZIP_MOST, ticked};
use crate::kit::error::AppError;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::state::AppState;

/// Several files as one zip, made as it streams out (stored as they are: documents and pictures
/// are compressed already). Each file is checked as a download is, and recorded as one.
pub(crate) async fn zip(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    use async_zip::base::write::ZipFileWriter;
    use async_zip::{Compression, ZipEntryBuilder};
    use futures_util::AsyncWriteExt;

    let signed = &posted.signed;
    let (ids, dirs) = ticked(&posted.form)?;
    if ids.is_empty() && dirs.is_empty() {
        return Err(AppError::Invalid("Choose the files to download.".into()));
    }
    if ids.len() + dirs.len() > ZIP_MOST {
        return Err(AppError::Invalid(format!(
            "Download at most {ZIP_MOST} files at once."
        )));
    }
    // Ticked files by their names; ticked folders with their paths inside.
    let mut wanted = Vec::new();
    for id in ids {
        let f = files::get(&state.db, &signed.viewer, id).await?;
        let name = f.name.clone();
        wanted.push((f, name));
    }
    for dir in dirs {
        wanted.extend(files::under(&state.db, &signed.viewer, dir).await?);
    }
    if wanted.len() > ZIP_MOST {
        return Err(AppError::Invalid(format!(
            "Download at most {ZIP_MOST} files at once; these folders hold {}.",
            wanted.len()
        )));
    }
    let mut chosen = Vec::new();
    for (f, name) in wanted {
        if let Some(why) = f.unavailable() {
            return Err(AppError::Conflict(format!("“{}”: {why}", f.name)));
        }
        let key = crypt::key_for(
            state.config.encryption.as_ref(),
            f.firm_id.as_bytes(),
            f.id.as_bytes(),
            &f.key_wrapped,
        )
        .map_err(AppError::Internal)?;
        chosen.push((f, name, key));
    }
    let origin = info.by(signed);
    // Every file of the zip is recorded as a download, in one transaction.
    let mut tx = state.db.begin().await?;
    for (f, _, _) in &chosen {
        let event = audit::Event::new(Some(f.firm_id), "file.download")
            .object(files::ITEM, f.id)
            .detail("zip");
        audit::append(&mut tx, &origin, event).await?;
        let item = access_log::Item {
            client_id: f.client_id,
            item_type: files::ITEM,
            item_id: f.id,
            label: &f.name,
        };
        access_log::record_in(&mut tx, &signed.viewer, item).await?;
    }
    tx.commit().await?;
    let (writer, reader) = tokio::io::duplex(256 * 1024);
    let storage = state.storage.clone();
    tokio::spawn(async move {
        let result: Result<(), String> = async {
            let mut zip = ZipFileWriter::with_tokio(writer);
            let mut names = std::collections::HashSet::new();
            for (f, name, key) in &chosen {
                let name = unique_name(&mut names, name);
                let entry = ZipEntryBuilder::new(name.into(), Compression::Stored);
                let mut w = zip
                    .write_entry_stream(entry)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut bytes = crypt::read(
                    &storage,
                    &f.storage_key,
                    key.as_ref(),
                    f.size.max(0) as u64,
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
                while let Some(b) = bytes.next().await {
                    w.write_all(&b.map_err(|e| e.to_string())?)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                w.close().await.map_err(|e| e.to_string())?;
            }
            zip.close().await.map_err(|e| e.to_string())?;
            Ok(())
        }
        .await;
        // The answer has started; a failure can only cut it short, which the zip's missing
        // directory makes plain to the person's computer.
        if let Err(e) = result {
            tracing::warn!(error = %e, "a zip download stopped");
        }
    });
    let mut res = Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(reader)));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition("files.zip", "attachment"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// A name not yet used in one zip: "name (2).ext" and so on after the first.
fn unique_name(used: &mut std::collections::HashSet<String>, name: &str) -> String {
    let mut candidate = name.to_string();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let mut n = 2;
    while !used.insert(candidate.to_lowercase()) {
        candidate = format!("{stem} ({n}){ext}");
        n += 1;
    }
    candidate
}
