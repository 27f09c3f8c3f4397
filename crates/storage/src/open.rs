//! Opening the configured backend, and refusing to start on one that cannot work.

use std::path::Path;
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;

use crate::{Storage, StorageConfig, StorageError, s3};

impl Storage {
    /// Opens the configured store and checks it can be used (for S3: the bucket answers), so a
    /// wrong setting stops start-up with one sentence rather than failing the first upload.
    pub async fn open(config: &StorageConfig) -> Result<Storage, StorageError> {
        match config {
            StorageConfig::Memory => Ok(Storage::new(Arc::new(InMemory::new()), "memory".into())),
            StorageConfig::Local { path } => local(path),
            StorageConfig::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                let settings = s3::Settings {
                    bucket,
                    region,
                    endpoint: endpoint.as_deref(),
                    access_key_id: access_key_id.as_deref(),
                    secret_access_key: secret_access_key.as_deref(),
                    allow_http: *allow_http,
                };
                s3::open(&settings).await
            }
        }
    }
}

fn local(path: &Path) -> Result<Storage, StorageError> {
    let unusable = |e: &dyn std::fmt::Display| {
        StorageError::Config(format!(
            "storage.path: the folder {} cannot be used: {e}",
            path.display()
        ))
    };
    std::fs::create_dir_all(path).map_err(|e| unusable(&e))?;
    // fsync before a write returns: an acknowledged upload must survive a power cut.
    let fs = LocalFileSystem::new_with_prefix(path)
        .map_err(|e| unusable(&e))?
        .with_fsync(true);
    let mut storage = Storage::new(Arc::new(fs), format!("local disk at {}", path.display()));
    storage.local_root = Some(path.to_path_buf());
    Ok(storage)
}
