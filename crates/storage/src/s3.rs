//! An S3-compatible bucket: built for streaming, and checked at start-up so that a wrong
//! setting is reported in one sentence that names it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use crate::{Storage, StorageError};

/// The S3 settings, borrowed from [`crate::StorageConfig::S3`].
pub(crate) struct Settings<'a> {
    pub bucket: &'a str,
    pub region: &'a str,
    pub endpoint: Option<&'a str>,
    pub access_key_id: Option<&'a str>,
    pub secret_access_key: Option<&'a str>,
    pub allow_http: bool,
}

pub(crate) async fn open(s: &Settings<'_>) -> Result<Storage, StorageError> {
    crate::use_ring_for_tls();
    let bucket = s.bucket;
    // Path-style requests: most self-hosted S3 services serve no bucket subdomains.
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(s.region)
        .with_virtual_hosted_style_request(false)
        .with_client_options(client_options(s.allow_http))
        .with_retry(retries());
    if let Some(e) = s.endpoint {
        builder = builder.with_endpoint(e);
    }
    if let Some(k) = s.access_key_id {
        builder = builder.with_access_key_id(k);
    }
    if let Some(k) = s.secret_access_key {
        builder = builder.with_secret_access_key(k);
    }
    let place = match s.endpoint {
        Some(e) => format!("at {e}"),
        None => format!("in AWS region {}", s.region),
    };
    let store = builder.build().map_err(|e| {
        StorageError::Config(format!(
            "storage: the S3 settings for bucket `{bucket}` are not usable: {e}"
        ))
    })?;
    // A listing fails on a missing bucket, where a HEAD would look like any missing object.
    let probe = Path::from("portico-start-up-check");
    if let Some(Err(e)) = store.list(Some(&probe)).next().await {
        return Err(unusable(bucket, &place, &e));
    }
    Ok(Storage::new(
        Arc::new(store),
        format!("S3 bucket {bucket} {place}"),
    ))
}

/// No overall request timeout: a download streams for as long as the person receiving it
/// takes, and object_store's default (30 s from connect to the last byte) would cut large
/// files off. A short connect timeout keeps a dead endpoint from stalling start-up.
fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(3))
        .with_timeout_disabled()
}

/// A few quick retries ride out a blip; more would hold a request (or start-up) for minutes.
fn retries() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
    }
}

/// One sentence for why the bucket cannot be used, naming the setting to fix. S3 services
/// answer with an error code (`<Code>NoSuchBucket</Code>`); anything else is reported by its
/// root cause (connection refused, a certificate, a name that does not resolve …).
fn unusable(bucket: &str, place: &str, e: &object_store::Error) -> StorageError {
    let text = e.to_string();
    let code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code);
    StorageError::Config(match code {
        Some("NoSuchBucket") => format!("storage.bucket: bucket `{bucket}` does not exist {place}"),
        // s3s answers NotSignedUp where AWS answers InvalidAccessKeyId.
        Some("InvalidAccessKeyId" | "NotSignedUp") => {
            format!("storage.access_key_id: the S3 service {place} does not know this access key")
        }
        Some("SignatureDoesNotMatch") => format!(
            "storage.secret_access_key: the S3 service {place} refused the secret for this \
             access key"
        ),
        Some("AccessDenied") => {
            format!("storage.access_key_id: this access key may not list bucket `{bucket}` {place}")
        }
        Some(code) => format!(
            "storage.bucket: bucket `{bucket}` cannot be used {place}: the service answered \
             {code}"
        ),
        None => format!(
            "storage.bucket: bucket `{bucket}` does not exist or cannot be reached {place}: {}",
            root_cause(e)
        ),
    })
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let text = cause.to_string();
    text.lines().next().unwrap_or_default().to_string()
}
