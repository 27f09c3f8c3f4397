//! Secure messaging and notifications: conversations both ways, read receipts, edits and
//! deletions, search, live updates over Server-Sent Events (also from a second server), and
//! batched notification emails that never carry the content.

use std::time::{Duration, Instant};

use portico_db::audit::Origin;
use portico_db::messages::{self, NewConversation};

use crate::both;
use crate::support::fixture::{PASSWORD, client_viewer};
use crate::support::{Backend, Browser, Fixture, TestApp};

/// Staff start a conversation with a client from the client's page; returns its address.
async fn staff_start(staff: &Browser, client_id: uuid::Uuid, title: &str, body: &str) -> String {
    let new = format!("/staff/clients/{client_id}/messages/new");
    let page = staff.get(&new).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let started = staff
        .submit(
            &new,
            &format!("/staff/clients/{client_id}/messages"),
            &[("title", title), ("body", body)],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    started.location.unwrap()
}

fn conversation_id(href: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(href.rsplit('/').next().unwrap()).unwrap()
}

/// Reads a Server-Sent Events response until `want` appears or `within` passes.
async fn read_events(res: &mut reqwest::Response, want: &str, within: Duration) -> String {
    let mut got = String::new();
    let until = tokio::time::Instant::now() + within;
    while !got.contains(want) {
        match tokio::time::timeout_at(until, res.chunk()).await {
            Ok(Ok(Some(bytes))) => got.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    got
}

both! {
    async fn staff_and_client_converse_with_receipts_edits_deletions_and_search(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, client_email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let person = app.browser();
        person.login(client_email, PASSWORD).await;

        let href = staff_start(&staff, client.id, "Visa <documents>", "Please send your passport scan.\nDetails: https://example.com/visa?a=1&b=2").await;
        let id = conversation_id(&href);
        assert_eq!(href, format!("/staff/messages/{id}"));

        // The client hears of it: header count, notification list, dashboard card, list.
        let home = person.get("/portal").await.body;
        assert!(home.contains("data-live-unread=\"/notifications/live\">1</span>"), "{home}");
        assert!(home.contains("Messages") && home.contains("Visa &#60;documents&#62;") && home.contains("1 new"));
        let notes = person.get("/notifications").await.body;
        assert!(notes.contains("New message from the firm") && notes.contains(&format!("/portal/messages/{id}")));
        let list = person.get("/portal/messages").await.body;
        assert!(list.contains("Unread") && list.contains("Visa &#60;documents&#62;"));
        assert!(list.contains("With Mo Member, Client 1 Person"), "{list}");
        let staff_home = staff.get("/staff").await.body;
        assert!(staff_home.contains(&format!("<a href=\"/staff/messages/{id}\">Visa &#60;documents&#62;</a>")));

        // Reading it: escaped, lines kept, the address a link; read for them, and staff see when.
        let page = format!("/portal/messages/{id}");
        let read = person.get(&page).await;
        assert_eq!(read.status, 200);
        assert!(read.body.contains("Please send your passport scan.<br>"));
        assert!(read.body.contains("<a href=\"https://example.com/visa?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow\""));
        assert!(person.get("/portal").await.body.contains("hidden>0</span>"), "the notification is read with the conversation");
        assert!(!person.get("/portal/messages").await.body.contains("Unread"));
        let staff_view = staff.get(&href).await.body;
        assert!(staff_view.contains("Read by Client 1 Person ("), "{staff_view}");

        // The client replies; staff are notified; a reply they have not read can be edited.
        let replied = person.submit(&page, &format!("{page}/reply"), &[("body", "Sent it by post. <b>bold?</b>")]).await;
        assert_eq!(replied.status, 303);
        assert_eq!(replied.location.as_deref(), Some(format!("{page}#m2").as_str()));
        let edited = person.submit(&page, &format!("{page}/2/edit"), &[("body", "Sent it by courier.")]).await;
        assert_eq!(edited.status, 303);
        let staff_home = staff.get("/staff").await.body;
        assert!(staff_home.contains(">1</span>"), "staff member was notified");
        let staff_view = staff.get(&href).await.body;
        let (first, second) = (staff_view.find("passport scan").unwrap(), staff_view.find("Sent it by courier.").unwrap());
        assert!(first < second, "oldest first");
        assert!(staff_view.contains("edited"));
        // Once staff have read it, it stays as it is.
        let late = person.submit(&page, &format!("{page}/2/edit"), &[("body", "Changed my mind")]).await;
        assert_eq!(late.status, 409);
        assert!(late.body.contains("can no longer be edited"));
        // Nobody edits someone else's message.
        assert_eq!(staff.submit(&href, &format!("{href}/2/edit"), &[("body", "mine now")]).await.status, 409);

        // Clients see "read" on theirs only where the firm shows it.
        assert!(!person.get(&page).await.body.contains("Read by the firm"));
        let owner = app.browser();
        owner.login(&f.a.owner_email, PASSWORD).await;
        let settings = owner.submit("/staff/settings", "/staff/settings", &[
            ("name", "Alpha Legal"), ("brand_colour", "#1f5fa8"), ("idle_timeout_minutes", "30"),
            ("absolute_timeout_hours", "12"), ("client_read_receipts", "on"),
        ]).await;
        assert_eq!(settings.status, 303);
        assert!(person.get(&page).await.body.contains("Read by the firm on"));

        // Staff delete a message: it says who did, the text is gone, the audit log has it.
        let deleted = staff.submit(&href, &format!("{href}/2/delete"), &[]).await;
        assert_eq!(deleted.status, 303);
        let after = person.get(&page).await.body;
        assert!(after.contains("Deleted by Mo Member on") && !after.contains("courier"));
        let events = portico_db::audit::recent_for_firm(&app.db, &f.a.owner, 20).await.unwrap();
        assert!(events.iter().any(|e| e.action == "message.delete"));
        assert!(events.iter().any(|e| e.action == "message.edit"));
        // Clients cannot delete.
        let csrf = person.get(&page).await.csrf();
        assert_eq!(person.post(&format!("/staff/messages/{id}/1/delete"), &[("csrf", csrf.as_str())]).await.status, 404);

        // Resolved: out of the open list, in the resolved one; a new message opens it again.
        assert_eq!(staff.submit(&href, &format!("{href}/resolve"), &[("resolved", "true")]).await.status, 303);
        assert!(!staff.get("/staff/messages").await.body.contains("Visa &#60;documents&#62;"));
        assert!(staff.get("/staff/messages?resolved=1").await.body.contains("Visa &#60;documents&#62;"));
        person.submit(&page, &format!("{page}/reply"), &[("body", "One more question, 100% sure_?")]).await;
        assert!(staff.get("/staff/messages").await.body.contains("Visa &#60;documents&#62;"));

        // Search: wildcards are literal; deleted text is not found; each side within its reach.
        let hits = staff.get("/staff/messages?q=100%25+sure_").await.body;
        assert!(hits.contains("One more question"), "{hits}");
        assert!(staff.get("/staff/messages?q=sure%25").await.body.contains("No message contains that text."));
        assert!(staff.get("/staff/messages?q=courier").await.body.contains("No message contains that text."));
        assert!(person.get("/portal/messages?q=passport").await.body.contains("Please send your passport scan."));
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        assert!(other.get("/portal/messages?q=passport").await.body.contains("No message contains that text."));
        let foreign = app.browser();
        foreign.login(&f.b.owner_email, PASSWORD).await;
        assert!(foreign.get("/staff/messages?q=passport").await.body.contains("No message contains that text."));
        app.stop().await;
    }

    async fn other_clients_firms_and_colleagues_not_copied_cannot_reach_a_conversation(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, client_email, matters) = &f.a.clients[0];
        // A colleague at the same client, not copied on the conversation.
        let colleague = portico_db::clients::add_portal_user(&app.db, &f.a.owner, client.id, "colleague@alpha-clients.example", "Cole League", false, &Origin::system("test")).await.unwrap();
        let person = app.browser();
        person.login(client_email, PASSWORD).await;

        // The client starts one about a matter, copying nobody.
        let new = person.get("/portal/messages/new").await;
        assert!(new.body.contains("Copy colleagues") && new.body.contains("Cole League"));
        let csrf = new.csrf();
        let started = person.post("/portal/messages", &[("csrf", csrf.as_str()), ("title", "<script>alert(1)</script>"), ("matter", &matters[0].id.to_string()), ("body", "Private question")]).await;
        assert_eq!(started.status, 303, "{}", started.body);
        let href = started.location.unwrap();
        let id = conversation_id(&href);
        let shown = person.get(&href).await.body;
        assert!(shown.contains("&#60;script&#62;alert(1)&#60;/script&#62;") && !shown.contains("<script>alert(1)"));
        assert!(shown.contains(&matters[0].title));

        // Every staff member of the firm hears of a client's new conversation.
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        assert!(staff.get("/notifications").await.body.contains("New message from a client"));

        // The colleague, another client's user and another firm see nothing and can post nothing.
        let cole = app.browser();
        crate::support::fixture::set_password(&app.db, colleague.user_id).await;
        cole.login("colleague@alpha-clients.example", PASSWORD).await;
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        let foreign = app.browser();
        foreign.login(&f.b.owner_email, PASSWORD).await;
        for (who, base) in [(&cole, "/portal"), (&other, "/portal"), (&foreign, "/staff")] {
            assert_eq!(who.get(&format!("{base}/messages/{id}")).await.status, 404);
            assert_eq!(who.get(&format!("/messages/{id}/live")).await.status, 404);
            let home = who.get(&format!("{base}/messages")).await;
            assert!(!home.body.contains("Private question") && !home.body.contains("alert(1)"));
            let csrf = home.csrf();
            let posted = who.post(&format!("{base}/messages/{id}/reply"), &[("csrf", csrf.as_str()), ("body", "let me in")]).await;
            assert_eq!(posted.status, 404);
        }
        // Reading one's way through ids: a made-up one and a malformed one are simply not found.
        assert_eq!(person.get(&format!("/portal/messages/{}", uuid::Uuid::now_v7())).await.status, 404);
        assert_eq!(person.get("/portal/messages/1%20OR%201=1").await.status, 404);
        // The wrong side's address, no token, a forged token.
        let csrf = person.get(&href).await.csrf();
        assert_eq!(person.post(&format!("/staff/messages/{id}/reply"), &[("csrf", csrf.as_str()), ("body", "x")]).await.status, 404);
        assert_eq!(person.post(&format!("{href}/reply"), &[("body", "no token")]).await.status, 403);
        assert_eq!(person.post(&format!("{href}/reply"), &[("csrf", "forged"), ("body", "x")]).await.status, 403);
        // Staff of the firm may copy only this client's people; ids of others are refused.
        let staff_new = format!("/staff/clients/{}/messages/new", client.id);
        let strangers = [f.a.clients[1].0.id.to_string(), "not-an-id".to_string()];
        for stranger in &strangers {
            let refused = staff.submit(&staff_new, &format!("/staff/clients/{}/messages", client.id), &[("title", "T"), ("body", "B"), ("to", stranger)]).await;
            assert!(refused.status == 422, "{stranger}: {}", refused.status);
        }
        // A matter of another client, another firm's client.
        let wrong_matter = staff.submit(&staff_new, &format!("/staff/clients/{}/messages", client.id), &[("title", "T"), ("body", "B"), ("matter", &f.a.clients[1].2[0].id.to_string())]).await;
        assert_eq!(wrong_matter.status, 404);
        assert_eq!(staff.get(&format!("/staff/clients/{}/messages/new", f.b.clients[0].0.id)).await.status, 404);
        // Too long: refused with the text kept; empty: refused; nothing stored.
        let long = "y".repeat(messages::MAX_BODY_CHARS + 1);
        let refused = person.submit(&href, &format!("{href}/reply"), &[("body", long.as_str())]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("at most 20000 characters") && refused.body.contains(&long));
        assert_eq!(person.submit(&href, &format!("{href}/reply"), &[("body", " \n ")]).await.status, 422);
        let c = messages::get(&app.db, &f.a.owner, id).await.unwrap();
        assert_eq!(c.last_seq, 1);

        // Copied later through a new conversation, the colleague takes part; closing the
        // matter's portal hides the conversation about it.
        let csrf = person.get("/portal/messages/new").await.csrf();
        let copied = person.post("/portal/messages", &[("csrf", csrf.as_str()), ("title", "For both of us"), ("to", &colleague.user_id.to_string()), ("body", "Shared")]).await;
        assert_eq!(copied.status, 303);
        assert_eq!(cole.get(&copied.location.unwrap().replace("/staff/", "/portal/")).await.status, 200);
        portico_db::matters::set_portal_open(&app.db, &f.a.owner, matters[0].id, false, &Origin::system("test")).await.unwrap();
        assert_eq!(person.get(&href).await.status, 404);
        assert!(!person.get("/portal/messages").await.body.contains("alert(1)"));
        app.stop().await;
    }

    async fn concurrent_replies_keep_one_order_and_lose_nothing(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, _, _) = &f.a.clients[0];
        let new = NewConversation { client_id: Some(client.id), title: "Busy".into(), body: "first".into(), ..Default::default() };
        let (c, _) = messages::start(&app.db, &f.a.owner, &new, &Origin::system("test")).await.unwrap();
        let client_viewer = client_viewer(&app.db, &f.a.owner, client.id).await;
        let mut tasks = Vec::new();
        for n in 0..24 {
            let db = app.db.clone();
            let viewer = if n % 2 == 0 { f.a.owner.clone() } else { client_viewer.clone() };
            tasks.push(tokio::spawn(async move {
                messages::reply(&db, &viewer, c.id, &format!("reply {n}"), &[], &Origin::system("test")).await.unwrap()
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap().seq);
        }
        seqs.sort();
        assert_eq!(seqs, (2..=25).collect::<Vec<i64>>());
        let all = messages::page(&app.db, &messages::get(&app.db, &f.a.owner, c.id).await.unwrap(), None, 100).await.unwrap();
        assert_eq!(all.len(), 25);
        for n in 0..24 {
            assert!(all.iter().any(|m| m.body == format!("reply {n}")));
        }
        // Paging by number: the page before 10 holds 1..=9.
        let earlier = messages::page(&app.db, &messages::get(&app.db, &f.a.owner, c.id).await.unwrap(), Some(10), 50).await.unwrap();
        assert_eq!(earlier.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=9).collect::<Vec<i64>>());
        app.stop().await;
    }

    async fn a_burst_of_messages_makes_one_email_without_the_content(backend: Backend) {
        let app = TestApp::start_with(backend, |c| {
            c.jobs.notify_quiet_secs = 1;
            c.jobs.notify_longest_secs = 60;
        }).await;
        let f = Fixture::new(&app.db).await;
        let (client, client_email, _) = &f.a.clients[0];
        // The second client's person wants no notification emails.
        let quiet = client_viewer(&app.db, &f.a.owner, f.a.clients[1].0.id).await;
        portico_db::users::update_profile(&app.db, &quiet, &portico_db::users::Profile {
            name: "Client 2 Person".into(), phone: String::new(), notify: "off".into(), time_zone: String::new(),
        }, &Origin::system("test")).await.unwrap();

        let origin = Origin::system("test");
        let new = NewConversation { client_id: Some(client.id), title: "Secret title".into(), body: "secret body 0".into(), ..Default::default() };
        let (c, _) = messages::start(&app.db, &f.a.owner, &new, &origin).await.unwrap();
        for n in 1..50 {
            messages::reply(&app.db, &f.a.owner, c.id, &format!("secret body {n}"), &[], &origin).await.unwrap();
        }
        let other = NewConversation { client_id: Some(f.a.clients[1].0.id), title: "Other".into(), body: "for the quiet one".into(), ..Default::default() };
        messages::start(&app.db, &f.a.owner, &other, &origin).await.unwrap();

        let got = app.smtp.wait_for(1, Duration::from_secs(15)).await;
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let all = app.smtp.messages();
        assert_eq!(all.len(), 1, "one email for the burst, none for the person who turned them off: {all:?}");
        assert_eq!(got[0].to, vec![client_email.clone()]);
        let data = &all[0].data;
        assert!(data.contains("You have 50 new secure messages from Alpha Legal"), "{data}");
        assert!(data.contains("/notifications"));
        assert!(!data.contains("secret") && !data.contains("Secret"), "no content in the email");
        // The quiet one still has the in-app notification.
        assert_eq!(portico_db::notifications::unread(&app.db, &quiet).await.unwrap(), 1);
        app.stop().await;
    }

    async fn an_open_conversation_hears_new_messages_live_from_another_server(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, client_email, _) = &f.a.clients[0];
        // A second server on the same database: the reply is written there.
        let dir = tempfile::tempdir().unwrap();
        let mut config = app.config.clone();
        config.data = dir.path().to_path_buf();
        let services = portico::server::open(&config).await.unwrap();
        let second = portico::server::start(&config, services).await.unwrap();
        let staff_there = Browser::new(&format!("http://{}", second.addr));
        staff_there.login(&f.a.member_email, PASSWORD).await;

        let person = app.browser();
        person.login(client_email, PASSWORD).await;
        let href = staff_start(&staff_there, client.id, "Live", "hello").await;
        let id = conversation_id(&href);
        let page = person.get(&format!("/portal/messages/{id}")).await.body;
        assert!(page.contains(&format!("data-live=\"/messages/{id}/live?after=1\"")));

        let mut stream = person.with_cookie(person.raw().get(app.url(&format!("/messages/{id}/live?after=1")))).send().await.unwrap();
        assert_eq!(stream.status(), 200);
        assert_eq!(stream.headers()["content-type"], "text/event-stream");

        let sent = Instant::now();
        let reply = staff_there.submit(&href, &format!("{href}/reply"), &[("body", "Are you there? <i>x</i>")]).await;
        assert_eq!(reply.status, 303);
        let got = read_events(&mut stream, "Are you there?", Duration::from_secs(5)).await;
        let took = sent.elapsed();
        assert!(got.contains("event: message") && got.contains("id: 2"), "{got}");
        assert!(got.contains("Are you there? &lt;i&gt;x&lt;/i&gt;"), "escaped: {got}");
        assert!(took < Duration::from_secs(2), "took {took:?}");
        // Shown live, the message is read.
        let c = messages::get(&app.db, &f.a.owner, id).await.unwrap();
        let members = messages::members(&app.db, &c).await.unwrap();
        assert!(members.iter().any(|m| m.side == "client" && m.read_seq == 2));

        // Resuming after a dropped connection starts after the last message seen.
        let mut resumed = person.with_cookie(person.raw().get(app.url(&format!("/messages/{id}/live")))).header("last-event-id", "1").send().await.unwrap();
        assert!(read_events(&mut resumed, "Are you there?", Duration::from_secs(5)).await.contains("id: 2"));

        // The unread count in the page header follows what arrives.
        let mut counter = person.with_cookie(person.raw().get(app.url("/notifications/live"))).send().await.unwrap();
        assert!(read_events(&mut counter, "data: 0", Duration::from_secs(5)).await.contains("event: unread"));
        staff_start(&staff_there, client.id, "Another", "news").await;
        assert!(read_events(&mut counter, "data: 1", Duration::from_secs(5)).await.contains("data: 1"));

        // Signed out: the stream ends at its next update.
        let csrf = person.get("/portal").await.csrf();
        person.post("/logout", &[("csrf", csrf.as_str())]).await;
        // A stream trusts its last check for at most a second.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        staff_there.submit(&href, &format!("{href}/reply"), &[("body", "after logout")]).await;
        let rest = read_events(&mut stream, "after logout", Duration::from_secs(3)).await;
        assert!(!rest.contains("after logout"));
        drop((stream, counter, resumed));
        second.stop().await;
        app.stop().await;
    }
}

/// Sends the page's reply form: text and files as multipart.
async fn reply_with_files(
    who: &Browser,
    href: &str,
    body: &str,
    files: &[(&str, Vec<u8>)],
) -> crate::support::browser::Page {
    let csrf = who.get("/notifications").await.csrf();
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("body", body.to_string());
    for (name, bytes) in files {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
        );
    }
    who.send(
        who.raw()
            .post(who.url(&format!("{href}/upload")))
            .header("origin", who.url(""))
            .multipart(form),
    )
    .await
}

both! {
    async fn messages_carry_files_that_only_the_conversation_can_download(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, client_email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let person = app.browser();
        person.login(client_email, PASSWORD).await;
        let href = staff_start(&staff, client.id, "Documents", "Send them here").await;
        let id = conversation_id(&href);
        let page = format!("/portal/messages/{id}");

        // The client sends two files with a line of text; staff hear of it and download them.
        let scan: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sent = reply_with_files(&person, &page, "Here they are", &[("passport scan.pdf", scan.clone()), ("../../etc/passwd\u{202e}gpj.exe", b"evil".to_vec())]).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let shown = staff.get(&href).await.body;
        assert!(shown.contains("passport scan.pdf") && shown.contains("Here they are"));
        assert!(!shown.contains("../") && !shown.contains('\u{202e}'), "names are made safe");
        let c = messages::get(&app.db, &f.a.owner, id).await.unwrap();
        let list = messages::page(&app.db, &c, None, 10).await.unwrap();
        let files = &list.last().unwrap().attachments;
        assert_eq!(files.len(), 2);
        let pdf = files.iter().find(|a| a.name == "passport scan.pdf").unwrap();
        let got = staff.send(staff.raw().get(staff.url(&format!("/files/{}", pdf.file_id)))).await;
        assert_eq!(got.status, 200);
        let bytes = staff.with_cookie(staff.raw().get(staff.url(&format!("/files/{}", pdf.file_id)))).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(bytes.as_ref(), scan.as_slice(), "byte-identical");

        // Staff answer with a file alone; the client may download it, another client may not.
        let answer = reply_with_files(&staff, &href, "", &[("decision.txt", b"approved".to_vec()), ("<img src=x onerror=alert(1)>.svg", b"<svg onload=alert(1)/>".to_vec())]).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        let list = messages::page(&app.db, &c, None, 10).await.unwrap();
        let decision = list.last().unwrap().attachments.iter().find(|a| a.name == "decision.txt").unwrap().file_id;
        let svg = list.last().unwrap().attachments.iter().find(|a| a.name.ends_with(".svg")).unwrap().file_id;
        let seen = person.get(&page).await.body;
        assert!(seen.contains("&#60;img src=x onerror=alert(1)&#62;.svg") && !seen.contains("<img src=x"), "names shown escaped");
        let res = person.get(&format!("/files/{svg}")).await;
        assert!(res.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(res.headers["content-type"], "application/octet-stream");
        assert_eq!(person.get(&format!("/files/{decision}")).await.status, 200);
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        assert_eq!(other.get(&format!("/files/{decision}")).await.status, 404);
        assert_eq!(other.get(&format!("/files/{}", pdf.file_id)).await.status, 404);
        // Deleting the message takes its files out of the client's reach.
        staff.submit(&href, &format!("{href}/3/delete"), &[]).await;
        assert_eq!(person.get(&format!("/files/{decision}")).await.status, 404);

        // A token after the files, too many files, another client's conversation: nothing stays.
        let objects = app.storage.list("").await.unwrap().len();
        let csrf = person.get(&page).await.csrf();
        let late = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt")).text("csrf", csrf);
        let res = person.send(person.raw().post(person.url(&format!("{page}/upload"))).header("origin", person.url("")).multipart(late)).await;
        assert_eq!(res.status, 403);
        let many: Vec<(&str, Vec<u8>)> = (0..21).map(|_| ("same.txt", b"1".to_vec())).collect();
        let refused = reply_with_files(&person, &page, "too many", &many).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("at most 20 files"));
        let too_long = reply_with_files(&person, &page, &"z".repeat(messages::MAX_BODY_CHARS + 1), &[("a.txt", b"a".to_vec())]).await;
        assert_eq!(too_long.status, 422);
        assert!(too_long.body.contains("at most 20000 characters"));
        let theirs = staff_start(&staff, f.a.clients[1].0.id, "Theirs", "x").await;
        let into_other = reply_with_files(&person, &theirs.replace("/staff/", "/portal/"), "hi", &[("a.txt", b"a".to_vec())]).await;
        assert_eq!(into_other.status, 404);
        assert_eq!(app.storage.list("").await.unwrap().len(), objects, "no orphaned bytes");
        assert_eq!(messages::get(&app.db, &f.a.owner, id).await.unwrap().last_seq, 3);

        // Shared files and client uploads reach the other side's notifications.
        let before = portico_db::notifications::unread(&app.db, &client_viewer(&app.db, &f.a.owner, client.id).await).await.unwrap();
        portico_db::files::share(&app.db, &f.a.owner, client.id, &[decision], portico_db::shares::Audience::Client(client.id), &Origin::system("test")).await.unwrap();
        let notes = person.get("/notifications").await.body;
        assert!(notes.contains("The firm shared a file with you"));
        let after = portico_db::notifications::unread(&app.db, &client_viewer(&app.db, &f.a.owner, client.id).await).await.unwrap();
        assert_eq!(after, before + 1);
        assert!(staff.get("/notifications").await.body.contains("New message from a client"));
        app.stop().await;
    }
}

both! {
    async fn an_integration_starts_conversations_and_pages_through_messages(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let token = crate::api::token_for(&app, &f).await;
        let http = app.http();
        let (client, client_email, _) = &f.a.clients[0];

        let res = http.post(app.url(&format!("/api/v1/clients/{}/conversations", client.id))).bearer_auth(&token)
            .json(&serde_json::json!({"title": "From the case system", "body": "Hearing moved <to> Monday"})).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let c: serde_json::Value = res.json().await.unwrap();
        let id = c["id"].as_str().unwrap().to_string();
        for n in 2..=120 {
            let res = http.post(app.url(&format!("/api/v1/conversations/{id}/messages"))).bearer_auth(&token)
                .json(&serde_json::json!({"body": format!("update {n}")})).send().await.unwrap();
            assert_eq!(res.status(), 201);
        }
        // Paging back from the newest by number.
        let mut seen = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let url = match before { Some(b) => format!("/api/v1/conversations/{id}/messages?limit=50&before={b}"), None => format!("/api/v1/conversations/{id}/messages?limit=50") };
            let page: serde_json::Value = http.get(app.url(&url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            let mut seqs: Vec<i64> = page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
            seqs.append(&mut seen);
            seen = seqs;
            match page["next_before"].as_i64() { Some(b) => before = Some(b), None => break }
        }
        assert_eq!(seen, (1..=120).collect::<Vec<i64>>());
        let list: Vec<serde_json::Value> = http.get(app.url(&format!("/api/v1/conversations?client={}", client.id))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["last_seq"], 120);

        // The client reads it in the portal, stored byte-exact and shown escaped.
        let person = app.browser();
        person.login(client_email, PASSWORD).await;
        let page = person.get(&format!("/portal/messages/{id}")).await.body;
        assert!(page.contains("update 120") && page.contains("Earlier messages"));
        let first = person.get(&format!("/portal/messages/{id}?before=2")).await.body;
        assert!(first.contains("Hearing moved &lt;to&gt; Monday"));

        // Hostile: another firm's client and conversation, unknown fields, wrong types, too long, no token.
        let theirs = &f.b.clients[0].0;
        let res = http.post(app.url(&format!("/api/v1/clients/{}/conversations", theirs.id))).bearer_auth(&token)
            .json(&serde_json::json!({"title": "x", "body": "y"})).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let other_token = {
            let t = portico_services::tokens::new_token();
            portico_db::api_tokens::create(&app.db, &f.b.owner, "b", &portico_services::tokens::hash_token(&t), &Origin::system("test")).await.unwrap();
            t
        };
        let res = http.get(app.url(&format!("/api/v1/conversations/{id}/messages"))).bearer_auth(&other_token).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let res = http.post(app.url(&format!("/api/v1/conversations/{id}/messages"))).bearer_auth(&other_token)
            .json(&serde_json::json!({"body": "hi"})).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let res = http.post(app.url(&format!("/api/v1/conversations/{id}/messages"))).bearer_auth(&token)
            .json(&serde_json::json!({"body": "x", "author_side": "client"})).send().await.unwrap();
        assert!(res.status().is_client_error());
        let res = http.post(app.url(&format!("/api/v1/conversations/{id}/messages"))).bearer_auth(&token)
            .json(&serde_json::json!({"body": 42})).send().await.unwrap();
        assert!(res.status().is_client_error());
        let res = http.post(app.url(&format!("/api/v1/conversations/{id}/messages"))).bearer_auth(&token)
            .json(&serde_json::json!({"body": "x".repeat(messages::MAX_BODY_CHARS + 1)})).send().await.unwrap();
        assert_eq!(res.status(), 422);
        let err: serde_json::Value = res.json().await.unwrap();
        assert!(err["error"].as_str().unwrap().contains("at most 20000 characters"));
        let res = http.get(app.url(&format!("/api/v1/conversations/{id}/messages?before=abc"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 400);
        let res = http.get(app.url("/api/v1/conversations")).send().await.unwrap();
        assert_eq!(res.status(), 401);
        let c = messages::get(&app.db, &f.a.owner, uuid::Uuid::parse_str(&id).unwrap()).await.unwrap();
        assert_eq!(c.last_seq, 120, "nothing refused was stored");
        app.stop().await;
    }
}

both! {
    async fn digests_wait_a_day_and_notification_mail_survives_an_smtp_outage(backend: Backend) {
        let port = crate::support::smtp::SmtpSink::free_port();
        let app = TestApp::start_with(backend, |c| {
            c.mail.smtp_port = port;
            c.jobs.notify_quiet_secs = 1;
            c.jobs.notify_longest_secs = 60;
        }).await;
        let f = Fixture::new(&app.db).await;
        let origin = Origin::system("test");
        let daily = client_viewer(&app.db, &f.a.owner, f.a.clients[1].0.id).await;
        portico_db::users::update_profile(&app.db, &daily, &portico_db::users::Profile {
            name: "Client 2 Person".into(), phone: String::new(), notify: "daily".into(), time_zone: String::new(),
        }, &origin).await.unwrap();
        for (n, (client, _, _)) in f.a.clients.iter().enumerate() {
            let new = NewConversation { client_id: Some(client.id), title: format!("Note {n}"), body: "digest-secret".into(), ..Default::default() };
            messages::start(&app.db, &f.a.owner, &new, &origin).await.unwrap();
        }
        // The SMTP server is down while the batch falls due; it comes up later.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let sink = crate::support::smtp::SmtpSink::start_on(port).await;
        let got = sink.wait_for(1, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(got.len(), 1);
        assert_eq!(sink.messages().len(), 1, "sent once, and nothing yet for the daily digest");
        assert_eq!(got[0].to, vec![f.a.clients[0].1.clone()]);
        assert!(got[0].data.contains("You have a new secure message from Alpha Legal"));

        // A day later the digest goes out, once.
        let day_ago = portico_db::now() - time::Duration::hours(25);
        match &app.db {
            portico_db::Db::Sqlite(p) => { sqlx::query("UPDATE notifications SET created_at = $1 WHERE user_id = $2").bind(day_ago).bind(daily.user_id()).execute(p).await.unwrap(); }
            portico_db::Db::Postgres(p) => { sqlx::query("UPDATE notifications SET created_at = $1 WHERE user_id = $2").bind(day_ago).bind(daily.user_id()).execute(p).await.unwrap(); }
        }
        let got = sink.wait_for(2, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(sink.messages().len(), 2);
        assert_eq!(got[1].to, vec![f.a.clients[1].1.clone()]);
        assert!(!got[1].data.contains("digest-secret") && !got[1].data.contains("Note 1"));
        app.stop().await;
    }
}

both! {
    async fn people_of_the_client_can_be_added_to_a_conversation_later(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, client_email, _) = &f.a.clients[0];
        let colleague = portico_db::clients::add_portal_user(&app.db, &f.a.owner, client.id, "second@alpha-clients.example", "Sam Second", false, &Origin::system("test")).await.unwrap();
        crate::support::fixture::set_password(&app.db, colleague.user_id).await;
        let person = app.browser();
        person.login(client_email, PASSWORD).await;
        let cole = app.browser();
        cole.login("second@alpha-clients.example", PASSWORD).await;
        let csrf = person.get("/portal/messages/new").await.csrf();
        let started = person.post("/portal/messages", &[("csrf", csrf.as_str()), ("title", "Just me"), ("body", "Private so far")]).await;
        let href = started.location.unwrap();
        assert_eq!(cole.get(&href).await.status, 404);

        // The client adds the colleague, who then reads the whole history and is notified.
        let page = person.get(&href).await.body;
        assert!(page.contains("Add people") && page.contains("Sam Second"));
        let added = person.submit(&href, &format!("{href}/people"), &[("to", &colleague.user_id.to_string())]).await;
        assert_eq!(added.status, 303);
        assert!(cole.get(&href).await.body.contains("Private so far"));
        assert!(cole.get("/notifications").await.body.contains(&href));
        assert!(!person.get(&href).await.body.contains("Add people"), "nobody left to add");

        // Someone not of this client, nobody ticked, another client's conversation: refused.
        let id = conversation_id(&href);
        let stranger = portico_db::clients::portal_users(&app.db, &f.a.owner, f.a.clients[1].0.id).await.unwrap()[0].user_id;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let staff_href = format!("/staff/messages/{id}");
        assert_eq!(staff.submit(&staff_href, &format!("{staff_href}/people"), &[("to", &stranger.to_string())]).await.status, 422);
        assert_eq!(staff.submit(&staff_href, &format!("{staff_href}/people"), &[]).await.status, 422);
        assert_eq!(staff.submit(&staff_href, &format!("{staff_href}/people"), &[("to", "nope")]).await.status, 422);
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        let csrf = other.get("/portal/messages").await.csrf();
        let me = portico_db::clients::portal_users(&app.db, &f.a.owner, f.a.clients[1].0.id).await.unwrap()[0].user_id;
        assert_eq!(other.post(&format!("/portal/messages/{id}/people"), &[("csrf", csrf.as_str()), ("to", &me.to_string())]).await.status, 404);
        let members = messages::members(&app.db, &messages::get(&app.db, &f.a.owner, id).await.unwrap()).await.unwrap();
        assert_eq!(members.iter().filter(|m| m.side == "client").count(), 2, "nobody else of the client was added");
        app.stop().await;
    }
}
