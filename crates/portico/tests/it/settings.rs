//! Firm settings: administrators change the name, colour and security policies; a required
//! second step is set up at the next visit; bad values are refused and change nothing.

use totp_rs::{Builder, Secret};

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

fn form<'a>(
    name: &'a str,
    colour: &'a str,
    idle: &'a str,
    absolute: &'a str,
    clients_2fa: bool,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", name),
        ("brand_colour", colour),
        ("idle_timeout_minutes", idle),
        ("absolute_timeout_hours", absolute),
    ];
    if clients_2fa {
        f.push(("require_2fa_clients", "on"));
    }
    f
}

both! {
    async fn an_admin_requires_two_step_sign_in_for_clients(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert_eq!(client.get("/portal").await.status, 200);

        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        assert!(admin.get("/staff").await.body.contains("href=\"/staff/settings\""));
        let saved = admin.submit("/staff/settings", "/staff/settings", &form("Alpha Legal LLP", "#0B6E4F", "20", "8", true)).await;
        assert_eq!(saved.status, 303);
        let page = admin.get("/staff/settings?saved=1").await;
        assert!(page.body.contains("Saved.") && page.body.contains("value=\"#0b6e4f\"") && page.body.contains("Alpha Legal LLP"));
        assert!(admin.get(&format!("/brand/{}.css", f.a.slug)).await.body.contains("#0b6e4f"));
        // Staff are not required, so the admin carries on.
        assert_eq!(admin.get("/staff/clients").await.status, 200);

        // The client's next request goes to set-up, and nowhere else until it is done.
        let p = client.get("/portal").await;
        assert_eq!(p.status, 303);
        assert_eq!(p.location.as_deref(), Some("/account/2fa"));
        assert_eq!(client.get(&format!("/portal/matters/{}", f.a.clients[0].2[0].id)).await.location.as_deref(), Some("/account/2fa"));
        let setup_page = client.get("/account/2fa").await;
        assert!(setup_page.body.contains("asks everyone"));
        let setup = client.submit("/account/2fa", "/account/2fa/start", &[]).await;
        let start = setup.body.find("Enter this key instead: <code>").unwrap() + "Enter this key instead: <code>".len();
        let secret = setup.body[start..].split('<').next().unwrap().replace(' ', "");
        let code = Builder::new().with_secret(Secret::try_from_base32(&secret).unwrap()).build().unwrap().generate_current().to_string();
        let done = client.post("/account/2fa/confirm", &[("csrf", setup.csrf().as_str()), ("code", code.as_str())]).await;
        assert_eq!(done.status, 200);
        assert_eq!(client.get("/portal").await.status, 200);

        let firm = portico_db::firms::by_id(&app.db, f.a.id).await.unwrap().unwrap();
        assert_eq!((firm.idle_timeout_secs, firm.absolute_timeout_secs), (1200, 8 * 3600));
        app.stop().await;
    }

    async fn settings_refuse_bad_values_and_non_admins(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        for (fields, message) in [
            (form("Alpha", "red;}body{display:none", "30", "12", false), "Use a colour like"),
            (form("Alpha", "#123456", "1", "12", false), "between 5 and 480"),
            (form("Alpha", "#123456", "30", "99", false), "between 1 and 24"),
            (form("  ", "#123456", "30", "12", false), "required"),
        ] {
            let p = admin.submit("/staff/settings", "/staff/settings", &fields).await;
            assert_eq!(p.status, 422, "{message}");
            assert!(p.body.contains(message), "{message}");
        }
        let p = admin.submit("/staff/settings", "/staff/settings", &[("name", "Alpha"), ("brand_colour", "#123456"), ("idle_timeout_minutes", "lots"), ("absolute_timeout_hours", "1")]).await;
        assert!(p.status == 422 || p.status == 400);
        let firm = portico_db::firms::by_id(&app.db, f.a.id).await.unwrap().unwrap();
        assert_eq!((firm.name.as_str(), firm.brand_colour.as_str(), firm.idle_timeout_secs), ("Alpha Legal", "#1f5fa8", 1800));

        let member = app.browser();
        member.login(&f.a.member_email, PASSWORD).await;
        assert_eq!(member.get("/staff/settings").await.status, 404);
        assert_eq!(member.submit("/staff", "/staff/settings", &form("Taken Over", "#000000", "30", "12", false)).await.status, 404);
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert_eq!(client.get("/staff/settings").await.status, 404);
        assert_eq!(admin.post("/staff/settings", &form("No Token", "#000000", "30", "12", false)).await.status, 403);
        let firm = portico_db::firms::by_id(&app.db, f.a.id).await.unwrap().unwrap();
        assert_eq!(firm.name, "Alpha Legal");
        app.stop().await;
    }
}
