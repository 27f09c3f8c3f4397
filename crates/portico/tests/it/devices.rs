//! Trusted devices: a browser that opened an access link may open it again only while the
//! person trusts it. Ending sessions retires devices, the person and staff can see and remove
//! them, and they expire.

use std::time::Duration;

use crate::both;
use crate::links::send_link;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

async fn device_count(app: &TestApp, email: &str) -> i64 {
    let user = portico_db::users::by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap();
    portico_db::on_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM devices WHERE user_id = $1")
        .bind(user.id).fetch_one(p).await).unwrap()
}

/// Staff send a link; the client's phone opens it; a thief copies the phone's device cookie.
async fn phone_and_thief(
    app: &TestApp,
    f: &Fixture,
    staff: &Browser,
) -> (String, Browser, Browser) {
    let link = send_link(app, f, staff, app.smtp.messages().len()).await;
    let phone = app.browser();
    assert_eq!(phone.post(&link, &[]).await.status, 303);
    let thief = app.browser();
    thief.set_device_cookie(phone.device_cookie());
    assert!(thief.device_cookie().is_some());
    (link, phone, thief)
}

both! {
    async fn staff_signing_a_client_out_everywhere_retires_a_copied_device_cookie(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let (link, phone, thief) = phone_and_thief(&app, &f, &staff).await;
        // The copy works, which is why it must be retirable.
        assert_eq!(thief.post(&link, &[]).await.status, 303);
        thief.set_cookie(None);
        assert_eq!(device_count(&app, email).await, 1);
        // Staff see the trusted device beside the person.
        let page = format!("/staff/clients/{}", client.id);
        assert!(staff.get(&page).await.body.contains("Trusted devices for access links"));

        let user = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap()
            .into_iter().find(|u| &u.email == email).unwrap();
        let ended = staff.submit(&page, &format!("/staff/clients/{}/users/{}/end-sessions", client.id, user.client_user_id), &[]).await;
        assert_eq!(ended.status, 303);
        assert_eq!(device_count(&app, email).await, 0);
        assert!(!staff.get(&page).await.body.contains("Trusted devices for access links"));
        // Neither the copy nor the phone opens the link any more; both may ask for a new one.
        for b in [&thief, &phone] {
            let p = b.post(&link, &[]).await;
            assert_eq!(p.status, 403);
            assert!(b.get(&link).await.body.contains("Send access link"));
        }
        assert!(thief.cookie().is_none(), "no session for the copy");
        // A new link mailed to the person makes the phone trusted again, with a new cookie:
        // the copied one stays dead.
        phone.post(&format!("{link}/send"), &[]).await;
        let mail = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        let fresh = crate::support::smtp::link_path(&mail[1].data, "/a/");
        assert_eq!(phone.post(&fresh, &[]).await.status, 303);
        assert_ne!(phone.device_cookie(), thief.device_cookie());
        assert_eq!(thief.post(&fresh, &[]).await.status, 403);
        app.stop().await;
    }

    async fn a_person_sees_and_removes_their_trusted_devices(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = &f.a.clients[0].1;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let (link, _phone, thief) = phone_and_thief(&app, &f, &staff).await;
        let desk = app.browser();
        desk.login(email, PASSWORD).await;
        let listed = desk.get("/account/sessions").await;
        assert!(listed.body.contains("Trusted devices") && listed.body.contains("/account/devices/"));
        let user = portico_db::users::by_email(&app.db, email).await.unwrap().unwrap();
        let owner_view = f.a.owner.clone();
        let device = portico_db::devices::of_user(&app.db, &owner_view, user.id).await.unwrap().remove(0);

        // Somebody else's ids, and ids that are not ids, find nothing.
        let other = app.browser();
        other.login(&f.a.clients[1].1, PASSWORD).await;
        let refused = other.submit("/account/sessions", &format!("/account/devices/{}/remove", device.id), &[]).await;
        assert_eq!(refused.status, 404);
        assert_eq!(desk.submit("/account/sessions", "/account/devices/not-an-id/remove", &[]).await.status, 404);
        let stranger = portico_db::clients::portal_users(&app.db, &f.b.owner, f.b.clients[0].0.id).await.unwrap().remove(0);
        let b_staff = app.browser();
        b_staff.login(&f.b.member_email, PASSWORD).await;
        let cross = b_staff.submit("/staff", &format!("/staff/clients/{}/users/{}/devices/{}/remove", f.b.clients[0].0.id, stranger.client_user_id, device.id), &[]).await;
        assert_eq!(cross.status, 404);
        assert_eq!(device_count(&app, email).await, 1);

        let removed = desk.submit("/account/sessions", &format!("/account/devices/{}/remove", device.id), &[]).await;
        assert_eq!(removed.status, 303);
        assert_eq!(device_count(&app, email).await, 0);
        assert_eq!(thief.post(&link, &[]).await.status, 403);
        app.stop().await;
    }

    async fn trusted_devices_expire_and_ending_other_sessions_forgets_them(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = &f.a.clients[0].1;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let (link, phone, _) = phone_and_thief(&app, &f, &staff).await;
        // Unused past its lifetime, a device is no longer trusted, and the worker purges it.
        let past = portico_db::now() - time::Duration::days(1);
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE devices SET expires_at = $1").bind(past).execute(p).await.map(|_| ())).unwrap();
        phone.set_cookie(None);
        assert_eq!(phone.post(&link, &[]).await.status, 403);
        portico_db::sessions::purge_expired(&app.db).await.unwrap();
        assert_eq!(device_count(&app, email).await, 0);

        // The person ends their other sessions from their desk: devices go too.
        let link2 = send_link(&app, &f, &staff, app.smtp.messages().len()).await;
        let tablet = app.browser();
        assert_eq!(tablet.post(&link2, &[]).await.status, 303);
        assert_eq!(device_count(&app, email).await, 1);
        let desk = app.browser();
        desk.login(email, PASSWORD).await;
        assert_eq!(desk.submit("/account/sessions", "/account/sessions/end-others", &[]).await.status, 303);
        assert_eq!(device_count(&app, email).await, 0);
        tablet.set_cookie(None);
        assert_eq!(tablet.post(&link2, &[]).await.status, 403);
        app.stop().await;
    }
}
