//! Walkthroughs in a real browser: sign in, use the pages on a desktop and on a phone, sign out.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::webdriver::Chrome;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn staff_and_client_walk_through_the_portal_in_a_browser(backend: Backend) {
        let Some(chrome) = Chrome::start().await else { return };
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;

        // Staff, on a desktop: sign in, add a client, sign out.
        chrome.window(1280, 900).await;
        chrome.goto(&app.url("/staff/clients")).await;
        assert!(chrome.url().await.contains("/login?next="));
        chrome.fill("#email", &f.a.owner_email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        assert_eq!(chrome.wait_for_url("/staff/clients").await, app.url("/staff/clients"), "{}", chrome.source().await);
        assert!(chrome.displayed("nav.side").await);
        assert!(!chrome.displayed("details.menu").await);
        chrome.fill("#name", "Ines <Moreau>").await;
        chrome.click("form.stack button[type=submit]").await;
        let client_page = chrome.wait_until(|u| u.contains("/staff/clients/")).await;
        assert!(client_page.contains("/staff/clients/"), "{client_page}");
        let page = chrome.source().await;
        assert!(page.contains("<h1>Ines &lt;Moreau&gt;</h1>"), "{page}");
        chrome.click("nav.side form[action='/logout'] button").await;
        assert!(chrome.wait_for_url("/login?notice=signed_out").await.ends_with("/login?notice=signed_out"));
        assert!(chrome.source().await.contains("You have signed out."));
        chrome.goto(&app.url("/staff")).await;
        assert!(chrome.wait_for_url("/login?next=%2Fstaff").await.ends_with("/login?next=%2Fstaff"));

        // A client, on a phone: the menu opens and leads to their matters.
        chrome.window(390, 844).await;
        chrome.goto(&app.url("/login")).await;
        chrome.fill("#email", &f.a.clients[0].1).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        assert_eq!(chrome.wait_for_url("/portal").await, app.url("/portal"), "{}", chrome.source().await);
        assert!(!chrome.displayed("nav.side").await);
        assert!(chrome.displayed("details.menu summary").await);
        chrome.click("details.menu summary").await;
        chrome.click("details.menu a[href='/portal/matters']").await;
        assert_eq!(chrome.wait_for_url("/portal/matters").await, app.url("/portal/matters"));
        let page = chrome.source().await;
        assert!(page.contains(&f.a.clients[0].2[0].title));
        assert!(!page.contains(&f.a.clients[1].2[0].title));
        chrome.quit().await;
        app.stop().await;
    }
}
