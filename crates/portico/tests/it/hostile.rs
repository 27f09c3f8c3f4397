//! Bad input gets a clear error and changes nothing: oversized and mistyped bodies, forged or
//! missing anti-forgery tokens, tampered and expired cookies, markup and SQL in text fields.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

async fn client_names(app: &TestApp, f: &Fixture) -> Vec<String> {
    portico_db::clients::list(&app.db, &f.a.owner, "", portico_db::Page::new(1, 200))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

both! {
    async fn oversized_and_mistyped_bodies_are_refused_with_a_clear_page(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let csrf = b.get("/staff/clients").await.csrf();
        let before = client_names(&app, &f).await;

        let huge = "x".repeat(2 * 1024 * 1024);
        let cookie = b.cookie().unwrap();
        let res = crate::support::send_oversized(|| {
            b.raw().post(app.url("/staff/clients")).header("origin", &app.base).header("cookie", &cookie)
                .form(&[("csrf", csrf.as_str()), ("name", huge.as_str()), ("kind", "person")])
        }).await;
        assert_eq!(res.status(), 413);
        assert!(res.text().await.unwrap().contains("too large"));

        let req = b.raw().post(app.url("/staff/clients")).header("origin", &app.base)
            .header("content-type", "application/json").body(r#"{"name":"x","kind":"person"}"#);
        assert_eq!(b.send(req).await.status, 415);

        let req = b.raw().post(app.url("/staff/clients")).header("origin", &app.base)
            .header("content-type", "application/x-www-form-urlencoded").body(format!("csrf={csrf}&name=%ZZ%&kind"));
        let p = b.send(req).await;
        assert!(p.status == 422 || p.status == 400, "{}", p.status);

        let p = b.post("/staff/clients", &[("csrf", csrf.as_str()), ("name", "Kind Missing")]).await;
        assert!(p.status == 422 || p.status == 400);
        let p = b.post("/staff/clients", &[("csrf", csrf.as_str()), ("name", "Wrong Kind"), ("kind", "robot")]).await;
        assert_eq!(p.status, 422);
        assert!(p.body.contains("Choose person or organisation"));
        let p = b.post("/staff/clients", &[("csrf", csrf.as_str()), ("name", &"n".repeat(201)), ("kind", "person")]).await;
        assert_eq!(p.status, 422);
        let p = b.post("/staff/clients", &[("csrf", csrf.as_str()), ("name", "Bad Email"), ("kind", "person"), ("email", "not-an-email")]).await;
        assert_eq!(p.status, 422);
        assert_eq!(client_names(&app, &f).await, before);

        let p = b.post(&format!("/staff/clients/{}/portal", f.a.clients[0].0.id), &[("csrf", csrf.as_str()), ("open", "perhaps")]).await;
        assert!(p.status == 422 || p.status == 400);
        assert!(p.body.contains("could not be read"));
        app.stop().await;
    }

    async fn forged_or_missing_anti_forgery_tokens_change_nothing(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let csrf = b.get("/staff/clients").await.csrf();
        let before = client_names(&app, &f).await;

        let p = b.post("/staff/clients", &[("name", "No Token"), ("kind", "person")]).await;
        assert_eq!(p.status, 403);
        assert!(p.body.contains("expired"));
        let p = b.post("/staff/clients", &[("csrf", "A".repeat(43).as_str()), ("name", "Wrong Token"), ("kind", "person")]).await;
        assert_eq!(p.status, 403);
        // A valid token, but the request comes from another site.
        let req = b.raw().post(app.url("/staff/clients")).header("origin", "https://evil.example")
            .form(&[("csrf", csrf.as_str()), ("name", "Cross Site"), ("kind", "person")]);
        assert_eq!(b.send(req).await.status, 403);
        let req = b.raw().post(app.url("/staff/clients")).header("sec-fetch-site", "cross-site")
            .form(&[("csrf", csrf.as_str()), ("name", "Cross Site"), ("kind", "person")]);
        assert_eq!(b.send(req).await.status, 403);
        // Another person's token does not work in this session.
        let other = app.browser();
        other.login(&f.a.member_email, PASSWORD).await;
        let other_csrf = other.get("/staff/clients").await.csrf();
        let p = b.post("/staff/clients", &[("csrf", other_csrf.as_str()), ("name", "Swapped"), ("kind", "person")]).await;
        assert_eq!(p.status, 403);
        // Logging in from another site is refused too (login CSRF).
        let req = app.http().post(app.url("/login")).header("origin", "https://evil.example")
            .form(&[("email", f.a.owner_email.as_str()), ("password", PASSWORD)]);
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("set-cookie").is_none());
        assert_eq!(client_names(&app, &f).await, before);
        app.stop().await;
    }

    async fn tampered_and_expired_cookies_lead_back_to_sign_in(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let good = b.cookie().unwrap();
        let mut bad = good.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == 'A' { 'B' } else { 'A' });
        b.set_cookie(Some(bad));
        let p = b.get("/staff").await;
        assert_eq!(p.status, 303);
        assert_eq!(p.location.as_deref(), Some("/login?next=%2Fstaff"));
        b.set_cookie(Some("portico=../../etc/passwd".into()));
        assert_eq!(b.get("/staff").await.status, 303);

        // Expire every session on the server: the same cookie no longer works.
        b.set_cookie(Some(good));
        assert_eq!(b.get("/staff").await.status, 200);
        let past = portico_db::now() - time::Duration::minutes(1);
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE sessions SET idle_expires_at = $1").bind(past).execute(p).await.map(|_| ())).unwrap();
        assert_eq!(b.get("/staff").await.status, 303);
        app.stop().await;
    }

    async fn markup_and_sql_in_text_are_stored_exactly_and_shown_escaped(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let nasty = [
            "<script>alert(1)</script>",
            "Robert'); DROP TABLE clients;--",
            "\" onmouseover=\"x",
            "50% off_ \\ ünïcødé 你好 🙂",
        ];
        for name in nasty {
            let p = b.submit("/staff/clients", "/staff/clients", &[("name", name), ("kind", "organisation")]).await;
            assert_eq!(p.status, 303, "{name}");
            let page = b.get(p.location.as_deref().unwrap()).await;
            assert!(!page.body.contains("<script>alert(1)</script>"));
            assert!(!page.body.contains("\" onmouseover=\"x"));
            let m = b.submit(p.location.as_deref().unwrap(), &format!("{}/matters", p.location.as_deref().unwrap()), &[("title", name), ("description", name)]).await;
            assert_eq!(m.status, 303);
        }
        let stored = client_names(&app, &f).await;
        for name in nasty {
            assert!(stored.iter().any(|s| s == name), "{name} not stored exactly");
        }
        // Searching with LIKE wildcards matches them literally.
        let found = portico_db::clients::list(&app.db, &f.a.owner, "50%", portico_db::Page::new(1, 50)).await.unwrap();
        assert_eq!(found.len(), 1);
        let none = portico_db::clients::list(&app.db, &f.a.owner, "%", portico_db::Page::new(1, 50)).await.unwrap();
        assert_eq!(none.len(), 1);
        app.stop().await;
    }
}
