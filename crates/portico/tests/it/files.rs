//! Files: staff and clients upload, the firm shares and stops sharing, clients mark as read,
//! downloads come back byte for byte as attachments with ranges; nothing crosses clients.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

/// Uploads files through a page's form: the token first, then each (name, bytes).
pub(crate) async fn upload(
    b: &Browser,
    page: &str,
    action: &str,
    files: &[(&str, Vec<u8>)],
) -> crate::support::browser::Page {
    upload_into(b, page, action, "", files).await
}

/// Uploads files into a folder (empty: the top level) through a page's form: the token, the
/// folder, then each (name, bytes), as the page sends them.
pub(crate) async fn upload_into(
    b: &Browser,
    page: &str,
    action: &str,
    folder: &str,
    files: &[(&str, Vec<u8>)],
) -> crate::support::browser::Page {
    let csrf = b.get(page).await.csrf();
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("folder", folder.to_string());
    for (name, bytes) in files {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
        );
    }
    b.send(
        b.raw()
            .post(b.url(action))
            .header("origin", b.url(""))
            .multipart(form),
    )
    .await
}

async fn download(b: &Browser, id: uuid::Uuid, range: Option<&str>) -> reqwest::Response {
    let mut req = b.with_cookie(b.raw().get(b.url(&format!("/files/{id}"))));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.unwrap()
}

/// A file's status and bytes, fetched by a signed-in browser.
pub(crate) async fn fetch(b: &Browser, id: uuid::Uuid) -> (u16, Vec<u8>) {
    let res = download(b, id, None).await;
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

/// Bytes that differ from one offset to the next, for checking files come back whole.
pub(crate) fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

both! {
    async fn staff_share_files_the_client_reads_them_and_sends_their_own(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}/files", c1.id);
        let (letter, contract) = (bytes(300_000, 1), b"%PDF-1.7 contract".to_vec());
        let up = upload(&staff, &page, &format!("/staff/clients/{}/files/upload", c1.id), &[("letter.txt", letter.clone()), ("Vertrag – Entwurf.pdf", contract.clone())]).await;
        assert_eq!(up.status, 303);
        let listed = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap();
        assert_eq!(listed.len(), 2);
        let id_of = |name: &str| listed.iter().find(|l| l.name == name).unwrap().id;
        let (letter_id, contract_id) = (id_of("letter.txt"), id_of("Vertrag – Entwurf.pdf"));
        assert_eq!(listed.iter().find(|l| l.id == contract_id).unwrap().content_type, "application/pdf");

        // Not shared yet: the client sees nothing and cannot fetch it.
        let client = app.browser();
        client.login(email, PASSWORD).await;
        assert!(client.get("/portal/files").await.body.contains("No files yet."));
        assert_eq!(download(&client, letter_id, None).await.status(), 404);

        // Shared: listed, on the dashboard, and byte-identical.
        let csrf = staff.get(&page).await.csrf();
        let shared = staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "share"), ("file", &letter_id.to_string()), ("file", &contract_id.to_string())]).await;
        assert_eq!(shared.status, 303);
        let list = client.get("/portal/files").await.body;
        assert!(list.contains("letter.txt") && list.contains("Vertrag – Entwurf.pdf") && list.contains("Mark as read"));
        let home = client.get("/portal").await.body;
        assert!(home.contains("new from the firm") && home.contains(&format!("/files/{letter_id}")));
        assert!(home.contains("2 new"), "what waits for the client is counted");
        let res = download(&client, letter_id, None).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/octet-stream");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
        assert!(res.headers().get("content-encoding").is_none());
        assert_eq!(res.bytes().await.unwrap().to_vec(), letter);
        let res = download(&client, contract_id, None).await;
        let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''Vertrag%20%E2%80%93%20Entwurf.pdf"), "{disposition}");
        assert_eq!(res.bytes().await.unwrap().to_vec(), contract);

        // Ranges: a slice, the tail, and one past the end.
        let res = download(&client, letter_id, Some("bytes=1000-1999")).await;
        assert_eq!(res.status(), 206);
        assert_eq!(res.headers()["content-range"], "bytes 1000-1999/300000");
        assert_eq!(res.bytes().await.unwrap().to_vec(), letter[1000..2000].to_vec());
        let res = download(&client, letter_id, Some("bytes=-10")).await;
        assert_eq!(res.bytes().await.unwrap().to_vec(), letter[299_990..].to_vec());
        let res = download(&client, letter_id, Some("bytes=300000-")).await;
        assert_eq!(res.status(), 416);
        assert_eq!(res.headers()["content-range"], "bytes */300000");

        // Mark as read: the firm sees it as complete.
        let csrf = client.get("/portal/files").await.csrf();
        assert_eq!(client.post(&format!("/portal/files/{letter_id}/read"), &[("csrf", csrf.as_str())]).await.status, 303);
        assert!(staff.get(&page).await.body.contains("Complete"));
        assert!(client.get("/portal").await.body.contains("1 new"));

        // The client sends a file: staff see it at once.
        let mine = bytes(5_000, 9);
        let sent = upload(&client, "/portal/files", "/portal/files/upload", &[("passport scan.png", mine.clone())]).await;
        assert_eq!(sent.status, 303);
        let staff_list = staff.get(&page).await.body;
        assert!(staff_list.contains("passport scan.png") && staff_list.contains("uploaded by the client"));
        let theirs = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap().into_iter().find(|l| l.name == "passport scan.png").unwrap();
        assert_eq!(download(&staff, theirs.id, None).await.bytes().await.unwrap().to_vec(), mine);
        // Staff opening it shows in the client's access log.
        assert!(client.get("/portal/access-log").await.body.contains("passport scan.png"));

        // Stop sharing: gone on the next request, for the page and the download.
        let csrf = staff.get(&page).await.csrf();
        let stopped = staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "unshare"), ("file", &contract_id.to_string())]).await;
        assert_eq!(stopped.status, 303);
        assert!(!client.get("/portal/files").await.body.contains("Entwurf"));
        assert_eq!(download(&client, contract_id, None).await.status(), 404);
        assert_eq!(download(&client, contract_id, Some("bytes=0-1")).await.status(), 404);
        // The client's portal closing takes everything away too.
        portico_db::clients::set_portal_open(&app.db, &f.a.owner, c1.id, false, &portico_db::audit::Origin::system("test")).await.unwrap();
        assert_eq!(download(&client, letter_id, None).await.status(), 403);
        app.stop().await;
    }

    async fn files_never_cross_clients_and_hostile_uploads_are_tamed(backend: Backend) {
        let app = TestApp::start_with(backend, |c| c.storage.max_file_bytes = 1024 * 1024).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email1, _) = &f.a.clients[0];
        let (c2, email2, _) = &f.a.clients[1];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}/files", c1.id);
        let action = format!("/staff/clients/{}/files/upload", c1.id);
        let html = b"<html><script>alert(document.cookie)</script></html>".to_vec();
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec();
        let names = [("../../etc/passwd", b"x".to_vec()), ("in\tvoice\u{202E}fdp.exe", b"y".to_vec()), ("page.html", html.clone()), ("image.svg", svg)];
        assert_eq!(upload(&staff, &page, &action, &names).await.status, 303);
        let listed = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap();
        let mut got: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
        got.sort();
        assert_eq!(got, vec!["image.svg", "invoicefdp.exe", "page.html", "passwd"]);
        let page_file = listed.iter().find(|l| l.name == "page.html").unwrap();
        assert_eq!(page_file.content_type, "application/octet-stream");
        let res = download(&staff, page_file.id, None).await;
        assert_eq!(res.headers()["content-type"], "application/octet-stream");
        assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        // "Preview" shows pictures and PDFs only, by their bytes: never HTML or SVG, whatever
        // the name says.
        for name in ["page.html", "image.svg", "invoicefdp.exe"] {
            let id = listed.iter().find(|l| l.name == name).unwrap().id;
            let p = staff.get(&format!("/files/{id}/preview")).await;
            assert_eq!(p.status, 415, "{name}");
            assert!(p.body.contains("Only pictures and PDFs"));
        }
        let png = b"\x89PNG\r\n\x1a\n fake but sniffed".to_vec();
        let pdf = b"%PDF-1.4 a letter".to_vec();
        assert_eq!(upload(&staff, &page, &action, &[("photo.html", png.clone()), ("letter.pdf", pdf)]).await.status, 303);
        let listed2 = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap();
        let photo = listed2.iter().find(|l| l.name == "photo.html").unwrap().id;
        let letter = listed2.iter().find(|l| l.name == "letter.pdf").unwrap().id;
        let shown = staff.get(&format!("/files/{photo}/preview")).await;
        assert_eq!(shown.status, 200);
        assert_eq!(shown.headers["content-type"], "image/png");
        assert!(shown.headers["content-disposition"].to_str().unwrap().starts_with("inline;"));
        assert_eq!(shown.headers["content-security-policy"], "default-src 'none'; sandbox");
        assert_eq!(shown.headers["x-content-type-options"], "nosniff");
        assert_eq!(staff.get(&format!("/files/{letter}/preview")).await.headers["content-type"], "application/pdf");
        assert!(staff.get(&page).await.body.contains(&format!("/files/{letter}/preview")));

        // Another client of the same firm, and another firm: nothing of client 1 is reachable.
        let ids: Vec<String> = listed.iter().map(|l| l.id.to_string()).collect();
        let csrf = staff.get(&page).await.csrf();
        staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "share"), ("file", ids[0].as_str())]).await;
        let other = app.browser();
        other.login(email2, PASSWORD).await;
        assert_eq!(download(&other, listed[0].id, None).await.status(), 404);
        assert_eq!(download(&other, listed[0].id, Some("bytes=0-0")).await.status(), 404);
        assert_eq!(other.get(&format!("/files/{photo}/preview")).await.status, 404);
        let csrf = other.get("/portal/files").await.csrf();
        assert_eq!(other.post(&format!("/portal/files/{}/read", listed[0].id), &[("csrf", csrf.as_str())]).await.status, 404);
        // Sharing client 1's file with client 2 through client 2's page is refused.
        let csrf = staff.get(&page).await.csrf();
        let cross = staff.post(&format!("/staff/clients/{}/files/share", c2.id), &[("csrf", csrf.as_str()), ("action", "share"), ("file", ids[0].as_str())]).await;
        assert_eq!(cross.status, 404);
        assert!(!other.get("/portal/files").await.body.contains("passwd"));
        // Nor with a matter of another client from this client's page.
        let c2_matter = f.a.clients[1].2[0].id.to_string();
        let csrf = staff.get(&page).await.csrf();
        let cross = staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "share"), ("audience", c2_matter.as_str()), ("file", ids[1].as_str())]).await;
        assert_eq!(cross.status, 404);
        assert!(!other.get("/portal/files").await.body.contains("invoicefdp.exe"));
        // Shared with one of its own matters: seen while that matter's portal is open.
        let m1 = &f.a.clients[0].2[0];
        let ok = staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "share"), ("audience", &m1.id.to_string()), ("file", ids[1].as_str())]).await;
        assert_eq!(ok.status, 303);
        let c1_view = app.browser();
        c1_view.login(email1, PASSWORD).await;
        let shared_name = listed[1].name.clone();
        assert!(c1_view.get("/portal/files").await.body.contains(&shared_name));
        let origin = portico_db::audit::Origin::system("test");
        portico_db::matters::set_portal_open(&app.db, &f.a.owner, m1.id, false, &origin).await.unwrap();
        assert!(!c1_view.get("/portal/files").await.body.contains(&shared_name));
        assert_eq!(download(&c1_view, listed[1].id, None).await.status(), 404);
        portico_db::matters::set_portal_open(&app.db, &f.a.owner, m1.id, true, &origin).await.unwrap();
        assert_eq!(download(&c1_view, listed[1].id, None).await.status(), 200);
        let b_staff = app.browser();
        b_staff.login(&f.b.owner_email, PASSWORD).await;
        assert_eq!(download(&b_staff, listed[0].id, None).await.status(), 404);
        assert_eq!(b_staff.get(&page).await.status, 404);
        let up = upload(&b_staff, "/staff", &action, &[("x.txt", b"x".to_vec())]).await;
        assert_eq!(up.status, 404);
        // A client cannot upload into another client, or use the staff route.
        let c1_browser = app.browser();
        c1_browser.login(email1, PASSWORD).await;
        let up = upload(&c1_browser, "/portal/files", &format!("/staff/clients/{}/files/upload", c2.id), &[("x.txt", b"x".to_vec())]).await;
        assert_eq!(up.status, 404);

        // Over the limit: 413, and neither a row nor stored bytes remain.
        let before = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 50).await.unwrap().len();
        let objects_before = app.storage.list("").await.unwrap().len();
        let csrf = staff.get(&page).await.csrf();
        let res = crate::support::send_oversized(|| {
            let form = reqwest::multipart::Form::new().text("csrf", csrf.clone())
                .part("file", reqwest::multipart::Part::bytes(vec![7u8; 2 * 1024 * 1024]).file_name("big.bin"));
            staff.with_cookie(staff.raw().post(staff.url(&action))).header("origin", staff.url("")).multipart(form)
        }).await;
        assert_eq!(res.status(), 413);
        assert_eq!(portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 50).await.unwrap().len(), before);
        assert_eq!(app.storage.list("").await.unwrap().len(), objects_before);

        // No token, or the token after the file: nothing is stored.
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"));
        let res = staff.send(staff.raw().post(staff.url(&action)).header("origin", staff.url("")).multipart(form)).await;
        assert_eq!(res.status, 403);
        let csrf = staff.get(&page).await.csrf();
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt")).text("csrf", csrf);
        let res = staff.send(staff.raw().post(staff.url(&action)).header("origin", staff.url("")).multipart(form)).await;
        assert_eq!(res.status, 403);
        assert_eq!(app.storage.list("").await.unwrap().len(), objects_before);
        // A plain form, or an empty selection: a clear message.
        let csrf = staff.get(&page).await.csrf();
        assert_eq!(staff.post(&action, &[("csrf", csrf.as_str())]).await.status, 422);
        assert_eq!(staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "share")]).await.status, 422);
        app.stop().await;
    }

    async fn a_firm_over_its_storage_quota_keeps_no_more_files(backend: Backend) {
        let app = TestApp::start_with(backend, |c| c.storage.firm_quota_bytes = Some(1024 * 1024)).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let client = &f.a.clients[0].0;
        let page = format!("/staff/clients/{}/files", client.id);
        let action = format!("{page}/upload");
        assert_eq!(upload(&staff, &page, &action, &[("first.bin", bytes(700 * 1024, 1))]).await.status, 303);
        let objects = app.storage.list("").await.unwrap().len();
        // The second would pass the per-file limit but not the firm's quota: refused while
        // streaming, nothing kept.
        let refused = upload(&staff, &page, &action, &[("second.bin", bytes(700 * 1024, 2))]).await;
        assert_eq!(refused.status, 413);
        assert!(refused.body.contains("storage is full"), "{}", refused.body);
        assert_eq!(app.storage.list("").await.unwrap().len(), objects);
        assert_eq!(portico_db::files::for_client(&app.db, &f.a.owner, client.id, 10).await.unwrap().len(), 1);
        // What is left still fits smaller files; another firm has its own quota.
        assert_eq!(upload(&staff, &page, &action, &[("small.bin", bytes(200 * 1024, 3))]).await.status, 303);
        let other = app.browser();
        other.login(&f.b.owner_email, PASSWORD).await;
        let theirs = format!("/staff/clients/{}/files", f.b.clients[0].0.id);
        assert_eq!(upload(&other, &theirs, &format!("{theirs}/upload"), &[("theirs.bin", bytes(700 * 1024, 4))]).await.status, 303);
        app.stop().await;
    }
}

/// The entries of a zip as Python's zipfile reads them: (name, bytes as hex).
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist():\n    print(i.filename + '\\t' + z.read(i).hex())"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, h) = l.split_once('\t').unwrap();
            (n.to_string(), h.to_string())
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

both! {
    async fn several_files_download_as_one_zip_and_a_zip_bomb_is_only_stored(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}/files", c1.id);
        let action = format!("{page}/upload");
        // A zip bomb: 200 MB of zeros in about 200 KB. It is stored as it came, never opened.
        let dir = tempfile::tempdir().unwrap();
        let bomb_path = dir.path().join("bomb.zip");
        let made = std::process::Command::new("python3")
            .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    z.writestr('zeros.bin', bytes(200_000_000))"])
            .arg(&bomb_path).status().unwrap();
        assert!(made.success());
        let bomb = std::fs::read(&bomb_path).unwrap();
        assert!(bomb.len() < 1_000_000);
        let files = [("a.txt", b"first".to_vec()), ("bomb.zip", bomb.clone())];
        assert_eq!(upload(&staff, &page, &action, &files).await.status, 303);
        // A namesake in another folder: the zip must name the two apart.
        let origin = portico_db::audit::Origin::system("test");
        let folder = portico_db::folders::create(&app.db, &f.a.owner, c1.id, None, "Other", &origin).await.unwrap();
        let up = upload_into(&staff, &page, &action, &folder.id.to_string(), &[("A.txt", b"second".to_vec())]).await;
        assert_eq!(up.status, 303);
        let listed = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap();
        let id = |n: &str| listed.iter().find(|l| l.name == n).unwrap().id.to_string();
        let stored_bomb = listed.iter().find(|l| l.name == "bomb.zip").unwrap();
        assert_eq!((stored_bomb.size as usize, stored_bomb.content_type.as_str()), (bomb.len(), "application/zip"));

        let csrf = staff.get(&page).await.csrf();
        let zip = |b: &Browser, form: Vec<(&'static str, String)>| {
            let req = b.with_cookie(b.raw().post(b.url("/files/zip"))).header("origin", b.url("")).form(&form);
            async move { req.send().await.unwrap() }
        };
        let res = zip(&staff, vec![("csrf", csrf.clone()), ("file", id("a.txt")), ("file", id("A.txt")), ("file", id("bomb.zip")), ("file", id("a.txt"))]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/zip");
        assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let entries = unzip(&res.bytes().await.unwrap());
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains(&"bomb.zip"));
        let texts: Vec<&str> = entries.iter().filter(|(n, _)| n != "bomb.zip").map(|(_, h)| h.as_str()).collect();
        assert!(texts.contains(&hex(b"first").as_str()) && texts.contains(&hex(b"second").as_str()));
        assert!(names.iter().any(|n| n.ends_with(" (2).txt")), "{names:?}");
        assert_eq!(entries.iter().find(|(n, _)| n == "bomb.zip").unwrap().1, hex(&bomb), "the bomb travels as it came");

        // Hostile: no token, nothing chosen, too many, another client's file, a made-up id.
        assert_eq!(zip(&staff, vec![("file", id("a.txt"))]).await.status(), 403);
        assert_eq!(zip(&staff, vec![("csrf", csrf.clone())]).await.status(), 422);
        let many: Vec<(&'static str, String)> = std::iter::once(("csrf", csrf.clone())).chain((0..501).map(|_| ("file", uuid::Uuid::new_v4().to_string()))).collect();
        assert_eq!(zip(&staff, many).await.status(), 422);
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let pcsrf = person.get("/portal/files").await.csrf();
        assert_eq!(zip(&person, vec![("csrf", pcsrf.clone()), ("file", id("a.txt"))]).await.status(), 404, "not shared with the client");
        let other = app.browser();
        other.login(&f.b.owner_email, PASSWORD).await;
        let ocsrf = other.get("/staff/clients").await.csrf();
        assert_eq!(zip(&other, vec![("csrf", ocsrf), ("file", id("a.txt"))]).await.status(), 404);
        assert_eq!(zip(&staff, vec![("csrf", csrf.clone()), ("file", "not-an-id".into())]).await.status(), 404);
        // Shared with the client, the client can zip it too.
        staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "share"), ("file", id("a.txt").as_str())]).await;
        let mine = zip(&person, vec![("csrf", pcsrf), ("file", id("a.txt"))]).await;
        assert_eq!(mine.status(), 200);
        assert_eq!(unzip(&mine.bytes().await.unwrap()), vec![("a.txt".to_string(), hex(b"first"))]);
        assert!(person.get("/portal/files").await.body.contains("Download selected as a zip"));
        app.stop().await;
    }
}

both! {
    async fn staff_and_client_comment_on_a_file_both_ways(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let page = format!("/staff/clients/{}/files", c1.id);
        assert_eq!(upload(&staff, &page, &format!("{page}/upload"), &[("contract.pdf", b"%PDF-1.4 contract".to_vec()), ("internal.txt", b"x".to_vec())]).await.status, 303);
        let listed = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap();
        let contract = listed.iter().find(|l| l.name == "contract.pdf").unwrap().id;
        let internal = listed.iter().find(|l| l.name == "internal.txt").unwrap().id;
        let csrf = staff.get(&page).await.csrf();
        staff.post(&format!("/staff/clients/{}/files/share", c1.id), &[("csrf", csrf.as_str()), ("action", "share"), ("file", &contract.to_string())]).await;
        assert!(staff.get(&page).await.body.contains(&format!("/files/{contract}/comments")));

        // The firm comments; the client reads it, is notified, and answers.
        let at = format!("/files/{contract}/comments");
        assert_eq!(staff.submit(&at, &at, &[("body", "Please check clause <b>4</b>.")]).await.status, 303);
        assert!(person.get("/notifications").await.body.contains("The firm commented on a file"));
        let seen = person.get(&at).await.body;
        assert!(seen.contains("Please check clause &#60;b&#62;4&#60;/b&#62;.") && seen.contains("contract.pdf"));
        assert_eq!(person.submit(&at, &at, &[("body", "Clause 4 is fine.")]).await.status, 303);
        assert!(staff.get("/notifications").await.body.contains("A client commented on a file"));
        let thread = staff.get(&at).await.body;
        assert!(thread.find("clause &#60;b&#62;4").unwrap() < thread.find("Clause 4 is fine.").unwrap());

        // Hostile: a file the client cannot see, another client's and another firm's people,
        // no token, empty and oversized comments.
        let hidden = format!("/files/{internal}/comments");
        assert_eq!(person.get(&hidden).await.status, 404);
        let pcsrf = person.get(&at).await.csrf();
        assert_eq!(person.post(&hidden, &[("csrf", pcsrf.as_str()), ("body", "x")]).await.status, 404);
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        assert_eq!(other.get(&at).await.status, 404);
        let firm_b = app.browser();
        firm_b.login(&f.b.owner_email, PASSWORD).await;
        assert_eq!(firm_b.get(&at).await.status, 404);
        assert_eq!(person.post(&at, &[("body", "no token")]).await.status, 403);
        assert_eq!(person.submit(&at, &at, &[("body", "   ")]).await.status, 422);
        let long = "x".repeat(5_001);
        let refused = person.submit(&at, &at, &[("body", long.as_str())]).await;
        assert_eq!(refused.status, 422);
        // A comment by staff on a file the client cannot see tells the client nothing.
        let client_viewer = crate::support::fixture::client_viewer(&app.db, &f.a.owner, c1.id).await;
        portico_db::notifications::mark_read(&app.db, &client_viewer, None).await.unwrap();
        assert_eq!(staff.submit(&hidden, &hidden, &[("body", "Internal note")]).await.status, 303);
        assert_eq!(portico_db::notifications::unread(&app.db, &client_viewer).await.unwrap(), 0);
        app.stop().await;
    }
}
