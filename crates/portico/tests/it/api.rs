//! The JSON API: bearer tokens, the OpenAPI document, and its answers to bad input.

use crate::both;
use crate::support::{Backend, Fixture, TestApp};

pub async fn token_for(app: &TestApp, f: &Fixture) -> String {
    let token = portico_services::tokens::new_token();
    portico_db::api_tokens::create(
        &app.db,
        &f.a.owner,
        "test",
        &portico_services::tokens::hash_token(&token),
        &portico_db::audit::Origin::system("test"),
    )
    .await
    .unwrap();
    token
}

both! {
    async fn an_integration_lists_and_adds_clients_and_matters(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let token = token_for(&app, &f).await;
        let http = app.http();
        let me: serde_json::Value = http.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["firm_name"], "Alpha Legal");
        assert_eq!(me["role"], "owner");

        let res = http.post(app.url("/api/v1/clients")).bearer_auth(&token)
            .json(&serde_json::json!({"kind": "organisation", "name": "Orbit <Ltd>", "email": "ops@orbit.example"})).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let created: serde_json::Value = res.json().await.unwrap();
        assert_eq!(created["name"], "Orbit <Ltd>");
        let id = created["id"].as_str().unwrap().to_string();
        let res = http.post(app.url(&format!("/api/v1/clients/{id}/matters"))).bearer_auth(&token)
            .json(&serde_json::json!({"title": "Trademark filing"})).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let matter: serde_json::Value = res.json().await.unwrap();
        let got: serde_json::Value = http.get(app.url(&format!("/api/v1/matters/{}", matter["id"].as_str().unwrap())))
            .bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(got["title"], "Trademark filing");
        let found: Vec<serde_json::Value> = http.get(app.url("/api/v1/clients?q=orbit")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(found.len(), 1);
        app.stop().await;
    }

    async fn an_integration_comments_on_a_matter_and_reads_the_clients_replies(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let token = token_for(&app, &f).await;
        let http = app.http();
        let (_, email, matters) = &f.a.clients[0];
        let url = app.url(&format!("/api/v1/matters/{}/comments", matters[0].id));
        let res = http.post(&url).bearer_auth(&token).json(&serde_json::json!({"body": "Filed <today>."})).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let made: serde_json::Value = res.json().await.unwrap();
        assert_eq!((made["body"].as_str(), made["author_side"].as_str()), (Some("Filed <today>."), Some("staff")));

        let client = app.browser();
        client.login(email, crate::support::fixture::PASSWORD).await;
        let page = format!("/portal/matters/{}", matters[0].id);
        assert!(client.get(&page).await.body.contains("Filed &#60;today&#62;."));
        client.submit(&page, &format!("{page}/comments"), &[("body", "Thanks!")]).await;
        let list: Vec<serde_json::Value> = http.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!((list[1]["body"].as_str(), list[1]["author_side"].as_str()), (Some("Thanks!"), Some("client")));

        // Another firm's matter, bad bodies, wrong types: clear JSON errors, nothing stored.
        let foreign = app.url(&format!("/api/v1/matters/{}/comments", f.b.clients[0].2[0].id));
        assert_eq!(http.get(&foreign).bearer_auth(&token).send().await.unwrap().status(), 404);
        assert_eq!(http.post(&foreign).bearer_auth(&token).json(&serde_json::json!({"body": "x"})).send().await.unwrap().status(), 404);
        for bad in [serde_json::json!({"body": ""}), serde_json::json!({"body": "x".repeat(5001)}), serde_json::json!({"body": 42}), serde_json::json!({})] {
            let res = http.post(&url).bearer_auth(&token).json(&bad).send().await.unwrap();
            assert!(res.status() == 422 || res.status() == 400, "{bad}: {}", res.status());
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(body["error"].is_string() && body["request_id"].is_string());
        }
        assert_eq!(portico_db::comments::for_matter(&app.db, &f.a.owner, matters[0].id, 10).await.unwrap().len(), 2);
        app.stop().await;
    }

    async fn the_api_refuses_missing_tokens_and_bad_bodies_in_json(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let token = token_for(&app, &f).await;
        let http = app.http();
        for auth in [None, Some("Bearer nonsense".to_string()), Some(format!("Bearer {}", "A".repeat(43))), Some(format!("Basic {token}"))] {
            let mut req = http.get(app.url("/api/v1/clients"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 401);
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(body["error"].is_string() && body["request_id"].is_string());
        }
        // A session cookie is not an API credential.
        let b = app.browser();
        b.login(&f.a.owner_email, crate::support::fixture::PASSWORD).await;
        assert_eq!(b.get("/api/v1/clients").await.status, 401);

        let post = |body: &'static str, ct: &'static str| {
            http.post(app.url("/api/v1/clients")).bearer_auth(&token).header("content-type", ct).body(body).send()
        };
        assert_eq!(post(r#"{"kind":"person","name":"x"}"#, "text/plain").await.unwrap().status(), 415);
        let res = post(r#"{"kind":"person","name":"#, "application/json").await.unwrap();
        assert_eq!(res.status(), 400);
        assert!(res.json::<serde_json::Value>().await.unwrap()["error"].is_string());
        assert_eq!(post(r#"{"kind":"person","name":42}"#, "application/json").await.unwrap().status(), 422);
        // Mass assignment: the firm comes from the token, never from the body.
        let other_firm = f.b.id.to_string();
        let res = http.post(app.url("/api/v1/clients")).bearer_auth(&token)
            .json(&serde_json::json!({"kind": "person", "name": "Sneaky", "firm_id": other_firm})).send().await.unwrap();
        assert_eq!(res.status(), 422);
        let res = post(r#"{"kind":"person","name":""}"#, "application/json").await.unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.json::<serde_json::Value>().await.unwrap()["error"].as_str().unwrap().contains("required"));
        let big = format!(r#"{{"kind":"person","name":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
        let res = crate::support::send_oversized(|| {
            http.post(app.url("/api/v1/clients")).bearer_auth(&token).header("content-type", "application/json").body(big.clone())
        })
        .await;
        assert_eq!(res.status(), 413);
        let sneaky = portico_db::clients::list(&app.db, &f.b.owner, "Sneaky", portico_db::Page::new(1, 10)).await.unwrap();
        assert!(sneaky.is_empty());
        assert_eq!(http.get(app.url("/api/v1/clients/not-a-uuid")).bearer_auth(&token).send().await.unwrap().status(), 404);
        app.stop().await;
    }

    async fn the_openapi_document_describes_the_api(backend: Backend) {
        let app = TestApp::start(backend).await;
        let doc: serde_json::Value = app.http().get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in ["/api/v1/me", "/api/v1/clients", "/api/v1/clients/{id}", "/api/v1/clients/{id}/matters", "/api/v1/matters/{id}", "/api/v1/conversations", "/api/v1/clients/{id}/conversations", "/api/v1/conversations/{id}/messages"] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        app.stop().await;
    }
}
