//! Notifications: those written before they held events still list with the sentence and the
//! address they were stored with, beside new ones; opening a thing marks read only what is
//! about it.

use portico_db::audit::Origin;
use portico_db::messages::{self, NewConversation};
use portico_db::notifications::{self, About};
use portico_db::{Db, tasks};

use crate::both;
use crate::support::fixture::{PASSWORD, client_viewer};
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn a_notification_stored_with_its_sentence_still_lists_as_it_was(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let viewer = client_viewer(&app.db, &f.a.owner, client.id).await;
        let insert = "INSERT INTO notifications (id, firm_id, user_id, kind, summary, href, created_at) \
                      VALUES ($1, $2, $3, 'task', 'The firm gave you a task', '/portal/tasks', $4)";
        let (id, at) = (uuid::Uuid::now_v7(), portico_db::now() - time::Duration::hours(1));
        match &app.db {
            Db::Sqlite(p) => { sqlx::query(insert).bind(id).bind(f.a.id).bind(viewer.user_id()).bind(at).execute(p).await.unwrap(); }
            Db::Postgres(p) => { sqlx::query(insert).bind(id).bind(f.a.id).bind(viewer.user_id()).bind(at).execute(p).await.unwrap(); }
        }
        let new = NewConversation { client_id: Some(client.id), title: "Visa".into(), body: "Hello".into(), ..Default::default() };
        let (conversation, _) = messages::start(&app.db, &f.a.owner, &new, &Origin::system("test")).await.unwrap();

        let person = app.browser();
        person.login(email, PASSWORD).await;
        let page = person.get("/notifications").await.body;
        let old = "<a href=\"/portal/tasks\">The firm gave you a task</a>";
        let recent = format!("<a href=\"/portal/messages/{}\">New message from the firm</a>", conversation.id);
        assert!(page.contains(old) && page.contains(&recent), "{page}");
        assert!(page.find(&recent) < page.find(old), "newest first");
        assert_eq!(notifications::unread(&app.db, &viewer).await.unwrap(), 2);
        assert_eq!(notifications::mark_read(&app.db, &viewer, None).await.unwrap(), 2);
        assert_eq!(notifications::unread(&app.db, &viewer).await.unwrap(), 0);
        app.stop().await;
    }

    async fn opening_a_conversation_marks_read_only_the_notifications_about_it(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let origin = Origin::system("test");
        let viewer = client_viewer(&app.db, &f.a.owner, client.id).await;
        let mut started = Vec::new();
        for title in ["First", "Second"] {
            let new = NewConversation { client_id: Some(client.id), title: title.into(), body: "Hello".into(), ..Default::default() };
            started.push(messages::start(&app.db, &f.a.owner, &new, &origin).await.unwrap().0.id);
        }
        tasks::create(&app.db, &f.a.owner, client.id, &tasks::NewTask { title: "Sign".into(), ..Default::default() }, &origin).await.unwrap();
        assert_eq!(notifications::unread(&app.db, &viewer).await.unwrap(), 3);

        let person = app.browser();
        person.login(email, PASSWORD).await;
        assert_eq!(person.get(&format!("/portal/messages/{}", started[0])).await.status, 200);
        let unread: Vec<About> = notifications::list(&app.db, &viewer, 10).await.unwrap()
            .into_iter().filter(|n| n.read_at.is_none()).map(|n| n.about).collect();
        assert_eq!(unread.len(), 2);
        assert!(unread.iter().any(|a| matches!(a, About::Event { subject_id, .. } if *subject_id == started[1])));
        assert!(!unread.iter().any(|a| matches!(a, About::Event { subject_id, .. } if *subject_id == started[0])));
        app.stop().await;
    }
}
