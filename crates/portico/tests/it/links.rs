//! Access links: staff email a client a unique link to a matter. A GET never uses it; the
//! button does, binding the browser; another browser is declined and can have a new link sent
//! to the original address. Link sessions cannot change how the person signs in.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::smtp::link_path;
use crate::support::{Backend, Browser, Fixture, TestApp};

/// Staff send a link to the first portal user of firm A's first client for its first matter.
pub(crate) async fn send_link(
    app: &TestApp,
    f: &Fixture,
    staff: &Browser,
    mails_before: usize,
) -> String {
    let (client, email, matters) = &f.a.clients[0];
    let user = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| &u.email == email)
        .unwrap();
    let page = format!("/staff/matters/{}", matters[0].id);
    let sent = staff
        .submit(
            &page,
            &format!("{page}/access-link"),
            &[("client_user_id", &user.client_user_id.to_string())],
        )
        .await;
    assert_eq!(sent.status, 303);
    let mail = app
        .smtp
        .wait_for(mails_before + 1, Duration::from_secs(10))
        .await;
    let last = &mail[mails_before];
    assert!(last.to.iter().any(|t| t.contains(email.as_str())));
    assert!(
        !last.data.contains(&matters[0].title),
        "the email does not name the matter"
    );
    link_path(&last.data, "/a/")
}

both! {
    async fn a_client_opens_an_access_link_and_a_second_device_must_ask_for_a_new_one(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let matter = &f.a.clients[0].2[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let link = send_link(&app, &f, &staff, 0).await;

        // A mail scanner's GET does not use it; the button does.
        let phone = app.browser();
        for _ in 0..2 {
            let p = phone.get(&link).await;
            assert_eq!(p.status, 200);
            assert!(p.body.contains("Open in the portal") && p.body.contains(&matter.title));
        }
        let opened = phone.post(&link, &[]).await;
        assert_eq!(opened.status, 303);
        assert_eq!(opened.location.as_deref(), Some(format!("/portal/matters/{}", matter.id).as_str()));
        assert!(opened.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("portico-device=")));
        assert_eq!(phone.get(&format!("/portal/matters/{}", matter.id)).await.status, 200);
        // The same device may use it again.
        assert_eq!(phone.post(&link, &[]).await.status, 303);

        // A link session works on the portal but cannot change how the person signs in.
        let csrf = phone.get("/portal").await.csrf();
        let refused = phone.post("/account/2fa/start", &[("csrf", csrf.as_str())]).await;
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("You opened the portal with an access link."));
        assert_eq!(phone.post("/account/switch", &[("csrf", csrf.as_str()), ("place", "x")]).await.status, 403);
        assert_eq!(phone.post("/account/passkeys/start", &[("csrf", csrf.as_str())]).await.status, 403);
        assert_eq!(phone.post("/account/passkeys/finish", &[("csrf", csrf.as_str()), ("ceremony", "x"), ("credential", "{}")]).await.status, 403);
        assert!(phone.get("/account/passkeys").await.body.contains("Sign in with your password to add or remove passkeys."));
        let sessions = portico_db::sessions::of_user(&app.db, portico_db::users::by_email(&app.db, &f.a.clients[0].1).await.unwrap().unwrap().id).await.unwrap();
        assert!(sessions.iter().any(|s| s.auth_method.to_string() == "link"));

        // Another device: declined, with one thing to do.
        let laptop = app.browser();
        let p = laptop.get(&link).await;
        assert_eq!(p.status, 403);
        assert!(p.body.contains("already used on another device") && p.body.contains("Send access link"));
        assert_eq!(laptop.post(&link, &[]).await.status, 403);
        assert!(laptop.cookie().is_none(), "no session for the other device");
        let sent = laptop.post(&format!("{link}/send"), &[]).await;
        assert_eq!(sent.status, 200);
        assert!(sent.body.contains("A new link is on its way"));
        let mail = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        assert!(mail[1].to.iter().any(|t| t.contains(f.a.clients[0].1.as_str())), "to the original address");
        let fresh = link_path(&mail[1].data, "/a/");
        assert_ne!(fresh, link);
        // The new link makes the laptop the trusted device; the old link is retired.
        assert_eq!(laptop.post(&fresh, &[]).await.status, 303);
        assert_eq!(laptop.get(&format!("/portal/matters/{}", matter.id)).await.status, 200);
        assert_eq!(phone.get(&link).await.status, 410);
        assert_eq!(phone.post(&fresh, &[]).await.status, 403);

        // Made-up or tampered tokens: the same plain answer.
        let mut tampered = fresh.clone();
        tampered.pop();
        tampered.push(if fresh.ends_with('A') { 'B' } else { 'A' });
        for bad in [tampered.as_str(), "/a/short", "/a/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
            let p = laptop.get(bad).await;
            assert_eq!(p.status, 410, "{bad}");
            assert!(p.body.contains("This link no longer works"));
            assert_eq!(laptop.post(bad, &[]).await.status, 410);
        }
        app.stop().await;
    }

    async fn two_browsers_racing_a_new_link_get_one_session(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let link = send_link(&app, &f, &staff, 0).await;
        let browsers: Vec<Browser> = (0..6).map(|_| app.browser()).collect();
        let answers = futures_util::future::join_all(browsers.iter().map(|b| b.post(&link, &[]))).await;
        let won = answers.iter().filter(|p| p.status == 303).count();
        assert_eq!(won, 1, "{:?}", answers.iter().map(|p| p.status).collect::<Vec<_>>());
        assert!(answers.iter().all(|p| p.status == 303 || p.status == 403));
        app.stop().await;
    }

    async fn expired_links_offer_a_new_one_and_new_links_are_limited(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let link = send_link(&app, &f, &staff, 0).await;
        let past = portico_db::now() - time::Duration::days(1);
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE access_links SET expires_at = $1").bind(past).execute(p).await.map(|_| ())).unwrap();
        let b = app.browser();
        let p = b.get(&link).await;
        assert_eq!(p.status, 410);
        assert!(p.body.contains("This link has expired") && p.body.contains("Send access link"));
        assert_eq!(b.post(&link, &[]).await.status, 410);
        // Three new links at most in the window; later asks get the same answer and no email.
        let mut current = link;
        for n in 1..=3 {
            assert_eq!(b.post(&format!("{current}/send"), &[]).await.status, 200);
            let mail = app.smtp.wait_for(1 + n, Duration::from_secs(10)).await;
            current = link_path(&mail[n].data, "/a/");
        }
        assert_eq!(b.post(&format!("{current}/send"), &[]).await.status, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.smtp.messages().len(), 4);
        app.stop().await;
    }

    async fn links_go_only_to_the_matters_own_people_and_respect_firm_policy(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let matter = &f.a.clients[0].2[0];
        let page = format!("/staff/matters/{}", matter.id);
        let users_of = |client: uuid::Uuid, viewer: portico_core::Viewer| {
            let db = app.db.clone();
            async move { portico_db::clients::portal_users(&db, &viewer, client).await.unwrap()[0].client_user_id.to_string() }
        };
        let other_client_user = users_of(f.a.clients[1].0.id, f.a.owner.clone()).await;
        let other_firm_user = users_of(f.b.clients[0].0.id, f.b.owner.clone()).await;
        for id in [other_client_user.as_str(), other_firm_user.as_str(), "not-an-id"] {
            let p = staff.submit(&page, &format!("{page}/access-link"), &[("client_user_id", id)]).await;
            assert_eq!(p.status, 404, "{id}");
        }
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        let csrf = client.get("/portal").await.csrf();
        let mine = users_of(f.a.clients[0].0.id, f.a.owner.clone()).await;
        assert_eq!(client.post(&format!("{page}/access-link"), &[("csrf", csrf.as_str()), ("client_user_id", mine.as_str())]).await.status, 404);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(app.smtp.messages().is_empty());

        // A firm that requires two-step sign-in: a link alone does not get in.
        let link = send_link(&app, &f, &staff, 0).await;
        let form = [("name", "Alpha Legal"), ("brand_colour", "#1f5fa8"), ("idle_timeout_minutes", "30"), ("absolute_timeout_hours", "12"), ("require_2fa_clients", "on"), ("link_lifetime_days", "7")];
        assert_eq!(staff.submit("/staff/settings", "/staff/settings", &form).await.status, 303);
        let b = app.browser();
        let p = b.post(&link, &[]).await;
        assert_eq!(p.status, 403);
        assert!(p.body.contains("Please sign in with your password"));
        // Lifetimes: 1 to 30 days.
        let mut bad = form.to_vec();
        bad.retain(|(k, _)| *k != "link_lifetime_days");
        bad.push(("link_lifetime_days", "31"));
        assert_eq!(staff.submit("/staff/settings", "/staff/settings", &bad).await.status, 422);
        app.stop().await;
    }
}
