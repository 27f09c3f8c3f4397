//! Sign-in throttling lives in the database: repeated failures make the next attempt wait,
//! with 429 and Retry-After, on every server, for known and unknown addresses alike.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn repeated_failures_make_the_next_attempt_wait(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        for _ in 0..5 {
            assert_eq!(b.login(&f.a.owner_email, "a wrong password, again").await.status, 401);
        }
        let p = b.login(&f.a.owner_email, "a wrong password, again").await;
        assert_eq!(p.status, 429);
        let retry: i64 = p.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=2).contains(&retry));
        assert!(p.body.contains("Too many sign-in attempts"));
        // The right password does not get through early either.
        assert_eq!(b.login(&f.a.owner_email, PASSWORD).await.status, 429);
        // Another account from elsewhere is unaffected... but this test shares one address,
        // so only the account is throttled: the member still signs in.
        assert_eq!(app.browser().login(&f.a.member_email, PASSWORD).await.status, 303);
        // After the wait the right password works, and clears the account's count.
        tokio::time::sleep(std::time::Duration::from_millis(1100 * retry as u64)).await;
        assert_eq!(b.login(&f.a.owner_email, PASSWORD).await.status, 303);
        let left = portico_db::throttle::failures(&app.db, &format!("account:{}", f.a.owner_email)).await.unwrap();
        assert_eq!(left.count, 0);
        app.stop().await;
    }

    async fn unknown_addresses_are_throttled_like_known_ones(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (known, unknown) = (app.browser(), app.browser());
        for _ in 0..6 {
            known.login(&f.a.owner_email, "wrong password here").await;
            unknown.login("nobody@nowhere.example", "wrong password here").await;
        }
        let k = known.login(&f.a.owner_email, "wrong password here").await;
        let u = unknown.login("nobody@nowhere.example", "wrong password here").await;
        assert_eq!(k.status, 429);
        assert_eq!(u.status, 429);
        assert_eq!(k.headers.get("retry-after"), u.headers.get("retry-after"));
        app.stop().await;
    }

    async fn throttling_holds_across_two_servers_on_one_database(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let dir = tempfile::tempdir().unwrap();
        let mut config = app.config.clone();
        config.data = dir.path().to_path_buf();
        let services = portico::server::open(&config).await.unwrap();
        let second = portico::server::start(&config, services).await.unwrap();
        let other = crate::support::Browser::new(&format!("http://{}", second.addr));
        // Failures alternate between the two servers.
        for n in 0..5 {
            let b = if n % 2 == 0 { app.browser() } else { other.clone() };
            assert_eq!(b.login(&f.a.owner_email, "wrong password here").await.status, 401);
        }
        assert_eq!(app.browser().login(&f.a.owner_email, PASSWORD).await.status, 429);
        assert_eq!(other.login(&f.a.owner_email, PASSWORD).await.status, 429);
        second.stop().await;
        app.stop().await;
    }
}

both! {
    async fn behind_a_balancer_the_forwarded_address_counts(backend: Backend) {
        let app = TestApp::start_with(backend, |c| c.http.client_ip_header = Some("x-forwarded-for".into())).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        // A client may send its own header; the balancer appends the real address last.
        let req = b.raw().post(app.url("/login")).header("origin", &app.base)
            .header("x-forwarded-for", "10.9.9.9, 203.0.113.9")
            .form(&[("email", f.a.owner_email.as_str()), ("password", "wrong password here")]);
        assert_eq!(b.send(req).await.status, 401);
        let failures = portico_db::throttle::failures(&app.db, "address:203.0.113.9").await.unwrap();
        assert_eq!(failures.count, 1);
        assert_eq!(portico_db::throttle::failures(&app.db, "address:127.0.0.1").await.unwrap().count, 0);
        let req = b.raw().post(app.url("/login")).header("origin", &app.base)
            .header("x-forwarded-for", "10.9.9.9, 203.0.113.7")
            .form(&[("email", f.a.owner_email.as_str()), ("password", PASSWORD)]);
        assert_eq!(b.send(req).await.status, 303);
        let events = portico_db::audit::recent_for_firm(&app.db, &f.a.owner, 10).await.unwrap();
        let login = events.iter().find(|e| e.action == "auth.login").unwrap();
        assert_eq!(login.ip, "203.0.113.7");
        app.stop().await;
    }
}
