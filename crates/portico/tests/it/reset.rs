//! "Forgot your password?": the same answer for every address, a one-hour single-use link for
//! real ones, a limit on how many are sent, and every other session ended by the reset.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::smtp::set_password_path;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn a_forgotten_password_is_reset_through_a_mailed_link(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = f.a.clients[0].1.clone();
        // A session elsewhere, which the reset must end.
        let elsewhere = app.browser();
        elsewhere.login(&email, PASSWORD).await;
        assert_eq!(elsewhere.get("/portal").await.status, 200);

        let b = app.browser();
        assert!(b.get("/login").await.body.contains("href=\"/forgot-password\""));
        let known = b.post("/forgot-password", &[("email", &email.to_uppercase())]).await;
        let unknown = b.post("/forgot-password", &[("email", "nobody@nowhere.example")]).await;
        assert_eq!(known.status, 200);
        assert_eq!(known.status, unknown.status);
        assert_eq!(known.body, unknown.body);
        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.smtp.messages().len(), 1, "only the real address gets mail");
        assert!(mail[0].data.contains("Reset your") && mail[0].data.contains("one hour"));

        let path = set_password_path(&mail[0].data);
        let done = b.post(&path, &[("password", "a brand new passphrase"), ("confirm", "a brand new passphrase")]).await;
        assert_eq!(done.status, 303);
        assert_eq!(elsewhere.get("/portal").await.status, 303, "other sessions end");
        assert_eq!(app.browser().login(&email, PASSWORD).await.status, 401);
        assert_eq!(app.browser().login(&email, "a brand new passphrase").await.status, 303);
        assert_eq!(b.post(&path, &[("password", "yet another passphrase"), ("confirm", "yet another passphrase")]).await.status, 410);
        app.stop().await;
    }

    async fn reset_requests_are_limited_and_checked(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        for _ in 0..5 {
            assert_eq!(b.post("/forgot-password", &[("email", f.a.owner_email.as_str())]).await.status, 200);
        }
        app.smtp.wait_for(3, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.smtp.messages().len(), 3, "at most three links an hour");
        let bad = b.post("/forgot-password", &[("email", "not an address")]).await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Enter an email address"));
        let req = b.raw().post(app.url("/forgot-password")).header("origin", "https://evil.example").form(&[("email", f.a.member_email.as_str())]);
        assert_eq!(b.send(req).await.status, 403);
        let req = b.raw().post(app.url("/forgot-password")).header("origin", &app.base).header("content-type", "application/json").body("{}");
        assert_eq!(b.send(req).await.status, 415);
        app.stop().await;
    }
}
