//! Streaming a body into the store: one request for a small body, a multipart upload for a
//! large one, and no trace of either when the body fails.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use crate::StorageError;

/// Parts of a multipart upload; S3 needs at least 5 MiB per part but the last.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts sent at once; with the one being filled, this bounds an upload's memory.
const PARTS_IN_FLIGHT: usize = 2;

/// How long an abort waits for the parts in flight.
const PART_LANDING: Duration = Duration::from_secs(30);

pub(crate) async fn put_stream<S>(
    store: &dyn ObjectStore,
    path: &Path,
    mut body: S,
) -> Result<u64, StorageError>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    // Most files are small: gather up to one part and store it in one request.
    let mut first = Vec::new();
    let mut written = 0_u64;
    while written < PART_SIZE as u64 {
        match body.next().await {
            Some(chunk) => {
                let chunk = chunk?;
                written += chunk.len() as u64;
                first.push(chunk);
            }
            None => {
                store.put(path, PutPayload::from_iter(first)).await?;
                return Ok(written);
            }
        }
    }
    let mut upload = Upload(Some(WriteMultipart::new_with_chunk_size(
        store.put_multipart(path).await?,
        PART_SIZE,
    )));
    let sent = async {
        for chunk in first {
            upload.put(chunk).await?;
        }
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            written += chunk.len() as u64;
            upload.put(chunk).await?;
        }
        Ok::<_, StorageError>(())
    }
    .await;
    match sent {
        Ok(()) => {
            upload.finish().await?;
            Ok(written)
        }
        Err(e) => {
            upload.abort().await;
            Err(e)
        }
    }
}

/// A multipart upload that is aborted unless finished, also when the caller's future is
/// dropped (a request timeout, a client gone): S3 would otherwise keep, and bill, the parts.
struct Upload(Option<WriteMultipart>);

impl Upload {
    fn writer(&mut self) -> &mut WriteMultipart {
        self.0
            .as_mut()
            .expect("an upload is open until finished or aborted")
    }

    async fn put(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        let writer = self.writer();
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.put(chunk);
        Ok(())
    }

    /// Completes the object; a failure here aborts the upload (object_store does so).
    async fn finish(mut self) -> Result<(), StorageError> {
        let writer = self.0.take().expect("an upload is finished once");
        writer.finish().await?;
        Ok(())
    }

    async fn abort(mut self) {
        if let Some(writer) = self.0.take() {
            abort(writer).await;
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(abort(writer));
        }
    }
}

/// Aborts once the parts in flight have landed (for a while at most): a part that arrives
/// after the abort would be kept by the service, outliving its upload (S3 documents this).
async fn abort(mut writer: WriteMultipart) {
    let landed = async { while writer.wait_for_capacity(0).await.is_err() {} };
    let _ = tokio::time::timeout(PART_LANDING, landed).await;
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "could not abort an unfinished upload");
    }
}
