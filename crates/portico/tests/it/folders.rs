//! Folders and versions of a client's files: staff and clients make folders, upload into them,
//! move files and folders (never into themselves, never across clients), share a folder at
//! once, and keep every version of a file uploaded again under the same name.

use crate::both;
use crate::files::{bytes, fetch, upload, upload_into};
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};
use portico_db::{files, folders};

/// Makes a folder through the page's form and returns its id.
async fn make_folder(
    b: &Browser,
    page: &str,
    action: &str,
    parent: &str,
    name: &str,
) -> uuid::Uuid {
    let made = b
        .submit(page, action, &[("name", name), ("parent", parent)])
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let to = made.location.unwrap();
    let id = to
        .split("folder=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    id.parse().unwrap()
}

async fn file_named(
    app: &TestApp,
    owner: &portico_core::Viewer,
    client: uuid::Uuid,
    name: &str,
) -> files::StoredFile {
    let listed = files::for_client(&app.db, owner, client, 500)
        .await
        .unwrap();
    let id = listed
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{name} listed"))
        .id;
    files::get(&app.db, owner, id).await.unwrap()
}

both! {
    async fn staff_organise_a_clients_files_in_folders_and_share_a_folder(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let home = format!("/staff/clients/{}/files", c1.id);
        let new = format!("/staff/clients/{}/folders", c1.id);
        let tax = make_folder(&staff, &home, &new, "", "Tax 2025").await;
        let receipts = make_folder(&staff, &home, &new, &tax.to_string(), "Receipts").await;
        let other = make_folder(&staff, &home, &new, "", "Letters").await;

        // Three files uploaded into "Tax 2025".
        let (a, b, c) = (bytes(70_000, 1), bytes(1000, 2), b"%PDF-1.7 return".to_vec());
        let action = format!("/staff/clients/{}/files/upload", c1.id);
        let up = upload_into(&staff, &home, &action, &tax.to_string(), &[("a.txt", a.clone()), ("b.txt", b.clone()), ("return.pdf", c.clone())]).await;
        assert_eq!(up.status, 303);
        assert_eq!(up.location.as_deref(), Some(format!("{home}?folder={tax}&done=uploaded").as_str()));
        let in_tax = staff.get(&format!("{home}?folder={tax}")).await.body;
        for name in ["a.txt", "b.txt", "return.pdf", "Receipts"] {
            assert!(in_tax.contains(name), "{name} in the folder");
        }
        assert!(in_tax.contains("Rename or delete this folder"));
        let top = staff.get(&home).await.body;
        assert!(top.contains("Tax 2025") && top.contains("Letters") && !top.contains("a.txt"));

        // Move one file into Receipts, then two into Letters.
        let a_id = file_named(&app, &f.a.owner, c1.id, "a.txt").await.id;
        let b_id = file_named(&app, &f.a.owner, c1.id, "b.txt").await.id;
        let pdf_id = file_named(&app, &f.a.owner, c1.id, "return.pdf").await.id;
        let page = format!("{home}?folder={tax}");
        let moved = staff.submit(&page, "/files/move", &[("file", &a_id.to_string()), ("to", &receipts.to_string())]).await;
        assert_eq!(moved.status, 303, "{}", moved.body);
        let in_receipts = staff.get(&format!("{home}?folder={receipts}")).await.body;
        assert!(in_receipts.contains("a.txt") && !in_receipts.contains("b.txt"));
        // Breadcrumbs lead back up through "Tax 2025".
        assert!(in_receipts.contains(&format!("?folder={tax}\">Tax 2025</a> ›")), "{in_receipts}");
        let moved = staff.submit(&page, "/files/move", &[("file", &b_id.to_string()), ("file", &pdf_id.to_string()), ("to", &other.to_string())]).await;
        assert_eq!(moved.status, 303);
        assert_eq!(files::get(&app.db, &f.a.owner, b_id).await.unwrap().folder_id, Some(other));
        assert_eq!(files::get(&app.db, &f.a.owner, pdf_id).await.unwrap().folder_id, Some(other));
        assert_eq!(fetch(&staff, a_id).await, (200, a.clone()));
        assert_eq!(fetch(&staff, b_id).await, (200, b.clone()));

        // The client sees nothing of it until the firm shares the folder "Tax 2025".
        let client = app.browser();
        client.login(email, PASSWORD).await;
        assert!(!client.get("/portal/files").await.body.contains("Tax 2025"));
        assert_eq!(client.get(&format!("/portal/files?folder={tax}")).await.status, 404);
        let shared = staff.submit(&home, &format!("/staff/clients/{}/files/share", c1.id), &[("action", "share"), ("folder", &tax.to_string())]).await;
        assert_eq!(shared.status, 303, "{}", shared.body);
        let top = client.get("/portal/files").await.body;
        assert!(top.contains("Tax 2025") && !top.contains("Letters"), "the folder on the way to a shared file shows");
        let receipts_page = client.get(&format!("/portal/files?folder={receipts}")).await.body;
        assert!(receipts_page.contains("a.txt"));
        assert!(!receipts_page.contains("Rename or delete this folder"), "a client cannot change the firm's folder");
        assert_eq!(fetch(&client, a_id).await, (200, a.clone()));
        assert_eq!(fetch(&client, b_id).await.0, 404);

        // A zip of the folder keeps the paths inside it.
        let csrf = client.get("/portal/files").await.csrf();
        let zip = client.send(client.raw().post(client.url("/files/zip")).header("origin", client.url("")).form(&[("csrf", csrf.as_str()), ("folder", &tax.to_string())])).await;
        assert_eq!(zip.status, 200);
        assert!(zip.body.contains("Tax 2025/Receipts/a.txt"), "the entry's path is in the zip");

        // A file put in the shared folder later is shared with it, and the client hears of it.
        let later = upload_into(&staff, &home, &action, &receipts.to_string(), &[("later.txt", bytes(100, 7))]).await;
        assert_eq!(later.status, 303);
        let later_id = file_named(&app, &f.a.owner, c1.id, "later.txt").await.id;
        assert_eq!(fetch(&client, later_id).await.0, 200);
        assert!(client.get("/notifications").await.body.contains("The firm shared a file with you"));
        assert!(client.get(&format!("/portal/files?folder={receipts}")).await.body.contains("Mark as read"));
        let read = client.submit(&format!("/portal/files?folder={receipts}"), &format!("/portal/files/{later_id}/read"), &[]).await;
        assert_eq!(read.status, 303);
        assert_eq!(read.location.as_deref(), Some(format!("/portal/files?folder={receipts}&done=read").as_str()));
        assert!(staff.get(&format!("{home}?folder={receipts}")).await.body.contains("Complete"), "staff see it read");
        assert!(staff.get(&home).await.body.contains("shared, with all it holds"));

        // A client cannot rename, delete or move the firm's folder, nor move the firm's file.
        let renamed = client.submit("/portal/files", &format!("/folders/{tax}/rename"), &[("name", "Mine")]).await;
        assert_eq!(renamed.status, 409);
        let moved = client.submit("/portal/files", "/files/move", &[("file", &a_id.to_string()), ("to", "top")]).await;
        assert_eq!(moved.status, 409);
        assert!(moved.body.contains("only the firm can move it"));
        // Unless the firm lets its clients move what it shares.
        let owner = app.browser();
        owner.login(&f.a.owner_email, PASSWORD).await;
        let allowed = owner.submit("/staff/settings", "/staff/settings", &[
            ("name", "Alpha Legal"), ("brand_colour", "#1f5fa8"), ("idle_timeout_minutes", "30"),
            ("absolute_timeout_hours", "12"), ("clients_move_shared_files", "on"),
        ]).await;
        assert_eq!(allowed.status, 303);
        let moved = client.submit("/portal/files", "/files/move", &[("file", &later_id.to_string()), ("to", &tax.to_string())]).await;
        assert_eq!(moved.status, 303, "{}", moved.body);
        assert_eq!(files::get(&app.db, &f.a.owner, later_id).await.unwrap().folder_id, Some(tax));
        // Still never the firm's folders, nor into another client's.
        assert_eq!(client.submit("/portal/files", "/files/move", &[("folder", &receipts.to_string()), ("to", "top")]).await.status, 409);

        // Stop sharing the folder: the client sees none of it any more.
        let unshared = staff.submit(&home, &format!("/staff/clients/{}/files/share", c1.id), &[("action", "unshare"), ("folder", &tax.to_string())]).await;
        assert_eq!(unshared.status, 303);
        assert!(!client.get("/portal/files").await.body.contains("Tax 2025"));
        assert_eq!(fetch(&client, a_id).await.0, 404);

        // The client makes its own folder, uploads into it and moves its file out again.
        let mine = make_folder(&client, "/portal/files", "/portal/folders", "", "From me").await;
        let up = upload_into(&client, "/portal/files", "/portal/files/upload", &mine.to_string(), &[("passport.png", bytes(500, 9))]).await;
        assert_eq!(up.status, 303);
        let passport = file_named(&app, &f.a.owner, c1.id, "passport.png").await;
        assert_eq!(passport.folder_id, Some(mine));
        assert!(staff.get(&format!("{home}?folder={mine}")).await.body.contains("passport.png"), "staff see it at once");
        let moved = client.submit("/portal/files", "/files/move", &[("file", &passport.id.to_string()), ("to", "top")]).await;
        assert_eq!(moved.status, 303);
        // Not empty: refused, nothing lost. Empty: deleted.
        let full = staff.submit(&home, &format!("/folders/{tax}/delete"), &[]).await;
        assert_eq!(full.status, 409);
        assert!(full.body.contains("not empty"));
        let gone = client.submit("/portal/files", &format!("/folders/{mine}/delete"), &[]).await;
        assert_eq!(gone.status, 303);
        assert!(folders::get(&app.db, &f.a.owner, mine).await.is_err());
        app.stop().await;
    }

    async fn uploading_the_same_name_keeps_every_version(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let home = format!("/staff/clients/{}/files", c1.id);
        let action = format!("/staff/clients/{}/files/upload", c1.id);
        let (v1, v2) = (bytes(2000, 1), bytes(3000, 2));
        assert_eq!(upload(&staff, &home, &action, &[("Contract.pdf", v1.clone())]).await.status, 303);
        let first = file_named(&app, &f.a.owner, c1.id, "Contract.pdf").await;
        // Shared before the new version: the new version reaches the client too.
        staff.submit(&home, &format!("/staff/clients/{}/files/share", c1.id), &[("action", "share"), ("file", &first.id.to_string())]).await;
        assert_eq!(upload(&staff, &home, &action, &[("contract.PDF", v2.clone())]).await.status, 303);
        let listed = files::for_client(&app.db, &f.a.owner, c1.id, 50).await.unwrap();
        assert_eq!(listed.len(), 1, "one file, two versions");
        assert_eq!(listed[0].version, 2);
        let second = files::get(&app.db, &f.a.owner, listed[0].id).await.unwrap();
        assert_eq!((second.lineage_id, second.version), (first.id, 2));
        let page = staff.get(&format!("/files/{}/comments", second.id)).await.body;
        assert!(page.contains("Download version 1") && page.contains("Download version 2"));
        assert_eq!(fetch(&staff, first.id).await, (200, v1.clone()));
        assert_eq!(fetch(&staff, second.id).await, (200, v2.clone()));
        let client = app.browser();
        client.login(email, PASSWORD).await;
        assert_eq!(fetch(&client, second.id).await, (200, v2.clone()));
        assert!(client.get("/portal/files").await.body.contains("version 2"));

        // The same name in another folder is another file.
        let folder = make_folder(&staff, &home, &format!("/staff/clients/{}/folders", c1.id), "", "Drafts").await;
        upload_into(&staff, &home, &action, &folder.to_string(), &[("Contract.pdf", v1.clone())]).await;
        let in_folder = files::list(&app.db, &f.a.owner, c1.id, files::Listing { place: files::Place::In(folder), ..files::Listing::newest(10) }).await.unwrap();
        assert_eq!(in_folder.files.len(), 1);
        assert_eq!(in_folder.files[0].version, 1);
        // Moving it next to its namesake is refused; nothing moves.
        let moved = staff.submit(&home, "/files/move", &[("file", &in_folder.files[0].id.to_string()), ("to", "top")]).await;
        assert_eq!(moved.status, 409);
        assert!(moved.body.contains("already a file called"));
        // Moving the file moves all its versions.
        let moved = staff.submit(&home, "/files/move", &[("file", &second.id.to_string()), ("to", &folder.to_string())]).await;
        assert_eq!(moved.status, 409, "Contract.pdf is in Drafts already");

        // Two uploads of one name at once become two versions, never two current files.
        let (one, two) = ([("race.txt", bytes(10, 1))], [("race.txt", bytes(10, 2))]);
        let (s1, s2) = tokio::join!(
            upload(&staff, &home, &action, &one),
            upload(&staff, &home, &action, &two),
        );
        assert_eq!((s1.status.as_u16(), s2.status.as_u16()), (303, 303));
        let race = file_named(&app, &f.a.owner, c1.id, "race.txt").await;
        assert_eq!(race.version, 2);
        app.stop().await;
    }

    async fn folder_moves_stay_a_tree_and_inside_one_client(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, _, _) = &f.a.clients[0];
        let (c2, _, _) = &f.a.clients[1];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let home = format!("/staff/clients/{}/files", c1.id);
        let new = format!("/staff/clients/{}/folders", c1.id);
        let outer = make_folder(&staff, &home, &new, "", "Outer").await;
        let inner = make_folder(&staff, &home, &new, &outer.to_string(), "Inner").await;
        let elsewhere = make_folder(&staff, &format!("/staff/clients/{}/files", c2.id), &format!("/staff/clients/{}/folders", c2.id), "", "Other client").await;

        // Into itself or its own child: refused.
        for to in [outer, inner] {
            let r = staff.submit(&home, "/files/move", &[("folder", &outer.to_string()), ("to", &to.to_string())]).await;
            assert_eq!(r.status, 409, "{}", r.body);
            assert!(r.body.contains("cannot go into itself"));
        }
        // Into another client's folder, or another client's file here: not found, nothing moves.
        let up = upload(&staff, &home, &format!("/staff/clients/{}/files/upload", c1.id), &[("x.txt", bytes(10, 1))]).await;
        assert_eq!(up.status, 303);
        let x = file_named(&app, &f.a.owner, c1.id, "x.txt").await;
        let r = staff.submit(&home, "/files/move", &[("file", &x.id.to_string()), ("to", &elsewhere.to_string())]).await;
        assert_eq!(r.status, 404);
        let r = staff.submit(&home, "/files/move", &[("folder", &elsewhere.to_string()), ("folder", &outer.to_string()), ("to", "top")]).await;
        assert_eq!(r.status, 404);
        assert_eq!(files::get(&app.db, &f.a.owner, x.id).await.unwrap().folder_id, None);
        // Upload into another client's folder: refused before anything is kept.
        let objects = app.storage.list("").await.unwrap().len();
        let r = upload_into(&staff, &home, &format!("/staff/clients/{}/files/upload", c1.id), &elsewhere.to_string(), &[("y.txt", bytes(10, 1))]).await;
        assert_eq!(r.status, 404);
        assert_eq!(app.storage.list("").await.unwrap().len(), objects);

        // Another firm sees none of it.
        let beta = app.browser();
        beta.login(&f.b.owner_email, PASSWORD).await;
        let beta_home = format!("/staff/clients/{}/files", f.b.clients[0].0.id);
        assert_eq!(beta.get(&format!("{beta_home}?folder={outer}")).await.status, 404);
        assert_eq!(beta.submit(&beta_home, &format!("/folders/{outer}/rename"), &[("name", "Mine")]).await.status, 404);
        assert_eq!(beta.submit(&beta_home, &format!("/folders/{inner}/delete"), &[]).await.status, 404);
        assert_eq!(beta.submit(&beta_home, "/files/move", &[("file", &x.id.to_string()), ("to", "top")]).await.status, 404);
        assert_eq!(beta.submit(&beta_home, "/files/zip", &[("folder", &outer.to_string())]).await.status, 404);

        // Hostile names, a duplicate name, and malformed ids.
        for bad in ["../../etc/passwd", "a\u{0}b", "evil\u{202E}fdp.exe", "..", "", &"x".repeat(101)] {
            let r = staff.submit(&home, &new, &[("name", bad), ("parent", "")]).await;
            assert_eq!(r.status, 422, "{bad:?}: {}", r.body);
        }
        let dup = staff.submit(&home, &new, &[("name", "outer"), ("parent", "")]).await;
        assert_eq!(dup.status, 409);
        assert!(dup.body.contains("already a folder called"));
        // Renaming follows the same rules.
        assert_eq!(staff.submit(&home, &format!("/folders/{inner}/rename"), &[("name", "../../etc")]).await.status, 422);
        let sibling = make_folder(&staff, &home, &new, &outer.to_string(), "Sibling").await;
        let clash = staff.submit(&home, &format!("/folders/{sibling}/rename"), &[("name", "INNER")]).await;
        assert_eq!(clash.status, 409);
        assert_eq!(folders::get(&app.db, &f.a.owner, sibling).await.unwrap().0.name, "Sibling");
        assert_eq!(staff.submit(&home, "/folders/not-an-id/rename", &[("name", "x")]).await.status, 404);
        assert_eq!(staff.submit(&home, "/files/move", &[("file", "not-an-id"), ("to", "top")]).await.status, 404);
        assert_eq!(staff.submit(&home, "/files/move", &[("to", "top")]).await.status, 422);
        assert_eq!(staff.post("/files/move", &[("file", &x.id.to_string()), ("to", "top")]).await.status, 403, "no token");

        // Two moves of the same file at once: both finish, and the file is in one place.
        let page = staff.get(&home).await;
        let csrf = page.csrf();
        let (xs, outer_s, inner_s) = (x.id.to_string(), outer.to_string(), inner.to_string());
        let one = [("csrf", csrf.as_str()), ("file", &xs), ("to", &outer_s)];
        let two = [("csrf", csrf.as_str()), ("file", &xs), ("to", &inner_s)];
        let (r1, r2) = tokio::join!(staff.post("/files/move", &one), staff.post("/files/move", &two));
        assert_eq!((r1.status.as_u16(), r2.status.as_u16()), (303, 303));
        let now = files::get(&app.db, &f.a.owner, x.id).await.unwrap().folder_id;
        assert!(now == Some(outer) || now == Some(inner));
        // Two opposite folder moves at once cannot make a cycle: one of them is refused.
        let a = make_folder(&staff, &home, &new, "", "A").await;
        let b = make_folder(&staff, &home, &new, "", "B").await;
        let (a_s, b_s) = (a.to_string(), b.to_string());
        let one = [("csrf", csrf.as_str()), ("folder", &a_s), ("to", &b_s)];
        let two = [("csrf", csrf.as_str()), ("folder", &b_s), ("to", &a_s)];
        let (r1, r2) = tokio::join!(staff.post("/files/move", &one), staff.post("/files/move", &two));
        let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [303, 409]);
        let tree = folders::tree(&app.db, &f.a.owner, c1.id).await.unwrap();
        let outline = folders::outline(&tree);
        assert_eq!(outline.len(), tree.len(), "every folder is reachable from the top");
        app.stop().await;
    }

    async fn a_long_folder_pages_and_sorts(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, _, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let home = format!("/staff/clients/{}/files", c1.id);
        let many: Vec<(String, Vec<u8>)> = (0..120).map(|i| (format!("doc-{i:03}.txt"), bytes(10 + i, i as u8))).collect();
        let refs: Vec<(&str, Vec<u8>)> = many.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        assert_eq!(upload(&staff, &home, &format!("/staff/clients/{}/files/upload", c1.id), &refs).await.status, 303);
        let first = staff.get(&format!("{home}?sort=name&order=asc")).await.body;
        assert!(first.contains("Files 1–100 of 120"));
        assert!(first.contains("doc-000.txt") && first.contains("doc-099.txt") && !first.contains("doc-100.txt"));
        assert!(first.contains("sort=name&#38;order=asc&#38;page=2") || first.contains("sort=name&amp;order=asc&amp;page=2"), "a next page link");
        let second = staff.get(&format!("{home}?sort=name&order=asc&page=2")).await.body;
        assert!(second.contains("Files 101–120 of 120") && second.contains("doc-119.txt") && !second.contains("doc-000.txt"));
        let by_size = staff.get(&format!("{home}?sort=size&order=desc")).await.body;
        let (big, small) = (by_size.find("doc-119.txt").unwrap(), by_size.find("doc-118.txt").unwrap());
        assert!(big < small, "largest first");
        // Nonsense in the query falls back to the defaults.
        assert_eq!(staff.get(&format!("{home}?sort=;DROP&order=sideways&page=-4")).await.status, 200);
        assert_eq!(staff.get(&format!("{home}?folder=nope")).await.status, 404);
        app.stop().await;
    }

    async fn a_refused_folder_form_shows_its_page_again_with_what_was_typed_and_ticked(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let home = format!("/staff/clients/{}/files", c1.id);
        let new = format!("/staff/clients/{}/folders", c1.id);
        let outer = make_folder(&staff, &home, &new, "", "Outer").await;
        let inner = make_folder(&staff, &home, &new, &outer.to_string(), "Inner").await;
        let here = format!("{home}?folder={outer}");

        // A name already taken: the same folder page, the form open, the typed name kept.
        let dup = staff.submit(&here, &new, &[("name", "inner"), ("parent", &outer.to_string())]).await;
        assert_eq!(dup.status, 409);
        assert!(dup.body.contains("<h1>Outer</h1>"), "the page the form was on");
        assert!(dup.body.contains("class=\"new-folder\" open"));
        assert!(dup.body.contains("already a folder called") && dup.body.contains("value=\"inner\""), "{}", dup.body);
        // A hostile name is kept as typed, escaped, and refused beside its form.
        let bad = staff.submit(&here, &new, &[("name", "<b>x</b>/.."), ("parent", &outer.to_string())]).await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("value=\"&#60;b&#62;x&#60;/b&#62;/..\"") && !bad.body.contains("<b>x</b>"), "{}", bad.body);
        // Renaming onto a sibling's name: the rename form open with the typed name.
        let sibling = make_folder(&staff, &home, &new, &outer.to_string(), "Sibling").await;
        let clash = staff.submit(&format!("{home}?folder={sibling}"), &format!("/folders/{sibling}/rename"), &[("name", "INNER")]).await;
        assert_eq!(clash.status, 409);
        assert!(clash.body.contains("<h1>Sibling</h1>") && clash.body.contains("class=\"folder-tools\" open") && clash.body.contains("value=\"INNER\""));
        // Deleting a folder that holds another: told on its page.
        let full = staff.submit(&here, &format!("/folders/{outer}/delete"), &[]).await;
        assert_eq!(full.status, 409);
        assert!(full.body.contains("is not empty") && full.body.contains("<h1>Outer</h1>"));

        // A move that is refused keeps what was ticked and where it was to go.
        let up = upload(&staff, &home, &format!("/staff/clients/{}/files/upload", c1.id), &[("a.txt", bytes(10, 1))]).await;
        assert_eq!(up.status, 303);
        let a = file_named(&app, &f.a.owner, c1.id, "a.txt").await;
        let r = staff.submit(&home, "/files/move", &[("file", &a.id.to_string()), ("folder", &outer.to_string()), ("to", &inner.to_string())]).await;
        assert_eq!(r.status, 409);
        assert!(r.body.contains("cannot go into itself"));
        assert!(r.body.contains(&format!("value=\"{}\" aria-label=\"Select a.txt\" checked", a.id)), "{}", r.body);
        assert!(r.body.contains(&format!("value=\"{outer}\" aria-label=\"Select folder Outer\" checked")));
        assert!(r.body.contains(&format!("<option value=\"{inner}\" selected>")));
        // Nothing ticked on a folder's page: that page again, saying so.
        let none = staff.submit(&here, "/files/move", &[("client", &c1.id.to_string()), ("at", &outer.to_string()), ("to", "top")]).await;
        assert_eq!(none.status, 422);
        assert!(none.body.contains("No files or folders were ticked") && none.body.contains("<h1>Outer</h1>"));
        assert_eq!(files::get(&app.db, &f.a.owner, a.id).await.unwrap().folder_id, None, "nothing moved");

        // A page of another client, or of another firm, named in the form: not found, and
        // nothing of it is shown.
        let other = f.a.clients[1].0.id.to_string();
        let r = staff.submit(&home, "/files/move", &[("client", &other), ("file", &a.id.to_string()), ("to", "top")]).await;
        assert_eq!(r.status, 404);
        let beta = app.browser();
        beta.login(&f.b.owner_email, PASSWORD).await;
        let r = beta.submit("/staff/clients", "/files/move", &[("client", &c1.id.to_string()), ("to", "top")]).await;
        assert_eq!(r.status, 404);
        assert!(!r.body.contains("Outer"));
        // The client sees its own page again, never the firm's controls.
        let client = app.browser();
        client.login(email, PASSWORD).await;
        let r = client.submit("/portal/files", "/portal/folders", &[("name", "Outer"), ("parent", "")]).await;
        assert_eq!(r.status, 409);
        assert!(r.body.contains("value=\"Outer\"") && !r.body.contains("Share selected"));
        app.stop().await;
    }

    async fn one_row_is_moved_from_its_own_page_without_script(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let home = format!("/staff/clients/{}/files", c1.id);
        let new = format!("/staff/clients/{}/folders", c1.id);
        let outer = make_folder(&staff, &home, &new, "", "Outer").await;
        let inner = make_folder(&staff, &home, &new, &outer.to_string(), "Inner").await;
        let other = make_folder(&staff, &home, &new, "", "Other").await;
        let up = upload(&staff, &home, &format!("/staff/clients/{}/files/upload", c1.id), &[("deed.pdf", bytes(10, 1))]).await;
        assert_eq!(up.status, 303);
        let deed = file_named(&app, &f.a.owner, c1.id, "deed.pdf").await;

        // Each row has its own Move, which asks where, with where it is now chosen.
        let list = staff.get(&home).await.body;
        assert!(list.contains(&format!("href=\"/files/{}/move\"", deed.id)) && list.contains(&format!("href=\"/folders/{outer}/move\"")));
        assert!(list.contains("data-label=\"Size\"") && list.contains("data-label=\"Added\""), "each cell is labelled on a phone");
        let picker = staff.get(&format!("/files/{}/move", deed.id)).await;
        assert_eq!(picker.status, 200);
        assert!(picker.body.contains("Move “deed.pdf”") && picker.body.contains("value=\"top\" checked"));
        assert!(picker.body.contains(&format!("value=\"{inner}\"")));
        let moved = staff.submit(&format!("/files/{}/move", deed.id), "/files/move", &[("client", &c1.id.to_string()), ("at", ""), ("file", &deed.id.to_string()), ("to", &inner.to_string())]).await;
        assert_eq!(moved.status, 303);
        assert_eq!(moved.location.as_deref(), Some(format!("{home}?folder={inner}&done=moved").as_str()));
        assert_eq!(files::get(&app.db, &f.a.owner, deed.id).await.unwrap().folder_id, Some(inner));
        assert!(staff.get(&format!("/files/{}/move", deed.id)).await.body.contains(&format!("value=\"{inner}\" checked")));

        // A folder is offered everywhere but itself and what is below it.
        let picker = staff.get(&format!("/folders/{outer}/move")).await.body;
        assert!(picker.contains(&format!("value=\"{other}\"")));
        assert!(!picker.contains(&format!("value=\"{inner}\"")) && !picker.contains(&format!("name=\"to\" value=\"{outer}\"")));

        // Another firm, a malformed id, a missing one: not found.
        let beta = app.browser();
        beta.login(&f.b.owner_email, PASSWORD).await;
        for path in [format!("/files/{}/move", deed.id), format!("/folders/{outer}/move"), "/files/nope/move".into(), format!("/folders/{}/move", uuid::Uuid::new_v4())] {
            assert_eq!(beta.get(&path).await.status, 404, "{path}");
        }
        assert!(!beta.get(&format!("/files/{}/move", deed.id)).await.body.contains("deed.pdf"));

        // A client has Move only for what it may move: its own, not the firm's unshared or
        // shared files, nor the firm's folders.
        let client = app.browser();
        client.login(email, PASSWORD).await;
        assert_eq!(client.get(&format!("/files/{}/move", deed.id)).await.status, 404, "not shared: not there at all");
        staff.submit(&home, &format!("/staff/clients/{}/files/share", c1.id), &[("action", "share"), ("file", &deed.id.to_string())]).await;
        let theirs = client.get(&format!("/portal/files?folder={inner}")).await.body;
        assert!(theirs.contains("deed.pdf") && !theirs.contains(&format!("/files/{}/move", deed.id)));
        let refused = client.get(&format!("/files/{}/move", deed.id)).await;
        assert_eq!(refused.status, 409);
        assert!(refused.body.contains("only the firm can move it"));
        assert_eq!(client.get(&format!("/folders/{outer}/move")).await.status, 409);
        let mine = make_folder(&client, "/portal/files", "/portal/folders", "", "Mine").await;
        let own = client.get("/portal/files").await.body;
        assert!(own.contains(&format!("href=\"/folders/{mine}/move\"")));
        let picker = client.get(&format!("/folders/{mine}/move")).await;
        assert_eq!(picker.status, 200);
        assert!(!picker.body.contains(&format!("value=\"{other}\"")), "the firm's folders the client cannot see are not offered");
        app.stop().await;
    }
}
