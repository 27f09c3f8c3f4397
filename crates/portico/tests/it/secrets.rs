//! Sign-in tokens live only as their hashes: once the email that carries one has been
//! delivered (or given up), no copy of the token is left in the job queue or the audit log.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::smtp::{SmtpSink, link_path, set_password_path};
use crate::support::{Backend, Fixture, TestApp};

/// Rows of the job queue, its secrets and the audit log in which `needle` appears anywhere.
async fn rows_holding(app: &TestApp, needle: &str) -> i64 {
    let like = format!("%{needle}%");
    portico_db::on_db!(&app.db, p => sqlx::query_scalar::<_, i64>(
        "SELECT (SELECT COUNT(*) FROM jobs WHERE kind LIKE $1 OR payload LIKE $1 OR status LIKE $1 \
                 OR last_error LIKE $1) \
              + (SELECT COUNT(*) FROM job_secrets WHERE secret LIKE $1) \
              + (SELECT COUNT(*) FROM audit_events WHERE action LIKE $1 OR detail LIKE $1)"
    ).bind(&like).fetch_one(p).await)
    .unwrap()
}

/// Waits until no job is pending any more.
async fn settle(app: &TestApp) {
    for _ in 0..200 {
        if portico_db::system::jobs::with_status(&app.db, "pending", 10)
            .await
            .unwrap()
            .is_empty()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("jobs still pending");
}

fn token_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

both! {
    async fn delivered_links_leave_no_token_in_the_job_queue(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        // A password reset (a set-password link) …
        let b = app.browser();
        assert_eq!(b.post("/forgot-password", &[("email", &f.a.clients[0].1)]).await.status, 200);
        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        let reset = set_password_path(&mail[0].data);
        // … and an access link staff email to a client.
        let (client, email, matters) = &f.a.clients[0];
        let user = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap()
            .into_iter().find(|u| &u.email == email).unwrap();
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/matters/{}", matters[0].id);
        let sent = staff.submit(&page, &format!("{page}/access-link"), &[("client_user_id", &user.client_user_id.to_string())]).await;
        assert_eq!(sent.status, 303);
        let mail = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        let access = link_path(&mail[1].data, "/a/");
        settle(&app).await;

        for path in [&reset, &access] {
            let token = token_of(path);
            assert_eq!(token.len(), 43, "{path}");
            assert_eq!(rows_holding(&app, token).await, 0, "{path} is kept somewhere");
        }
        // The links still work: the person has them, nobody else does.
        assert_eq!(app.browser().post(&access, &[]).await.status, 303);
        assert_eq!(b.get(&reset).await.status, 200);
        app.stop().await;
    }

    async fn a_link_email_that_gives_up_leaves_no_token_behind(backend: Backend) {
        let port = SmtpSink::free_port();
        let app = TestApp::start_with(backend, |c| {
            c.mail.smtp_port = port;
            c.jobs.retry_base_ms = 20;
            c.jobs.max_attempts = 2;
        }).await;
        let f = Fixture::new(&app.db).await;
        let mut tx = app.db.begin().await.unwrap();
        let user = portico_db::users::by_email(&app.db, &f.a.clients[0].1).await.unwrap().unwrap();
        let firm = portico_db::firms::of_viewer(&app.db, &f.a.owner).await.unwrap();
        let origin = portico_db::audit::Origin::system("test");
        let link = portico_services::invitations::send_set_password_link(
            &mut tx, "http://portal.example", &user, &firm,
            portico_services::invitations::Occasion::Reset, &origin, 2,
        ).await.unwrap();
        tx.commit().await.unwrap();
        let token = token_of(&link).to_string();
        assert_eq!(token.len(), 43);
        let mut failed = Vec::new();
        for _ in 0..200 {
            failed = portico_db::system::jobs::with_status(&app.db, "failed", 10).await.unwrap();
            if !failed.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(failed.len(), 1, "the email gave up");
        assert!(!failed[0].payload.is_empty(), "the operator still sees what gave up");
        assert_eq!(rows_holding(&app, &token).await, 0);

        // Queued again by hand, it is refused rather than sent with a broken link.
        let sink = SmtpSink::start_on(port).await;
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE jobs SET status = 'pending', attempts = 0, run_at = $1")
            .bind(portico_db::now()).execute(p).await.map(|_| ())).unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(sink.messages().is_empty());
        let failed = portico_db::system::jobs::with_status(&app.db, "failed", 10).await.unwrap();
        assert!(failed[0].last_error.contains("ask for a new one"), "{}", failed[0].last_error);
        app.stop().await;
    }
}
