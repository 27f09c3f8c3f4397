//! Signing in and out, one-time password links, session handling.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn wrong_password_and_unknown_email_get_the_same_answer(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let known = app.browser().login(&f.a.owner_email, "not the password at all").await;
        let unknown = app.browser().login("nobody@nowhere.example", "not the password at all").await;
        assert_eq!(known.status, 401);
        assert_eq!(unknown.status, 401);
        assert!(known.body.contains("Use the same email address that received your invitation"));
        let strip = |s: &str| s.replace(&f.a.owner_email, "").replace("nobody@nowhere.example", "");
        assert_eq!(strip(&known.body), strip(&unknown.body));
        assert!(known.headers.get("set-cookie").is_none());
        let events = portico_db::audit::verify(&app.db).await.unwrap();
        assert_eq!(events.first_broken, None);
        app.stop().await;
    }

    async fn sign_in_follows_only_same_origin_next_paths(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let go = |next: &'static str| {
            let b = app.browser();
            let email = f.a.owner_email.clone();
            async move { b.post("/login", &[("email", email.as_str()), ("password", PASSWORD), ("next", next)]).await.location }
        };
        assert_eq!(go("/staff/clients?q=a").await.as_deref(), Some("/staff/clients?q=a"));
        for evil in ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"] {
            assert_eq!(go(evil).await.as_deref(), Some("/staff"), "{evil}");
        }
        // A page of the other side is never where a sign-in lands.
        let client = app.browser();
        let to = client.post("/login", &[("email", f.a.clients[0].1.as_str()), ("password", PASSWORD), ("next", "/staff/clients")]).await;
        assert_eq!(to.location.as_deref(), Some("/portal"));
        // A protected page sends you to sign in and back.
        let b = app.browser();
        let p = b.get("/staff/clients?q=x").await;
        assert_eq!(p.location.as_deref(), Some("/login?next=%2Fstaff%2Fclients%3Fq%3Dx"));
        let login = b.get(p.location.as_deref().unwrap()).await;
        assert!(login.body.contains("value=\"/staff/clients?q=x\""));
        app.stop().await;
    }

    async fn each_sign_in_gets_a_new_session_and_logout_ends_it(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let first = b.cookie().unwrap();
        let cookie_header = b.get("/staff").await;
        assert_eq!(cookie_header.status, 200);
        // Signing in again replaces the session (no fixation); the old cookie is dead.
        b.login(&f.a.owner_email, PASSWORD).await;
        let second = b.cookie().unwrap();
        assert_ne!(first, second);
        let old = app.browser();
        old.set_cookie(Some(first));
        assert_eq!(old.get("/staff").await.status, 303);

        let out = b.submit("/staff", "/logout", &[]).await;
        assert_eq!(out.status, 303);
        assert_eq!(out.location, Some(format!("/login?notice=signed_out&firm={}", f.a.slug)));
        assert!(b.cookie().is_none());
        let replay = app.browser();
        replay.set_cookie(Some(second));
        assert_eq!(replay.get("/staff").await.status, 303);
        app.stop().await;
    }

    async fn session_cookies_are_http_only_and_lax(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let res = app.http().post(app.url("/login")).header("origin", &app.base)
            .form(&[("email", f.a.owner_email.as_str()), ("password", PASSWORD)]).send().await.unwrap();
        let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
        let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
        assert_eq!(token.len(), 43);
        // Only the hash is stored.
        let hash = portico_services::tokens::hash_token(&token);
        let stored: i64 = portico_db::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1").bind(&hash).fetch_one(p).await).unwrap();
        assert_eq!(stored, 1);
        app.stop().await;
    }

    async fn a_set_password_link_works_once(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let origin = portico_db::audit::Origin::system("test");
        let (user, _) = portico_db::system::firms::add_staff(&app.db, f.a.id, "new@alpha.example", "New Person", portico_core::StaffRole::Member, &origin).await.unwrap();
        let firm = portico_db::firms::by_id(&app.db, f.a.id).await.unwrap().unwrap();
        let link = portico::admin::set_password_link(&app.db, &app.config, &user, &firm, portico_services::invitations::Occasion::StaffAccount).await.unwrap();
        let path = link.split_once("/set-password/").map(|(_, t)| format!("/set-password/{t}")).unwrap();
        let b = app.browser();
        // Opening the link (a mail scanner, say) does not use it up.
        assert_eq!(b.get(&path).await.status, 200);
        let page = b.get(&path).await;
        assert!(page.body.contains("new@alpha.example"));
        let short = b.post(&path, &[("password", "short"), ("confirm", "short")]).await;
        assert_eq!(short.status, 422);
        assert!(short.body.contains("at least 12"));
        let common = b.post(&path, &[("password", "password12345"), ("confirm", "password12345")]).await;
        assert_eq!(common.status, 422);
        assert!(common.body.contains("too common"));
        let mismatch = b.post(&path, &[("password", "a long enough password"), ("confirm", "another long password")]).await;
        assert_eq!(mismatch.status, 422);
        let with_firm = b.post(&path, &[("password", "i work at alpha legal"), ("confirm", "i work at alpha legal")]).await;
        assert_eq!(with_firm.status, 422);
        let done = b.post(&path, &[("password", "a long enough password"), ("confirm", "a long enough password")]).await;
        assert_eq!(done.status, 303);
        assert_eq!(done.location.as_deref(), Some("/staff"), "signed in at once");
        assert_eq!(b.get("/staff").await.status, 200);
        let again = b.post(&path, &[("password", "another long password"), ("confirm", "another long password")]).await;
        assert_eq!(again.status, 410);
        assert_eq!(b.get(&path).await.status, 410);
        assert_eq!(app.browser().login("new@alpha.example", "a long enough password").await.status, 303);
        assert_eq!(app.browser().login("new@alpha.example", "another long password").await.status, 401);
        let tampered = format!("{}x", &path[..path.len() - 1]);
        assert_eq!(b.get(&tampered).await.status, 410);
        // The link was also mailed, over SMTP, through the job queue.
        let mail = app.smtp.wait_for(1, std::time::Duration::from_secs(10)).await;
        assert_eq!(mail.len(), 1);
        assert!(mail[0].to.iter().any(|t| t.contains("new@alpha.example")));
        app.stop().await;
    }

    async fn a_deactivated_person_is_refused_on_the_next_request(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.member_email, PASSWORD).await;
        assert_eq!(b.get("/staff").await.status, 200);
        let member = portico_db::users::by_email(&app.db, &f.a.member_email).await.unwrap().unwrap();
        // Another firm's admin cannot do it.
        let err = portico_db::users::deactivate(&app.db, &f.b.owner, member.id, &portico_db::audit::Origin::system("test")).await;
        assert!(matches!(err, Err(portico_db::DbError::NotFound)));
        assert_eq!(b.get("/staff").await.status, 200);
        portico_db::users::deactivate(&app.db, &f.a.owner, member.id, &portico_db::audit::Origin::system("test")).await.unwrap();
        assert_eq!(b.get("/staff").await.status, 303);
        assert_eq!(app.browser().login(&f.a.member_email, PASSWORD).await.status, 401);
        app.stop().await;
    }
}
