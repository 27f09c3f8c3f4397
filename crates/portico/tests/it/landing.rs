//! Choosing a password (from an invitation or a reset) lands the person signed in, instead of
//! on the sign-in page, but never past the second step they have or their firm requires.

use std::time::Duration;

use crate::both;
use crate::support::smtp::set_password_path;
use crate::support::{Backend, Fixture, TestApp};

/// Asks for a reset link for `email` and returns its path.
async fn reset_link(app: &TestApp, email: &str) -> String {
    let before = app.smtp.messages().len();
    app.browser()
        .post("/forgot-password", &[("email", email)])
        .await;
    let mail = app.smtp.wait_for(before + 1, Duration::from_secs(10)).await;
    set_password_path(&mail[before].data)
}

const CHOSEN: &str = "violet kettle marching slowly";

both! {
    async fn a_person_who_chooses_a_password_lands_signed_in(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let path = reset_link(&app, &f.a.clients[0].1).await;
        let b = app.browser();
        let done = b.post(&path, &[("password", CHOSEN), ("confirm", CHOSEN)]).await;
        assert_eq!(done.status, 303);
        assert_eq!(done.location.as_deref(), Some("/portal"));
        let home = b.get("/portal").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains(&f.a.clients[0].0.name));
        // The used link signs nobody else in.
        let other = app.browser();
        assert_eq!(other.post(&path, &[("password", CHOSEN), ("confirm", CHOSEN)]).await.status, 410);
        assert!(other.cookie().is_none());
        app.stop().await;
    }

    async fn choosing_a_password_never_skips_the_second_step(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        // Someone with an authenticator app resets their password: the code is still asked.
        let email = &f.a.clients[0].1;
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE users SET totp_enabled = TRUE WHERE email = $1")
            .bind(email).execute(p).await.map(|_| ())).unwrap();
        let path = reset_link(&app, email).await;
        let b = app.browser();
        let done = b.post(&path, &[("password", CHOSEN), ("confirm", CHOSEN)]).await;
        assert_eq!(done.status, 303);
        assert!(done.location.as_deref().unwrap().starts_with("/login/2fa"), "{:?}", done.location);
        assert_ne!(b.get("/portal").await.status, 200, "not signed in before the second step");

        // A firm that requires two-step sign-in: a newcomer sets it up first.
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE firms SET require_2fa_clients = TRUE WHERE id = $1")
            .bind(f.a.id).execute(p).await.map(|_| ())).unwrap();
        let path = reset_link(&app, &f.a.clients[1].1).await;
        let b = app.browser();
        assert_eq!(b.post(&path, &[("password", CHOSEN), ("confirm", CHOSEN)]).await.status, 303);
        let portal = b.get("/portal").await;
        assert_eq!(portal.status, 303);
        assert!(portal.location.as_deref().unwrap().starts_with("/account/2fa"), "{:?}", portal.location);
        app.stop().await;
    }
}
