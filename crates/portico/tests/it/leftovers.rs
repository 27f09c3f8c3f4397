//! Leftovers after crashes: bytes a dying server stored for a file, a message attachment or a
//! form upload whose row never committed, a resumable-upload part whose record failed, and
//! staged files on local disk are all swept, at start-up and then every minute, once their
//! hold has run out; a write in progress and anything a row names are never touched.

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use portico_db::{Db, loose_objects};

use crate::both;
use crate::files::{bytes, fetch, upload};
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp, pg};

/// Lets time pass for the loose list: every entry falls due `by` ago.
async fn age_holds(db: &Db, by: time::Duration) {
    let past = portico_db::now() - by;
    let set = "UPDATE loose_objects SET remove_after = $1 WHERE remove_after > $1";
    match db {
        Db::Sqlite(p) => {
            sqlx::query(set).bind(past).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(set).bind(past).execute(p).await.unwrap();
        }
    }
}

/// What a server does before it records an upload's row: the hold, then the bytes. A crash
/// here leaves exactly this behind.
async fn stored_then_crashed(app: &TestApp, key: &str) {
    loose_objects::hold(&app.db, key).await.unwrap();
    app.storage
        .put_bytes(key, Bytes::from(bytes(10_000, 3)))
        .await
        .unwrap();
}

async fn exists(app: &TestApp, key: &str) -> bool {
    app.storage.size(key).await.unwrap().is_some()
}

both! {
    async fn bytes_whose_row_never_committed_are_swept_and_nothing_live_or_recorded_is(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let firm = f.a.id;
        // A file or attachment, a form upload, a resumable-upload part: each kind of object a
        // request stores before its row.
        let file = portico_storage::layout::file_key(firm, uuid::Uuid::now_v7());
        let form = portico_storage::layout::file_key(firm, uuid::Uuid::now_v7());
        let part = format!("uploads/{}/{}", uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        for key in [&file, &form, &part] {
            stored_then_crashed(&app, key).await;
        }
        // A file really recorded, through the page.
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}/files", f.a.clients[0].0.id);
        let kept = bytes(50_000, 5);
        assert_eq!(upload(&staff, &page, &format!("{page}/upload"), &[("kept.bin", kept.clone())]).await.status, 303);
        let recorded = portico_db::files::for_client(&app.db, &f.a.owner, f.a.clients[0].0.id, 10).await.unwrap().remove(0);
        let recorded_key = portico_db::files::get(&app.db, &f.a.owner, recorded.id).await.unwrap().storage_key;
        assert_eq!(portico_db::system::loose_objects::count(&app.db).await.unwrap(), 3, "recording took its file off the list");

        // While their hold lasts (a write may still be under way), nothing is removed.
        assert_eq!(portico_services::leftovers::sweep_loose_objects(&app.db, &app.storage).await.unwrap(), 0);
        for key in [&file, &form, &part] {
            assert!(exists(&app, key).await, "{key}");
        }
        // Once it has run out, the crashed writes go; the recorded file stays, even if it is
        // put on the list by mistake.
        loose_objects::remove_later(&app.db, std::slice::from_ref(&recorded_key)).await.unwrap();
        age_holds(&app.db, time::Duration::days(2)).await;
        assert_eq!(portico_services::leftovers::sweep_loose_objects(&app.db, &app.storage).await.unwrap(), 3);
        for key in [&file, &form, &part] {
            assert!(!exists(&app, key).await, "{key}");
        }
        assert!(exists(&app, &recorded_key).await);
        assert_eq!(fetch(&staff, recorded.id).await, (200, kept));
        assert_eq!(portico_db::system::loose_objects::count(&app.db).await.unwrap(), 0);
        app.stop().await;
    }

    async fn a_restarted_server_sweeps_what_a_crashed_one_left_at_once(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("portico.db").display()),
            Backend::Postgres => pg::fresh_database().await,
        };
        let files = dir.path().join("files");
        let place = |c: &mut portico::Config| {
            c.database.url = Some(url.clone());
            c.storage.backend = "local".into();
            c.storage.path = Some(files.clone());
        };
        let app = TestApp::start_with(backend, place).await;
        let f = Fixture::new(&app.db).await;
        let left = portico_storage::layout::file_key(f.a.id, uuid::Uuid::now_v7());
        stored_then_crashed(&app, &left).await;
        age_holds(&app.db, time::Duration::minutes(10)).await;
        // A write cut off mid-way leaves object_store's staged file beside the key; one an
        // hour old is a dead server's, one just written may be a live upload's.
        let old_staged = stage(&files, &format!("firms/{}/files/{}#7", f.a.id, uuid::Uuid::now_v7()), Duration::from_secs(2 * 3600));
        let fresh_staged = stage(&files, &format!("firms/{}/files/{}#8", f.a.id, uuid::Uuid::now_v7()), Duration::ZERO);
        app.stop().await;

        // Start again: the sweep runs at start-up, not ten minutes later.
        let app = TestApp::start_with(backend, place).await;
        let started = Instant::now();
        while (exists(&app, &left).await || old_staged.exists()) && started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!exists(&app, &left).await, "the crashed write's bytes are gone");
        assert!(!old_staged.exists(), "the dead server's staged file is gone");
        assert!(fresh_staged.exists(), "a staged file still being written is left alone");
        assert!(started.elapsed() < Duration::from_secs(20));
        app.stop().await;
    }
}

/// Writes a staged file under the storage folder, last written `age` ago.
fn stage(root: &Path, name: &str, age: Duration) -> std::path::PathBuf {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"half a file").unwrap();
    let when = std::time::SystemTime::now() - age;
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    path
}
