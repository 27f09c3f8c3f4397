//! Which backend holds the objects, and where.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum StorageConfig {
    /// A folder on this machine: the embedded default, for one server.
    Local { path: PathBuf },
    /// An S3-compatible bucket, shared by several servers.
    S3 {
        bucket: String,
        #[serde(default = "default_region")]
        region: String,
        /// Any S3-compatible service (MinIO, Garage, …); AWS when absent.
        endpoint: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        #[serde(default)]
        allow_http: bool,
    },
    /// Process memory, lost on exit: for tests and demos.
    Memory,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// Written by hand so that logging the settings never prints the secret key.
impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageConfig::Local { path } => f.debug_struct("Local").field("path", path).finish(),
            StorageConfig::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                allow_http,
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("region", region)
                .field("endpoint", endpoint)
                .field("access_key_id", access_key_id)
                .field(
                    "secret_access_key",
                    &secret_access_key.as_ref().map(|_| "<redacted>"),
                )
                .field("allow_http", allow_http)
                .finish(),
            StorageConfig::Memory => f.write_str("Memory"),
        }
    }
}
