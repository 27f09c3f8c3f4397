//! The firm workspace and the client dashboard: matter comments both ways, the dashboard's
//! cards and quick links, the client's access log, profiles, and the audit log's filters and
//! CSV export.

use portico_db::audit::{self, Event, Origin};

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn staff_and_client_comment_on_a_matter_and_each_sees_the_other(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (_, client_email, matters) = &f.a.clients[0];
        let m = &matters[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let client = app.browser();
        client.login(client_email, PASSWORD).await;

        let staff_page = format!("/staff/matters/{}", m.id);
        let posted = staff.submit(&staff_page, &format!("{staff_page}/comments"), &[("body", "Please bring your passport.\n<script>alert(1)</script>")]).await;
        assert_eq!(posted.status, 303);
        assert_eq!(posted.location.as_deref(), Some(format!("{staff_page}#comments").as_str()));

        // The client sees it on the matter and on the dashboard, escaped.
        let portal_page = format!("/portal/matters/{}", m.id);
        let seen = client.get(&portal_page).await;
        assert!(seen.body.contains("Please bring your passport."));
        assert!(seen.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;") && !seen.body.contains("<script>alert(1)"));
        let home = client.get("/portal").await;
        assert!(home.body.contains("Latest comments from the firm") && home.body.contains("Mo Member on"));
        assert!(home.body.contains("Please bring your passport."));

        // The client replies; staff see it, marked as the client's.
        let reply = client.submit(&portal_page, &format!("{portal_page}/comments"), &[("body", "I will, thank you.")]).await;
        assert_eq!(reply.status, 303);
        let staff_view = staff.get(&staff_page).await.body;
        let (first, second) = (staff_view.find("Please bring").unwrap(), staff_view.find("I will, thank you.").unwrap());
        assert!(first < second, "oldest first");
        assert!(staff_view.contains("Client 1 Person"));
        // What is waiting on the firm shows on the staff home page, and only this firm's.
        let staff_home = staff.get("/staff").await.body;
        assert!(staff_home.contains("Latest from clients") && staff_home.contains("I will, thank you."));
        assert!(staff_home.contains("Client 1 Person (Alpha Legal Client 1)"));
        let other_firm = app.browser();
        other_firm.login(&f.b.owner_email, PASSWORD).await;
        assert!(!other_firm.get("/staff").await.body.contains("I will, thank you."));

        // Too long: refused with the text kept for correcting; empty: refused; nothing stored.
        let long = "x".repeat(5_001);
        let refused = client.submit(&portal_page, &format!("{portal_page}/comments"), &[("body", long.as_str())]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("at most 5000 characters") && refused.body.contains(&long));
        assert_eq!(client.submit(&portal_page, &format!("{portal_page}/comments"), &[("body", "  ")]).await.status, 422);
        assert_eq!(portico_db::comments::for_matter(&app.db, &f.a.owner, m.id, 100).await.unwrap().len(), 2);

        // Someone else's matter, another firm's, a closed one, the wrong side's URL, no token.
        let other = &f.a.clients[1].2[0];
        let foreign = &f.b.clients[0].2[0];
        let csrf = client.get(&portal_page).await.csrf();
        for id in [other.id, foreign.id] {
            let p = client.post(&format!("/portal/matters/{id}/comments"), &[("csrf", csrf.as_str()), ("body", "hi")]).await;
            assert_eq!(p.status, 404);
            assert_eq!(client.get(&format!("/portal/matters/{id}")).await.status, 404);
        }
        assert_eq!(staff.get(&format!("/staff/matters/{}", foreign.id)).await.status, 404);
        let wrong_side = client.post(&format!("/staff/matters/{}/comments", m.id), &[("csrf", csrf.as_str()), ("body", "hi")]).await;
        assert_eq!(wrong_side.status, 404);
        assert_eq!(client.post(&format!("{portal_page}/comments"), &[("body", "no token")]).await.status, 403);
        portico_db::matters::set_portal_open(&app.db, &f.a.owner, m.id, false, &Origin::system("test")).await.unwrap();
        let closed = client.post(&format!("{portal_page}/comments"), &[("csrf", csrf.as_str()), ("body", "hi")]).await;
        assert_eq!(closed.status, 404);
        assert!(!client.get("/portal").await.body.contains("Please bring your passport."));
        assert_eq!(portico_db::comments::for_matter(&app.db, &f.a.owner, m.id, 100).await.unwrap().len(), 2);
        app.stop().await;
    }

    async fn the_dashboard_shows_the_clients_cards_and_the_firms_quick_links(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;

        let home = client.get("/portal").await;
        assert!(home.body.contains("Your matters") && home.body.contains("See all (2)"));
        assert!(home.body.contains(&f.a.clients[0].2[0].title) && !home.body.contains(&f.a.clients[1].2[0].title));
        assert!(home.body.contains("No comments yet.") && !home.body.contains("Quick links"));
        assert!(home.body.contains("href=\"/portal/matters\"") && home.body.contains("href=\"/account/profile\""));

        // Web addresses only: every other scheme is refused and nothing is stored.
        for bad in ["javascript:alert(document.cookie)", " JavaScript:alert(1)", "data:text/html,<b>x</b>", "vbscript:msgbox", "//evil.example", "file:///etc/passwd"] {
            let p = admin.submit("/staff/settings", "/staff/settings/quick-links", &[("label", "Pay"), ("url", bad)]).await;
            assert_eq!(p.status, 422, "{bad} accepted");
            assert!(p.body.contains("Use a web address starting with https://."));
        }
        let added = admin.submit("/staff/settings", "/staff/settings/quick-links", &[("label", "Pay an invoice <b>now</b>"), ("url", "https://pay.example/alpha")]).await;
        assert_eq!(added.status, 303);
        let home = client.get("/portal").await;
        assert!(home.body.contains("Quick links") && home.body.contains("href=\"https://pay.example/alpha\""));
        assert!(home.body.contains("Pay an invoice &#60;b&#62;now&#60;/b&#62;"));
        // Another firm's clients do not see it.
        let other = app.browser();
        other.login(&f.b.clients[0].1, PASSWORD).await;
        assert!(!other.get("/portal").await.body.contains("pay.example"));

        // Only administrators manage links, and only their own firm's.
        let links = portico_db::firms::quick_links(&app.db, &f.a.owner).await.unwrap();
        assert_eq!(links.len(), 1);
        let member = app.browser();
        member.login(&f.a.member_email, PASSWORD).await;
        let csrf = member.get("/staff").await.csrf();
        assert_eq!(member.post(&format!("/staff/settings/quick-links/{}/remove", links[0].id), &[("csrf", csrf.as_str())]).await.status, 404);
        let b_admin = app.browser();
        b_admin.login(&f.b.owner_email, PASSWORD).await;
        let csrf = b_admin.get("/staff/settings").await.csrf();
        assert_eq!(b_admin.post(&format!("/staff/settings/quick-links/{}/remove", links[0].id), &[("csrf", csrf.as_str())]).await.status, 404);
        assert_eq!(b_admin.post("/staff/settings/quick-links/not-an-id/remove", &[("csrf", csrf.as_str())]).await.status, 404);
        assert_eq!(portico_db::firms::quick_links(&app.db, &f.a.owner).await.unwrap().len(), 1);
        let removed = admin.submit("/staff/settings", &format!("/staff/settings/quick-links/{}/remove", links[0].id), &[]).await;
        assert_eq!(removed.status, 303);
        assert!(!client.get("/portal").await.body.contains("pay.example"));

        // At most twelve links.
        for n in 0..12 {
            portico_db::firms::add_quick_link(&app.db, &f.a.owner, &format!("Link {n}"), "https://x.example/", &Origin::system("test")).await.unwrap();
        }
        let full = admin.submit("/staff/settings", "/staff/settings/quick-links", &[("label", "One more"), ("url", "https://x.example/")]).await;
        assert_eq!(full.status, 422);
        assert!(full.body.contains("at most 12 quick links"));
        app.stop().await;
    }

    async fn a_client_reads_when_staff_opened_their_matters_unless_the_firm_turns_it_off(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, matters) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let client = app.browser();
        client.login(email, PASSWORD).await;
        assert!(client.get("/portal/access-log").await.body.contains("Nobody at the firm has opened your items yet."));

        // Staff open a matter twice (counted once) and the client's view does not count.
        staff.get(&format!("/staff/matters/{}", matters[0].id)).await;
        staff.get(&format!("/staff/matters/{}", matters[0].id)).await;
        client.get(&format!("/portal/matters/{}", matters[1].id)).await;
        let log = client.get("/portal/access-log").await;
        assert!(log.body.contains("href=\"/portal/access-log\""));
        assert!(log.body.contains("Mo Member") && log.body.contains(&matters[0].title));
        assert_eq!(log.body.matches("<td>Mo Member</td>").count(), 1);
        assert!(!log.body.contains(&matters[1].title));
        // Staff read the same from the client's page; the other client's log is empty.
        let staff_log = staff.get(&format!("/staff/clients/{}/access-log", c1.id)).await;
        assert!(staff_log.body.contains(&matters[0].title));
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        assert!(!other.get("/portal/access-log").await.body.contains(&matters[0].title));
        // Another firm's staff cannot read it.
        let b_staff = app.browser();
        b_staff.login(&f.b.owner_email, PASSWORD).await;
        assert_eq!(b_staff.get(&format!("/staff/clients/{}/access-log", c1.id)).await.status, 404);
        assert_eq!(client.get(&format!("/staff/clients/{}/access-log", c1.id)).await.status, 404);

        // The firm turns it off: the client's page and link go away; staff still see it.
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let off = admin.submit("/staff/settings", "/staff/settings", &[("name", "Alpha Legal"), ("brand_colour", "#1f5fa8"), ("idle_timeout_minutes", "30"), ("absolute_timeout_hours", "12")]).await;
        assert_eq!(off.status, 303);
        assert_eq!(client.get("/portal/access-log").await.status, 404);
        assert!(!client.get("/portal").await.body.contains("/portal/access-log"));
        assert_eq!(staff.get(&format!("/staff/clients/{}/access-log", c1.id)).await.status, 200);
        app.stop().await;
    }

    async fn a_person_edits_their_profile_and_bad_values_change_nothing(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        let page = client.get("/account/profile").await;
        assert!(page.body.contains("value=\"immediately\" checked"));
        let saved = client.submit("/account/profile", "/account/profile", &[("name", "Ana <i>Lima</i>"), ("phone", "+1 (555) 010-2030"), ("notify", "daily")]).await;
        assert_eq!(saved.status, 303);
        let page = client.get("/account/profile?saved=1").await;
        assert!(page.body.contains("Saved.") && page.body.contains("value=\"daily\" checked"));
        assert!(page.body.contains("Ana &#60;i&#62;Lima&#60;/i&#62;") && page.body.contains("+1 (555) 010-2030"));

        for (field, value, message) in [
            ("phone", "call me maybe", "Use digits"),
            ("notify", "hourly", "Choose one of the offered options."),
            ("name", "   ", "This field is required."),
            ("name", "a\u{0}b", "Remove the control characters."),
        ] {
            let mut form = vec![("name", "Ana"), ("phone", ""), ("notify", "off")];
            form.retain(|(k, _)| *k != field);
            form.push((field, value));
            let p = client.submit("/account/profile", "/account/profile", &form).await;
            assert_eq!(p.status, 422, "{field}={value:?}");
            assert!(p.body.contains(message), "{field}: {}", p.body);
        }
        // A time zone from the database changes how times read; anything else is refused.
        let bad_zone = client.submit("/account/profile", "/account/profile", &[("name", "Ana"), ("notify", "daily"), ("time_zone", "Mars/Olympus")]).await;
        assert_eq!(bad_zone.status, 422);
        assert!(bad_zone.body.contains("Choose a time zone from the list"));
        let zoned = client.submit("/account/profile", "/account/profile", &[("name", "Ana <i>Lima</i>"), ("phone", "+1 (555) 010-2030"), ("notify", "daily"), ("time_zone", "Asia/Tokyo")]).await;
        assert_eq!(zoned.status, 303);
        let sessions = client.get("/account/sessions").await.body;
        assert!(sessions.contains(" JST"), "{sessions}");
        assert!(client.get("/account/profile").await.body.contains("value=\"Asia/Tokyo\""));

        // A wrong type or a missing field is a clear 400/422, never a change.
        let csrf = client.get("/account/profile").await.csrf();
        let p = client.post("/account/profile", &[("csrf", csrf.as_str()), ("phone", "1")]).await;
        assert!(p.status == 400 || p.status == 422);
        let user = portico_db::users::by_email(&app.db, &f.a.clients[0].1).await.unwrap().unwrap();
        assert_eq!((user.name.as_str(), user.notify.as_str()), ("Ana <i>Lima</i>", "daily"));
        app.stop().await;
    }

    async fn administrators_filter_the_audit_log_and_export_it_safely(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let hostile = Origin::system("=HYPERLINK(\"http://evil.example\",\"x\")");
        audit::record(&app.db, &hostile, Event::new(Some(f.a.id), "test.hostile").detail("+SUM(1,2)")).await.unwrap();
        audit::record(&app.db, &Origin::system("test"), Event::new(Some(f.b.id), "test.other_firm")).await.unwrap();

        let all = admin.get("/staff/audit").await;
        assert!(all.body.contains("client.create") && all.body.contains("test.hostile"));
        assert!(!all.body.contains("test.other_firm"));
        let sessions = admin.get("/staff/audit?action=session.").await;
        assert!(sessions.body.contains("session.") && !sessions.body.contains("client.create"));
        let by_actor = admin.get("/staff/audit?actor=OWNER%40alpha").await;
        assert!(by_actor.body.contains("owner@alpha.example") && !by_actor.body.contains("test.hostile"));
        // LIKE wildcards typed by the administrator match literally.
        assert!(admin.get("/staff/audit?action=%25").await.body.contains("No events match."));
        assert!(admin.get("/staff/audit?from=2999-01-01").await.body.contains("No events match."));
        let today = time::OffsetDateTime::now_utc().date().to_string();
        assert!(admin.get(&format!("/staff/audit?from={today}&to={today}")).await.body.contains("test.hostile"));
        assert_eq!(admin.get("/staff/audit?from=yesterday").await.status, 422);
        assert_eq!(admin.get("/staff/audit?before=abc").await.status, 400);

        let csv = admin.get("/staff/audit.csv?action=test.").await;
        assert_eq!(csv.status, 200);
        assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(csv.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines[0], "seq,time,actor,action,object_type,object_id,ip,request_id,detail");
        assert_eq!(lines.len(), 2, "{}", csv.body);
        assert!(lines[1].contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"") && lines[1].contains("\"'+SUM(1,2)\""));
        assert!(!csv.body.contains("test.other_firm"));
        // The export itself is recorded.
        assert!(admin.get("/staff/audit?action=audit.export").await.body.contains("audit.export"));

        // Members and clients see neither.
        let member = app.browser();
        member.login(&f.a.member_email, PASSWORD).await;
        assert_eq!(member.get("/staff/audit").await.status, 404);
        assert_eq!(member.get("/staff/audit.csv").await.status, 404);
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert_eq!(client.get("/staff/audit.csv").await.status, 404);
        app.stop().await;
    }

    async fn paging_the_audit_log_and_exporting_more_than_one_batch(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let origin = Origin::system("bulk");
        for n in 0..1_050 {
            audit::record(&app.db, &origin, Event::new(Some(f.a.id), "bulk.event").detail(n.to_string())).await.unwrap();
        }
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let first = admin.get("/staff/audit?action=bulk.").await;
        assert_eq!(first.body.matches("<td>bulk.event</td>").count(), 100);
        let older = first.body.split("&amp;before=").nth(1).unwrap().split('"').next().unwrap().to_string();
        let second = admin.get(&format!("/staff/audit?action=bulk.&before={older}")).await;
        assert_eq!(second.body.matches("<td>bulk.event</td>").count(), 100);
        let csv = admin.get("/staff/audit.csv?action=bulk.").await;
        assert_eq!(csv.body.lines().count(), 1 + 1_050);
        app.stop().await;
    }

    async fn a_closed_portal_tells_the_client_so_and_reopening_restores_everything(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, matters) = &f.a.clients[0];
        let client = app.browser();
        client.login(email, PASSWORD).await;
        let matter_page = format!("/portal/matters/{}", matters[0].id);
        client.submit(&matter_page, &format!("{matter_page}/comments"), &[("body", "Kept while closed")]).await;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let closed = staff.submit(&format!("/staff/clients/{}", c1.id), &format!("/staff/clients/{}/portal", c1.id), &[("open", "false")]).await;
        assert_eq!(closed.status, 303);

        // The next request says the portal is closed, on every page, and shows nothing of it.
        for path in ["/portal", matter_page.as_str(), "/portal/access-log", "/account/switch"] {
            let p = client.get(path).await;
            assert_eq!(p.status, 403, "{path}");
            assert!(p.body.contains("Alpha Legal has closed this portal for now."), "{path}");
            assert!(p.body.contains("Your portal is closed") && p.body.contains(&format!("/brand/{}.css", f.a.slug)), "in the firm's colours: {path}");
            assert!(p.body.contains(&format!("href=\"/login?firm={}\"", f.a.slug)), "a way to sign in as someone else");
            assert!(!p.body.contains("Kept while closed"));
        }
        // Signing in again says the same after a right password, and only then.
        let again = app.browser();
        let p = again.login(email, PASSWORD).await;
        assert_eq!(p.status, 401);
        assert!(p.body.contains("has closed this portal for now"));
        let wrong = again.login(email, "not the password at all").await;
        assert!(!wrong.body.contains("closed this portal"));
        // The login page itself still opens for the old browser.
        assert_eq!(client.get("/login").await.status, 200);

        // Reopened: everything is back.
        staff.submit(&format!("/staff/clients/{}", c1.id), &format!("/staff/clients/{}/portal", c1.id), &[("open", "true")]).await;
        assert!(client.get(&matter_page).await.body.contains("Kept while closed"));
        assert_eq!(again.login(email, PASSWORD).await.status, 303);
        assert!(again.get("/portal").await.body.contains("See all (2)"));
        app.stop().await;
    }

    async fn people_of_one_company_see_its_items_and_never_another_companys(backend: Backend) {
        use portico_db::clients::{self, NewClient};
        use portico_db::shares::{self, Audience};
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let origin = Origin::system("test");
        let company = |name: &str| NewClient { kind: "organisation".into(), name: name.into(), email: None };
        let x = clients::create(&app.db, &f.a.owner, &company("Xylo Ltd"), &origin).await.unwrap();
        let y = clients::create(&app.db, &f.a.owner, &company("Yarrow Ltd"), &origin).await.unwrap();
        let new_matter = |title: &str| portico_db::matters::NewMatter { title: title.into(), reference: String::new(), description: String::new() };
        let mx = portico_db::matters::create(&app.db, &f.a.owner, x.id, &new_matter("Xylo licensing"), &origin).await.unwrap();
        let my = portico_db::matters::create(&app.db, &f.a.owner, y.id, &new_matter("Yarrow merger"), &origin).await.unwrap();
        portico_db::comments::add(&app.db, &f.a.owner, my.id, "Yarrow board minutes", &origin).await.unwrap();
        // Users of both companies share one email domain.
        for (client, email, admin) in [(&x, "ann@shared.example", true), (&x, "abe@shared.example", false), (&y, "bea@shared.example", true)] {
            let pu = clients::add_portal_user(&app.db, &f.a.owner, client.id, email, "Someone", admin, &origin).await.unwrap();
            let hash = portico_services::passwords::PasswordHasher::new(1).hash(PASSWORD).await;
            let mut tx = app.db.begin().await.unwrap();
            portico_db::users::set_password_hash(&mut tx, pu.user_id, &hash).await.unwrap();
            tx.commit().await.unwrap();
        }
        let (note_x, note_y) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        shares::share(&app.db, &f.a.owner, "note", note_x, Audience::Client(x.id), &origin).await.unwrap();
        shares::share(&app.db, &f.a.owner, "note", note_y, Audience::Matter(my.id), &origin).await.unwrap();

        for email in ["ann@shared.example", "abe@shared.example"] {
            let b = app.browser();
            b.login(email, PASSWORD).await;
            let home = b.get("/portal").await.body;
            assert!(home.contains("Xylo licensing") && !home.contains("Yarrow"), "{email}");
            assert!(b.get("/portal/matters").await.body.contains("Xylo licensing"));
            assert_eq!(b.get(&format!("/portal/matters/{}", mx.id)).await.status, 200);
            assert_eq!(b.get(&format!("/portal/matters/{}", my.id)).await.status, 404);
            let csrf = b.get("/portal").await.csrf();
            assert_eq!(b.post(&format!("/portal/matters/{}/comments", my.id), &[("csrf", csrf.as_str()), ("body", "peek")]).await.status, 404);
            let u = portico_db::users::by_email(&app.db, email).await.unwrap().unwrap();
            let m = portico_db::users::memberships(&app.db, u.id).await.unwrap().remove(0);
            let viewer = portico_db::users::viewer_for(&app.db, u.id, portico_db::users::Context::Client, m.membership_id).await.unwrap().unwrap();
            assert_eq!(shares::visible_to_client(&app.db, &viewer, "note").await.unwrap(), vec![note_x]);
            assert!(matches!(shares::mark_read(&app.db, &viewer, "note", note_y).await, Err(portico_db::DbError::NotFound)));
            assert!(matches!(shares::read_marks(&app.db, &viewer, "note", y.id, &[note_y]).await, Err(portico_db::DbError::NotFound)));
        }
        // The company's admin manages colleagues of their own company only.
        let ann = app.browser();
        ann.login("ann@shared.example", PASSWORD).await;
        let colleagues = ann.get("/portal/colleagues").await.body;
        assert!(colleagues.contains("abe@shared.example") && !colleagues.contains("bea@shared.example"));
        app.stop().await;
    }

    async fn practices_that_ask_get_their_clients_insurance_details(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert!(!client.get("/account/profile").await.body.contains("Insurance company"));
        let form = [("provider", "Aetna"), ("member_id", "W123 456"), ("group", "")];
        let csrf = client.get("/account/profile").await.csrf();
        let mut with_token = vec![("csrf", csrf.as_str())];
        with_token.extend_from_slice(&form);
        assert_eq!(client.post("/account/profile/insurance", &with_token).await.status, 404, "not asked");

        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let settings = [("name", "Alpha Legal"), ("brand_colour", "#1f5fa8"), ("idle_timeout_minutes", "30"), ("absolute_timeout_hours", "12"), ("ask_insurance", "on")];
        assert_eq!(admin.submit("/staff/settings", "/staff/settings", &settings).await.status, 303);
        assert!(client.get("/account/profile").await.body.contains("Insurance company"));
        let saved = client.submit("/account/profile", "/account/profile/insurance", &[("provider", "Aetna <Health>"), ("member_id", "W123 456"), ("group", "G-77")]).await;
        assert_eq!(saved.status, 303);
        let staff_page = admin.get(&format!("/staff/clients/{}", f.a.clients[0].0.id)).await.body;
        assert!(staff_page.contains("Insurance: Aetna &#60;Health&#62; · member W123 456 · group G-77"), "{staff_page}");

        let long = "9".repeat(61);
        let bad = client.submit("/account/profile", "/account/profile/insurance", &[("provider", "Aetna"), ("member_id", long.as_str())]).await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Use at most 60 characters.") && bad.body.contains(&long));
        let bad = client.submit("/account/profile", "/account/profile/insurance", &[("provider", "Ae\u{7}tna")]).await;
        assert_eq!(bad.status, 422);
        // Staff have no insurance form; another firm's clients are not asked.
        let csrf = admin.get("/staff").await.csrf();
        assert_eq!(admin.post("/account/profile/insurance", &[("csrf", csrf.as_str()), ("provider", "x")]).await.status, 404);
        let other = app.browser();
        other.login(&f.b.clients[0].1, PASSWORD).await;
        assert!(!other.get("/account/profile").await.body.contains("Insurance company"));
        let kept = portico_db::clients::portal_users(&app.db, &f.a.owner, f.a.clients[0].0.id).await.unwrap();
        assert_eq!(kept[0].insurance.member_id, "W123 456");
        app.stop().await;
    }
}
