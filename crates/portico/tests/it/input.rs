//! Input the project refuses with a clear sentence instead of failing: a NUL byte anywhere in
//! text, passwords made of the firm's or the person's own name, passkeys at an IP address.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::smtp::set_password_path;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn a_nul_byte_in_a_search_a_filter_or_a_form_is_refused_with_422(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        for (who, path) in [
            (&staff, "/staff/clients?q=a%00b"),
            (&staff, "/staff/messages?q=%00"),
            (&client, "/portal/messages?q=x%00"),
            (&client, "/portal/files?sort=%00"),
            (&staff, "/staff/audit?action=%00"),
            (&staff, "/staff/clients/%00"),
        ] {
            let p = who.get(path).await;
            assert_eq!(p.status, 422, "{path}");
            assert!(p.body.contains("a NUL byte"), "{path}");
        }
        // A form post, signed in or not.
        let csrf = client.get("/portal/messages/new").await.csrf();
        let p = client.post("/portal/messages", &[("csrf", csrf.as_str()), ("title", "a\0b"), ("body", "x")]).await;
        assert_eq!(p.status, 422);
        assert_eq!(app.browser().post("/login", &[("email", "a\0@b.example"), ("password", "x")]).await.status, 422);
        // JSON, with the NUL escaped.
        let res = app.http().post(app.url("/api/v1/clients")).header("content-type", "application/json")
            .body(r#"{"name":"a\u0000b","kind":"person"}"#).send().await.unwrap();
        assert_eq!(res.status(), 422);
        // Ordinary searches still work.
        assert_eq!(staff.get("/staff/clients?q=Client%201").await.status, 200);
        app.stop().await;
    }

    async fn a_password_made_of_the_firms_or_the_persons_own_name_is_refused(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = &f.a.clients[0].1;
        // A name that shares nothing with the email address.
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE users SET name = 'Margaret Hartley' WHERE email = $1")
            .bind(email).execute(p).await.map(|_| ())).unwrap();
        let b = app.browser();
        b.post("/forgot-password", &[("email", email)]).await;
        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        let path = set_password_path(&mail[0].data);
        for (weak, says) in [
            ("AlphaLegal portal 2026", "not contain the firm"),
            ("alpha-legal is my firm", "not contain the firm"),
            ("MargaretHartley forever more", "your name"),
            ("margaret hartley strong pass", "your name"),
        ] {
            let p = b.post(&path, &[("password", weak), ("confirm", weak)]).await;
            assert_eq!(p.status, 422, "{weak}");
            assert!(p.body.contains(says), "{weak}: {}", p.body);
        }
        let p = b.post(&path, &[("password", "violet kettle marching slowly"), ("confirm", "violet kettle marching slowly")]).await;
        assert_eq!(p.status, 303);
        app.stop().await;
    }

    async fn passkeys_at_an_ip_address_say_why_they_cannot_work(backend: Backend) {
        // The test server's public address is 127.0.0.1.
        let app = TestApp::start(backend).await;
        let b = app.browser();
        let res = b.send(b.raw().post(app.url("/login/passkey/start")).header("origin", &app.base).header("accept", "application/json")).await;
        assert_eq!(res.status, 503, "{}", res.body);
        assert!(res.body.contains("domain name") && res.body.contains("password"), "{}", res.body);
        assert!(!res.body.contains("internal"));
        app.stop().await;
    }
}
