//! Walkthroughs of the pages, as staff and clients use them.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn staff_signs_in_adds_a_client_and_opens_a_matter(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        let page = staff.login(&f.a.owner_email, PASSWORD).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location.as_deref(), Some("/staff"));
        let home = staff.get("/staff").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains("Clients") && home.body.contains("Audit log"));
        assert!(home.body.contains("Alpha Legal Client 1"));

        let created = staff.submit("/staff/clients", "/staff/clients", &[("name", "Nadia <Haddad>"), ("kind", "person"), ("email", "")]).await;
        assert_eq!(created.status, 303);
        let client_path = created.location.unwrap();
        let client_page = staff.get(&client_path).await;
        assert!(client_page.body.contains("Nadia &#60;Haddad&#62;") || client_page.body.contains("Nadia &lt;Haddad&gt;"));

        let matter = staff.submit(&client_path, &format!("{client_path}/matters"), &[("title", "Asylum claim"), ("reference", "A-1"), ("description", "")]).await;
        assert_eq!(matter.status, 303);
        let matter_page = staff.get(matter.location.as_deref().unwrap()).await;
        assert!(matter_page.body.contains("Asylum claim"));

        let list = staff.get("/staff/clients?q=nadia").await;
        assert!(list.body.contains("Nadia"));
        assert!(!list.body.contains("Alpha Legal Client 1"));
        app.stop().await;
    }

    async fn a_client_sees_their_matters_until_the_portal_closes(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, matters) = &f.a.clients[0];
        let browser = app.browser();
        let page = browser.login(email, PASSWORD).await;
        assert_eq!(page.location.as_deref(), Some("/portal"));
        let home = browser.get("/portal").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains(&matters[0].title));
        assert!(home.body.contains("Matters"));
        assert!(!home.body.contains("Audit log"));
        assert!(!home.body.contains(&f.a.clients[1].2[0].title));

        // Closing one matter hides it on the next request.
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let m_path = format!("/staff/matters/{}", matters[1].id);
        assert_eq!(staff.submit(&m_path, &format!("{m_path}/portal"), &[("open", "false")]).await.status, 303);
        let list = browser.get("/portal/matters").await;
        assert!(list.body.contains(&matters[0].title));
        assert!(!list.body.contains(&matters[1].title));
        assert_eq!(browser.get(&format!("/portal/matters/{}", matters[1].id)).await.status, 404);

        // Closing the client's portal ends their access on the next request, saying why.
        let c_path = format!("/staff/clients/{}", client.id);
        assert_eq!(staff.submit(&c_path, &format!("{c_path}/portal"), &[("open", "false")]).await.status, 303);
        let after = browser.get("/portal").await;
        assert_eq!(after.status, 403);
        assert!(after.body.contains("has closed this portal for now") && !after.body.contains(&matters[0].title));
        app.stop().await;
    }

    async fn pages_carry_the_security_headers(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        for path in ["/login", "/staff", "/staff/nope", "/healthz"] {
            let p = if path == "/login" { app.browser().get(path).await } else { b.get(path).await };
            let csp = p.headers.get("content-security-policy").unwrap().to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{path}");
            assert_eq!(p.headers.get("x-content-type-options").unwrap(), "nosniff");
            assert_eq!(p.headers.get("referrer-policy").unwrap(), "no-referrer");
            assert!(p.headers.get("x-request-id").is_some());
        }
        assert_eq!(b.get("/staff").await.headers.get("cache-control").unwrap(), "no-store");
        let css = b.get(&format!("/brand/{}.css", f.a.slug)).await;
        assert!(css.body.contains("--brand: #1f5fa8"));
        app.stop().await;
    }

    async fn health_readiness_and_metrics_answer(backend: Backend) {
        let app = TestApp::start(backend).await;
        let b = app.browser();
        assert_eq!(b.get("/healthz").await.body, "ok");
        assert_eq!(b.get("/readyz").await.status, 200);
        let m = b.get("/metrics").await;
        assert!(m.body.contains("portico_http_requests_total{class=\"2xx\"}"));
        app.stop().await;
    }

    async fn error_pages_show_a_request_id_and_no_internals(backend: Backend) {
        let app = TestApp::start(backend).await;
        let p = app.browser().get("/no/such/page").await;
        assert_eq!(p.status, 404);
        let id = p.headers.get("x-request-id").unwrap().to_str().unwrap().to_string();
        assert!(p.body.contains(&id));
        assert!(p.body.contains("We could not find that page"));
        app.stop().await;
    }

    async fn a_signed_in_persons_error_keeps_their_frame_and_their_form_token(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let missing = uuid::Uuid::new_v4();
        let p = staff.get(&format!("/staff/clients/{missing}")).await;
        assert_eq!(p.status, 404);
        let id = p.headers.get("x-request-id").unwrap().to_str().unwrap().to_string();
        assert!(p.body.contains(&id) && p.body.contains("<h1>Not found</h1>"), "{}", p.body);
        assert!(p.body.contains("Alpha Legal") && p.body.contains("nav class=\"side\""), "the firm's frame and navigation stay");
        assert!(p.body.contains("href=\"/staff\""), "a way back to the person's own start");
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        let p = client.get(&format!("/portal/matters/{missing}")).await;
        assert_eq!(p.status, 404);
        assert!(p.body.contains("nav class=\"side\"") && p.body.contains("href=\"/portal\""));
        assert!(!p.body.contains("/staff/clients"), "a client's frame, not staff's");
        // Someone not signed in gets the plain page: nothing of any firm.
        let p = app.browser().get(&format!("/staff/clients/{missing}")).await;
        assert!(!p.body.contains("Alpha Legal") && !p.body.contains("nav class=\"side\""));
        app.stop().await;
    }
}
