//! Staff invite people to a client's portal; the invitee confirms their email by choosing a
//! password through a single-use link, then signs in and sees that client's matters.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::smtp::set_password_path;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn an_invited_client_sets_a_password_and_sees_their_matters(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, _, matters) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let page = format!("/staff/clients/{}", client.id);
        let sent = staff.submit(&page, &format!("{page}/invite"), &[("name", "Rosa Díaz"), ("email", "Rosa.Diaz@Example.com"), ("client_admin", "on")]).await;
        assert_eq!(sent.status, 303);
        let listed = staff.get(&page).await;
        assert!(listed.body.contains("rosa.diaz@example.com") && listed.body.contains("client admin"));

        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(mail.len(), 1);
        assert!(mail[0].to.iter().any(|t| t.contains("rosa.diaz@example.com")));
        assert!(mail[0].data.contains("Confirm your email"));
        assert!(mail[0].data.contains("text/plain") && mail[0].data.contains("text/html"), "plain text and HTML");
        assert!(mail[0].data.contains("Choose your password"));
        assert!(!mail[0].data.contains(&matters[0].title), "the email carries no case details");
        let path = set_password_path(&mail[0].data);

        let invitee = app.browser();
        assert_eq!(invitee.get(&path).await.status, 200);
        let done = invitee.post(&path, &[("password", "my own long passphrase"), ("confirm", "my own long passphrase")]).await;
        assert_eq!(done.status, 303);
        assert_eq!(invitee.post(&path, &[("password", "another long passphrase"), ("confirm", "another long passphrase")]).await.status, 410);
        assert_eq!(invitee.login("rosa.diaz@example.com", "my own long passphrase").await.location.as_deref(), Some("/portal"));
        let home = invitee.get("/portal").await;
        assert!(home.body.contains(&matters[0].title));
        assert!(!home.body.contains(&f.a.clients[1].2[0].title));
        app.stop().await;
    }

    async fn someone_with_a_password_is_told_they_have_access_without_a_link(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.b.owner_email, PASSWORD).await;
        // A client of firm A is invited by firm B: one sign-in, no new password link.
        let page = format!("/staff/clients/{}", f.b.clients[0].0.id);
        let email = f.a.clients[0].1.clone();
        assert_eq!(staff.submit(&page, &format!("{page}/invite"), &[("name", "Same Person"), ("email", &email)]).await.status, 303);
        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(mail.len(), 1);
        assert!(mail[0].data.contains("Sign in with your existing password"));
        assert!(!mail[0].data.contains("/set-password/"));
        app.stop().await;
    }

    async fn invitations_refuse_bad_input_and_other_tenants(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let page = format!("/staff/clients/{}", f.a.clients[0].0.id);
        let action = format!("{page}/invite");
        let bad = staff.submit(&page, &action, &[("name", "No Email"), ("email", "not an address")]).await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Enter an email address like name@example.com."));
        let twice = staff.submit(&page, &action, &[("name", "Existing"), ("email", &f.a.clients[0].1)]).await;
        assert_eq!(twice.status, 409);
        assert!(twice.body.contains("already has access"));
        let nameless = staff.submit(&page, &action, &[("name", "  "), ("email", "x@example.com")]).await;
        assert_eq!(nameless.status, 422);
        // Another firm's client answers like a missing one, and nothing is sent.
        let theirs = format!("/staff/clients/{}/invite", f.b.clients[0].0.id);
        let p = staff.submit(&page, &theirs, &[("name", "Planted"), ("email", "planted@example.com")]).await;
        assert_eq!(p.status, 404);
        // Without the form token, nothing happens.
        assert_eq!(staff.post(&action, &[("name", "Forged"), ("email", "forged@example.com")]).await.status, 403);
        // A client cannot invite through the staff page.
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert_eq!(client.submit("/portal", &action, &[("name", "Friend"), ("email", "friend@example.com")]).await.status, 404);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(app.smtp.messages().is_empty());
        for email in ["planted@example.com", "forged@example.com", "friend@example.com", "x@example.com"] {
            assert!(portico_db::users::by_email(&app.db, email).await.unwrap().is_none(), "{email}");
        }
        app.stop().await;
    }
}

both! {
    async fn an_expired_invitation_offers_a_new_link_to_the_same_address(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let page = format!("/staff/clients/{}", f.a.clients[1].0.id);
        staff.submit(&page, &format!("{page}/invite"), &[("name", "Late Reader"), ("email", "late@example.com")]).await;
        let first = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        let old = set_password_path(&first[0].data);
        let past = portico_db::now() - time::Duration::minutes(1);
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE one_time_tokens SET expires_at = $1").bind(past).execute(p).await.map(|_| ())).unwrap();

        let b = app.browser();
        let gone = b.get(&old).await;
        assert_eq!(gone.status, 410);
        assert!(gone.body.contains("Email me a new link"));
        let renewed = b.post(&format!("{old}/renew"), &[]).await;
        assert_eq!(renewed.status, 200);
        assert!(renewed.body.contains("a new one is on its way"));
        let mail = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(mail.len(), 2);
        assert!(mail[1].to.iter().any(|t| t.contains("late@example.com")));
        let new = set_password_path(&mail[1].data);
        assert_ne!(new, old);
        assert_eq!(b.post(&new, &[("password", "finally a passphrase"), ("confirm", "finally a passphrase")]).await.status, 303);

        // A made-up token gets the same answer and sends nothing; renewals are limited.
        let fake = format!("/set-password/{}/renew", "A".repeat(43));
        assert_eq!(b.post(&fake, &[]).await.body, renewed.body.replace(&old[14..], &"A".repeat(43)));
        for _ in 0..4 {
            b.post(&format!("{old}/renew"), &[]).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.smtp.messages().len(), 4, "one earlier renewal plus two more, then the limit");
        let odd = b.get("/set-password/..%2F..%2Fstaff").await;
        assert_eq!(odd.status, 410);
        assert!(!odd.body.contains("/renew"));
        app.stop().await;
    }

    async fn staff_resend_and_revoke_open_invitations(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = &f.a.clients[0].0;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}", client.id);
        staff.submit(&page, &format!("{page}/invite"), &[("name", "Omar Haddad"), ("email", "omar@example.com")]).await;
        let first = set_password_path(&app.smtp.wait_for(1, Duration::from_secs(10)).await[0].data);
        let listed = staff.get(&page).await.body;
        assert!(listed.contains("invited, not signed in yet"));
        let omar = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap()
            .into_iter().find(|u| u.email == "omar@example.com").unwrap();
        let base = format!("{page}/users/{}/invitation", omar.client_user_id);

        // Resending mails a new link; the old one stops working.
        assert_eq!(staff.submit(&page, &format!("{base}/resend"), &[]).await.status, 303);
        let mail = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        let second = set_password_path(&mail[1].data);
        assert_ne!(first, second);
        assert!(mail[1].data.contains("Confirm your email"));
        let invitee = app.browser();
        assert_eq!(invitee.get(&first).await.status, 410);
        assert_eq!(invitee.get(&second).await.status, 200);

        // Revoking: the link stops working, cannot be renewed, and the person has no access.
        assert_eq!(staff.submit(&page, &format!("{base}/revoke"), &[]).await.status, 303);
        assert_eq!(invitee.get(&second).await.status, 410);
        let tried = invitee.post(&second, &[("password", "my own long passphrase"), ("confirm", "my own long passphrase")]).await;
        assert_eq!(tried.status, 410);
        invitee.post(&format!("{second}/renew"), &[]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.smtp.messages().len(), 2, "no new link after a revocation");
        assert!(staff.get(&page).await.body.contains("deactivated"));
        // Revoking or resending again, or for someone who already signs in: a clear conflict.
        let again = staff.submit(&page, &format!("{base}/resend"), &[]).await;
        assert_eq!(again.status, 409);
        assert!(again.body.contains("was revoked; invite them again instead."));
        let member = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap()
            .into_iter().find(|u| u.email == f.a.clients[0].1).unwrap();
        let accepted = staff.submit(&page, &format!("{page}/users/{}/invitation/revoke", member.client_user_id), &[]).await;
        assert_eq!(accepted.status, 409);
        assert!(accepted.body.contains("has already accepted the invitation"));
        // Another firm's staff, an unknown action, a client: not found.
        let other = app.browser();
        other.login(&f.b.owner_email, PASSWORD).await;
        let csrf = other.get("/staff").await.csrf();
        assert_eq!(other.post(&format!("{base}/resend"), &[("csrf", csrf.as_str())]).await.status, 404);
        assert_eq!(staff.submit(&page, &format!("{base}/delete"), &[]).await.status, 404);
        let a_client = app.browser();
        a_client.login(&f.a.clients[0].1, PASSWORD).await;
        let csrf = a_client.get("/portal").await.csrf();
        assert_eq!(a_client.post(&format!("{base}/resend"), &[("csrf", csrf.as_str())]).await.status, 404);

        // Inviting again brings the membership back with a working link.
        assert_eq!(staff.submit(&page, &format!("{page}/invite"), &[("name", "Omar Haddad"), ("email", "omar@example.com")]).await.status, 303);
        let mail = app.smtp.wait_for(3, Duration::from_secs(10)).await;
        let third = set_password_path(&mail[2].data);
        let done = invitee.post(&third, &[("password", "my own long passphrase"), ("confirm", "my own long passphrase")]).await;
        assert_eq!(done.status, 303);
        assert_eq!(invitee.login("omar@example.com", "my own long passphrase").await.location.as_deref(), Some("/portal"));
        app.stop().await;
    }

    async fn a_registration_key_given_out_of_band_is_asked_for_and_guessing_is_stopped(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = &f.a.clients[0].0;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let page = format!("/staff/clients/{}", client.id);
        let mut keys = Vec::new();
        for (n, email) in ["kim@example.com", "lee@example.com"].iter().enumerate() {
            let shown = staff.submit(&page, &format!("{page}/invite"), &[("name", "Invitee"), ("email", email), ("registration_key", "on")]).await;
            assert_eq!(shown.status, 200);
            let marker = format!("Registration key for {email}: ");
            let start = shown.body.find(&marker).expect("the key is shown once") + marker.len();
            let key = shown.body[start..start + 9].to_string();
            assert!(key.chars().nth(4) == Some('-'), "{key}");
            // Shown only then: not on the next visit, not in the email.
            assert!(!staff.get(&page).await.body.contains(&key));
            let mail = app.smtp.wait_for(n + 1, Duration::from_secs(10)).await;
            assert!(!mail[n].data.contains(&key));
            keys.push((key, set_password_path(&mail[n].data)));
        }

        // Kim types the key in lower case with a space: accepted; without it, refused.
        let (key, link) = &keys[0];
        let b = app.browser();
        assert!(b.get(link).await.body.contains("Registration key"));
        let pw = [("password", "my own long passphrase"), ("confirm", "my own long passphrase")];
        let missing = b.post(link, &pw).await;
        assert_eq!(missing.status, 422);
        assert!(missing.body.contains("That registration key does not match."));
        let typed = key.to_lowercase().replace('-', " ");
        let mut form = pw.to_vec();
        form.push(("registration_key", typed.as_str()));
        assert_eq!(b.post(link, &form).await.status, 303);
        assert_eq!(b.login("kim@example.com", "my own long passphrase").await.location.as_deref(), Some("/portal"));

        // Lee's link: five wrong keys, then even the right one waits.
        let (key, link) = &keys[1];
        for _ in 0..5 {
            let mut form = pw.to_vec();
            form.push(("registration_key", "ZZZZ-9999"));
            assert_eq!(b.post(link, &form).await.status, 422);
        }
        let mut form = pw.to_vec();
        form.push(("registration_key", key.as_str()));
        let stopped = b.post(link, &form).await;
        assert_eq!(stopped.status, 429);
        assert!(stopped.body.contains("Too many wrong registration keys."));
        let lee = portico_db::users::by_email(&app.db, "lee@example.com").await.unwrap().unwrap();
        assert!(lee.password_hash.is_none(), "nothing was set");
        app.stop().await;
    }
}
