//! One sign-in for several places: a person switches between them, each showing only its own
//! records, with a fresh session token every time.

use portico_db::audit::Origin;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

fn place_values(body: &str) -> Vec<String> {
    body.match_indices("name=\"place\" value=\"")
        .map(|(i, m)| body[i + m.len()..].split('"').next().unwrap().to_string())
        .collect()
}

both! {
    async fn a_client_of_two_firms_switches_between_them(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = f.a.clients[0].1.clone();
        let (b_client, _, b_matters) = &f.b.clients[0];
        portico_db::clients::add_portal_user(&app.db, &f.b.owner, b_client.id, &email, "Same Person", false, &Origin::system("test"))
            .await
            .unwrap();
        let b = app.browser();
        assert_eq!(b.login(&email, PASSWORD).await.location.as_deref(), Some("/portal"));
        let home = b.get("/portal").await;
        assert!(home.body.contains("href=\"/account/switch\""));
        let (first_firm, other_firm) = if home.body.contains("Alpha Legal") { (&f.a, &f.b) } else { (&f.b, &f.a) };
        assert!(home.body.contains(&first_firm.clients[0].2[0].title));
        assert!(!home.body.contains(&other_firm.clients[0].2[0].title));

        let switch = b.get("/account/switch").await;
        let places = place_values(&switch.body);
        assert_eq!(places.len(), 2);
        assert!(switch.body.contains("current"));
        let before = b.cookie().unwrap();
        let mut moved = None;
        for p in &places {
            let r = b.submit("/account/switch", "/account/switch", &[("place", p)]).await;
            if r.status == 303 && b.get("/portal").await.body.contains(&other_firm.clients[0].2[0].title) {
                moved = Some(p.clone());
                break;
            }
        }
        assert!(moved.is_some(), "switched to the other firm");
        let after = b.cookie().unwrap();
        assert_ne!(before, after, "a new session token");
        let old = app.browser();
        old.set_cookie(Some(before));
        assert_eq!(old.get("/portal").await.status, 303, "the old token is dead");
        let now = b.get("/portal").await;
        assert!(now.body.contains(&b_matters[0].title) || now.body.contains(&f.a.clients[0].2[0].title));
        assert!(!now.body.contains(&first_firm.clients[0].2[0].title));
        app.stop().await;
    }

    async fn nobody_switches_into_a_place_that_is_not_theirs(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.clients[0].1, PASSWORD).await;
        assert!(!b.get("/portal").await.body.contains("href=\"/account/switch\""), "one place: no switch link");
        // Someone else's staff membership and client membership, by their real ids.
        let owner = portico_db::users::by_email(&app.db, &f.b.owner_email).await.unwrap().unwrap();
        let theirs = portico_db::users::memberships(&app.db, owner.id).await.unwrap().remove(0);
        let other_client = portico_db::users::by_email(&app.db, &f.a.clients[1].1).await.unwrap().unwrap();
        let neighbour = portico_db::users::memberships(&app.db, other_client.id).await.unwrap().remove(0);
        for place in [
            format!("staff:{}", theirs.membership_id),
            format!("client:{}", neighbour.membership_id),
            format!("staff:{}", neighbour.membership_id),
            "client:not-a-uuid".to_string(),
            String::new(),
        ] {
            let p = b.submit("/account/switch", "/account/switch", &[("place", &place)]).await;
            assert_eq!(p.status, 404, "{place}");
        }
        assert_eq!(b.post("/account/switch", &[("place", "x")]).await.status, 403);
        assert!(b.get("/portal").await.body.contains(&f.a.clients[0].2[0].title));
        app.stop().await;
    }
}
