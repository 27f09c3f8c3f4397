//! An S3-compatible server in the test process: s3s-fs over a temporary folder, on
//! 127.0.0.1:0, with a fixed access key. Buckets are folders.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    task: tokio::task::JoinHandle<()>,
    dir: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl S3Server {
    /// Points a Portico server's storage settings at this server.
    pub fn use_for(&self, storage: &mut portico::config::StorageSection) {
        storage.backend = "s3".into();
        storage.bucket = Some(self.bucket.clone());
        storage.endpoint = Some(self.endpoint.clone());
        storage.access_key_id = Some(self.access_key.clone());
        storage.secret_access_key = Some(self.secret_key.clone());
        storage.allow_http = true;
    }

    pub fn config(&self) -> portico_storage::StorageConfig {
        portico_storage::StorageConfig::S3 {
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            endpoint: Some(self.endpoint.clone()),
            access_key_id: Some(self.access_key.clone()),
            secret_access_key: Some(self.secret_key.clone()),
            allow_http: true,
        }
    }

    /// Multipart uploads begun and neither completed nor aborted: s3s-fs keeps each one as
    /// `.upload-<id>.json` (and its parts as `.upload_id-<id>.part-<n>`) in its root folder.
    pub fn pending_uploads(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .expect("s3s-fs root")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".upload"))
            .collect()
    }
}

pub async fn start() -> S3Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let bucket = "portico-test".to_string();
    std::fs::create_dir(dir.path().join(&bucket)).expect("bucket folder");
    let (access_key, secret_key) = (
        "portico-test-key".to_string(),
        "portico-test-secret".to_string(),
    );
    let fs = s3s_fs::FileSystem::new(dir.path()).expect("s3s-fs");
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(
        access_key.clone(),
        secret_key.clone(),
    ));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    S3Server {
        endpoint,
        bucket,
        access_key,
        secret_key,
        task,
        dir,
    }
}
