//! Firm logos and people's pictures: uploaded as images, stored re-encoded and resized, shown
//! only to those who work with the person; anything else is refused and nothing is kept.

use std::io::Cursor;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};

fn image_bytes(w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 60]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// Posts one file as the `image` field of a multipart form, with the page's token.
async fn upload(
    b: &Browser,
    page: &str,
    action: &str,
    name: &str,
    bytes: Vec<u8>,
) -> crate::support::browser::Page {
    let csrf = b.get(page).await.csrf();
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "image",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let req = b
        .raw()
        .post(b.url(action))
        .header("origin", b.url(""))
        .multipart(form);
    b.send(req).await
}

both! {
    async fn an_administrator_sets_the_firm_logo_and_bad_files_are_refused(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let admin = app.browser();
        admin.login(&f.a.owner_email, PASSWORD).await;
        let logo_url = format!("/logos/{}", f.a.slug);
        assert_eq!(admin.get(&logo_url).await.status, 404);

        let done = upload(&admin, "/staff/settings", "/staff/settings/logo", "logo.jpg", image_bytes(1200, 300, image::ImageFormat::Jpeg)).await;
        assert_eq!(done.status, 303);
        let res = app.http().get(app.url(&logo_url)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let stored = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
        assert_eq!((stored.width(), stored.height()), (480, 120));
        // Every page of the firm, for staff and clients, shows it; the other firm's do not.
        assert!(admin.get("/staff").await.body.contains(&format!("src=\"{logo_url}?v=")));
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        assert!(client.get("/portal").await.body.contains(&format!("src=\"{logo_url}?v=")));
        let other = app.browser();
        other.login(&f.b.owner_email, PASSWORD).await;
        assert!(!other.get("/staff").await.body.contains("/logos/"));

        // Not images, or lying about it: refused with a clear message, the logo unchanged.
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
        let html_as_png = b"<html><script>alert(1)</script></html>".to_vec();
        let bomb_header = {
            // A PNG header claiming 100,000 x 100,000 pixels.
            let mut b = image_bytes(1, 1, image::ImageFormat::Png);
            b[16..20].copy_from_slice(&100_000u32.to_be_bytes());
            b[20..24].copy_from_slice(&100_000u32.to_be_bytes());
            b
        };
        for (name, bytes) in [("logo.svg", svg), ("logo.png", html_as_png), ("huge.png", bomb_header), ("empty.png", Vec::new())] {
            let p = upload(&admin, "/staff/settings", "/staff/settings/logo", name, bytes).await;
            assert_eq!(p.status, 422, "{name}");
            assert!(p.body.contains("Upload a PNG, JPEG, GIF or WebP") || p.body.contains("Choose an image"), "{name}");
        }
        let csrf = admin.get("/staff/settings").await.csrf();
        let big = crate::support::send_oversized(|| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .part("image", reqwest::multipart::Part::bytes(vec![0x89; 6 * 1024 * 1024]).file_name("big.png"));
            admin.with_cookie(admin.raw().post(admin.url("/staff/settings/logo"))).header("origin", admin.url("")).multipart(form)
        }).await;
        assert_eq!(big.status(), 413);
        let again = image::load_from_memory(&app.http().get(app.url(&logo_url)).send().await.unwrap().bytes().await.unwrap()).unwrap();
        assert_eq!(again.width(), 480);

        // Without the form's token, as a member, or as a plain form: refused.
        let form = reqwest::multipart::Form::new().part("image", reqwest::multipart::Part::bytes(image_bytes(10, 10, image::ImageFormat::Png)));
        let no_token = admin.send(admin.raw().post(admin.url("/staff/settings/logo")).header("origin", admin.url("")).multipart(form)).await;
        assert_eq!(no_token.status, 403);
        let member = app.browser();
        member.login(&f.a.member_email, PASSWORD).await;
        let p = upload(&member, "/staff", "/staff/settings/logo", "x.png", image_bytes(10, 10, image::ImageFormat::Png)).await;
        assert_eq!(p.status, 404);
        let csrf = admin.get("/staff/settings").await.csrf();
        assert_eq!(admin.post("/staff/settings/logo", &[("csrf", csrf.as_str())]).await.status, 415);

        let removed = admin.submit("/staff/settings", "/staff/settings/logo/remove", &[]).await;
        assert_eq!(removed.status, 303);
        assert_eq!(admin.get(&logo_url).await.status, 404);
        app.stop().await;
    }

    async fn pictures_are_seen_only_by_people_who_work_together(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        let done = upload(&client, "/account/profile", "/account/profile/picture", "me.gif", image_bytes(600, 600, image::ImageFormat::Gif)).await;
        assert_eq!(done.status, 303);
        let me = portico_db::users::by_email(&app.db, &f.a.clients[0].1).await.unwrap().unwrap();
        let url = format!("/people/{}/picture", me.id);
        let page = client.get("/account/profile").await;
        assert!(page.body.contains(&format!("src=\"{url}?v=")));
        let mine = client.get(&url).await;
        assert_eq!(mine.status, 200);
        assert_eq!(mine.headers["content-type"], "image/png");

        // The firm's staff see it (on the client's page too); a colleague of another client,
        // another firm, and someone signed out do not.
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        assert_eq!(staff.get(&url).await.status, 200);
        assert!(staff.get(&format!("/staff/clients/{}", f.a.clients[0].0.id)).await.body.contains(&url));
        let other_client = app.browser();
        other_client.login(&f.a.clients[1].1, PASSWORD).await;
        assert_eq!(other_client.get(&url).await.status, 404);
        let other_firm = app.browser();
        other_firm.login(&f.b.owner_email, PASSWORD).await;
        assert_eq!(other_firm.get(&url).await.status, 404);
        assert_ne!(app.browser().get(&url).await.status, 200);

        // A client sees the firm's staff pictures.
        upload(&staff, "/account/profile", "/account/profile/picture", "s.png", image_bytes(50, 50, image::ImageFormat::Png)).await;
        let staff_user = portico_db::users::by_email(&app.db, &f.a.member_email).await.unwrap().unwrap();
        assert_eq!(client.get(&format!("/people/{}/picture", staff_user.id)).await.status, 200);
        assert_eq!(other_firm.get(&format!("/people/{}/picture", staff_user.id)).await.status, 404);

        let removed = client.submit("/account/profile", "/account/profile/picture/remove", &[]).await;
        assert_eq!(removed.status, 303);
        assert_eq!(client.get(&url).await.status, 404);
        app.stop().await;
    }
}
