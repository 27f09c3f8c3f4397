//! Sharing: an item reaches a client through a share with the client or with one of its
//! matters, and stops the moment the share, the matter's portal or the client's portal does.

use portico_db::audit::Origin;
use portico_db::shares::{self, Audience};

use crate::both;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn shared_items_reach_only_their_client_and_stop_at_once(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let origin = Origin::system("test");
        let (c1, _, m1) = &f.a.clients[0];
        let (c2, _, _) = &f.a.clients[1];
        let viewer_of = |email: &str| {
            let db = app.db.clone();
            let email = email.to_string();
            async move {
                let u = portico_db::users::by_email(&db, &email).await.unwrap().unwrap();
                let m = portico_db::users::memberships(&db, u.id).await.unwrap().remove(0);
                portico_db::users::viewer_for(&db, u.id, portico_db::users::Context::Client, m.membership_id).await.unwrap().unwrap()
            }
        };
        let client1 = viewer_of(&f.a.clients[0].1).await;
        let client2 = viewer_of(&f.a.clients[1].1).await;
        let (doc, note) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        shares::share(&app.db, &f.a.owner, "note", doc, Audience::Client(c1.id), &origin).await.unwrap();
        shares::share(&app.db, &f.a.owner, "note", doc, Audience::Client(c1.id), &origin).await.unwrap();
        shares::share(&app.db, &f.a.owner, "note", note, Audience::Matter(m1[0].id), &origin).await.unwrap();
        assert_eq!(shares::visible_to_client(&app.db, &client1, "note").await.unwrap().len(), 2);
        assert!(shares::visible_to_client(&app.db, &client2, "note").await.unwrap().is_empty());
        assert!(!shares::is_visible(&app.db, &client2, "note", doc).await.unwrap());
        assert!(shares::visible_to_client(&app.db, &client1, "file").await.unwrap().is_empty());

        // Closing the matter hides what was shared through it; reopening restores it.
        portico_db::matters::set_portal_open(&app.db, &f.a.owner, m1[0].id, false, &origin).await.unwrap();
        assert!(!shares::is_visible(&app.db, &client1, "note", note).await.unwrap());
        portico_db::matters::set_portal_open(&app.db, &f.a.owner, m1[0].id, true, &origin).await.unwrap();
        assert!(shares::is_visible(&app.db, &client1, "note", note).await.unwrap());

        // "Mark as read" by the client shows as complete to staff; twice is harmless; an item
        // the client cannot see, or another client's marks, are refused.
        shares::mark_read(&app.db, &client1, "note", doc).await.unwrap();
        shares::mark_read(&app.db, &client1, "note", doc).await.unwrap();
        let marks = shares::read_marks(&app.db, &f.a.owner, "note", c1.id, &[doc, note]).await.unwrap();
        assert_eq!(marks.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![doc]);
        assert!(matches!(shares::mark_read(&app.db, &client2, "note", doc).await, Err(portico_db::DbError::NotFound)));
        assert!(matches!(shares::mark_read(&app.db, &f.a.owner, "note", doc).await, Err(portico_db::DbError::Forbidden)));
        assert!(matches!(shares::read_marks(&app.db, &client2, "note", c1.id, &[doc]).await, Err(portico_db::DbError::NotFound)));
        assert!(shares::read_marks(&app.db, &f.b.owner, "note", c1.id, &[doc]).await.unwrap().is_empty());
        assert!(shares::read_marks(&app.db, &client1, "note", c1.id, &[]).await.unwrap().is_empty());

        // Unsharing in bulk takes both away.
        let removed = shares::unshare(&app.db, &f.a.owner, "note", &[doc, note], c1.id, &origin).await.unwrap();
        assert_eq!(removed, 2);
        assert!(shares::visible_to_client(&app.db, &client1, "note").await.unwrap().is_empty());

        // Another firm's client or matter, a client acting as staff, a made-up type: refused.
        let (b1, _, bm) = &f.b.clients[0];
        assert!(matches!(shares::share(&app.db, &f.a.owner, "note", doc, Audience::Client(b1.id), &origin).await, Err(portico_db::DbError::NotFound)));
        assert!(matches!(shares::share(&app.db, &f.a.owner, "note", doc, Audience::Matter(bm[0].id), &origin).await, Err(portico_db::DbError::NotFound)));
        assert!(shares::share(&app.db, &client1, "note", doc, Audience::Client(c1.id), &origin).await.is_err());
        assert!(shares::share(&app.db, &f.a.owner, "x'; DROP TABLE shares;--", doc, Audience::Client(c1.id), &origin).await.is_err());
        assert!(matches!(shares::unshare(&app.db, &f.a.owner, "note", &[doc], c2.id, &origin).await, Ok(0)));
        app.stop().await;
    }
}
