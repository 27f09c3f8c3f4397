//! The audit log: every change writes an event; the hash chain exposes tampering.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn sign_ins_failures_and_changes_are_audited_in_an_intact_chain(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, "wrong password, clearly").await;
        b.login(&f.a.owner_email, PASSWORD).await;
        b.submit("/staff/clients", "/staff/clients", &[("name", "Audited Client"), ("kind", "person")]).await;
        let log = b.get("/staff/audit").await;
        assert_eq!(log.status, 200);
        for action in ["auth.login", "client.create", "matter.create", "staff.add"] {
            assert!(log.body.contains(action), "{action}");
        }
        let events = portico_db::audit::recent_for_firm(&app.db, &f.a.owner, 500).await.unwrap();
        let create = events.iter().find(|e| e.action == "client.create" && e.actor == f.a.owner_email).unwrap();
        assert!(!create.request_id.is_empty());
        assert_eq!(create.ip, "127.0.0.1");
        // Members may not read the log; other firms' events are not shown.
        let m = app.browser();
        m.login(&f.a.member_email, PASSWORD).await;
        assert_eq!(m.get("/staff/audit").await.status, 404);
        assert!(events.iter().all(|e| e.firm_id == Some(f.a.id)));
        let v = portico_db::audit::verify(&app.db).await.unwrap();
        assert_eq!(v.first_broken, None);
        assert!(v.events > 20);
        app.stop().await;
    }

    async fn the_database_refuses_changes_to_audit_events_and_verify_finds_tampering(backend: Backend) {
        let app = TestApp::start(backend).await;
        let _f = Fixture::new(&app.db).await;
        let update = portico_db::on_db!(&app.db, p => sqlx::query("UPDATE audit_events SET actor = 'someone else' WHERE seq = 3").execute(p).await.map(|_| ()));
        assert!(update.is_err());
        let delete = portico_db::on_db!(&app.db, p => sqlx::query("DELETE FROM audit_events WHERE seq = 3").execute(p).await.map(|_| ()));
        assert!(delete.is_err());
        // Someone with full database access removes the guard and edits an event.
        match &app.db {
            portico_db::Db::Sqlite(p) => {
                sqlx::query("DROP TRIGGER audit_events_no_update").execute(p).await.unwrap();
                sqlx::query("UPDATE audit_events SET actor = 'someone else' WHERE seq = 3").execute(p).await.unwrap();
            }
            portico_db::Db::Postgres(p) => {
                sqlx::query("DROP TRIGGER audit_events_no_change ON audit_events").execute(p).await.unwrap();
                sqlx::query("UPDATE audit_events SET actor = 'someone else' WHERE seq = 3").execute(p).await.unwrap();
            }
        }
        let v = portico_db::audit::verify(&app.db).await.unwrap();
        assert_eq!(v.first_broken, Some(3));
        assert_eq!(v.events, 2);
        app.stop().await;
    }

    async fn concurrent_changes_keep_one_unbroken_chain(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let mut tasks = Vec::new();
        for n in 0..40 {
            let db = app.db.clone();
            let owner = f.a.owner.clone();
            tasks.push(tokio::spawn(async move {
                let new = portico_db::clients::NewClient { kind: "person".into(), name: format!("Parallel {n}"), email: None };
                portico_db::clients::create(&db, &owner, &new, &portico_db::audit::Origin::system("test")).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let v = portico_db::audit::verify(&app.db).await.unwrap();
        assert_eq!(v.first_broken, None);
        let n = portico_db::clients::count(&app.db, &f.a.owner).await.unwrap();
        assert_eq!(n, 42);
        app.stop().await;
    }
}
