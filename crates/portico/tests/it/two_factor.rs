//! Two-step sign-in with an authenticator app: enrolment, the second step, codes used once
//! (even when raced), recovery codes, no way around the step, and turning it off.

use std::time::{SystemTime, UNIX_EPOCH};

use totp_rs::{Builder, Secret};

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

/// The app's code for `offset` steps from now.
fn code(secret: &str, offset: i64) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    totp.generate((now + offset * 30) as u64).to_string()
}

/// Turns two-step sign-in on for the signed-in browser; returns the secret and recovery codes.
async fn enrol(b: &Browser, offset: i64) -> (String, Vec<String>) {
    let setup = b.submit("/account/2fa", "/account/2fa/start", &[]).await;
    assert_eq!(setup.status, 200);
    assert!(setup.body.contains("data:image/svg+xml;base64,"));
    let start = setup.body.find("Enter this key instead: <code>").unwrap()
        + "Enter this key instead: <code>".len();
    let secret: String = setup.body[start..]
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    let wrong = b
        .post(
            "/account/2fa/confirm",
            &[("csrf", setup.csrf().as_str()), ("code", "000000")],
        )
        .await;
    assert!(wrong.status == 422 || code(&secret, offset) == "000000");
    let done = b
        .post(
            "/account/2fa/confirm",
            &[
                ("csrf", setup.csrf().as_str()),
                ("code", &code(&secret, offset)),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes: Vec<String> = done
        .body
        .match_indices("<li><code>")
        .map(|(i, m)| {
            done.body[i + m.len()..]
                .split('<')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn second_step(app: &TestApp, email: &str) -> Browser {
    let b = app.browser();
    let p = b.login(email, PASSWORD).await;
    assert!(
        p.location.as_deref().unwrap().starts_with("/login/2fa"),
        "{:?}",
        p.location
    );
    b
}

both! {
    async fn staff_turn_on_two_step_sign_in_and_use_it(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let other_device = app.browser();
        other_device.login(&f.a.owner_email, PASSWORD).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let (secret, recovery) = enrol(&b, 0).await;
        assert_eq!(other_device.get("/staff").await.status, 303, "turning it on ends other sessions");
        assert_eq!(b.get("/staff").await.status, 200);

        // The password alone now leads only to the second step; pages stay closed.
        let s = second_step(&app, &f.a.owner_email).await;
        assert_eq!(s.get("/staff").await.status, 303);
        assert_eq!(s.get("/account/2fa").await.status, 303);
        assert_eq!(s.get("/login/2fa").await.status, 200);
        let pending_cookie = s.cookie().unwrap();
        let next_code = code(&secret, 1);
        let ok = s.post("/login/2fa", &[("code", &next_code)]).await;
        assert_eq!(ok.status, 303);
        assert_eq!(ok.location.as_deref(), Some("/staff"));
        assert_ne!(s.cookie().unwrap(), pending_cookie, "a fresh token after the second step");
        assert_eq!(s.get("/staff").await.status, 200);

        // The same code does not work twice.
        let again = second_step(&app, &f.a.owner_email).await;
        assert_eq!(again.post("/login/2fa", &[("code", &next_code)]).await.status, 401);
        // A recovery code works, once.
        assert_eq!(again.post("/login/2fa", &[("code", &recovery[0].to_uppercase())]).await.status, 303);
        let third = second_step(&app, &f.a.owner_email).await;
        assert_eq!(third.post("/login/2fa", &[("code", &recovery[0])]).await.status, 401);
        app.stop().await;
    }

    async fn one_code_raced_from_two_browsers_is_accepted_once(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = f.a.clients[0].1.clone();
        let b = app.browser();
        b.login(&email, PASSWORD).await;
        let (secret, _) = enrol(&b, -1).await;
        let (one, two) = (second_step(&app, &email).await, second_step(&app, &email).await);
        let c = code(&secret, 0);
        let form = [("code", c.as_str())];
        let (r1, r2) = tokio::join!(one.post("/login/2fa", &form), two.post("/login/2fa", &form));
        let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [303, 401]);
        app.stop().await;
    }

    async fn guessing_codes_is_throttled_and_turning_off_needs_a_code(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.member_email, PASSWORD).await;
        let (secret, _) = enrol(&b, 0).await;
        let s = second_step(&app, &f.a.member_email).await;
        let mut last = 0;
        for guess in ["111111", "222222", "333333", "444444", "555555", "666666"] {
            if guess == code(&secret, 0) || guess == code(&secret, 1) || guess == code(&secret, -1) {
                continue;
            }
            last = s.post("/login/2fa", &[("code", guess)]).await.status.as_u16();
        }
        assert_eq!(last, 429);
        // Turning it off: a wrong code changes nothing, the right one turns it off.
        let off = b.submit("/account/2fa", "/account/2fa/disable", &[("code", "123")]).await;
        assert_eq!(off.status, 422);
        let off = b.submit("/account/2fa", "/account/2fa/disable", &[("code", &code(&secret, 1))]).await;
        assert_eq!(off.status, 303);
        assert!(b.get("/account/2fa").await.body.contains("Set up two-step sign-in"));
        assert_eq!(app.browser().login(&f.a.member_email, PASSWORD).await.location.as_deref(), Some("/staff"));
        // No form token, no change.
        assert_eq!(b.post("/account/2fa/start", &[]).await.status, 403);
        app.stop().await;
    }
}

both! {
    async fn with_a_master_key_the_authenticator_secret_is_kept_sealed(backend: Backend) {
        let app = TestApp::start_with(backend, |c| {
            c.storage.encryption_key = Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into());
        }).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let (secret, _) = enrol(&b, 0).await;
        let user = portico_db::users::by_email(&app.db, &f.a.owner_email).await.unwrap().unwrap();
        let stored = user.totp_secret.unwrap();
        assert!(stored.starts_with("sealed1:") && !stored.contains(&secret), "{stored}");
        let s = second_step(&app, &f.a.owner_email).await;
        let ok = s.post("/login/2fa", &[("code", &code(&secret, 1))]).await;
        assert_eq!(ok.status, 303);
        assert_eq!(ok.location.as_deref(), Some("/staff"));
        app.stop().await;
    }
}
