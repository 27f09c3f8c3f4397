//! Reading a message is audited like downloading a file, and shows in the client's "who
//! opened what"; refused requests leave one audit event each, capped so a flood cannot fill
//! the log.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

async fn audit_count(app: &TestApp, action: &str, user_email: &str) -> i64 {
    portico_db::on_db!(&app.db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_events WHERE action = $1 AND actor = $2"
    ).bind(action).bind(user_email).fetch_one(p).await)
    .unwrap()
}

/// Staff start a conversation with firm A's first client; returns its id.
async fn start(staff: &Browser, client_id: uuid::Uuid, title: &str) -> String {
    let new = format!("/staff/clients/{client_id}/messages/new");
    let started = staff
        .submit(
            &new,
            &format!("/staff/clients/{client_id}/messages"),
            &[("title", title), ("body", "the details")],
        )
        .await;
    assert_eq!(started.status, 303);
    started
        .location
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

both! {
    async fn reading_a_conversation_is_audited_and_shown_in_the_clients_access_log(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let id = start(&staff, client.id, "Visa interview notes").await;
        let person = app.browser();
        person.login(email, PASSWORD).await;
        assert!(!person.get("/portal/access-log").await.body.contains("Visa interview notes"));

        assert_eq!(person.get(&format!("/portal/messages/{id}")).await.status, 200);
        assert_eq!(audit_count(&app, "message.read", email).await, 1);
        assert_eq!(staff.get(&format!("/staff/messages/{id}")).await.status, 200);
        assert_eq!(audit_count(&app, "message.read", &f.a.member_email).await, 1);
        let row: (String, String) = portico_db::on_db!(&app.db, p => sqlx::query_as(
            "SELECT object_id, detail FROM audit_events WHERE action = 'message.read' AND actor = $1"
        ).bind(&f.a.member_email).fetch_one(p).await).unwrap();
        assert_eq!(row, (id.clone(), "messages=1-1".to_string()));
        // The client sees that the firm opened it; their own reading is not listed there.
        let log = person.get("/portal/access-log").await.body;
        assert!(log.contains("conversation: Visa interview notes"), "{log}");
        assert_eq!(log.matches("Visa interview notes").count(), 1);
        app.stop().await;
    }

    async fn refused_requests_leave_one_audit_event_each_and_a_flood_is_capped(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff_b = app.browser();
        staff_b.login(&f.b.member_email, PASSWORD).await;
        let theirs = start(&staff_b, f.b.clients[0].0.id, "Beta matter").await;
        let email = &f.a.clients[0].1;
        let person = app.browser();
        person.login(email, PASSWORD).await;

        // Another tenant's conversation: not found, and written down once.
        assert_eq!(person.get(&format!("/portal/messages/{theirs}")).await.status, 404);
        assert_eq!(audit_count(&app, "request.refused", email).await, 1);
        let detail: String = portico_db::on_db!(&app.db, p => sqlx::query_scalar(
            "SELECT detail FROM audit_events WHERE action = 'request.refused' AND actor = $1"
        ).bind(email).fetch_one(p).await).unwrap();
        assert_eq!(detail, format!("404 GET /portal/messages/{theirs}"));
        // A forged form: refused, and written down once.
        assert_eq!(person.post("/account/sessions/end-others", &[("csrf", "forged")]).await.status, 403);
        assert_eq!(audit_count(&app, "request.refused", email).await, 2);
        // Ordinary pages leave nothing.
        assert_eq!(person.get("/portal").await.status, 200);
        assert_eq!(audit_count(&app, "request.refused", email).await, 2);

        // A flood: every request refused, the log capped.
        let target = format!("/portal/messages/{theirs}");
        let flood: Vec<_> = (0..40).map(|_| person.get(&target)).collect();
        for p in futures_util::future::join_all(flood).await {
            assert_eq!(p.status, 404);
        }
        assert_eq!(audit_count(&app, "request.refused", email).await, 20);
        // The chain is intact.
        assert_eq!(portico_db::audit::verify(&app.db).await.unwrap().first_broken, None);
        app.stop().await;
    }
}
