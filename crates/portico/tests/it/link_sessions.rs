//! What a session opened from an emailed access link may not do: give anyone lasting access or
//! change who can get in. Each such route is tried from a link session and refused, while the
//! same person signed in with a password may use it.

use crate::both;
use crate::links::send_link;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

/// The client admin of firm A's first client, signed in from an access link on a new browser.
pub(crate) async fn link_session(app: &TestApp, f: &Fixture) -> Browser {
    let staff = app.browser();
    staff.login(&f.a.member_email, PASSWORD).await;
    let before = app.smtp.messages().len();
    let link = send_link(app, f, &staff, before).await;
    let phone = app.browser();
    assert_eq!(phone.post(&link, &[]).await.status, 303);
    phone
}

both! {
    async fn a_link_session_cannot_give_access_or_change_who_can_sign_in(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let user = portico_db::users::by_email(&app.db, email).await.unwrap().unwrap();
        // The person's own desk computer, signed in with their password.
        let desk = app.browser();
        assert_eq!(desk.login(email, PASSWORD).await.status, 303);
        let desk_session = portico_db::sessions::of_user(&app.db, user.id).await.unwrap().remove(0);

        let phone = link_session(&app, &f).await;
        let csrf = phone.get("/portal").await.csrf();
        let csrf = csrf.as_str();
        let conversation = uuid::Uuid::now_v7().to_string();
        let refused: &[(&str, &[(&str, &str)])] = &[
            ("/portal/colleagues", &[("csrf", csrf), ("name", "Mallory"), ("email", "mallory@example.com")]),
            ("/account/sessions/end-others", &[("csrf", csrf)]),
            (&format!("/account/sessions/{}/end", desk_session.id), &[("csrf", csrf)]),
            ("/account/2fa/start", &[("csrf", csrf)]),
            ("/account/2fa/confirm", &[("csrf", csrf), ("code", "123456")]),
            ("/account/2fa/disable", &[("csrf", csrf), ("code", "123456")]),
            ("/account/passkeys/start", &[("csrf", csrf)]),
            ("/account/passkeys/finish", &[("csrf", csrf), ("ceremony", "x"), ("credential", "{}")]),
            (&format!("/account/passkeys/{conversation}/remove"), &[("csrf", csrf)]),
            ("/account/switch", &[("csrf", csrf), ("place", "x")]),
            (&format!("/portal/messages/{conversation}/people"), &[("csrf", csrf), ("user", "x")]),
        ];
        for (path, form) in refused {
            let p = phone.post(path, form).await;
            assert_eq!(p.status, 403, "{path}");
            assert!(p.body.contains("You opened the portal with an access link."), "{path}");
        }
        // Nothing changed: no colleague, and the desk session lives on.
        let users = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap();
        assert!(!users.iter().any(|u| u.email == "mallory@example.com"));
        assert_eq!(desk.get("/portal").await.status, 200);
        // Reading is fine, and so is the work the link was for.
        assert_eq!(phone.get("/portal/colleagues").await.status, 200);
        assert_eq!(phone.get("/account/sessions").await.status, 200);

        // The same person with their password may do each of these.
        let sent = desk.submit("/portal/colleagues", "/portal/colleagues", &[("name", "Cole"), ("email", "cole@example.com")]).await;
        assert_eq!(sent.status, 303);
        let ended = desk.submit("/account/sessions", "/account/sessions/end-others", &[]).await;
        assert_eq!(ended.status, 303);
        assert_ne!(phone.get("/portal").await.status, 200, "the link session was ended");
        app.stop().await;
    }

    async fn a_link_session_asks_for_a_login_which_is_mailed_to_the_persons_own_address(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = &f.a.clients[0].1;
        let phone = link_session(&app, &f).await;
        let mails = app.smtp.messages().len();
        let home = phone.get("/portal").await;
        assert!(home.body.contains("action=\"/account/create-login\""));
        let csrf = home.csrf();
        let asked = phone.post("/account/create-login", &[("csrf", csrf.as_str())]).await;
        assert_eq!(asked.status, 200);
        assert!(asked.body.contains("We are emailing you a link to choose a password"));
        let got = app.smtp.wait_for(mails + 1, std::time::Duration::from_secs(10)).await;
        let mail = &got[mails];
        assert!(mail.to.iter().any(|t| t.contains(email.as_str())), "to the person's own address");
        assert!(mail.data.contains("Create your login"));
        let path = crate::support::smtp::set_password_path(&mail.data);

        // Asking again is limited: three emails at most in the window, the same page always.
        for _ in 0..3 {
            assert_eq!(phone.post("/account/create-login", &[("csrf", csrf.as_str())]).await.status, 200);
        }
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert_eq!(app.smtp.messages().len(), mails + 3);
        // Only the newest link works.
        assert_eq!(app.browser().get(&path).await.status, 410);
        let newest = crate::support::smtp::set_password_path(&app.smtp.messages().last().unwrap().data);

        // Without the email the link session cannot set a password; with it the person can.
        let chosen = "violet kettle marching slowly";
        let done = app.browser().post(&newest, &[("password", chosen), ("confirm", chosen)]).await;
        assert_eq!(done.status, 303);
        assert_eq!(app.browser().login(email, chosen).await.status, 303);

        // A password session is not offered it, and cannot use it.
        let desk = app.browser();
        desk.login(email, chosen).await;
        let home = desk.get("/portal").await;
        assert!(!home.body.contains("/account/create-login"));
        assert_eq!(desk.post("/account/create-login", &[("csrf", home.csrf().as_str())]).await.status, 404);
        app.stop().await;
    }
}
