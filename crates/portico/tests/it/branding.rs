//! Pages for people not signed in carry the name and logo of the firm they are about, when the
//! firm is known: its own sign-in address, the invitation or access link that brought them, the
//! portal they signed out of. Anything else in the address shows the plain page.

use std::time::Duration;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::smtp::set_password_path;
use crate::support::{Backend, Fixture, TestApp};

/// The firm's frame at the top of a page: its colours and its name.
fn branded(body: &str, slug: &str, name: &str) -> bool {
    body.contains(&format!("/brand/{slug}.css"))
        && body.contains("<header class=\"top\">")
        && body.contains(&format!("{name}</span>"))
}

fn unbranded(body: &str) -> bool {
    !body.contains("/brand/") && !body.contains("<header class=\"top\">")
}

both! {
    async fn a_firms_sign_in_address_shows_its_name_and_logo_and_keeps_them(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let plain = app.browser().get("/login").await;
        assert_eq!(plain.status, 200);
        assert!(unbranded(&plain.body) && plain.body.contains("<h1>Sign in</h1>"));

        let a = f.a.slug.as_str();
        let page = app.browser().get(&format!("/login?firm={a}")).await;
        assert_eq!(page.status, 200);
        assert!(branded(&page.body, a, "Alpha Legal"), "{}", page.body);
        assert!(page.body.contains("<h1>Sign in to Alpha Legal</h1>") && page.body.contains("<title>Sign in · Alpha Legal</title>"));
        assert!(page.body.contains(&format!("name=\"firm\" value=\"{a}\"")), "the form keeps the firm");
        assert!(page.body.contains(&format!("href=\"/forgot-password?firm={a}\"")));
        assert!(!page.body.contains("/logos/"), "no logo until the firm has one");

        // With a logo, the logo comes too, at its current version.
        portico_db::on_db!(&app.db, p => sqlx::query("UPDATE firms SET logo_version = 7 WHERE id = $1").bind(f.a.id).execute(p).await.map(|_| ())).unwrap();
        let page = app.browser().get(&format!("/login?firm={a}")).await;
        assert!(page.body.contains(&format!("src=\"/logos/{a}?v=7\"")), "{}", page.body);

        // A wrong password is refused on the same firm's page, and only the firm is kept.
        let b = app.browser();
        let refused = b.post("/login", &[("email", &f.a.owner_email), ("password", "not the password"), ("firm", a)]).await;
        assert_eq!(refused.status, 401);
        assert!(branded(&refused.body, a, "Alpha Legal") && refused.body.contains("do not match"));

        // The page's firm is only how it looks: a person signs in to their own firm from any
        // firm's page, and lands where they belong.
        let other = b.post("/login", &[("email", &f.a.owner_email), ("password", PASSWORD), ("firm", &f.b.slug)]).await;
        assert_eq!(other.status, 303);
        assert_eq!(other.location.as_deref(), Some("/staff"));
        let home = b.get("/staff").await;
        assert!(home.body.contains("Alpha Legal"));

        // Signing out lands on the sign-in page of the firm they were in.
        let out = b.submit("/staff", "/logout", &[]).await;
        assert_eq!(out.location, Some(format!("/login?notice=signed_out&firm={a}")));
        let after = b.get(out.location.as_deref().unwrap()).await;
        assert!(after.body.contains("You have signed out.") && branded(&after.body, a, "Alpha Legal"));

        // The firm's administrators see the address to give out.
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let settings = admin.get("/staff/settings").await;
        assert!(settings.body.contains(&format!("/login?firm={a}\">")), "{}", settings.body);
        app.stop().await;
    }

    async fn anything_but_a_firms_address_shows_the_plain_sign_in_page(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let long = "a".repeat(5000);
        let cases = [
            "nope".to_string(),
            f.a.slug.to_uppercase(),
            format!("{}%20", f.a.slug),
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
            format!("{}'--", f.a.slug),
            "%25".to_string(),
            "..%2F..%2Fetc".to_string(),
            f.a.id.to_string(),
            long,
        ];
        for bad in &cases {
            for path in [format!("/login?firm={bad}"), format!("/forgot-password?firm={bad}")] {
                let p = app.browser().get(&path).await;
                assert_eq!(p.status, 200, "{path}");
                assert!(unbranded(&p.body), "{path}");
                assert!(!p.body.contains("<script>alert"), "{path}");
            }
            let b = app.browser();
            let refused = b.post("/login", &[("email", &f.a.member_email), ("password", "wrong"), ("firm", bad)]).await;
            assert!(refused.status == 401 || refused.status == 429, "{bad}: {}", refused.status);
            assert!(unbranded(&refused.body), "{bad}");
        }
        // A control character is refused as malformed input, as everywhere.
        let nul = app.browser().get(&format!("/login?firm={}%00", f.a.slug)).await;
        assert_eq!(nul.status, 422);
        assert!(unbranded(&nul.body));
        // A firm named twice, or as a list, is a malformed address: a clear refusal, no brand.
        for path in [format!("/login?firm={}&firm={}", f.a.slug, f.b.slug), format!("/login?firm[]={}", f.a.slug)] {
            let p = app.browser().get(&path).await;
            assert!(p.status == 200 || p.status == 400, "{path}: {}", p.status);
            assert!(unbranded(&p.body), "{path}: {}", p.body);
        }
        // Signing in still works with any of them on the form.
        let ok = app.browser().post("/login", &[("email", &f.a.owner_email), ("password", PASSWORD), ("firm", "<b>x</b>")]).await;
        assert_eq!(ok.status, 303);
        app.stop().await;
    }

    async fn the_forgotten_password_page_keeps_its_firm_and_never_names_the_accounts(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let a = f.a.slug.as_str();
        let page = app.browser().get(&format!("/forgot-password?firm={a}")).await;
        assert!(branded(&page.body, a, "Alpha Legal") && page.body.contains(&format!("name=\"firm\" value=\"{a}\"")));
        assert!(page.body.contains(&format!("href=\"/login?firm={a}\"")));
        // Firm B's owner asks from firm A's page, and someone unknown does too: the same answer,
        // on firm A's page, naming nobody's firm.
        let known = app.browser().post("/forgot-password", &[("email", &f.b.owner_email), ("firm", a)]).await;
        let unknown = app.browser().post("/forgot-password", &[("email", "nobody@example.com"), ("firm", a)]).await;
        assert_eq!(known.status, 200);
        assert_eq!(known.body, unknown.body);
        assert!(branded(&known.body, a, "Alpha Legal") && !known.body.contains("Beta"));
        let malformed = app.browser().post("/forgot-password", &[("email", "not an address"), ("firm", a)]).await;
        assert_eq!(malformed.status, 422);
        assert!(branded(&malformed.body, a, "Alpha Legal"));
        app.stop().await;
    }

    async fn invitation_and_access_link_pages_come_from_their_firm(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.b.owner_email, PASSWORD).await;
        let client = &f.b.clients[0].0;
        let page = format!("/staff/clients/{}", client.id);
        assert_eq!(staff.submit(&page, &format!("{page}/invite"), &[("name", "Noor Haddad"), ("email", "noor@example.com")]).await.status, 303);
        // Someone who already has a password, invited too: their email links to the firm's page.
        let existing = f.a.clients[0].1.clone();
        assert_eq!(staff.submit(&page, &format!("{page}/invite"), &[("name", "Same Person"), ("email", &existing)]).await.status, 303);
        let mail = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        let invite = mail.iter().find(|m| m.data.contains("/set-password/")).expect("an invitation");
        let granted = mail.iter().find(|m| m.data.contains("Sign in with your existing password")).expect("a notice");
        let text = granted.data.replace("=\r\n", "").replace("=3D", "=");
        assert!(text.contains(&format!("/login?firm={}", f.b.slug)), "{text}");
        let path = set_password_path(&invite.data);

        let invitee = app.browser();
        let form = invitee.get(&path).await;
        assert_eq!(form.status, 200);
        let b_name = portico_db::firms::by_id(&app.db, f.b.id).await.unwrap().unwrap().name;
        assert!(branded(&form.body, &f.b.slug, &b_name), "{}", form.body);
        let mismatch = invitee.post(&path, &[("password", "my own long passphrase"), ("confirm", "something else entirely")]).await;
        assert_eq!(mismatch.status, 422);
        assert!(branded(&mismatch.body, &f.b.slug, &b_name));
        // An unknown or used link names no firm.
        let unknown = app.browser().get(&format!("/set-password/{}", "A".repeat(43))).await;
        assert_eq!(unknown.status, 410);
        assert!(unbranded(&unknown.body));

        // An access link's page is its firm's.
        let a_staff = app.browser();
        a_staff.login(&f.a.member_email, PASSWORD).await;
        let link = crate::links::send_link(&app, &f, &a_staff, mail.len()).await;
        let shown = app.browser().get(&link).await;
        assert_eq!(shown.status, 200);
        assert!(branded(&shown.body, &f.a.slug, "Alpha Legal"));
        assert!(shown.body.contains(&format!("href=\"/login?firm={}\"", f.a.slug)));
        let gone = app.browser().get("/a/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
        assert_eq!(gone.status, 410);
        assert!(unbranded(&gone.body));
        app.stop().await;
    }
}
