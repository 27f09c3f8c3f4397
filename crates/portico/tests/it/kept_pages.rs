//! Busy pages keep their data between visits: a repeat visit with nothing changed costs the
//! session check alone, and any change, through any server, shows on the next load.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

/// Requests and SQL statements the server has counted for `route`, from its metrics.
async fn route_counts(app: &TestApp, route: &str) -> (u64, u64) {
    let text = app
        .http()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let read = |name: &str| {
        let prefix = format!("{name}{{route=\"{route}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |n| n.trim().parse().unwrap())
    };
    (
        read("portico_route_requests_total"),
        read("portico_route_sql_statements_total"),
    )
}

/// A second server on the first one's database.
async fn second_server(first: &TestApp, backend: Backend) -> TestApp {
    let url = first.config.database.url.clone();
    TestApp::start_with(backend, move |c| c.database.url = url).await
}

both! {
    async fn a_repeat_visit_to_the_dashboard_or_staff_home_costs_one_statement(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        for (who, route) in [(&client, "/portal"), (&staff, "/staff"), (&staff, "/staff/clients")] {
            let first = who.get(route).await;
            assert_eq!(first.status, 200);
            let (r0, s0) = route_counts(&app, route).await;
            assert!(s0 > r0, "{route}: the first visit reads the page's data");
            for _ in 0..5 {
                let again = who.get(route).await;
                assert_eq!(again.status, 200);
                assert_eq!(again.body.len(), first.body.len(), "{route}: the same page");
            }
            let (r1, s1) = route_counts(&app, route).await;
            assert_eq!(r1 - r0, 5);
            assert_eq!(s1 - s0, 5, "{route}: one statement per repeat visit");
        }
        app.stop().await;
    }

    async fn a_change_made_through_another_server_shows_on_the_next_load(backend: Backend) {
        let a = TestApp::start(backend).await;
        let f = Fixture::new(&a.db).await;
        let b = second_server(&a, backend).await;
        let (c, email, matters) = &f.a.clients[0];

        let client = a.browser();
        client.login(email, PASSWORD).await;
        let home = client.get("/portal").await;
        assert!(home.body.contains(&matters[0].title));
        assert!(!home.body.contains("Appeal to the tribunal"));
        let staff_on_a = a.browser();
        staff_on_a.login(&f.a.owner_email, PASSWORD).await;
        assert!(!staff_on_a.get("/staff").await.body.contains("Newcomer Ltd"));
        assert!(!staff_on_a.get("/staff/clients").await.body.contains("Newcomer Ltd"));
        assert!(staff_on_a.get("/staff/clients?q=newcomer").await.body.contains("No clients found"));
        let listed = staff_on_a.get("/staff/clients").await.body;
        assert!(!listed.contains("Closed"));

        // Staff working through the other server add a matter and a client.
        let staff = b.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let c_path = format!("/staff/clients/{}", c.id);
        let added = staff.submit(&c_path, &format!("{c_path}/matters"),
            &[("title", "Appeal to the tribunal"), ("reference", "T-9"), ("description", "")]).await;
        assert_eq!(added.status, 303);
        let created = staff.submit("/staff/clients", "/staff/clients",
            &[("name", "Newcomer Ltd"), ("kind", "organisation"), ("email", "")]).await;
        assert_eq!(created.status, 303);

        assert!(client.get("/portal").await.body.contains("Appeal to the tribunal"));
        assert!(staff_on_a.get("/staff").await.body.contains("Newcomer Ltd"));
        assert!(staff_on_a.get("/staff/clients").await.body.contains("Newcomer Ltd"));
        assert!(staff_on_a.get("/staff/clients?q=newcomer").await.body.contains("Newcomer Ltd"));

        // Closing one matter hides it at once, kept page or not.
        let m_path = format!("/staff/matters/{}", matters[0].id);
        assert_eq!(staff.submit(&m_path, &format!("{m_path}/portal"), &[("open", "false")]).await.status, 303);
        assert!(!client.get("/portal").await.body.contains(&matters[0].title));

        // Closing the portal refuses the next request on the first server.
        assert_eq!(staff.submit(&c_path, &format!("{c_path}/portal"), &[("open", "false")]).await.status, 303);
        assert!(staff_on_a.get("/staff/clients").await.body.contains("Closed"));
        let closed = client.get("/portal").await;
        assert_eq!(closed.status, 403);
        assert!(!closed.body.contains("Appeal to the tribunal"));
        b.stop().await;
        a.stop().await;
    }

    async fn an_ended_session_is_refused_even_with_its_page_kept(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert_eq!(client.get("/portal").await.status, 200);
        let user_id = match portico_test_viewer(&app, &f).await {
            portico_core::Viewer::Client { user_id, .. } => user_id,
            _ => unreachable!(),
        };
        portico_db::sessions::end_all_for_user(&app.db, user_id).await.unwrap();
        let after = client.get("/portal").await;
        assert_eq!(after.status, 303);
        assert!(after.location.unwrap().starts_with("/login"));
        app.stop().await;
    }

    async fn kept_pages_never_show_one_client_or_firm_to_another(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let mine = &f.a.clients[0];
        let theirs = &f.a.clients[1];
        let other_firm = &f.b.clients[0];
        let one = app.browser();
        one.login(&mine.1, PASSWORD).await;
        let two = app.browser();
        two.login(&theirs.1, PASSWORD).await;
        let three = app.browser();
        three.login(&other_firm.1, PASSWORD).await;
        for _ in 0..2 {
            let p1 = one.get("/portal").await.body;
            let p2 = two.get("/portal").await.body;
            let p3 = three.get("/portal").await.body;
            assert!(p1.contains(&mine.2[0].title) && !p1.contains(&theirs.2[0].title) && !p1.contains(&other_firm.2[0].title));
            assert!(p2.contains(&theirs.2[0].title) && !p2.contains(&mine.2[0].title));
            assert!(p3.contains(&other_firm.2[0].title) && !p3.contains(&mine.2[0].title) && !p3.contains("Alpha Legal"));
        }
        let s_a = app.browser();
        s_a.login(&f.a.owner_email, PASSWORD).await;
        let s_b = app.browser();
        s_b.login(&f.b.owner_email, PASSWORD).await;
        for _ in 0..2 {
            let a_home = s_a.get("/staff").await.body;
            let b_home = s_b.get("/staff").await.body;
            assert!(a_home.contains(&mine.0.name) && !a_home.contains(&other_firm.0.name));
            assert!(b_home.contains(&other_firm.0.name) && !b_home.contains(&mine.0.name));
        }
        app.stop().await;
    }
}

async fn portico_test_viewer(app: &TestApp, f: &Fixture) -> portico_core::Viewer {
    crate::support::fixture::client_viewer(&app.db, &f.a.owner, f.a.clients[0].0.id).await
}

both! {
    async fn many_peoples_requests_at_once_each_get_their_own_session(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let emails = [&f.a.owner_email, &f.a.member_email, &f.b.owner_email, &f.b.member_email];
        let mut people = Vec::new();
        for email in emails {
            let b = app.browser();
            b.login(email, PASSWORD).await;
            people.push((email.clone(), b));
        }
        // Interleaved, so that checks of different people (and of one person twice) are read
        // in the same group on PostgreSQL.
        let requests: Vec<_> = (0..20)
            .flat_map(|_| people.iter().cloned())
            .map(|(email, b)| {
                tokio::spawn(async move { (email, b.get("/account/profile").await) })
            })
            .collect();
        for r in requests {
            let (email, page) = r.await.unwrap();
            assert_eq!(page.status, 200, "{}", page.body);
            assert!(page.body.contains(&email), "{email} was shown someone else's page");
            for other in emails.iter().filter(|o| **o != &email) {
                assert!(!page.body.contains(other.as_str()), "{email} saw {other}");
            }
        }
        // The person deactivated is refused on the next request, whatever it is grouped with.
        let member = portico_db::users::by_email(&app.db, &f.a.member_email).await.unwrap().unwrap();
        portico_db::users::deactivate(&app.db, &f.a.owner, member.id, &portico_db::audit::Origin::system("test")).await.unwrap();
        let after: Vec<_> = (0..5)
            .flat_map(|_| people.iter().cloned())
            .map(|(email, b)| tokio::spawn(async move { (email, b.get("/account/profile").await.status) }))
            .collect();
        for r in after {
            let (email, status) = r.await.unwrap();
            let expected = if email == f.a.member_email { 303 } else { 200 };
            assert_eq!(status, expected, "{email}");
        }
        app.stop().await;
    }
}
