//! Passkeys in a real browser with a virtual authenticator: adding one, signing in with it
//! alone, using it as the second step after a password, removing it; and answers that must be
//! refused — replayed, tampered, made for another origin, or for an unknown ceremony.
//! WebAuthn needs a host name, not an IP address: these servers are reached as `localhost`.

use std::time::Duration;

use serde_json::Value;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::smtp::SmtpSink;
use crate::support::webdriver::Chrome;
use crate::support::{Backend, Browser, Fixture, TestApp};

/// A sign-in ceremony run by hand in the page: starts it on this page's server, has the
/// authenticator answer, and returns the ceremony key and the answer without finishing.
const SIGN_IN_BY_HAND: &str = r#"
const done = arguments[arguments.length - 1];
const buf = t => Uint8Array.from(atob(t.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(t.length / 4) * 4, '=')), c => c.charCodeAt(0)).buffer;
const txt = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
fetch('/login/passkey/start', { method: 'POST' }).then(r => r.json()).then(start => {
  const o = start.options.publicKey;
  o.challenge = buf(o.challenge);
  (o.allowCredentials || []).forEach(c => { c.id = buf(c.id); });
  return navigator.credentials.get(start.options).then(c => done({
    ceremony: start.ceremony,
    credential: JSON.stringify({ id: c.id, rawId: txt(c.rawId), type: c.type, extensions: {},
      response: { authenticatorData: txt(c.response.authenticatorData), clientDataJSON: txt(c.response.clientDataJSON),
        signature: txt(c.response.signature), userHandle: c.response.userHandle ? txt(c.response.userHandle) : null } })
  }));
}).catch(e => done({ error: String(e) }));
"#;

async fn finish(http: &Browser, ceremony: &str, credential: &str) -> crate::support::browser::Page {
    http.post(
        "/login/passkey/finish",
        &[("ceremony", ceremony), ("credential", credential)],
    )
    .await
}

both! {
    async fn a_passkey_signs_in_alone_and_as_the_second_step(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let port = SmtpSink::free_port();
        let app = TestApp::start_with(backend, |c| {
            c.bind = format!("127.0.0.1:{port}");
            c.public_url = Some(format!("http://localhost:{port}"));
            c.http.client_ip_header = Some("x-forwarded-for".into());
        }).await;
        let base = format!("http://localhost:{port}");
        let f = Fixture::new(&app.db).await;
        chrome.add_authenticator().await;

        // Signed in with a password, the owner adds a passkey.
        chrome.window(1280, 900).await;
        chrome.goto(&format!("{base}/login")).await;
        chrome.fill("#email", &f.a.owner_email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("form[action='/login'] button[type=submit]").await;
        assert!(chrome.wait_for_url("/staff").await.ends_with("/staff"));
        chrome.goto(&format!("{base}/account/passkeys")).await;
        assert!(chrome.source().await.contains("No passkeys yet."));
        chrome.fill("#passkey-name", "Work <laptop>").await;
        chrome.click("button[data-passkey=register]").await;
        let page = chrome.wait_for_page(|p| p.contains("Work &lt;laptop&gt;")).await;
        assert!(page.contains("last used never"), "{page}");
        let owner_id = f.a.owner.user_id();
        assert_eq!(portico_db::passkeys::of_user(&app.db, owner_id).await.unwrap().len(), 1);

        // Signed out, the passkey alone signs them in: no password, no second step.
        chrome.click("nav.side form[action='/logout'] button").await;
        chrome.wait_until(|u| u.contains("/login?notice=signed_out&firm=")).await;
        chrome.click("button[data-passkey=sign-in]").await;
        assert!(chrome.wait_for_url("/staff").await.ends_with("/staff"), "{}", chrome.source().await);
        let used = portico_db::passkeys::of_user(&app.db, owner_id).await.unwrap();
        assert!(used[0].last_used_at.is_some());

        // With a passkey, a password is only the first step; the passkey is the second.
        chrome.click("nav.side form[action='/logout'] button").await;
        chrome.wait_until(|u| u.contains("/login?notice=signed_out&firm=")).await;
        chrome.fill("#email", &f.a.owner_email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("form[action='/login'] button[type=submit]").await;
        let at = chrome.wait_until(|u| u.contains("/login/2fa")).await;
        assert!(at.contains("/login/2fa"), "{at}");
        let step = chrome.source().await;
        assert!(step.contains("Use your passkey") && !step.contains("Code from your authenticator app"));
        chrome.click("button[data-passkey=second-step]").await;
        assert!(chrome.wait_for_url("/staff").await.ends_with("/staff"), "{}", chrome.source().await);

        // Answers that must be refused, sent by hand to the server.
        chrome.click("nav.side form[action='/logout'] button").await;
        chrome.wait_until(|u| u.contains("/login?notice=signed_out&firm=")).await;
        let http = Browser::new(&base);
        let got: Value = chrome.run_async(SIGN_IN_BY_HAND).await;
        let (ceremony, credential) = (got["ceremony"].as_str().unwrap().to_string(), got["credential"].as_str().unwrap().to_string());
        // Tampered: a flipped signature fails, and uses the ceremony up.
        let mut forged: Value = serde_json::from_str(&credential).unwrap();
        let sig = forged["response"]["signature"].as_str().unwrap().to_string();
        let flipped = match sig.strip_prefix('A') { Some(rest) => format!("B{rest}"), None => format!("A{}", &sig[1..]) };
        forged["response"]["signature"] = Value::String(flipped);
        let refused = finish(&http, &ceremony, &forged.to_string()).await;
        assert_eq!(refused.status, 401);
        assert!(refused.body.contains("could not sign you in"));
        assert!(http.cookie().is_none());
        // The genuine answer to that same ceremony is refused too: a ceremony is used once.
        assert_eq!(finish(&http, &ceremony, &credential).await.status, 401);
        // A fresh ceremony and its genuine answer work, once; replayed, refused.
        let got: Value = chrome.run_async(SIGN_IN_BY_HAND).await;
        let (ceremony, credential) = (got["ceremony"].as_str().unwrap().to_string(), got["credential"].as_str().unwrap().to_string());
        let ok = finish(&http, &ceremony, &credential).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(ok.body.contains("\"redirect\":\"/staff\"") && http.cookie().is_some());
        assert_eq!(http.get("/staff").await.status, 200);
        // A passkey satisfies a firm that requires two-step sign-in of its staff.
        let firm = portico_db::firms::of_viewer(&app.db, &f.a.owner).await.unwrap();
        let settings = portico_db::firms::Settings {
            name: firm.name.clone(), brand_colour: firm.brand_colour.clone(), idle_timeout_minutes: 30,
            absolute_timeout_hours: 12, require_2fa_staff: true, require_2fa_clients: false,
            access_log_for_clients: false, terms_text: String::new(), link_lifetime_days: 30,
            ask_insurance: false, client_read_receipts: false, clients_move_shared_files: false,
        };
        portico_db::firms::update_settings(&app.db, &f.a.owner, &settings, &portico_db::audit::Origin::system("test")).await.unwrap();
        assert_eq!(http.get("/staff").await.status, 200, "not sent to set up two-step sign-in");
        let replay = Browser::new(&base);
        assert_eq!(finish(&replay, &ceremony, &credential).await.status, 401);
        // Made up, malformed, empty.
        assert_eq!(finish(&replay, "not-a-ceremony", &credential).await.status, 401);
        assert_eq!(finish(&replay, &ceremony, "{not json").await.status, 401);
        assert!(replay.post("/login/passkey/finish", &[]).await.status.is_client_error());

        // An answer made for another origin (a second server with the same database, reached
        // on another port) is refused by this one.
        let other_port = SmtpSink::free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut config = app.config.clone();
        config.data = dir.path().to_path_buf();
        config.bind = format!("127.0.0.1:{other_port}");
        config.public_url = Some(format!("http://localhost:{other_port}"));
        let services = portico::server::open(&config).await.unwrap();
        let other = portico::server::start(&config, services).await.unwrap();
        chrome.goto(&format!("http://localhost:{other_port}/login")).await;
        let got: Value = chrome.run_async(SIGN_IN_BY_HAND).await;
        assert!(got["error"].is_null(), "{got}");
        let (ceremony, credential) = (got["ceremony"].as_str().unwrap().to_string(), got["credential"].as_str().unwrap().to_string());
        // (From a fresh address: this one's failures above have it waiting by now.)
        let elsewhere = Browser::new(&base);
        let req = elsewhere.raw().post(elsewhere.url("/login/passkey/finish")).header("origin", &base)
            .header("x-forwarded-for", "203.0.113.9").form(&[("ceremony", ceremony.as_str()), ("credential", credential.as_str())]);
        let res = elsewhere.send(req).await;
        assert_eq!(res.status, 401, "{}", res.body);
        assert!(elsewhere.cookie().is_none());
        let waiting = finish(&replay, "not-a-ceremony", &credential).await;
        assert_eq!(waiting.status, 429);
        assert!(waiting.body.contains("Wait"));

        // Removing it (from the session the passkey opened): the list is empty.
        let list = http.get("/account/passkeys").await;
        let id = portico_db::passkeys::of_user(&app.db, owner_id).await.unwrap()[0].id;
        let csrf = list.csrf();
        let removed = http.post(&format!("/account/passkeys/{id}/remove"), &[("csrf", csrf.as_str())]).await;
        assert_eq!(removed.status, 303);
        assert!(http.get("/account/passkeys").await.body.contains("No passkeys yet."));
        assert!(portico_db::passkeys::of_user(&app.db, owner_id).await.unwrap().is_empty());
        // Someone else's passkey id is simply not found.
        let again = http.post(&format!("/account/passkeys/{id}/remove"), &[("csrf", csrf.as_str())]).await;
        assert_eq!(again.status, 404);
        let events = portico_db::audit::recent_for_firm(&app.db, &f.a.owner, 50).await.unwrap();
        assert!(events.iter().any(|e| e.action == "auth.login" && e.detail.contains("passkey")));
        tokio::time::sleep(Duration::from_millis(50)).await;
        chrome.quit().await;
        other.stop().await;
        app.stop().await;
    }
}

both! {
    async fn an_invitee_uses_a_passkey_instead_of_a_password(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let port = SmtpSink::free_port();
        let app = TestApp::start_with(backend, |c| {
            c.bind = format!("127.0.0.1:{port}");
            c.public_url = Some(format!("http://localhost:{port}"));
        }).await;
        let base = format!("http://localhost:{port}");
        let f = Fixture::new(&app.db).await;
        let client = &f.a.clients[0].0;
        let staff = Browser::new(&base);
        staff.login(&f.a.owner_email, PASSWORD).await;
        let page = format!("/staff/clients/{}", client.id);
        let sent = staff.submit(&page, &format!("{page}/invite"), &[("name", "Pia Key"), ("email", "pia@example.com")]).await;
        assert_eq!(sent.status, 303);
        let mail = app.smtp.wait_for(1, Duration::from_secs(10)).await;
        let path = crate::support::smtp::set_password_path(&mail.last().unwrap().data);

        chrome.add_authenticator().await;
        chrome.window(390, 844).await;
        chrome.goto(&format!("{base}{path}")).await;
        assert!(chrome.displayed("button[data-passkey=register]").await);
        chrome.click("button[data-passkey=register]").await;
        let landed = chrome.wait_until(|u| u.ends_with("/portal")).await;
        assert!(landed.ends_with("/portal"), "{landed}: {}", chrome.source().await);
        // No longer pending for staff; the link is used up.
        let users = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap();
        let pia = users.iter().find(|u| u.email == "pia@example.com").unwrap();
        assert!(!pia.pending && pia.active);
        assert_eq!(Browser::new(&base).get(&path).await.status, 410);
        let again = Browser::new(&base).post(&format!("{path}/passkey/start"), &[]).await;
        assert_eq!(again.status, 410);
        // And the passkey signs her in later.
        chrome.click("details.menu summary").await;
        chrome.click("details.menu form[action='/logout'] button").await;
        chrome.wait_until(|u| u.contains("/login?notice=signed_out&firm=")).await;
        chrome.click("button[data-passkey=sign-in]").await;
        assert!(chrome.wait_for_url("/portal").await.ends_with("/portal"));
        chrome.quit().await;
        app.stop().await;
    }
}
