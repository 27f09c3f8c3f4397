//! Object storage on local disk, in memory and on a real S3-compatible server: bodies stream
//! in and out byte-identical, ranges work, failed uploads leave nothing.

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use portico_storage::{Storage, StorageConfig, StorageError};
use sha2_free::digest;

use crate::support::s3;

/// A cheap content fingerprint (the test does not need a cryptographic hash).
mod sha2_free {
    pub fn digest(bytes: &[u8]) -> (usize, u64) {
        let mut h: u64 = 0xcbf29ce484222325;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100000001b3);
        }
        (bytes.len(), h)
    }
}

fn body(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

async fn read_all(storage: &Storage, key: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let (_, s) = storage.get_stream(key, range).await.unwrap();
    let chunks: Vec<Bytes> = s.try_collect().await.unwrap();
    chunks.concat()
}

async fn exercise(storage: Storage) {
    // 20 MiB in 64 KiB chunks: several multipart parts.
    let data = body(20 * 1024 * 1024 + 123);
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let written = storage
        .put_stream("firm/a/obj/big", stream::iter(chunks))
        .await
        .unwrap();
    assert_eq!(written, data.len() as u64);
    assert_eq!(
        storage.size("firm/a/obj/big").await.unwrap(),
        Some(data.len() as u64)
    );
    assert_eq!(
        digest(&read_all(&storage, "firm/a/obj/big", None).await),
        digest(&data)
    );
    assert_eq!(
        read_all(&storage, "firm/a/obj/big", Some(1000..5000)).await,
        data[1000..5000]
    );

    storage
        .put_bytes("firm/a/obj/small", Bytes::from_static(b"hello"))
        .await
        .unwrap();
    storage
        .put_bytes("firm/b/obj/other", Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(
        storage.list("firm/a").await.unwrap(),
        vec!["firm/a/obj/big", "firm/a/obj/small"]
    );

    // A body that fails midway leaves no object behind.
    let failing = stream::iter(vec![
        Ok(Bytes::from(vec![1_u8; 6 * 1024 * 1024])),
        Err(std::io::Error::other("client went away")),
    ]);
    assert!(
        storage
            .put_stream("firm/a/obj/broken", failing.boxed())
            .await
            .is_err()
    );
    assert_eq!(storage.size("firm/a/obj/broken").await.unwrap(), None);

    storage.delete("firm/a/obj/small").await.unwrap();
    storage.delete("firm/a/obj/small").await.unwrap();
    assert!(matches!(
        storage
            .get_stream("firm/a/obj/small", None)
            .await
            .map(|_| ()),
        Err(StorageError::NotFound)
    ));
    for bad in ["../etc/passwd", "/abs", "a//b", "a/\u{0}"] {
        assert!(
            matches!(
                storage.put_bytes(bad, Bytes::new()).await,
                Err(StorageError::InvalidKey(_))
            ),
            "{bad:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_disk_streams_objects_back_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(&StorageConfig::Local {
        path: dir.path().join("files"),
    })
    .await
    .unwrap();
    exercise(storage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_streams_objects_back_byte_identical() {
    exercise(Storage::open(&StorageConfig::Memory).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_streams_objects_back_byte_identical() {
    let server = s3::start().await;
    let storage = Storage::open(&server.config()).await.unwrap();
    assert!(storage.describe().contains("S3 bucket portico-test"));
    exercise(storage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_or_dead_endpoint_is_a_clear_error() {
    let server = s3::start().await;
    let StorageConfig::S3 {
        region,
        endpoint,
        access_key_id,
        secret_access_key,
        allow_http,
        ..
    } = server.config()
    else {
        unreachable!()
    };
    let missing = StorageConfig::S3 {
        bucket: "no-such-bucket".into(),
        region: region.clone(),
        endpoint,
        access_key_id: access_key_id.clone(),
        secret_access_key: secret_access_key.clone(),
        allow_http,
    };
    let err = Storage::open(&missing).await.err().unwrap().to_string();
    assert!(
        err.starts_with("storage.bucket: bucket `no-such-bucket`"),
        "{err}"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = StorageConfig::S3 {
        bucket: "portico-test".into(),
        region,
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        access_key_id,
        secret_access_key,
        allow_http,
    };
    let started = std::time::Instant::now();
    let err = Storage::open(&dead).await.err().unwrap().to_string();
    assert!(err.starts_with("storage.bucket:"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
