//! Portico's object storage: one small interface over object_store, on local disk by default,
//! an S3-compatible service for several servers, or memory for tests. Bodies stream in and
//! out; an object is never held whole in memory.

mod config;
pub mod crypt;
mod error;
mod key;
pub mod layout;
mod open;
mod s3;
mod upload;

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutPayload};

pub use config::StorageConfig;
pub use error::StorageError;
use key::key_path;

/// How much of a file on local disk one read takes.
const READ_BLOCK: usize = 256 * 1024;

/// Cheap to clone: clones share one backend (and, for S3, one connection pool).
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    description: String,
    /// The folder of a store on local disk.
    local_root: Option<std::path::PathBuf>,
}

impl Storage {
    fn new(store: Arc<dyn ObjectStore>, description: String) -> Storage {
        Storage {
            store,
            description,
            local_root: None,
        }
    }

    /// Removes what writes cut off by a dying process left on local disk: staged files
    /// (`name#N`) nobody has written to for `idle`. Returns how many it removed. Other
    /// backends leave no such traces here (on S3, a bucket lifecycle rule aborts incomplete
    /// multipart uploads).
    pub async fn remove_stale_staging(
        &self,
        idle: std::time::Duration,
    ) -> Result<usize, StorageError> {
        let Some(root) = self.local_root.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || remove_stale(&root, idle))
            .await
            .map_err(|e| StorageError::Backend(e.to_string()))?
            .map_err(StorageError::from)
    }

    /// Where objects go, for the start-up log and health pages (no secrets).
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Streams `body` into the store under `key` and returns its length. Memory stays bounded
    /// by a few upload parts whatever the size. If the body fails, the store is left as it was
    /// (an earlier object under `key` stays) and the body's error is returned.
    pub async fn put_stream<S>(&self, key: &str, body: S) -> Result<u64, StorageError>
    where
        S: Stream<Item = std::io::Result<Bytes>>,
    {
        upload::put_stream(&self.store, &key_path(key)?, std::pin::pin!(body)).await
    }

    pub async fn put_bytes(&self, key: &str, body: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&key_path(key)?, PutPayload::from(body))
            .await?;
        Ok(())
    }

    /// The object's whole size and a stream of its bytes, or of only `range` (end exclusive;
    /// an end past the object stops at its end).
    pub async fn get_stream(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<(u64, BoxStream<'static, std::io::Result<Bytes>>), StorageError> {
        let path = key_path(key)?;
        let options = GetOptions::default().with_range(range);
        let result = self.store.get_opts(&path, options).await?;
        let size = result.meta.size;
        let stream = match result.payload {
            // On local disk, read the open file in large blocks: the store's own stream reads
            // 8 KiB at a time, each on a blocking thread, at a fraction of the disk's speed.
            object_store::GetResultPayload::File(file, _) => {
                use tokio::io::{AsyncReadExt, AsyncSeekExt};
                let range = result.range;
                let mut file = tokio::fs::File::from_std(file);
                file.seek(std::io::SeekFrom::Start(range.start)).await?;
                let part = file.take(range.end - range.start);
                tokio_util::io::ReaderStream::with_capacity(part, READ_BLOCK).boxed()
            }
            payload => object_store::GetResult { payload, ..result }
                .into_stream()
                .map_err(std::io::Error::other)
                .boxed(),
        };
        Ok((size, stream))
    }

    /// The object's size, or `None` when there is no such object.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.store.head(&key_path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an object; a missing one is not an error, so a retried clean-up succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&key_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every key under `prefix`, sorted. The prefix matches whole segments: `firm/a` lists
    /// `firm/a/…`, never `firm/ab/…`; an empty prefix lists everything.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let prefix = match prefix.trim_end_matches('/') {
            "" => None,
            p => Some(key_path(p)?),
        };
        let metas: Vec<_> = self.store.list(prefix.as_ref()).try_collect().await?;
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        Ok(keys)
    }
}

impl Storage {
    /// Whether the store holds no object at all.
    pub async fn is_empty(&self) -> Result<bool, StorageError> {
        let mut all = self.store.list(None);
        Ok(all.next().await.transpose()?.is_none())
    }
}

/// Whether a file name is one of object_store's staged uploads: `name#` and digits.
fn is_staged(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn remove_stale(dir: &std::path::Path, idle: std::time::Duration) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = entry.metadata()?;
        if meta.is_dir() {
            removed += remove_stale(&path, idle)?;
        } else if is_staged(&entry.file_name().to_string_lossy())
            && meta.modified()?.elapsed().is_ok_and(|age| age > idle)
        {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// HTTPS clients in this process (the S3 client among them) use rustls with the ring provider;
/// installing it is idempotent.
pub fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
