//! Object storage on local disk, in memory and on a real S3-compatible server: bodies stream
//! in and out byte-identical, ranges work, failed or abandoned uploads leave nothing, and a
//! store that cannot work stops start-up with one sentence.

use std::ops::Range;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use portico_storage::{Storage, StorageConfig, StorageError};

use crate::support::s3::{self, S3Server};

/// Writes one test per backend from one body: `name::local`, `name::memory`, `name::s3`.
macro_rules! on_every_backend {
    ($(async fn $name:ident($store:ident: &Store) $body:block)*) => {
        $(
            mod $name {
                use super::*;

                async fn scenario($store: &Store) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn local() {
                    scenario(&Store::local().await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    scenario(&Store::memory().await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn s3() {
                    scenario(&Store::s3().await).await
                }
            }
        )*
    };
}

/// An opened store and what keeps it alive: its folder or its server.
struct Store {
    storage: Storage,
    place: Place,
}

enum Place {
    Folder(tempfile::TempDir),
    Server(S3Server),
    Memory,
}

impl Store {
    async fn local() -> Store {
        let dir = tempfile::tempdir().unwrap();
        // A folder that does not exist yet: opening creates it.
        let config = StorageConfig::Local {
            path: dir.path().join("files"),
        };
        Store {
            storage: Storage::open(&config).await.unwrap(),
            place: Place::Folder(dir),
        }
    }

    async fn memory() -> Store {
        Store {
            storage: Storage::open(&StorageConfig::Memory).await.unwrap(),
            place: Place::Memory,
        }
    }

    async fn s3() -> Store {
        let server = s3::start().await;
        Store {
            storage: Storage::open(&server.config()).await.unwrap(),
            place: Place::Server(server),
        }
    }

    /// Traces of uploads that never became objects: staged files on disk, multipart uploads
    /// on the S3 server. Memory keeps no trace to look at.
    async fn leftovers(&self) -> Vec<String> {
        match &self.place {
            Place::Folder(dir) => {
                let objects = self.storage.list("").await.unwrap();
                let root = dir.path().join("files");
                files_under(&root, &root)
                    .into_iter()
                    .filter(|f| !objects.contains(f))
                    .collect()
            }
            Place::Server(server) => server.pending_uploads(),
            Place::Memory => Vec::new(),
        }
    }

    /// Whether an upload has left a trace the store's user knows of: a staged file on disk, or
    /// a part of a multipart upload on the S3 server (the upload's record alone appears before
    /// its id reaches the client, and a client stopped then cannot abort what it never heard of;
    /// on S3 a bucket's lifecycle rule removes those).
    async fn upload_under_way(&self) -> bool {
        match &self.place {
            Place::Server(server) => server
                .pending_uploads()
                .iter()
                .any(|name| name.starts_with(".upload_id-")),
            _ => !self.leftovers().await.is_empty(),
        }
    }

    /// Waits for clean-up done in the background: an abandoned upload's abort first waits
    /// (up to 30 seconds) for the parts in flight to land, and the machine may be busy.
    async fn leftovers_after_clean_up(&self) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let left = self.leftovers().await;
            if left.is_empty() || Instant::now() > until {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn files_under(root: &Path, dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(root, &path));
        } else {
            let relative = path.strip_prefix(root).unwrap();
            files.push(relative.to_string_lossy().into_owned());
        }
    }
    files
}

/// Bytes that differ at every offset near a part boundary, so a misplaced part shows.
fn body(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

/// `data` as a stream of `chunk`-sized pieces, the way an HTTP body arrives.
fn chunked(
    data: &[u8],
    chunk: usize,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + use<> {
    let chunks: Vec<_> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(chunks)
}

async fn read(storage: &Storage, key: &str, range: Option<Range<u64>>) -> (u64, Vec<u8>) {
    let (size, s) = storage.get_stream(key, range).await.unwrap();
    let chunks: Vec<Bytes> = s.try_collect().await.unwrap();
    (size, chunks.concat())
}

/// Compares without printing megabytes on failure.
fn assert_same(got: &[u8], want: &[u8]) {
    let first_difference = got.iter().zip(want).position(|(a, b)| a != b);
    assert!(
        got.len() == want.len() && first_difference.is_none(),
        "got {} bytes, want {}; first difference at {first_difference:?}",
        got.len(),
        want.len()
    );
}

const BIG: usize = 20 * 1024 * 1024 + 123;
const PART: u64 = 8 * 1024 * 1024;

on_every_backend! {
    async fn streams_a_large_object_back_byte_identical(store: &Store) {
        let data = body(BIG);
        let written = store
            .storage
            .put_stream("firm/a/obj/big", chunked(&data, 64 * 1024))
            .await
            .unwrap();
        assert_eq!(written, BIG as u64);
        assert_eq!(store.storage.size("firm/a/obj/big").await.unwrap(), Some(BIG as u64));
        let (size, got) = read(&store.storage, "firm/a/obj/big", None).await;
        assert_eq!(size, BIG as u64);
        assert_same(&got, &data);
        // A range across the first part boundary.
        let across = PART - 1000..PART + 1000;
        let (size, got) = read(&store.storage, "firm/a/obj/big", Some(across.clone())).await;
        assert_eq!(size, BIG as u64);
        assert_same(&got, &data[across.start as usize..across.end as usize]);
    }

    async fn serves_byte_ranges_and_the_whole_size(store: &Store) {
        let data = body(1000);
        store
            .storage
            .put_bytes("firm/a/obj/doc", Bytes::from(data.clone()))
            .await
            .unwrap();
        let (size, got) = read(&store.storage, "firm/a/obj/doc", Some(100..200)).await;
        assert_eq!(size, 1000);
        assert_same(&got, &data[100..200]);
        let (_, got) = read(&store.storage, "firm/a/obj/doc", Some(0..1)).await;
        assert_same(&got, &data[..1]);
        let (_, got) = read(&store.storage, "firm/a/obj/doc", Some(990..5000)).await;
        assert_same(&got, &data[990..]);
    }

    async fn stores_small_and_empty_bodies(store: &Store) {
        let written = store
            .storage
            .put_stream("firm/a/obj/empty", stream::empty())
            .await
            .unwrap();
        assert_eq!(written, 0);
        assert_eq!(store.storage.size("firm/a/obj/empty").await.unwrap(), Some(0));
        assert_eq!(read(&store.storage, "firm/a/obj/empty", None).await, (0, vec![]));

        let data = body(100_000);
        let written = store
            .storage
            .put_stream("firm/a/obj/small", chunked(&data, 7))
            .await
            .unwrap();
        assert_eq!(written, 100_000);
        let (size, got) = read(&store.storage, "firm/a/obj/small", None).await;
        assert_eq!(size, 100_000);
        assert_same(&got, &data);

        // Storing again under the same key replaces the object.
        store
            .storage
            .put_bytes("firm/a/obj/small", Bytes::from_static(b"hello"))
            .await
            .unwrap();
        assert_eq!(read(&store.storage, "firm/a/obj/small", None).await, (5, b"hello".to_vec()));
    }

    async fn lists_keys_under_a_prefix_by_whole_segments(store: &Store) {
        for key in ["firm/a/obj/2", "firm/a/obj/1", "firm/ab/obj/3", "firm/b/obj/4"] {
            store.storage.put_bytes(key, Bytes::from_static(b"x")).await.unwrap();
        }
        let under_a = vec!["firm/a/obj/1".to_string(), "firm/a/obj/2".to_string()];
        assert_eq!(store.storage.list("firm/a").await.unwrap(), under_a);
        assert_eq!(store.storage.list("firm/a/").await.unwrap(), under_a);
        assert_eq!(store.storage.list("").await.unwrap().len(), 4);
        assert!(store.storage.list("firm/c").await.unwrap().is_empty());
    }

    async fn deletes_objects_and_shrugs_at_missing_ones(store: &Store) {
        store
            .storage
            .put_bytes("firm/a/obj/gone", Bytes::from_static(b"bye"))
            .await
            .unwrap();
        store.storage.delete("firm/a/obj/gone").await.unwrap();
        assert_eq!(store.storage.size("firm/a/obj/gone").await.unwrap(), None);
        assert!(store.storage.list("firm/a").await.unwrap().is_empty());
        store.storage.delete("firm/a/obj/gone").await.unwrap();
        store.storage.delete("firm/a/obj/never").await.unwrap();
    }

    async fn answers_not_found_for_a_missing_object(store: &Store) {
        let got = store.storage.get_stream("firm/a/obj/missing", None).await;
        assert!(matches!(got, Err(StorageError::NotFound)), "{:?}", got.map(|_| ()));
        let got = store.storage.get_stream("firm/a/obj/missing", Some(0..10)).await;
        assert!(matches!(got, Err(StorageError::NotFound)), "{:?}", got.map(|_| ()));
        assert_eq!(store.storage.size("firm/a/obj/missing").await.unwrap(), None);
    }

    async fn a_body_that_fails_leaves_no_object_and_no_parts(store: &Store) {
        store
            .storage
            .put_bytes("firm/a/obj/kept", Bytes::from_static(b"before"))
            .await
            .unwrap();
        // Failing before one part is full, and after several parts were sent.
        for sent in [1024 * 1024, BIG] {
            for key in ["firm/a/obj/broken", "firm/a/obj/kept"] {
                let failing = chunked(&body(sent), 64 * 1024)
                    .chain(stream::iter([Err(std::io::Error::other("client went away"))]));
                let err = store.storage.put_stream(key, failing).await.unwrap_err();
                assert!(matches!(err, StorageError::Io(_)), "{err}");
                assert!(err.to_string().contains("client went away"), "{err}");
            }
            assert_eq!(store.storage.size("firm/a/obj/broken").await.unwrap(), None);
            // What was stored before under the key stays.
            assert_eq!(read(&store.storage, "firm/a/obj/kept", None).await.1, b"before");
            assert_eq!(store.leftovers().await, Vec::<String>::new(), "after {sent} bytes");
        }
    }

    async fn rejects_keys_that_could_escape_their_place(store: &Store) {
        let invalid = |r: Result<(), StorageError>| matches!(r, Err(StorageError::InvalidKey(_)));
        let s = &store.storage;
        for bad in ["", "../etc/passwd", "a/../../x", "/abs", "a//b", "a/./b", "a/\u{0}", "a\nb"] {
            assert!(invalid(s.put_bytes(bad, Bytes::new()).await), "{bad:?}");
            assert!(invalid(s.put_stream(bad, stream::empty()).await.map(|_| ())), "{bad:?}");
            assert!(invalid(s.get_stream(bad, None).await.map(|_| ())), "{bad:?}");
            assert!(invalid(s.size(bad).await.map(|_| ())), "{bad:?}");
            assert!(invalid(s.delete(bad).await), "{bad:?}");
        }
        let err = store.storage.list("../x").await.unwrap_err();
        assert!(err.to_string().contains("is not allowed"), "{err}");
        assert!(store.storage.list("").await.unwrap().is_empty());
    }
}

/// A request that times out or a client that goes away drops the upload mid-way; the parts
/// already sent must not linger (S3 bills them; a disk fills up).
async fn an_abandoned_upload_is_cleaned_up(store: Store) {
    let storage = store.storage.clone();
    let upload = tokio::spawn(async move {
        let first = stream::iter([Ok(Bytes::from(body(BIG)))]);
        let body = first.chain(stream::pending());
        storage.put_stream("firm/a/obj/abandoned", body).await
    });
    let until = Instant::now() + Duration::from_secs(10);
    while !store.upload_under_way().await {
        assert!(Instant::now() < until, "the upload never began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    upload.abort();
    assert!(upload.await.unwrap_err().is_cancelled());
    assert_eq!(store.leftovers_after_clean_up().await, Vec::<String>::new());
    assert_eq!(
        store.storage.size("firm/a/obj/abandoned").await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_upload_to_local_disk_is_cleaned_up() {
    an_abandoned_upload_is_cleaned_up(Store::local().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_upload_to_s3_is_aborted() {
    an_abandoned_upload_is_cleaned_up(Store::s3().await).await;
}

/// A server killed while it writes a large object to local disk leaves object_store's staged
/// file (`name#N`) behind; the worker's sweep removes those nobody has touched for a while, and
/// nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_files_left_by_a_dead_server_are_swept_from_local_disk() {
    let store = Store::local().await;
    let Place::Folder(dir) = &store.place else {
        unreachable!()
    };
    let root = dir.path().join("files");
    store
        .storage
        .put_bytes("firm/a/kept", Bytes::from_static(b"kept"))
        .await
        .unwrap();
    store
        .storage
        .put_bytes("firm/a/name#with-hash", Bytes::from_static(b"an object"))
        .await
        .unwrap();
    let folder = root.join("firm").join("a");
    let old = folder.join("dead-upload#7");
    let fresh = folder.join("live-upload#8");
    std::fs::write(&old, b"half of something").unwrap();
    std::fs::write(&fresh, b"being written").unwrap();
    let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();

    let removed = store
        .storage
        .remove_stale_staging(Duration::from_secs(24 * 3600))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!old.exists() && fresh.exists());
    assert_eq!(
        store.storage.list("firm/a").await.unwrap(),
        vec![
            "firm/a/kept".to_string(),
            "firm/a/name#with-hash".to_string()
        ]
    );
    // Memory and S3 keep no staged files here: nothing to do.
    assert_eq!(
        Store::memory()
            .await
            .storage
            .remove_stale_staging(Duration::ZERO)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_backend_describes_where_objects_go() {
    let local = Store::local().await;
    let Place::Folder(dir) = &local.place else {
        unreachable!()
    };
    assert_eq!(
        local.storage.describe(),
        format!("local disk at {}", dir.path().join("files").display())
    );
    assert_eq!(Store::memory().await.storage.describe(), "memory");
    let s3 = Store::s3().await;
    let Place::Server(server) = &s3.place else {
        unreachable!()
    };
    assert_eq!(
        s3.storage.describe(),
        format!("S3 bucket portico-test at {}", server.endpoint)
    );
}

async fn open_error(config: &StorageConfig) -> String {
    match Storage::open(config).await {
        Ok(s) => panic!("{} opened", s.describe()),
        Err(e @ StorageError::Config(_)) => e.to_string(),
        Err(e) => panic!("not a configuration error: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_with_a_missing_bucket_stops_start_up_naming_the_bucket() {
    let server = s3::start().await;
    let mut config = server.config();
    let StorageConfig::S3 { bucket, .. } = &mut config else {
        unreachable!()
    };
    *bucket = "no-such-bucket".into();
    assert_eq!(
        open_error(&config).await,
        format!(
            "storage.bucket: bucket `no-such-bucket` does not exist at {}",
            server.endpoint
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_with_wrong_credentials_stops_start_up_naming_the_setting() {
    let server = s3::start().await;
    let mut config = server.config();
    let StorageConfig::S3 {
        secret_access_key, ..
    } = &mut config
    else {
        unreachable!()
    };
    *secret_access_key = Some("wrong-secret".into());
    assert_eq!(
        open_error(&config).await,
        format!(
            "storage.secret_access_key: the S3 service at {} refused the secret for this \
             access key",
            server.endpoint
        )
    );

    let mut config = server.config();
    let StorageConfig::S3 { access_key_id, .. } = &mut config else {
        unreachable!()
    };
    *access_key_id = Some("nobody".into());
    let err = open_error(&config).await;
    assert!(err.starts_with("storage.access_key_id: "), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_at_an_endpoint_that_refuses_connections_stops_start_up_promptly() {
    let server = s3::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let mut config = server.config();
    let StorageConfig::S3 { endpoint, .. } = &mut config else {
        unreachable!()
    };
    *endpoint = Some(dead.clone());
    let started = Instant::now();
    let err = open_error(&config).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        err.starts_with(&format!(
            "storage.bucket: bucket `portico-test` does not exist or cannot be reached at {dead}: "
        )),
        "{err}"
    );
    assert!(err.contains("refused"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_settings_need_only_a_bucket_and_never_print_the_secret() {
    let config: StorageConfig =
        serde_json::from_str(r#"{"backend": "s3", "bucket": "b"}"#).unwrap();
    let StorageConfig::S3 {
        region,
        endpoint,
        allow_http,
        access_key_id,
        ..
    } = &config
    else {
        panic!("{config:?}")
    };
    assert_eq!(region, "us-east-1");
    assert_eq!(
        (endpoint, access_key_id, allow_http),
        (&None, &None, &false)
    );

    let server = s3::start().await;
    let shown = format!("{:?}", server.config());
    assert!(shown.contains(&server.access_key), "{shown}");
    assert!(!shown.contains(&server.secret_key), "{shown}");
    let local: StorageConfig =
        serde_json::from_str(r#"{"backend": "local", "path": "/x"}"#).unwrap();
    assert!(matches!(local, StorageConfig::Local { .. }));
}
