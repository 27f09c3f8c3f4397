//! Backups: an operator backs up a working portal while people keep writing, loses everything,
//! restores into a new database and storage, and the client finds their messages and files
//! byte for byte; damaged, cut-short or foreign archives, a wrong master key, a used target
//! and a newer schema are refused with one sentence.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use portico::Config;
use portico::backup;

use crate::both;
use crate::encryption::KEY;
use crate::files::{bytes, fetch, upload};
use crate::support::fixture::PASSWORD;
use crate::support::s3::{self, S3Server};
use crate::support::{Backend, Fixture, TestApp, pg};

const OTHER_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

/// Where a portal keeps its data: SQLite with files on local disk, or PostgreSQL with files on
/// S3 (the harness's in-process server).
struct Place {
    dir: tempfile::TempDir,
    s3: Option<S3Server>,
    url: String,
}

impl Place {
    async fn new(backend: Backend) -> Place {
        let dir = tempfile::tempdir().unwrap();
        let (s3, url) = match backend {
            Backend::Sqlite => (
                None,
                format!("sqlite://{}", dir.path().join("portico.db").display()),
            ),
            Backend::Postgres => (Some(s3::start().await), pg::fresh_database().await),
        };
        Place { dir, s3, url }
    }

    fn apply(&self, c: &mut Config, key: Option<&str>) {
        c.data = self.dir.path().to_path_buf();
        c.database.url = Some(self.url.clone());
        match &self.s3 {
            Some(s3) => s3.use_for(&mut c.storage),
            None => {
                c.storage.backend = "local".into();
                c.storage.path = Some(self.dir.path().join("files"));
            }
        }
        c.storage.encryption_key = key.map(str::to_string);
    }

    async fn config(&self, backend: Backend, key: Option<&str>) -> Config {
        let mut c = crate::support::app::test_config(backend, self.dir.path()).await;
        self.apply(&mut c, key);
        c
    }
}

/// A portal with a conversation and a shared file for the first client of firm A; returns
/// the client's email, the file's id and bytes.
async fn seed(app: &TestApp, f: &Fixture) -> (String, uuid::Uuid, Vec<u8>) {
    let (c1, email, _) = &f.a.clients[0];
    let staff = app.browser();
    staff.login(&f.a.member_email, PASSWORD).await;
    let new = format!("/staff/clients/{}/messages/new", c1.id);
    let started = staff
        .submit(
            &new,
            &format!("/staff/clients/{}/messages", c1.id),
            &[
                ("title", "Visa documents"),
                ("body", "Please send your passport scan."),
            ],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let page = format!("/staff/clients/{}/files", c1.id);
    let letter = bytes(700_000, 7);
    assert_eq!(
        upload(
            &staff,
            &page,
            &format!("{page}/upload"),
            &[("letter.pdf", letter.clone())]
        )
        .await
        .status,
        303
    );
    let file = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10)
        .await
        .unwrap()
        .remove(0);
    let csrf = staff.get(&page).await.csrf();
    let shared = staff
        .post(
            &format!("{page}/share"),
            &[
                ("csrf", csrf.as_str()),
                ("action", "share"),
                ("file", &file.id.to_string()),
            ],
        )
        .await;
    assert_eq!(shared.status, 303);
    (email.clone(), file.id, letter)
}

fn archive_in(dir: &Path) -> PathBuf {
    dir.join("nightly.tar")
}

both! {
    async fn an_operator_backs_up_under_load_loses_everything_restores_and_the_client_finds_it_all(backend: Backend) {
        let old = Place::new(backend).await;
        let app = TestApp::start_with(backend, |c| old.apply(c, Some(KEY))).await;
        let f = Fixture::new(&app.db).await;
        let (email, file_id, letter) = seed(&app, &f).await;

        // People keep writing while the backup runs: replies and new files.
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let client = app.browser();
        client.login(&email, PASSWORD).await;
        let load = {
            let (stop, written, client) = (stop.clone(), written.clone(), client);
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) || n < 3 {
                    n += 1;
                    let up = upload(&client, "/portal/files", "/portal/files/upload", &[(&format!("scan {n}.bin"), bytes(40_000, n as u8))]).await;
                    assert_eq!(up.status, 303);
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        while written.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let out = tempfile::tempdir().unwrap();
        let archive = archive_in(out.path());
        let w = backup::backup(&app.config, &archive).await.expect("backup");
        stop.store(true, Ordering::Relaxed);
        load.await.unwrap();
        assert!(archive.is_file());
        assert!(w.manifest.objects >= 2, "the letter and at least one scan: {}", w.manifest.objects);
        assert_eq!(w.manifest.backend, app.db.backend());
        assert!(w.manifest.master_key_fingerprint.is_some());
        let in_backup = w.manifest.tables["files"];
        // Nothing of the master key is in the archive.
        let raw = std::fs::read(&archive).unwrap();
        assert!(!raw.windows(KEY.len()).any(|x| x == KEY.as_bytes()));
        let key = portico_storage::crypt::MasterKey::parse(KEY).unwrap();
        let key_bytes = base64_decode(KEY);
        assert!(!raw.windows(32).any(|x| x == key_bytes.as_slice()));
        assert_eq!(w.manifest.master_key_fingerprint.as_deref(), Some(key.fingerprint().as_str()));
        let checked = backup::verify(&archive).await.expect("verify");
        assert_eq!(checked.entries, w.manifest.entries);
        app.stop().await;

        // Everything is lost; a new, empty database and storage are set up.
        drop(old);
        let new = Place::new(backend).await;
        let config = new.config(backend, Some(KEY)).await;
        let restored = backup::restore(&config, &archive).await.expect("restore");
        assert_eq!(restored.manifest.tables["files"], in_backup);

        let app = TestApp::start_with(backend, |c| new.apply(c, Some(KEY))).await;
        let person = app.browser();
        assert_eq!(person.login(&email, PASSWORD).await.status, 303);
        let list = person.get("/portal/messages").await.body;
        assert!(list.contains("Visa documents"), "{list}");
        let files = person.get("/portal/files").await.body;
        assert!(files.contains("letter.pdf"));
        assert_eq!(fetch(&person, file_id).await, (200, letter));
        // The files written during the backup that it caught come back whole as well.
        let owner = &f.a.owner;
        let all = portico_db::files::for_client(&app.db, owner, f.a.clients[0].0.id, 1000).await.unwrap();
        assert_eq!(all.len() as i64, in_backup);
        for file in all.iter().filter(|x| x.name.starts_with("scan ")) {
            let n: u8 = file.name[5..file.name.len() - 4].parse().unwrap();
            assert_eq!(fetch(&person, file.id).await, (200, bytes(40_000, n)), "{}", file.name);
        }
        // Staff go on working on the restored portal.
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}/files", f.a.clients[0].0.id);
        assert_eq!(upload(&staff, &page, &format!("{page}/upload"), &[("after.txt", b"after".to_vec())]).await.status, 303);
        let audit = portico_db::audit::verify(&app.db).await.unwrap();
        assert_eq!(audit.first_broken, None, "the audit chain survives the restore");
        app.stop().await;
    }

    async fn restore_refuses_damaged_or_cut_archives_a_wrong_key_a_used_target_and_a_newer_schema(backend: Backend) {
        let old = Place::new(backend).await;
        let app = TestApp::start_with(backend, |c| old.apply(c, Some(KEY))).await;
        let f = Fixture::new(&app.db).await;
        seed(&app, &f).await;
        let out = tempfile::tempdir().unwrap();
        let archive = archive_in(out.path());
        backup::backup(&app.config, &archive).await.expect("backup");
        let again = backup::backup(&app.config, &archive).await.err().expect("an archive is never overwritten");
        assert!(again.0.contains("exists already"), "{again}");

        // Onto the portal's own database and storage: refused, nothing touched.
        let used = backup::restore(&app.config, &archive).await.err().expect("a used target");
        assert!(used.0.contains("exists already") || used.0.contains("has tables already"), "{used}");

        // A changed byte inside a stored file.
        let damaged = out.path().join("damaged.tar");
        let mut raw = std::fs::read(&archive).unwrap();
        let at = object_offset(&archive);
        raw[at + 100] ^= 0x55;
        std::fs::write(&damaged, &raw).unwrap();
        let e = backup::verify(&damaged).await.expect_err("damaged");
        assert!(e.0.contains("is damaged") && e.0.contains("objects/"), "{e}");
        let new = Place::new(backend).await;
        let config = new.config(backend, Some(KEY)).await;
        let e = backup::restore(&config, &damaged).await.err().expect("damaged");
        assert!(e.0.contains("is damaged"), "{e}");

        // Cut short at several points.
        let whole = std::fs::read(&archive).unwrap();
        for cut in [whole.len() / 3, whole.len() - 1500, 700] {
            let short = out.path().join(format!("short-{cut}.tar"));
            std::fs::write(&short, &whole[..cut]).unwrap();
            let e = backup::verify(&short).await.expect_err("cut short");
            assert!(e.0.contains("cut short"), "{cut}: {e}");
        }
        // Not an archive at all.
        let junk = out.path().join("junk.tar");
        std::fs::write(&junk, b"hello, this is not a backup").unwrap();
        assert!(backup::verify(&junk).await.is_err());

        // A stray entry smuggled in beside the listed ones.
        let stray = out.path().join("stray.tar");
        rewrite(&archive, &stray, |m| m, Some(("objects/firms/evil", b"x".as_slice())));
        let e = backup::verify(&stray).await.expect_err("stray");
        assert!(e.0.contains("does not list"), "{e}");

        // The master key: missing, or another one.
        let e = backup::restore(&new.config(backend, None).await, &archive).await.err().expect("no key");
        assert!(e.0.contains("set the same storage.encryption_key"), "{e}");
        let e = backup::restore(&new.config(backend, Some(OTHER_KEY)).await, &archive).await.err().expect("wrong key");
        assert!(e.0.contains("is not the one this backup was taken with"), "{e}");

        // A backup of a newer schema than this program knows.
        let newer = out.path().join("newer.tar");
        rewrite(&archive, &newer, |mut m| { m.schema_version = 9_999; m }, None);
        backup::verify(&newer).await.expect("the archive itself is whole");
        let e = backup::restore(&config, &newer).await.err().expect("newer schema");
        assert!(e.0.contains("newer than this Portico knows"), "{e}");

        // After every refusal the new place is still empty, and the whole archive restores.
        let restored = backup::restore(&config, &archive).await.expect("restore");
        assert!(restored.manifest.objects >= 1);
        app.stop().await;
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Where the bytes of the first object start in an archive.
fn object_offset(archive: &Path) -> usize {
    let mut tar = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for entry in tar.entries().unwrap() {
        let entry = entry.unwrap();
        let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        if path.starts_with("objects/") && entry.size() > 1000 {
            return entry.raw_file_position() as usize;
        }
    }
    panic!("no object in the archive");
}

/// Copies an archive with its manifest changed by `change`, and maybe one entry added before
/// the manifest.
fn rewrite(
    from: &Path,
    to: &Path,
    change: impl FnOnce(backup::Manifest) -> backup::Manifest,
    extra: Option<(&str, &[u8])>,
) {
    let mut tar = tar::Archive::new(std::fs::File::open(from).unwrap());
    let mut out = tar::Builder::new(std::fs::File::create(to).unwrap());
    let mut manifest = None;
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut body).unwrap();
        if path == "manifest.json" {
            manifest = Some(serde_json::from_slice::<backup::Manifest>(&body).unwrap());
        } else {
            append(&mut out, &path, &body);
        }
    }
    if let Some((path, body)) = extra {
        append(&mut out, path, body);
    }
    let m = change(manifest.unwrap());
    append(&mut out, "manifest.json", &serde_json::to_vec(&m).unwrap());
    out.finish().unwrap();
}

fn append(out: &mut tar::Builder<std::fs::File>, path: &str, body: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o600);
    out.append_data(&mut header, path, body).unwrap();
}
