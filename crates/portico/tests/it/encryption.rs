//! Encryption at rest: with a master key configured, stored bytes are sealed (on local disk and
//! on S3), downloads and byte ranges come back identical, and the virus scanner still sees the
//! real content.

use std::time::Duration;

use futures_util::StreamExt;

use crate::both;
use crate::files::upload;
use crate::support::clamd::{Clamd, EICAR, EICAR_NAME, free_port};
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

pub(crate) const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

async fn raw(app: &TestApp, key: &str) -> Vec<u8> {
    let (_, mut s) = app.storage.get_stream(key, None).await.unwrap();
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b.unwrap());
    }
    out
}

both! {
    async fn sealed_files_read_back_whole_and_in_ranges_on_disk_and_on_s3(backend: Backend) {
        let s3 = crate::support::s3::start().await;
        for on_s3 in [false, true] {
            let disk = tempfile::tempdir().unwrap();
            let app = TestApp::start_with(backend, |c| {
                c.storage.encryption_key = Some(KEY.into());
                if on_s3 {
                    s3.use_for(&mut c.storage);
                } else {
                    c.storage.backend = "local".into();
                    c.storage.path = Some(disk.path().to_path_buf());
                }
            }).await;
            let f = Fixture::new(&app.db).await;
            let (client, _, _) = &f.a.clients[0];
            let staff = app.browser();
            staff.login(&f.a.member_email, PASSWORD).await;
            let mut plain: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
            plain.extend_from_slice(b"CONFIDENTIAL-MARKER");
            let page = format!("/staff/clients/{}/files", client.id);
            assert_eq!(upload(&staff, &page, &format!("{page}/upload"), &[("ledger.bin", plain.clone())]).await.status, 303);
            let file = portico_db::files::for_client(&app.db, &f.a.owner, client.id, 1).await.unwrap().remove(0);
            let stored = portico_db::files::get(&app.db, &f.a.owner, file.id).await.unwrap();
            assert!(!stored.key_wrapped.is_empty());
            assert_eq!(stored.sha256.len(), 64);
            let object = raw(&app, &stored.storage_key).await;
            assert_eq!(object.len() as u64, portico_storage::crypt::sealed_size(plain.len() as u64));
            assert!(!object.windows(19).any(|w| w == b"CONFIDENTIAL-MARKER"), "the stored bytes are sealed");

            let whole = staff.raw().get(staff.url(&format!("/files/{}", file.id)));
            let res = staff.with_cookie(whole).send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.bytes().await.unwrap().to_vec(), plain);
            let n = plain.len();
            for (header, from, to) in [
                ("bytes=70000-140000".to_string(), 70_000, 140_001),
                ("bytes=0-0".to_string(), 0, 1),
                (format!("bytes={}-", n - 19), n - 19, n),
                ("bytes=-5".to_string(), n - 5, n),
                ("bytes=65535-65536".to_string(), 65_535, 65_537),
            ] {
                let req = staff.with_cookie(staff.raw().get(staff.url(&format!("/files/{}", file.id)))).header("range", &header);
                let res = req.send().await.unwrap();
                assert_eq!(res.status(), 206, "{header}");
                assert_eq!(res.bytes().await.unwrap().to_vec(), plain[from..to], "{header}");
            }
            app.stop().await;
        }
    }

    async fn the_scanner_sees_the_content_of_sealed_files(backend: Backend) {
        let port = free_port();
        let Some(_clamd) = Clamd::start(port).await else { return };
        let app = TestApp::start_with(backend, |c| {
            c.storage.encryption_key = Some(KEY.into());
            c.storage.clamd = Some(format!("127.0.0.1:{port}"));
        }).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let person = app.browser();
        person.login(email, PASSWORD).await;
        assert_eq!(upload(&person, "/portal/files", "/portal/files/upload", &[("eicar.com", EICAR.to_vec())]).await.status, 303);
        for _ in 0..300 {
            let list = portico_db::files::for_client(&app.db, &f.a.owner, client.id, 5).await.unwrap();
            if list[0].scan_status.as_str() != "pending" {
                assert_eq!(list[0].scan_status.as_str(), "infected");
                assert_eq!(list[0].scan_verdict, EICAR_NAME);
                app.stop().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the sealed file was not scanned");
    }
}
