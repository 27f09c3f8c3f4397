//! Another firm's or another client's objects answer exactly like missing ones, through pages
//! and the API, and nothing of theirs appears in the body.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

fn not_found_body(status: reqwest::StatusCode, body: &str, secrets: &[&str]) {
    assert_eq!(status, 404, "{body}");
    for s in secrets {
        assert!(!body.contains(s), "leaked {s}");
    }
}

both! {
    async fn staff_of_one_firm_cannot_reach_another_firms_records(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let missing = uuid::Uuid::now_v7();
        let reference = b.get(&format!("/staff/clients/{missing}")).await;
        for (client, _, matters) in &f.b.clients {
            let secrets = [client.name.as_str(), matters[0].title.as_str()];
            let p = b.get(&format!("/staff/clients/{}", client.id)).await;
            not_found_body(p.status, &p.body, &secrets);
            // Same words as a missing id, but for the request id.
            let strip = |s: &str| s.lines().filter(|l| !l.contains("reference")).collect::<Vec<_>>().join("\n");
            assert_eq!(strip(&p.body), strip(&reference.body));
            let p = b.get(&format!("/staff/matters/{}", matters[0].id)).await;
            not_found_body(p.status, &p.body, &secrets);
            let p = b.submit("/staff/clients", &format!("/staff/clients/{}/matters", client.id), &[("title", "planted")]).await;
            not_found_body(p.status, &p.body, &secrets);
            let p = b.submit("/staff/clients", &format!("/staff/clients/{}/portal", client.id), &[("open", "false")]).await;
            not_found_body(p.status, &p.body, &secrets);
            let p = b.submit("/staff/clients", &format!("/staff/matters/{}/portal", matters[0].id), &[("open", "false")]).await;
            not_found_body(p.status, &p.body, &secrets);
        }
        let list = b.get("/staff/clients").await;
        assert!(!list.body.contains("Beta Law"));
        // Nothing changed at firm B.
        let beta = portico_db::clients::list(&app.db, &f.b.owner, "", portico_db::Page::new(1, 50)).await.unwrap();
        assert!(beta.iter().all(|c| c.portal_open));
        let ms = portico_db::matters::for_client(&app.db, &f.b.owner, f.b.clients[0].0.id).await.unwrap();
        assert_eq!(ms.len(), 2);
        app.stop().await;
    }

    async fn a_client_cannot_reach_another_clients_or_the_staff_side(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (_, email, _) = &f.a.clients[0];
        let b = app.browser();
        b.login(email, PASSWORD).await;
        let others = [&f.a.clients[1], &f.b.clients[0]];
        for (client, _, matters) in others {
            let secrets = [client.name.as_str(), matters[0].title.as_str()];
            for path in [
                format!("/portal/matters/{}", matters[0].id),
                format!("/staff/matters/{}", matters[0].id),
                format!("/staff/clients/{}", client.id),
            ] {
                let p = b.get(&path).await;
                not_found_body(p.status, &p.body, &secrets);
            }
        }
        for path in ["/staff", "/staff/clients", "/staff/audit"] {
            assert_eq!(b.get(path).await.status, 404, "{path}");
        }
        let p = b.submit("/portal", "/staff/clients", &[("name", "planted"), ("kind", "person")]).await;
        assert_eq!(p.status, 404);
        let a = portico_db::clients::list(&app.db, &f.a.owner, "planted", portico_db::Page::new(1, 50)).await.unwrap();
        assert!(a.is_empty());
        app.stop().await;
    }

    async fn api_tokens_see_only_their_own_firm(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let token = portico_services::tokens::new_token();
        portico_db::api_tokens::create(&app.db, &f.a.owner, "test", &portico_services::tokens::hash_token(&token), &portico_db::audit::Origin::system("test"))
            .await
            .unwrap();
        let http = app.http();
        for (client, _, matters) in &f.b.clients {
            for path in [
                format!("/api/v1/clients/{}", client.id),
                format!("/api/v1/clients/{}/matters", client.id),
                format!("/api/v1/matters/{}", matters[0].id),
            ] {
                let res = http.get(app.url(&path)).bearer_auth(&token).send().await.unwrap();
                let status = res.status();
                let body = res.text().await.unwrap();
                not_found_body(status, &body, &[client.name.as_str()]);
                assert!(body.contains("\"error\""));
            }
            let res = http
                .post(app.url(&format!("/api/v1/clients/{}/matters", client.id)))
                .bearer_auth(&token)
                .json(&serde_json::json!({"title": "planted"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404);
        }
        let list: Vec<serde_json::Value> = http.get(app.url("/api/v1/clients?per_page=200")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.iter().all(|c| c["name"].as_str().unwrap().starts_with("Alpha")));
        app.stop().await;
    }
}
