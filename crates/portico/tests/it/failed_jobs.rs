//! A firm's administrators see the emails that gave up (a mailbox that refuses mail for good)
//! with why, and try them again once the cause is fixed; another firm's, other people and
//! replays are refused.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

const PAGE: &str = "/staff/settings/failed";

async fn failed_jobs(app: &TestApp, n: usize) -> Vec<portico_db::jobs::Job> {
    for _ in 0..100 {
        let failed = portico_db::system::jobs::with_status(&app.db, "failed", 50)
            .await
            .unwrap();
        if failed.len() >= n {
            return failed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} jobs did not give up in time");
}

both! {
    async fn an_admin_sees_what_gave_up_and_tries_it_again(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let known = f.b.clients[0].1.clone();
        for address in [known.as_str(), "newcomer@example.com", "other@example.com"] {
            app.smtp.refuse(address);
        }
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        // Someone with a password is told of new access (a plain email); a newcomer gets an
        // invitation, whose link lives only while it is pending.
        let page = format!("/staff/clients/{}", f.a.clients[0].0.id);
        for (name, email) in [("Known Person", known.as_str()), ("New Comer", "newcomer@example.com")] {
            assert_eq!(admin.submit(&page, &format!("{page}/invite"), &[("name", name), ("email", email)]).await.status, 303);
        }
        // Another firm's email gives up too.
        let beta = app.browser();
        beta.login(&f.b.owner_email, PASSWORD).await;
        let theirs = format!("/staff/clients/{}", f.b.clients[0].0.id);
        assert_eq!(beta.submit(&theirs, &format!("{theirs}/invite"), &[("name", "Other"), ("email", "other@example.com")]).await.status, 303);
        let failed = failed_jobs(&app, 3).await;
        let job_for = |address: &str| failed.iter().find(|j| j.payload.contains(address)).unwrap().id;
        let (plain, invitation, beta_job) = (job_for(&known), job_for("newcomer@example.com"), job_for("other@example.com"));

        let settings = admin.get("/staff/settings").await;
        assert!(settings.body.contains(&format!("href=\"{PAGE}\"")));
        let listed = admin.get(PAGE).await;
        assert_eq!(listed.status, 200);
        assert!(listed.body.contains(&known) && listed.body.contains("newcomer@example.com"), "{}", listed.body);
        assert!(listed.body.contains("550"), "the mail server's reason is shown");
        assert!(!listed.body.contains("other@example.com"), "another firm's is never shown");
        assert!(listed.body.contains(&format!("{PAGE}/{plain}/retry")));
        assert!(!listed.body.contains(&format!("{PAGE}/{invitation}/retry")), "an expired sign-in link cannot be sent again");
        assert!(listed.body.contains("Send the person a new invitation"));

        // The mailbox is fixed; trying again delivers the email, once.
        app.smtp.accept(&known);
        let retried = admin.submit(PAGE, &format!("{PAGE}/{plain}/retry"), &[]).await;
        assert_eq!(retried.status, 303);
        assert_eq!(retried.location.as_deref(), Some("/staff/settings/failed?retried=1"));
        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(mail.len(), 1);
        assert!(mail[0].to.iter().any(|t| t.contains(&known)));
        assert!(mail[0].from.contains("portico@localhost"));
        assert!(mail[0].data.contains("From: \"Alpha Legal\" <portico@localhost>") || mail[0].data.contains("From: Alpha Legal <portico@localhost>"), "sent under the firm's name: {}", mail[0].data);
        let after = admin.get(PAGE).await;
        assert!(!after.body.contains(&known) && after.body.contains("newcomer@example.com"));
        assert!(admin.get("/staff/audit").await.body.contains("job.retry"));

        // A second press (or a second administrator), another firm's job, a malformed id, a
        // job that never gave up: not found, and nothing changes.
        assert_eq!(admin.submit(PAGE, &format!("{PAGE}/{plain}/retry"), &[]).await.status, 404);
        assert_eq!(admin.submit(PAGE, &format!("{PAGE}/{beta_job}/retry"), &[]).await.status, 404);
        assert_eq!(admin.submit(PAGE, &format!("{PAGE}/not-an-id/retry"), &[]).await.status, 404);
        // Without the form's token: refused.
        assert_eq!(admin.post(&format!("{PAGE}/{invitation}/retry"), &[]).await.status, 403);
        let still = portico_db::system::jobs::with_status(&app.db, "failed", 50).await.unwrap();
        assert!(still.iter().any(|j| j.id == beta_job) && still.iter().any(|j| j.id == invitation));
        assert_eq!(app.smtp.messages().len(), 1, "nothing else was sent");

        // Staff who are not administrators, and clients, do not have the page.
        let member = app.browser();
        member.login(&f.a.member_email, PASSWORD).await;
        assert_eq!(member.get(PAGE).await.status, 404);
        assert_eq!(member.submit("/staff", &format!("{PAGE}/{invitation}/retry"), &[]).await.status, 404);
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert_eq!(client.get(PAGE).await.status, 404);
        assert_eq!(client.submit("/portal", &format!("{PAGE}/{invitation}/retry"), &[]).await.status, 404);
        app.stop().await;
    }
}
