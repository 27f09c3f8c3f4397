//! A person sees where they are signed in and ends sessions they do not recognise.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

fn session_ids(body: &str) -> Vec<String> {
    body.match_indices("action=\"/account/sessions/")
        .map(|(i, m)| body[i + m.len()..].split('/').next().unwrap().to_string())
        .filter(|id| !id.starts_with("end-others"))
        .collect()
}

both! {
    async fn a_person_ends_a_session_on_another_device(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = f.a.clients[0].1.clone();
        let (laptop, phone, tablet) = (app.browser(), app.browser(), app.browser());
        for b in [&laptop, &phone, &tablet] {
            assert_eq!(b.login(&email, PASSWORD).await.status, 303);
        }
        let page = laptop.get("/account/sessions").await;
        assert_eq!(page.status, 200);
        assert_eq!(page.body.matches("this device").count(), 1);
        assert!(page.body.contains("127.0.0.1"));
        let others = session_ids(&page.body);
        assert_eq!(others.len(), 2, "{}", page.body);

        // End one: that device is signed out on its next request, the others are not.
        let ended = laptop.submit("/account/sessions", &format!("/account/sessions/{}/end", others[0]), &[]).await;
        assert_eq!(ended.status, 303);
        let alive: Vec<u16> = vec![phone.get("/portal").await.status.as_u16(), tablet.get("/portal").await.status.as_u16()];
        assert_eq!(alive.iter().filter(|s| **s == 303).count(), 1);
        assert_eq!(alive.iter().filter(|s| **s == 200).count(), 1);
        assert_eq!(laptop.get("/portal").await.status, 200);

        // End all others.
        assert_eq!(laptop.submit("/account/sessions", "/account/sessions/end-others", &[]).await.status, 303);
        assert_eq!(phone.get("/portal").await.status, 303);
        assert_eq!(tablet.get("/portal").await.status, 303);
        assert_eq!(laptop.get("/portal").await.status, 200);
        let page = laptop.get("/account/sessions").await;
        assert!(session_ids(&page.body).is_empty());
        assert!(!page.body.contains("End all other sessions"));
        app.stop().await;
    }

    async fn nobody_can_end_someone_elses_session(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let victim = app.browser();
        victim.login(&f.a.clients[1].1, PASSWORD).await;
        let victim_page = victim.get("/account/sessions").await;
        // The victim's own session id is not in a form on their page (it is "this device"),
        // so read it from the database as an attacker who guessed it would have it.
        let victim_user = portico_db::users::by_email(&app.db, &f.a.clients[1].1).await.unwrap().unwrap();
        let victim_session = portico_db::sessions::of_user(&app.db, victim_user.id).await.unwrap().remove(0).id;
        assert!(victim_page.body.contains("this device"));

        for attacker_email in [f.a.clients[0].1.as_str(), f.a.owner_email.as_str(), f.b.owner_email.as_str()] {
            let attacker = app.browser();
            attacker.login(attacker_email, PASSWORD).await;
            let p = attacker.submit("/account/sessions", &format!("/account/sessions/{victim_session}/end"), &[]).await;
            assert_eq!(p.status, 404, "{attacker_email}");
            assert_eq!(attacker.submit("/account/sessions", "/account/sessions/not-an-id/end", &[]).await.status, 404);
            // Without the form token nothing happens at all.
            assert_eq!(attacker.post(&format!("/account/sessions/{victim_session}/end"), &[]).await.status, 403);
        }
        assert_eq!(victim.get("/portal").await.status, 200);
        app.stop().await;
    }
}

both! {
    async fn staff_sign_a_client_out_everywhere_and_only_their_own(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let (phone, laptop) = (app.browser(), app.browser());
        phone.login(email, PASSWORD).await;
        laptop.login(email, PASSWORD).await;
        let users = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap();
        let cu = users[0].client_user_id;
        let page = format!("/staff/clients/{}", client.id);

        // Another firm's staff, and the wrong client in the path, find nothing.
        let outsider = app.browser();
        outsider.login(&f.b.owner_email, PASSWORD).await;
        assert_eq!(outsider.submit("/staff", &format!("{page}/users/{cu}/end-sessions"), &[]).await.status, 404);
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let wrong_client = format!("/staff/clients/{}/users/{cu}/end-sessions", f.a.clients[1].0.id);
        assert_eq!(staff.submit(&page, &wrong_client, &[]).await.status, 404);
        assert_eq!(phone.get("/portal").await.status, 200);

        assert!(staff.get(&page).await.body.contains("Sign out everywhere"));
        assert_eq!(staff.submit(&page, &format!("{page}/users/{cu}/end-sessions"), &[]).await.status, 303);
        assert_eq!(phone.get("/portal").await.status, 303);
        assert_eq!(laptop.get("/portal").await.status, 303);
        assert_eq!(staff.get("/staff").await.status, 200);
        app.stop().await;
    }
}
