//! Walkthroughs in a real browser: sign in, use the pages on a desktop and on a phone, sign out.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::webdriver::Chrome;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn staff_and_client_walk_through_the_portal_in_a_browser(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;

        // Staff, on a desktop: sign in, add a client, sign out.
        chrome.window(1280, 900).await;
        chrome.goto(&app.url("/staff/clients")).await;
        assert!(chrome.url().await.contains("/login?next="));
        chrome.fill("#email", &f.a.owner_email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        assert_eq!(chrome.wait_for_url("/staff/clients").await, app.url("/staff/clients"), "{}", chrome.source().await);
        assert!(chrome.displayed("nav.side").await);
        assert!(!chrome.displayed("details.menu").await);
        chrome.fill("#name", "Ines <Moreau>").await;
        chrome.click("form.stack button[type=submit]").await;
        let client_page = chrome.wait_until(|u| u.contains("/staff/clients/")).await;
        assert!(client_page.contains("/staff/clients/"), "{client_page}");
        let page = chrome.source().await;
        assert!(page.contains("<h1>Ines &lt;Moreau&gt;</h1>"), "{page}");
        chrome.click("nav.side form[action='/logout'] button").await;
        let out = chrome.wait_until(|u| u.contains("/login?notice=signed_out")).await;
        assert!(out.ends_with(&format!("/login?notice=signed_out&firm={}", f.a.slug)), "{out}");
        let page = chrome.source().await;
        assert!(page.contains("You have signed out.") && page.contains("Sign in to Alpha Legal"), "back on the firm's own sign-in page: {page}");
        chrome.goto(&app.url("/staff")).await;
        assert!(chrome.wait_for_url("/login?next=%2Fstaff").await.ends_with("/login?next=%2Fstaff"));

        // A client, on a phone: the menu opens and leads to their matters.
        chrome.window(390, 844).await;
        chrome.goto(&app.url("/login")).await;
        chrome.fill("#email", &f.a.clients[0].1).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        assert_eq!(chrome.wait_for_url("/portal").await, app.url("/portal"), "{}", chrome.source().await);
        assert!(!chrome.displayed("nav.side").await);
        assert!(chrome.displayed("details.menu summary").await);
        chrome.click("details.menu summary").await;
        chrome.click("details.menu a[href='/portal/matters']").await;
        assert_eq!(chrome.wait_for_url("/portal/matters").await, app.url("/portal/matters"));
        let page = chrome.source().await;
        assert!(page.contains(&f.a.clients[0].2[0].title));
        assert!(!page.contains(&f.a.clients[1].2[0].title));
        chrome.quit().await;
        app.stop().await;
    }

    async fn a_client_on_a_phone_follows_a_dashboard_card_and_answers_a_comment(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (_, email, matters) = &f.a.clients[0];
        let origin = portico_db::audit::Origin::system("test");
        portico_db::comments::add(&app.db, &f.a.owner, matters[0].id, "Please confirm your address.", &origin).await.unwrap();
        portico_db::firms::add_quick_link(&app.db, &f.a.owner, "Office hours", "https://alpha.example/hours", &origin).await.unwrap();

        chrome.window(390, 844).await;
        chrome.goto(&app.url("/login")).await;
        chrome.fill("#email", email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        assert_eq!(chrome.wait_for_url("/portal").await, app.url("/portal"));
        let home = chrome.source().await;
        assert!(home.contains("Latest comments from the firm") && home.contains("Office hours"), "{home}");
        // The comment's card entry leads to the matter, at its comments.
        chrome.click(&format!("a[href='/portal/matters/{}#comments']", matters[0].id)).await;
        chrome.wait_until(|u| u.contains("#comments")).await;
        chrome.fill("#comment-body", "Confirmed: 12 Elm Street.").await;
        chrome.click("form[action$='/comments'] button[type=submit]").await;
        let page = chrome.wait_until(|u| u.ends_with("#comments")).await;
        assert!(page.contains(&matters[0].id.to_string()));
        let source = chrome.source().await;
        assert!(source.contains("Please confirm your address.") && source.contains("Confirmed: 12 Elm Street."));
        let staff_view = portico_db::comments::for_matter(&app.db, &f.a.owner, matters[0].id, 10).await.unwrap();
        assert_eq!(staff_view.last().map(|c| c.author_side.as_str()), Some("client"));
        chrome.quit().await;
        app.stop().await;
    }

    async fn a_client_on_a_phone_makes_a_folder_and_goes_on_with_an_upload_begun_elsewhere(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..9 * 1024 * 1024 + 17u32).map(|i| (i % 241) as u8).collect();
        let (big_path, small_path) = (dir.path().join("bank statement.pdf"), dir.path().join("note.txt"));
        std::fs::write(&big_path, &big).unwrap();
        std::fs::write(&small_path, b"hello").unwrap();

        chrome.window(390, 844).await;
        chrome.goto(&app.url("/login")).await;
        chrome.fill("#email", email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        chrome.wait_for_url("/portal").await;
        chrome.goto(&app.url("/portal/files")).await;
        chrome.click("details.new-folder summary").await;
        chrome.fill("#folder-name", "Statements").await;
        chrome.click("details.new-folder button[type=submit]").await;
        let url = chrome.wait_until(|u| u.contains("done=folder")).await;
        assert!(url.contains("folder="), "{url}");
        assert!(chrome.source().await.contains("Or drop files here"), "the script offers dropping");
        let folder = url.split("folder=").nth(1).unwrap().split('&').next().unwrap().to_string();

        // Elsewhere (another window of the same person), the statement's upload began and
        // stopped after 3 MiB; this page knows it by the file, as if it had begun it.
        let elsewhere = app.browser();
        elsewhere.login(email, PASSWORD).await;
        let t = crate::uploads::Tus::new(&elsewhere, "/portal/files").await;
        let at = t.begin(big.len() as u64, &[("filename", "bank statement.pdf"), ("folder", &folder)]).await;
        let three = 3 * 1024 * 1024;
        assert_eq!(t.patch(&at, 0, big[..three].to_vec()).await.unwrap().status(), 204);
        let modified = std::fs::metadata(&big_path).unwrap().modified().unwrap()
            .duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
        let key = format!("portico-upload:/uploads||{folder}|bank statement.pdf|{}|{modified}", big.len());
        chrome.run_async(&format!("localStorage.setItem({}, {}); arguments[0](true)", serde_json::json!(key), serde_json::json!(at))).await;

        chrome.fill("#upload-files", &format!("{}\n{}", big_path.display(), small_path.display())).await;
        chrome.click("#upload-form button[type=submit]").await;
        let mut landed = String::new();
        for _ in 0..4 {
            landed = chrome.wait_until(|u| u.contains("done=uploaded")).await;
            if landed.contains("done=uploaded") {
                break;
            }
        }
        assert!(landed.contains("done=uploaded"), "{}", chrome.source().await);
        let page = chrome.source().await;
        assert!(page.contains("bank statement.pdf") && page.contains("note.txt"), "{page}");
        let listed = portico_db::files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap();
        assert_eq!(listed.len(), 2);
        let statement = listed.iter().find(|l| l.name == "bank statement.pdf").unwrap();
        let stored = portico_db::files::get(&app.db, &f.a.owner, statement.id).await.unwrap();
        assert_eq!(stored.size, big.len() as i64);
        assert!(stored.folder_id.is_some());
        assert_eq!(stored.id.to_string(), at.rsplit('/').next().unwrap(), "the upload begun elsewhere went on");
        assert!(stored.storage_key.ends_with("-joined"), "its two requests were joined");
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let got = staff.with_cookie(staff.raw().get(staff.url(&format!("/files/{}", stored.id)))).send().await.unwrap();
        assert!(got.bytes().await.unwrap().to_vec() == big, "byte for byte");
        let left = chrome.run_async("arguments[0](Object.keys(localStorage).filter(k => k.startsWith('portico-upload:')).length)").await;
        assert_eq!(left, serde_json::json!(0), "finished uploads are forgotten");
        chrome.quit().await;
        app.stop().await;
    }

    async fn an_open_conversation_shows_the_firms_reply_without_reloading(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let origin = portico_db::audit::Origin::system("test");
        let new = portico_db::messages::NewConversation { client_id: Some(client.id), title: "Your visa".into(), body: "We filed it.".into(), ..Default::default() };
        let (c, _) = portico_db::messages::start(&app.db, &f.a.owner, &new, &origin).await.unwrap();

        // On a phone: the header shows one unread notification; the menu leads to messages.
        chrome.window(390, 844).await;
        chrome.goto(&app.url("/login")).await;
        chrome.fill("#email", email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        assert_eq!(chrome.wait_for_url("/portal").await, app.url("/portal"));
        assert!(chrome.displayed("a.bell .badge").await);
        chrome.click("details.menu summary").await;
        chrome.click("details.menu a[href='/portal/messages']").await;
        assert_eq!(chrome.wait_for_url("/portal/messages").await, app.url("/portal/messages"));
        chrome.click(&format!("a[href='/portal/messages/{}']", c.id)).await;
        chrome.wait_for_url(&c.id.to_string()).await;
        assert!(!chrome.displayed("a.bell .badge").await, "read with the conversation");

        // The firm answers from elsewhere: the open page shows it without being reloaded.
        portico_db::messages::reply(&app.db, &f.a.owner, c.id, "Approved <today>!", &[], &origin).await.unwrap();
        let page = chrome.wait_for_page(|p| p.contains("Approved &lt;today&gt;!")).await;
        assert!(page.contains("id=\"m2\""), "{page}");
        // The client's reply goes through the plain form, and the page lands on it.
        chrome.fill("#reply-body", "Thank you!").await;
        chrome.click("#reply button[type=submit]").await;
        let url = chrome.wait_until(|u| u.ends_with("#m3")).await;
        assert!(url.ends_with("#m3"), "{url}");
        assert!(chrome.source().await.contains("Thank you!"));
        // A new conversation elsewhere lights the unread count on the open page.
        let other = portico_db::messages::NewConversation { client_id: Some(client.id), title: "Invoice".into(), body: "Attached".into(), ..Default::default() };
        portico_db::messages::start(&app.db, &f.a.owner, &other, &origin).await.unwrap();
        let page = chrome.wait_for_page(|p| p.contains("data-live-unread=\"/notifications/live\">1</span>")).await;
        assert!(page.contains("data-live-unread=\"/notifications/live\">1</span>"), "{page}");
        chrome.quit().await;
        app.stop().await;
    }

    async fn a_client_clicks_through_eleven_pages_over_http1_and_none_stalls(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        chrome.window(1280, 900).await;
        // A stalled load fails the click rather than waiting five minutes.
        chrome.page_load_timeout(std::time::Duration::from_secs(20)).await;
        chrome.goto(&app.url("/login")).await;
        chrome.fill("#email", &f.a.clients[0].1).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        assert_eq!(chrome.wait_for_url("/portal").await, app.url("/portal"));
        // Every page opens a live stream; the server speaks HTTP/1.1 only, where a browser
        // keeps at most six connections to one host, pages kept for Back included.
        let route = [
            "/portal/messages", "/portal/tasks", "/portal/files", "/portal/forms", "/portal",
            "/portal/matters", "/portal/messages", "/portal/tasks", "/portal/files", "/portal/forms",
            "/portal",
        ];
        for (n, path) in route.iter().enumerate() {
            chrome.click(&format!("nav.side a[href='{path}']")).await;
            assert_eq!(chrome.wait_for_url(path).await, app.url(path), "page {} ({path}) did not load", n + 1);
            assert!(chrome.source().await.contains("aria-current=\"page\""), "page {} ({path})", n + 1);
        }
        // Back brings a kept page again, streams reopened; going on from it still works.
        chrome.run_async("history.back(); arguments[0](true);").await;
        assert_eq!(chrome.wait_for_url("/portal/forms").await, app.url("/portal/forms"));
        for path in route.iter().take(6) {
            chrome.click(&format!("nav.side a[href='{path}']")).await;
            assert_eq!(chrome.wait_for_url(path).await, app.url(path), "after Back: {path} did not load");
        }
        chrome.quit().await;
        app.stop().await;
    }
}
