//! The durable job table: mail is queued with the change that needs it and delivered over
//! SMTP, once, even when the mail server is down at first.

use std::time::Duration;

use portico_mail::Email;
use portico_services::email::queue_email;

use crate::both;
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestApp};

fn email(n: usize) -> Email {
    Email {
        to: format!("person{n}@example.com"),
        subject: format!("Message {n}"),
        text: "You have a new secure message. Sign in to read it.".into(),
        html: None,
        sender_name: None,
    }
}

both! {
    async fn mail_waits_for_a_down_smtp_server_and_arrives_exactly_once(backend: Backend) {
        let port = SmtpSink::free_port();
        let app = TestApp::start_with(backend, |c| c.mail.smtp_port = port).await;
        let mut tx = app.db.begin().await.unwrap();
        for n in 0..3 {
            queue_email(&mut tx, None, &email(n), 50).await.unwrap();
        }
        tx.commit().await.unwrap();
        // Nothing listens yet: attempts fail and are retried.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let pending = portico_db::system::jobs::with_status(&app.db, "pending", 10).await.unwrap();
        assert_eq!(pending.len(), 3);
        assert!(pending.iter().all(|j| j.attempts >= 1 && !j.last_error.is_empty()));
        let sink = SmtpSink::start_on(port).await;
        let got = sink.wait_for(3, Duration::from_secs(20)).await;
        assert_eq!(got.len(), 3);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sink.messages().len(), 3, "no duplicates");
        let mut subjects: Vec<String> = got.iter().map(|m| m.data.lines().find(|l| l.starts_with("Subject:")).unwrap().to_string()).collect();
        subjects.sort();
        assert_eq!(subjects, ["Subject: Message 0", "Subject: Message 1", "Subject: Message 2"]);
        assert!(portico_db::system::jobs::with_status(&app.db, "pending", 10).await.unwrap().is_empty());
        app.stop().await;
    }

    async fn a_rolled_back_change_sends_no_mail(backend: Backend) {
        let app = TestApp::start(backend).await;
        let mut tx = app.db.begin().await.unwrap();
        queue_email(&mut tx, None, &email(9), 5).await.unwrap();
        drop(tx);
        let mut tx = app.db.begin().await.unwrap();
        queue_email(&mut tx, None, &email(1), 5).await.unwrap();
        tx.commit().await.unwrap();
        let got = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.smtp.messages().len(), 1);
        assert!(got[0].to.iter().any(|t| t.contains("person1@")));
        app.stop().await;
    }

    async fn a_job_gives_up_visibly_after_its_last_attempt(backend: Backend) {
        let port = SmtpSink::free_port();
        let app = TestApp::start_with(backend, |c| {
            c.mail.smtp_port = port;
            c.jobs.retry_base_ms = 20;
        }).await;
        let mut tx = app.db.begin().await.unwrap();
        queue_email(&mut tx, None, &email(1), 2).await.unwrap();
        tx.commit().await.unwrap();
        let mut failed = Vec::new();
        for _ in 0..100 {
            failed = portico_db::system::jobs::with_status(&app.db, "failed", 10).await.unwrap();
            if !failed.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attempts, 2);
        assert!(!failed[0].last_error.is_empty());
        app.stop().await;
    }

    async fn two_workers_on_one_database_deliver_each_mail_once(backend: Backend) {
        let app = TestApp::start(backend).await;
        // A second server on the same database and the same SMTP sink.
        let dir = tempfile::tempdir().unwrap();
        let mut config = app.config.clone();
        config.data = dir.path().to_path_buf();
        let services = portico::server::open(&config).await.unwrap();
        let second = portico::server::start(&config, services).await.unwrap();
        let mut tx = app.db.begin().await.unwrap();
        for n in 0..20 {
            queue_email(&mut tx, None, &email(n), 5).await.unwrap();
        }
        tx.commit().await.unwrap();
        let got = app.smtp.wait_for(20, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(got.len(), 20);
        assert_eq!(app.smtp.messages().len(), 20);
        second.stop().await;
        app.stop().await;
    }

    async fn a_refused_recipient_is_given_up_at_once_while_others_are_delivered(backend: Backend) {
        let app = TestApp::start(backend).await;
        app.smtp.refuse("person1@example.com");
        let mut tx = app.db.begin().await.unwrap();
        for n in 0..3 {
            queue_email(&mut tx, None, &email(n), 10).await.unwrap();
        }
        tx.commit().await.unwrap();
        let got = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 2);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let failed = portico_db::system::jobs::with_status(&app.db, "failed", 10).await.unwrap();
        assert_eq!(failed.len(), 1, "the refusal is dead-lettered, not retried");
        assert_eq!(failed[0].attempts, 1, "after one attempt, not ten");
        assert!(failed[0].last_error.contains("550"), "{}", failed[0].last_error);
        assert!(portico_db::system::jobs::with_status(&app.db, "pending", 10).await.unwrap().is_empty());

        // Only a job that gave up can be retried: a delivered one is not sent twice.
        let done = portico_db::system::jobs::with_status(&app.db, "done", 10).await.unwrap();
        assert!(!portico_db::system::jobs::retry(&app.db, done[0].id).await.unwrap());
        // An operator retries the one that gave up.
        assert!(portico_db::system::jobs::retry(&app.db, failed[0].id).await.unwrap());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let again = portico_db::system::jobs::with_status(&app.db, "failed", 10).await.unwrap();
        assert_eq!(again.len(), 1, "still refused, so given up again after one attempt");
        assert_eq!(again[0].attempts, 1);
        app.stop().await;
    }
}
