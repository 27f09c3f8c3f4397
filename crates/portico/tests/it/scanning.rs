//! Virus scanning through a real clamd: new files wait for the scanner and are served only
//! once clean; infected ones are quarantined and both sides see the verdict; while the scanner
//! is down files stay pending, never served unscanned.

use std::time::Duration;

use crate::both;
use crate::files::upload;
use crate::support::clamd::{Clamd, EICAR, EICAR_NAME, free_port};
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

/// Waits (up to 30 s) until no file of the client is waiting for the scanner.
async fn scanned(
    app: &TestApp,
    owner: &portico_core::Viewer,
    client: uuid::Uuid,
) -> Vec<portico_db::files::Listed> {
    for _ in 0..300 {
        let list = portico_db::files::for_client(&app.db, owner, client, 50)
            .await
            .unwrap();
        if list.iter().all(|f| f.scan_status.as_str() != "pending") {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("files still pending after 30 s");
}

both! {
    async fn infected_uploads_are_quarantined_and_clean_ones_served(backend: Backend) {
        let port = free_port();
        let Some(_clamd) = Clamd::start(port).await else { return };
        let app = TestApp::start_with(backend, |c| c.storage.clamd = Some(format!("127.0.0.1:{port}"))).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let sent = upload(&person, "/portal/files", "/portal/files/upload", &[("notes.txt", b"plain notes".to_vec()), ("invoice.pdf.exe", EICAR.to_vec())]).await;
        assert_eq!(sent.status, 303, "{}", sent.body);

        let list = scanned(&app, &f.a.owner, client.id).await;
        let clean = list.iter().find(|x| x.name == "notes.txt").unwrap();
        let bad = list.iter().find(|x| x.name == "invoice.pdf.exe").unwrap();
        assert_eq!(clean.scan_status.as_str(), "clean");
        assert_eq!(bad.scan_status.as_str(), "infected");
        assert_eq!(bad.scan_verdict, EICAR_NAME);
        assert_eq!(person.get(&format!("/files/{}", clean.id)).await.body, "plain notes");
        let refused = person.get(&format!("/files/{}", bad.id)).await;
        assert_eq!(refused.status, 409);
        assert!(refused.body.contains("quarantined") && refused.body.contains(EICAR_NAME));

        // Both sides see the verdict; staff are told; the audit log has it.
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = staff.get(&format!("/staff/clients/{}/files", client.id)).await.body;
        assert!(page.contains(&format!("quarantined: {EICAR_NAME} found")), "{page}");
        assert!(person.get("/portal/files").await.body.contains(&format!("quarantined: {EICAR_NAME} found")));
        assert_eq!(staff.get(&format!("/files/{}", bad.id)).await.status, 409);
        assert!(staff.get("/notifications").await.body.contains("A file was quarantined by the virus scanner"));
        let events = portico_db::audit::recent_for_firm(&app.db, &f.a.owner, 50).await.unwrap();
        assert!(events.iter().any(|e| e.action == "file.scan" && e.detail == format!("infected: {EICAR_NAME}")));
        app.stop().await;
    }

    async fn while_the_scanner_is_down_files_wait_and_are_never_served(backend: Backend) {
        if !crate::support::clamd::installed() {
            return;
        }
        let port = free_port();
        let app = TestApp::start_with(backend, |c| c.storage.clamd = Some(format!("127.0.0.1:{port}"))).await;
        let f = Fixture::new(&app.db).await;
        let (client, _, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let files_page = format!("/staff/clients/{}/files", client.id);
        let sent = upload(&staff, &files_page, &format!("{files_page}/upload"), &[("letter.txt", b"Dear client".to_vec())]).await;
        assert_eq!(sent.status, 303);
        // The worker tries and fails for a while: the file stays pending and is not served.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let list = portico_db::files::for_client(&app.db, &f.a.owner, client.id, 10).await.unwrap();
        assert_eq!(list[0].scan_status.as_str(), "pending");
        let refused = staff.get(&format!("/files/{}", list[0].id)).await;
        assert_eq!(refused.status, 409);
        assert!(refused.body.contains("being checked for viruses"));
        assert!(staff.get(&files_page).await.body.contains("being checked for viruses"));
        let jobs = portico_db::system::jobs::with_status(&app.db, "pending", 10).await.unwrap();
        assert!(jobs.iter().any(|j| j.kind == "scan" && j.attempts >= 1 && j.last_error.contains("scanner")), "{jobs:?}");

        // The scanner comes back: the retry scans it and it is served.
        let Some(_clamd) = Clamd::start(port).await else { return };
        let list = scanned(&app, &f.a.owner, client.id).await;
        assert_eq!(list[0].scan_status.as_str(), "clean");
        assert_eq!(staff.get(&format!("/files/{}", list[0].id)).await.body, "Dear client");
        app.stop().await;
    }
}
