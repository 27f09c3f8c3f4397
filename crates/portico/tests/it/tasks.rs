//! Tasks: staff give a client tasks; the client ticks them off and may undo it; staff see who
//! did and when; overdue ones stand out; more than a page of either kind pages on.

use portico_db::audit::Origin;
use portico_db::tasks::{self, NewTask};

use crate::both;
use crate::support::fixture::{PASSWORD, client_viewer};
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn a_client_ticks_off_the_firms_tasks_and_staff_see_who_did(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, matters) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let person = app.browser();
        person.login(email, PASSWORD).await;

        let page = format!("/staff/clients/{}/tasks", client.id);
        let given = staff.submit(&page, &page, &[("title", "Sign the <engagement> letter"), ("due_on", "2020-01-31"), ("matter", &matters[0].id.to_string())]).await;
        assert_eq!(given.status, 303, "{}", given.body);
        staff.submit(&page, &page, &[("title", "Send your passport scan"), ("description", "Both pages.")]).await;

        // The client sees them on the dashboard and the tasks page; the dated one is overdue.
        let home = person.get("/portal").await.body;
        assert!(home.contains("Tasks") && home.contains("Sign the &#60;engagement&#62; letter") && home.contains("due 2020-01-31") && home.contains("See all (2)"));
        assert!(person.get("/notifications").await.body.contains("The firm gave you a task"));
        let list = person.get("/portal/tasks").await.body;
        assert!(list.contains("Overdue: was due 2020-01-31") && list.contains("Both pages."));
        let (first, second) = (list.find("engagement").unwrap(), list.find("passport").unwrap());
        assert!(first < second, "dated tasks first");

        // Ticked off: staff see by whom and when; undone: open again.
        let id = tasks::for_client(&app.db, &f.a.owner, client.id, false, 10, 0).await.unwrap()[0].id;
        let done = person.submit("/portal/tasks", &format!("/portal/tasks/{id}/done"), &[("done", "true")]).await;
        assert_eq!(done.status, 303);
        let staff_view = staff.get(&page).await.body;
        assert!(staff_view.contains("Done by Client 1 Person on"), "{staff_view}");
        // Ticking twice changes nothing.
        person.submit("/portal/tasks", &format!("/portal/tasks/{id}/done"), &[("done", "true")]).await;
        let events = portico_db::audit::recent_for_firm(&app.db, &f.a.owner, 50).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.action == "task.complete").count(), 1);
        person.submit("/portal/tasks", &format!("/portal/tasks/{id}/done"), &[("done", "false")]).await;
        assert!(person.get("/portal/tasks").await.body.contains("Nothing done yet."));

        // Hostile: another client's and another firm's task, the wrong side, no token, bad input.
        let viewer_b = client_viewer(&app.db, &f.a.owner, f.a.clients[1].0.id).await;
        let other = tasks::create(&app.db, &f.a.owner, f.a.clients[1].0.id, &NewTask { title: "Theirs".into(), ..Default::default() }, &Origin::system("test")).await.unwrap();
        let foreign = tasks::create(&app.db, &f.b.owner, f.b.clients[0].0.id, &NewTask { title: "Foreign".into(), ..Default::default() }, &Origin::system("test")).await.unwrap();
        let csrf = person.get("/portal/tasks").await.csrf();
        for t in [other, foreign] {
            assert_eq!(person.post(&format!("/portal/tasks/{t}/done"), &[("csrf", csrf.as_str()), ("done", "true")]).await.status, 404);
        }
        assert!(tasks::for_client(&app.db, &viewer_b, f.a.clients[1].0.id, true, 10, 0).await.unwrap().is_empty());
        assert_eq!(person.post(&format!("/staff/tasks/{id}/done"), &[("csrf", csrf.as_str()), ("done", "true")]).await.status, 404);
        assert_eq!(person.post(&format!("/portal/tasks/{id}/done"), &[("done", "true")]).await.status, 403);
        assert_eq!(person.post(&format!("/portal/tasks/{id}/done"), &[("csrf", csrf.as_str()), ("done", "maybe")]).await.status, 422);
        assert_eq!(staff.get(&format!("/staff/clients/{}/tasks", f.b.clients[0].0.id)).await.status, 404);
        let bad_date = staff.submit(&page, &page, &[("title", "Dated"), ("due_on", "31/01/2020")]).await;
        assert_eq!(bad_date.status, 422);
        assert!(bad_date.body.contains("YYYY-MM-DD") && bad_date.body.contains("31/01/2020"));
        assert_eq!(staff.submit(&page, &page, &[("title", &"t".repeat(201))]).await.status, 422);
        let wrong_matter = staff.submit(&page, &page, &[("title", "x"), ("matter", &f.a.clients[1].2[0].id.to_string())]).await;
        assert_eq!(wrong_matter.status, 404);
        // A closed matter's task is hidden from the client.
        portico_db::matters::set_portal_open(&app.db, &f.a.owner, matters[0].id, false, &Origin::system("test")).await.unwrap();
        assert!(!person.get("/portal/tasks").await.body.contains("engagement"));
        assert_eq!(person.post(&format!("/portal/tasks/{id}/done"), &[("csrf", csrf.as_str()), ("done", "true")]).await.status, 404);
        app.stop().await;
    }

    async fn a_hundred_open_and_a_hundred_done_then_paging(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let origin = Origin::system("test");
        let mut ids = Vec::new();
        for n in 0..230 {
            let new = NewTask { title: format!("Task {n:03}"), due_on: format!("2030-01-{:02}", n % 28 + 1), ..Default::default() };
            ids.push(tasks::create(&app.db, &f.a.owner, client.id, &new, &origin).await.unwrap());
        }
        for id in &ids[..105] {
            tasks::set_done(&app.db, &f.a.owner, *id, true, &origin).await.unwrap();
        }
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let count = |body: &str, what: &str| body.matches(what).count();
        let first = person.get("/portal/tasks").await.body;
        assert_eq!(count(&first, "value=\"true\""), 100, "100 open");
        assert_eq!(count(&first, "value=\"false\""), 100, "the last 100 done");
        assert!(first.contains("More to do") && first.contains("Earlier done"));
        let next = person.get("/portal/tasks?open=2&done=2").await.body;
        assert_eq!(count(&next, "value=\"true\""), 25);
        assert_eq!(count(&next, "value=\"false\""), 5);
        assert!(!next.contains("More to do") && !next.contains("Earlier done"));
        app.stop().await;
    }

    async fn clients_are_reminded_once_of_tasks_falling_due(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, _, _) = &f.a.clients[0];
        let origin = Origin::system("test");
        let viewer = client_viewer(&app.db, &f.a.owner, client.id).await;
        let soon = (portico_db::now() + time::Duration::days(1)).date().to_string();
        let later = (portico_db::now() + time::Duration::days(10)).date().to_string();
        for (title, due) in [("Soon", soon.as_str()), ("Overdue", "2020-01-01"), ("Later", later.as_str()), ("Undated", "")] {
            tasks::create(&app.db, &f.a.owner, client.id, &NewTask { title: title.into(), due_on: due.into(), ..Default::default() }, &origin).await.unwrap();
        }
        let done = tasks::create(&app.db, &f.a.owner, client.id, &NewTask { title: "Done".into(), due_on: "2020-01-01".into(), ..Default::default() }, &origin).await.unwrap();
        tasks::set_done(&app.db, &viewer, done, true, &origin).await.unwrap();
        portico_db::notifications::mark_read(&app.db, &viewer, None).await.unwrap();

        // Two servers' workers racing: two tasks are due, each reminded once.
        let (a, b) = tokio::join!(portico_db::system::tasks::send_reminders(&app.db), portico_db::system::tasks::send_reminders(&app.db));
        assert_eq!(a.unwrap() + b.unwrap(), 2);
        assert_eq!(portico_db::system::tasks::send_reminders(&app.db).await.unwrap(), 0);
        let list = portico_db::notifications::list(&app.db, &viewer, 20).await.unwrap();
        assert_eq!(list.iter().filter(|n| portico_web::notices::sentence(&n.about) == "A task is due" && n.read_at.is_none()).count(), 2);
        app.stop().await;
    }
}

both! {
    async fn a_task_points_at_a_document_or_asks_for_a_file_that_the_clients_upload_fulfils(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let files_page = format!("/staff/clients/{}/files", client.id);
        let up = crate::files::upload(&staff, &files_page, &format!("{files_page}/upload"), &[("engagement.pdf", b"%PDF-1.4 letter".to_vec()), ("internal.txt", b"notes".to_vec())]).await;
        assert_eq!(up.status, 303);
        let listed = portico_db::files::for_client(&app.db, &f.a.owner, client.id, 10).await.unwrap();
        let letter = listed.iter().find(|x| x.name == "engagement.pdf").unwrap().id;
        let internal = listed.iter().find(|x| x.name == "internal.txt").unwrap().id;
        portico_db::files::share(&app.db, &f.a.owner, client.id, &[letter], portico_db::shares::Audience::Client(client.id), &Origin::system("test")).await.unwrap();

        // A document to read: only one the client can see, of this client.
        let page = format!("/staff/clients/{}/tasks", client.id);
        let form = staff.get(&page).await.body;
        assert!(form.contains("engagement.pdf") && !form.contains("internal.txt"));
        let unshared = staff.submit(&page, &page, &[("title", "Read this"), ("document", &internal.to_string())]).await;
        assert_eq!(unshared.status, 422);
        assert!(unshared.body.contains("Share the document with the client first"));
        let other_up = crate::files::upload(&staff, &format!("/staff/clients/{}/files", f.a.clients[1].0.id), &format!("/staff/clients/{}/files/upload", f.a.clients[1].0.id), &[("theirs.txt", b"x".to_vec())]).await;
        assert_eq!(other_up.status, 303);
        let theirs = portico_db::files::for_client(&app.db, &f.a.owner, f.a.clients[1].0.id, 10).await.unwrap()[0].id;
        assert_eq!(staff.submit(&page, &page, &[("title", "Read theirs"), ("document", &theirs.to_string())]).await.status, 404);
        assert_eq!(staff.submit(&page, &page, &[("title", "Read the engagement letter"), ("document", &letter.to_string())]).await.status, 303);
        assert_eq!(staff.submit(&page, &page, &[("title", "Send your passport scan"), ("wants_upload", "on")]).await.status, 303);
        let list = person.get("/portal/tasks").await.body;
        assert!(list.contains(&format!("href=\"/files/{letter}\"")) && list.contains("Read “engagement.pdf”"));
        assert!(list.contains("/upload\" enctype=\"multipart/form-data\""));
        assert_eq!(person.get(&format!("/files/{letter}")).await.status, 200);

        // The client answers the request with a file: the task is done and staff see the file.
        let open = tasks::for_client(&app.db, &f.a.owner, client.id, false, 10, 0).await.unwrap();
        let request = open.iter().find(|t| t.wants_upload).unwrap().id;
        let plain = open.iter().find(|t| !t.wants_upload).unwrap().id;
        let action = format!("/portal/tasks/{request}/upload");
        // Hostile first: no token, a task that asks for no file, another client's request.
        let no_token = person.send(person.raw().post(person.url(&action)).header("origin", person.url(""))
            .multipart(reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt")))).await;
        assert_eq!(no_token.status, 403);
        assert_eq!(crate::files::upload(&person, "/portal/tasks", &format!("/portal/tasks/{plain}/upload"), &[("p.jpg", b"x".to_vec())]).await.status, 422);
        let theirs_task = tasks::create(&app.db, &f.a.owner, f.a.clients[1].0.id, &NewTask { title: "Theirs".into(), wants_upload: true, ..Default::default() }, &Origin::system("test")).await.unwrap();
        assert_eq!(crate::files::upload(&person, "/portal/tasks", &format!("/portal/tasks/{theirs_task}/upload"), &[("p.jpg", b"x".to_vec())]).await.status, 404);
        let files_before = portico_db::files::for_client(&app.db, &f.a.owner, client.id, 50).await.unwrap().len();
        assert_eq!(files_before, 2, "nothing was stored for refused uploads");

        let sent = crate::files::upload(&person, "/portal/tasks", &action, &[("../../passport scan.jpg", b"\xff\xd8\xff passport".to_vec())]).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let staff_view = staff.get(&page).await.body;
        assert!(staff_view.contains("Done by Client 1 Person on") && staff_view.contains("passport scan.jpg"), "{staff_view}");
        assert!(staff.get("/notifications").await.body.contains("A client uploaded a file"));
        // A second upload to the same request is refused; the first stays.
        let again = crate::files::upload(&person, "/portal/tasks", &action, &[("again.jpg", b"x".to_vec())]).await;
        assert_eq!(again.status, 409);
        let done = tasks::for_client(&app.db, &f.a.owner, client.id, true, 10, 0).await.unwrap();
        let fulfilled = done.iter().find(|t| t.id == request).unwrap();
        assert_eq!(fulfilled.upload_name.as_deref(), Some("passport scan.jpg"));
        let bytes = portico_db::files::get(&app.db, &f.a.owner, fulfilled.upload_id.unwrap()).await.unwrap();
        assert_eq!(bytes.size, 12);
        app.stop().await;
    }
}
