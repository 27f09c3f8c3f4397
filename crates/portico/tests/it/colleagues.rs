//! A client admin invites colleagues to their own company's portal, and only there.

use std::time::Duration;

use portico_db::audit::Origin;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn a_client_admin_invites_a_colleague_who_sees_the_company_matters(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, admin_email, matters) = &f.a.clients[0];
        let admin = app.browser();
        admin.login(admin_email, PASSWORD).await;
        assert!(admin.get("/portal").await.body.contains("href=\"/portal/colleagues\""));
        let sent = admin.submit("/portal/colleagues", "/portal/colleagues", &[("name", "Colleague Cole"), ("email", "cole@example.com"), ("client_admin", "on")]).await;
        assert_eq!(sent.status, 303);
        let list = admin.get("/portal/colleagues").await;
        assert!(list.body.contains("cole@example.com"));
        let users = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap();
        let cole = users.iter().find(|u| u.email == "cole@example.com").unwrap();
        assert!(!cole.is_client_admin, "a client admin cannot make admins");

        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        let path = crate::support::smtp::set_password_path(&mail[0].data);
        let b = app.browser();
        assert_eq!(b.post(&path, &[("password", "colleague passphrase"), ("confirm", "colleague passphrase")]).await.status, 303);
        assert_eq!(b.login("cole@example.com", "colleague passphrase").await.status, 303);
        assert!(b.get("/portal").await.body.contains(&matters[0].title));
        // Not an admin: no colleagues page.
        assert_eq!(b.get("/portal/colleagues").await.status, 404);
        assert_eq!(b.submit("/portal", "/portal/colleagues", &[("name", "X"), ("email", "x@example.com")]).await.status, 404);
        app.stop().await;
    }

    async fn client_admins_cannot_reach_other_clients_or_staff_invitations(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (_, admin_email, _) = &f.a.clients[0];
        let admin = app.browser();
        admin.login(admin_email, PASSWORD).await;
        // The staff invitation route for another client (or their own) answers not found.
        for client in [&f.a.clients[1].0, &f.a.clients[0].0, &f.b.clients[0].0] {
            let p = admin.submit("/portal/colleagues", &format!("/staff/clients/{}/invite", client.id), &[("name", "P"), ("email", "p@example.com")]).await;
            assert_eq!(p.status, 404);
        }
        // And the store refuses a client admin adding to another client directly.
        let admin_viewer = {
            let u = portico_db::users::by_email(&app.db, admin_email).await.unwrap().unwrap();
            let m = portico_db::users::memberships(&app.db, u.id).await.unwrap().remove(0);
            portico_db::users::viewer_for(&app.db, u.id, portico_db::users::Context::Client, m.membership_id).await.unwrap().unwrap()
        };
        let other = portico_db::clients::add_portal_user(&app.db, &admin_viewer, f.a.clients[1].0.id, "q@example.com", "Q", false, &Origin::system("test")).await;
        assert!(matches!(other, Err(portico_db::DbError::NotFound)));
        let bad = admin.submit("/portal/colleagues", "/portal/colleagues", &[("name", "Bad"), ("email", "nope")]).await;
        assert_eq!(bad.status, 422);
        assert_eq!(admin.post("/portal/colleagues", &[("name", "Forged"), ("email", "forged@example.com")]).await.status, 403);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(app.smtp.messages().is_empty());
        app.stop().await;
    }
}
