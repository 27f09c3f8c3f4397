//! The firm's terms: clients accept them before anything else at their first visit, and again
//! after every change; the acceptance keeps version, time and address.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

async fn set_terms(admin: &Browser, text: &str) {
    let form = [
        ("name", "Alpha Legal"),
        ("brand_colour", "#1f5fa8"),
        ("idle_timeout_minutes", "30"),
        ("absolute_timeout_hours", "12"),
        ("access_log_for_clients", "on"),
        ("terms_text", text),
    ];
    assert_eq!(
        admin
            .submit("/staff/settings", "/staff/settings", &form)
            .await
            .status,
        303
    );
}

both! {
    async fn clients_accept_the_firms_terms_first_and_again_after_a_change(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert_eq!(client.get("/portal").await.status, 200);

        set_terms(&admin, "1. We keep your files safe.\n2. <b>Fees</b> are due in 30 days.").await;
        for path in ["/portal", &format!("/portal/matters/{}", f.a.clients[0].2[0].id), "/account/profile"] {
            let p = client.get(path).await;
            assert_eq!((p.status.as_u16(), p.location.as_deref()), (303, Some("/terms")), "{path}");
        }
        let terms = client.get("/terms").await;
        assert!(terms.body.contains("We keep your files safe.") && terms.body.contains("&#60;b&#62;Fees"));
        assert!(terms.body.contains("name=\"version\" value=\"1\""));
        // Staff carry on and are never asked; they cannot accept for a client.
        assert_eq!(admin.get("/staff").await.status, 200);
        let csrf = admin.get("/staff").await.csrf();
        assert_eq!(admin.post("/terms", &[("csrf", csrf.as_str()), ("version", "1")]).await.status, 404);

        // A version that is not the current one is refused; the current one is recorded once.
        let csrf = terms.csrf();
        let stale = client.post("/terms", &[("csrf", csrf.as_str()), ("version", "7")]).await;
        assert_eq!(stale.status, 409);
        assert!(stale.body.contains("The terms changed while you were reading them."));
        assert_eq!(client.post("/terms", &[("csrf", csrf.as_str()), ("version", "one")]).await.status, 422);
        assert_eq!(client.post("/terms", &[("version", "1")]).await.status, 403);
        let ok = client.post("/terms", &[("csrf", csrf.as_str()), ("version", "1")]).await;
        assert_eq!((ok.status.as_u16(), ok.location.as_deref()), (303, Some("/portal")));
        assert_eq!(client.post("/terms", &[("csrf", csrf.as_str()), ("version", "1")]).await.status, 303);
        assert_eq!(client.get("/portal").await.status, 200);
        let accepted = portico_db::audit::search(&app.db, &f.a.owner, &portico_db::audit::Filter { action: "terms.accept".into(), ..Default::default() }, 10).await.unwrap();
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].detail, "version=1");
        assert_eq!(accepted[0].ip, "127.0.0.1");

        // Saving the same text changes nothing; new text is a new version, asked for again.
        set_terms(&admin, "1. We keep your files safe.\n2. <b>Fees</b> are due in 30 days.").await;
        assert_eq!(client.get("/portal").await.status, 200);
        set_terms(&admin, "1. We keep your files safe.\n2. Fees are due in 14 days.").await;
        assert_eq!(client.get("/portal").await.location.as_deref(), Some("/terms"));
        assert!(client.get("/terms").await.body.contains("name=\"version\" value=\"2\""));
        // Another client of the firm is asked too; a client of the other firm is not.
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        assert_eq!(other.get("/portal").await.location.as_deref(), Some("/terms"));
        let elsewhere = app.browser();
        elsewhere.login(&f.b.clients[0].1, PASSWORD).await;
        assert_eq!(elsewhere.get("/portal").await.status, 200);

        // Removing the terms asks nobody.
        set_terms(&admin, "").await;
        assert_eq!(client.get("/portal").await.status, 200);
        app.stop().await;
    }
}
