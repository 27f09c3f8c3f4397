//! Outages: a database that is unreachable, locked or out of space, a full disk, stored files
//! that went missing. People read a sentence and are asked to retry; reads go on working; the
//! service comes back by itself once the cause is gone.

use std::path::PathBuf;

use sqlx::Connection;

use crate::both;
use crate::files::{bytes, fetch, upload};
use crate::support::app::test_config;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

/// What no page may show, whatever failed underneath.
fn no_internals(body: &str) {
    let lower = body.to_lowercase();
    for leak in [
        "os error",
        "no space",
        "sqlx",
        "pool",
        "database error",
        "sqlite",
    ] {
        assert!(!lower.contains(leak), "the page shows `{leak}`: {body}");
    }
}

/// Another process holding the database's write lock: SQLite's one writer, or, on PostgreSQL,
/// a lock on the sessions table that every sign-in writes to (reads of it stay allowed).
enum LockHolder {
    Sqlite(#[allow(dead_code)] sqlx::SqliteConnection),
    Postgres(#[allow(dead_code)] sqlx::PgConnection),
}

async fn hold_write_lock(app: &TestApp) -> LockHolder {
    let url = app.config.database.url.clone().unwrap();
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut c)
            .await
            .unwrap();
        LockHolder::Sqlite(c)
    } else {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut c).await.unwrap();
        sqlx::query("LOCK TABLE sessions IN EXCLUSIVE MODE")
            .execute(&mut c)
            .await
            .unwrap();
        LockHolder::Postgres(c)
    }
}

/// A small tmpfs, to fill for real; `None` where this machine cannot mount one (not root).
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk {
            path: dir.path().to_path_buf(),
            _dir: dir,
        })
    }

    /// Writes a file until the disk refuses more.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![7u8; 64 * 1024];
        while f.write_all(&block).and_then(|_| f.sync_data()).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

both! {
    async fn an_unreachable_database_answers_503_with_retry_after_on_pages_and_the_api(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let token = crate::api::token_for(&app, &f).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        assert_eq!(b.get("/staff").await.status, 200);

        app.db.close().await;
        let page = b.get("/staff").await;
        assert_eq!(page.status, 503);
        assert_eq!(page.headers["retry-after"], "10");
        assert!(page.body.contains("briefly unavailable"), "{}", page.body);
        no_internals(&page.body);
        let signing_in = app.browser().login(&f.a.member_email, PASSWORD).await;
        assert_eq!(signing_in.status, 503);
        no_internals(&signing_in.body);
        let api = app.http().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(api.status(), 503);
        assert_eq!(api.headers()["retry-after"], "10");
        let body: serde_json::Value = api.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("briefly unavailable"));
        no_internals(&body.to_string());
    }

    async fn a_held_write_lock_keeps_pages_readable_and_asks_writers_to_retry(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let reader = app.browser();
        reader.login(&f.a.owner_email, PASSWORD).await;
        let holder = hold_write_lock(&app).await;
        // More writers than the pool has connections (8), all waiting for the lock.
        let writers: Vec<_> = (0..12)
            .map(|_| {
                let b = app.browser();
                let email = f.a.member_email.clone();
                tokio::spawn(async move { b.login(&email, PASSWORD).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        for _ in 0..3 {
            let page = reader.get("/staff").await;
            assert_eq!(page.status, 200, "a reader is served while writers wait: {}", page.body);
        }
        for w in writers {
            let p = w.await.unwrap();
            assert_eq!(p.status, 503, "{}", p.body);
            assert_eq!(p.headers["retry-after"], "10");
            no_internals(&p.body);
        }
        drop(holder);
        let after = app.browser().login(&f.a.member_email, PASSWORD).await;
        assert_eq!(after.status, 303, "writes go through again once the lock is gone");
    }

    async fn a_transaction_the_database_ended_itself_does_not_spoil_its_connection(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(backend, dir.path()).await;
        config.database.max_connections = Some(1);
        let db = portico::server::open_db(&config).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        // What SQLite does by itself when the disk fills up mid-transaction: the transaction
        // is gone, and the driver's own rollback afterwards fails.
        portico_db::on_tx!(&mut tx, c => sqlx::query("ROLLBACK").execute(&mut **c).await.map(|_| ())).unwrap();
        drop(tx);
        for _ in 0..3 {
            let tx = db.begin().await.expect("a fresh transaction on a clean connection");
            tx.commit().await.unwrap();
        }
        db.ping().await.unwrap();
        db.close().await;
    }

    async fn a_full_disk_refuses_writes_in_plain_words_keeps_reads_and_recovers_by_itself(backend: Backend) {
        let Some(disk) = SmallDisk::mount(16) else {
            eprintln!("NOTICE: full-disk test skipped: cannot mount a small tmpfs here (needs root)");
            return;
        };
        let root = disk.path.clone();
        let app = TestApp::start_with(backend, |c| {
            c.data = root.clone();
            c.storage.backend = "local".into();
            c.storage.path = Some(root.join("files"));
            if backend == Backend::Sqlite {
                c.database.url = Some(format!("sqlite://{}", root.join("portico.db").display()));
            }
        }).await;
        let f = Fixture::new(&app.db).await;
        let (client, _, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}/files", client.id);
        let action = format!("{page}/upload");
        let before = bytes(100_000, 1);
        assert_eq!(upload(&staff, &page, &action, &[("before.bin", before.clone())]).await.status, 303);
        let id = portico_db::files::for_client(&app.db, &f.a.owner, client.id, 1).await.unwrap()[0].id;

        let filler = disk.fill();
        let refused = upload(&staff, &page, &action, &[("after.bin", bytes(300_000, 2))]).await;
        assert_eq!(refused.status, 507, "{}", refused.body);
        assert!(refused.body.contains("run out of space"), "{}", refused.body);
        no_internals(&refused.body);
        // Reads and downloads go on.
        let list = staff.get(&page).await;
        assert_eq!(list.status, 200);
        assert!(list.body.contains("before.bin") && !list.body.contains("after.bin"));
        assert_eq!(fetch(&staff, id).await, (200, before.clone()));
        // Other writes may fit in space the database already holds; none fails with a 500.
        for _ in 0..5 {
            let p = app.browser().login(&f.a.owner_email, PASSWORD).await;
            assert!(matches!(p.status.as_u16(), 303 | 503), "{} {}", p.status, p.body);
            no_internals(&p.body);
        }

        // Space freed: the same server takes writes again, without a restart.
        std::fs::remove_file(filler).unwrap();
        for n in 0..3 {
            let p = app.browser().login(&f.a.owner_email, PASSWORD).await;
            assert_eq!(p.status, 303, "sign-in {n} after space was freed: {}", p.body);
        }
        assert_eq!(upload(&staff, &page, &action, &[("after.bin", bytes(300_000, 2))]).await.status, 303);
        assert!(staff.get(&page).await.body.contains("after.bin"));
        app.stop().await;
    }

    async fn a_download_whose_stored_copy_is_missing_or_damaged_is_refused_before_any_byte(backend: Backend) {
        for sealed in [false, true] {
            let app = TestApp::start_with(backend, |c| {
                if sealed {
                    c.storage.encryption_key = Some(crate::encryption::KEY.into());
                }
            }).await;
            let f = Fixture::new(&app.db).await;
            let (client, _, _) = &f.a.clients[0];
            let staff = app.browser();
            staff.login(&f.a.member_email, PASSWORD).await;
            let page = format!("/staff/clients/{}/files", client.id);
            let content = bytes(200_000, 3);
            for name in ["cut.bin", "gone.bin", "scrambled.bin"] {
                assert_eq!(upload(&staff, &page, &format!("{page}/upload"), &[(name, content.clone())]).await.status, 303);
            }
            let listed = portico_db::files::for_client(&app.db, &f.a.owner, client.id, 10).await.unwrap();
            let key_of = async |name: &str| {
                let id = listed.iter().find(|l| l.name == name).unwrap().id;
                (id, portico_db::files::get(&app.db, &f.a.owner, id).await.unwrap().storage_key)
            };
            let (cut, key) = key_of("cut.bin").await;
            app.storage.put_bytes(&key, bytes::Bytes::from(vec![1u8; 1000])).await.unwrap();
            let (gone, key) = key_of("gone.bin").await;
            app.storage.delete(&key).await.unwrap();
            let (scrambled, key) = key_of("scrambled.bin").await;
            let len = if sealed { portico_storage::crypt::sealed_size(200_000) } else { 200_000 };
            app.storage.put_bytes(&key, bytes::Bytes::from(vec![9u8; len as usize])).await.unwrap();

            for (id, damaged) in [(cut, true), (gone, true), (scrambled, sealed)] {
                let res = staff.with_cookie(staff.raw().get(staff.url(&format!("/files/{id}")))).send().await.unwrap();
                if !damaged {
                    // Plain bytes of the right size cannot be told from the real ones here.
                    assert_eq!(res.status(), 200);
                    continue;
                }
                assert_eq!(res.status(), 500, "sealed: {sealed}");
                assert!(res.headers().get("content-disposition").is_none());
                let body = res.text().await.unwrap();
                assert!(body.contains("stored copy is missing or damaged"), "{body}");
                no_internals(&body);
            }
            app.stop().await;
        }
    }
}
