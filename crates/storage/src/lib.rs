//! Portico's object storage: one small interface over object_store, on local disk by default,
//! an S3-compatible service for several servers, or memory for tests. Bodies stream in and
//! out; an object is never held whole in memory.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use serde::{Deserialize, Serialize};

/// Where objects live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum StorageConfig {
    Local {
        path: PathBuf,
    },
    S3 {
        bucket: String,
        region: String,
        endpoint: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        allow_http: bool,
    },
    Memory,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found")]
    NotFound,
    #[error("invalid object key `{0}`")]
    InvalidKey(String),
    /// A setting that keeps storage from working, named in one sentence.
    #[error("{0}")]
    Config(String),
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage backend failed: {0}")]
    Backend(String),
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound,
            other => StorageError::Backend(other.to_string()),
        }
    }
}

/// Parts of a streamed upload; S3 needs at least 5 MiB per part but the last.
const PART_SIZE: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    description: String,
}

fn key_path(key: &str) -> Result<Path, StorageError> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        || key.chars().any(char::is_control);
    if bad {
        return Err(StorageError::InvalidKey(
            key.chars().filter(|c| !c.is_control()).collect(),
        ));
    }
    Path::parse(key).map_err(|_| StorageError::InvalidKey(key.to_string()))
}

impl Storage {
    /// Opens the configured store and checks it can be reached (for S3: the bucket exists).
    pub async fn open(config: &StorageConfig) -> Result<Storage, StorageError> {
        let (store, description): (Arc<dyn ObjectStore>, String) = match config {
            StorageConfig::Memory => (Arc::new(InMemory::new()), "memory".into()),
            StorageConfig::Local { path } => {
                std::fs::create_dir_all(path).map_err(|e| {
                    StorageError::Config(format!(
                        "storage.path: cannot create {}: {e}",
                        path.display()
                    ))
                })?;
                let fs = LocalFileSystem::new_with_prefix(path).map_err(|e| {
                    StorageError::Config(format!(
                        "storage.path: cannot use {}: {e}",
                        path.display()
                    ))
                })?;
                (Arc::new(fs), format!("local disk at {}", path.display()))
            }
            StorageConfig::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                use_ring_for_tls();
                // Client options carry allow_http too: set them whole, once.
                let client = ClientOptions::new()
                    .with_allow_http(*allow_http)
                    .with_connect_timeout(Duration::from_secs(5));
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_virtual_hosted_style_request(false)
                    .with_client_options(client)
                    .with_retry(RetryConfig {
                        backoff: BackoffConfig::default(),
                        max_retries: 3,
                        retry_timeout: Duration::from_secs(20),
                    });
                if let Some(e) = endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(k) = access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = secret_access_key {
                    b = b.with_secret_access_key(s);
                }
                let where_ = endpoint.clone().unwrap_or_else(|| format!("AWS {region}"));
                let s3 = b.build().map_err(|e| {
                    StorageError::Config(format!("storage: the S3 settings are incomplete: {e}"))
                })?;
                (Arc::new(s3), format!("S3 bucket {bucket} at {where_}"))
            }
        };
        let storage = Storage { store, description };
        storage.check(config).await?;
        Ok(storage)
    }

    async fn check(&self, config: &StorageConfig) -> Result<(), StorageError> {
        if let StorageConfig::S3 { bucket, .. } = config {
            // Listing a missing bucket fails (a HEAD of a missing key in one would look
            // like an ordinary missing object).
            let probe = Path::from("portico-start-up-check");
            if let Some(Err(e)) = self.store.list(Some(&probe)).next().await {
                return Err(StorageError::Config(format!(
                    "storage.bucket: bucket `{bucket}` does not exist or cannot be reached ({}): {}",
                    self.description,
                    first_line(&e.to_string())
                )));
            }
        }
        Ok(())
    }

    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Streams `body` into the store. A failing body aborts the upload, leaving no object.
    pub async fn put_stream<S>(&self, key: &str, mut body: S) -> Result<u64, StorageError>
    where
        S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let path = key_path(key)?;
        let upload = self.store.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut written = 0_u64;
        loop {
            let next = body.next().await;
            match next {
                Some(Ok(chunk)) => {
                    written += chunk.len() as u64;
                    // Bounded buffering: wait while two parts are in flight.
                    if let Err(e) = writer.wait_for_capacity(2).await {
                        let _ = writer.abort().await;
                        return Err(e.into());
                    }
                    writer.put(chunk);
                }
                Some(Err(e)) => {
                    let _ = writer.abort().await;
                    return Err(StorageError::Io(e));
                }
                None => break,
            }
        }
        writer.finish().await?;
        Ok(written)
    }

    pub async fn put_bytes(&self, key: &str, body: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&key_path(key)?, PutPayload::from(body))
            .await?;
        Ok(())
    }

    /// The object's size and a stream of its bytes (or of `range`, end exclusive).
    pub async fn get_stream(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<(u64, BoxStream<'static, std::io::Result<Bytes>>), StorageError> {
        let path = key_path(key)?;
        let options = GetOptions::default().with_range(range);
        let result = self.store.get_opts(&path, options).await?;
        let size = result.meta.size;
        let stream = result.into_stream().map_err(std::io::Error::other).boxed();
        Ok((size, stream))
    }

    pub async fn size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.store.head(&key_path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an object; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&key_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let prefix = if prefix.is_empty() {
            None
        } else {
            Some(key_path(prefix.trim_end_matches('/'))?)
        };
        let metas: Vec<_> = self.store.list(prefix.as_ref()).try_collect().await?;
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        Ok(keys)
    }
}

/// HTTPS clients in this process (the S3 client among them) use rustls with the ring provider;
/// installing it is idempotent.
pub fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_cannot_escape_their_place() {
        for bad in [
            "", "/abs", "a/../b", "a//b", "..", "a/./b", "a\u{0}b", "a\nb",
        ] {
            assert!(super::key_path(bad).is_err(), "{bad:?}");
        }
        assert!(super::key_path("firm/0190/obj/abc").is_ok());
    }
}
