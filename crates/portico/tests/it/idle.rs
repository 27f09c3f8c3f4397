//! Automatic logoff: only a person's own actions extend their session. A page's live streams
//! (opened and reopened by the browser on its own) do not, and they end when the session
//! idles out.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

/// The person's one session, as stored.
async fn session_of(app: &TestApp, email: &str) -> portico_db::sessions::Session {
    let user = portico_db::users::by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap();
    portico_db::sessions::of_user(&app.db, user.id)
        .await
        .unwrap()
        .remove(0)
}

/// Moves the session's last activity back, and its idle end to `idle_left` from now.
async fn age_session(app: &TestApp, id: uuid::Uuid, idle_left: time::Duration) {
    let now = portico_db::now();
    portico_db::on_db!(&app.db, p => sqlx::query("UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2 WHERE id = $3")
        .bind(now - time::Duration::minutes(5)).bind(now + idle_left).bind(id).execute(p).await.map(|_| ())).unwrap();
}

/// Reads a stream until it ends; `false` if it is still open after `within`.
async fn ends_within(res: &mut reqwest::Response, within: Duration) -> bool {
    let until = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(until, res.chunk()).await {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) | Ok(Err(_)) => return true,
            Err(_) => return false,
        }
    }
}

async fn conversation(app: &TestApp, f: &Fixture) -> String {
    let staff = app.browser();
    staff.login(&f.a.member_email, PASSWORD).await;
    let client_id = f.a.clients[0].0.id;
    let new = format!("/staff/clients/{client_id}/messages/new");
    let started = staff
        .submit(
            &new,
            &format!("/staff/clients/{client_id}/messages"),
            &[("title", "Idle"), ("body", "hello")],
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

fn stream(person: &Browser, app: &TestApp, path: &str) -> reqwest::RequestBuilder {
    person
        .with_cookie(person.raw().get(app.url(path)))
        .header("accept", "text/event-stream")
}

both! {
    async fn live_streams_do_not_extend_a_session_but_the_persons_own_requests_do(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = &f.a.clients[0].1;
        let id = conversation(&app, &f).await;
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let s = session_of(&app, email).await;
        age_session(&app, s.id, time::Duration::minutes(10)).await;
        let before = session_of(&app, email).await;
        for path in [format!("/messages/{id}/live"), "/notifications/live".to_string()] {
            let res = stream(&person, &app, &path).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            drop(res);
        }
        let after = session_of(&app, email).await;
        assert_eq!(after.idle_expires_at, before.idle_expires_at, "a stream is not activity");
        assert_eq!(after.last_seen_at, before.last_seen_at);
        // A page the person opens is.
        assert_eq!(person.get("/portal").await.status, 200);
        assert!(session_of(&app, email).await.idle_expires_at > before.idle_expires_at);
        app.stop().await;
    }

    async fn a_live_stream_ends_when_its_session_idles_out(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = &f.a.clients[0].1;
        let id = conversation(&app, &f).await;
        let person = app.browser();
        person.login(email, PASSWORD).await;
        for path in [format!("/messages/{id}/live"), "/notifications/live".to_string()] {
            let s = session_of(&app, email).await;
            age_session(&app, s.id, time::Duration::seconds(2)).await;
            let mut res = stream(&person, &app, &path).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert!(ends_within(&mut res, Duration::from_secs(8)).await, "{path} outlived its session");
            // And it cannot be reopened: the session is over.
            assert_ne!(stream(&person, &app, &path).send().await.unwrap().status(), 200, "{path}");
            // Sign in again for the next stream.
            person.login(email, PASSWORD).await;
        }
        app.stop().await;
    }

    async fn a_live_stream_lives_on_while_the_person_works_in_another_tab(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let email = &f.a.clients[0].1;
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let s = session_of(&app, email).await;
        age_session(&app, s.id, time::Duration::seconds(2)).await;
        let mut res = stream(&person, &app, "/notifications/live").send().await.unwrap();
        assert_eq!(res.status(), 200);
        // The person opens a page in another tab before the idle end.
        assert_eq!(person.get("/portal").await.status, 200);
        assert!(!ends_within(&mut res, Duration::from_secs(4)).await, "the stream ended while the session lives");
        app.stop().await;
    }
}
