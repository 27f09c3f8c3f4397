//! Resumable uploads (tus 1.0): a file sent in parts, resumed after a dropped connection,
//! joined into the client's files only when whole; limits checked before any byte; nobody
//! else can see or continue an upload; given-up and expired uploads leave nothing behind.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::{StreamExt, stream};

use crate::both;
use crate::files::{bytes, fetch};
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Browser, Fixture, TestApp};
use portico_db::files;

/// A tus client over a signed-in browser session, as the page's script is.
pub(crate) struct Tus<'a> {
    pub b: &'a Browser,
    pub csrf: String,
}

impl<'a> Tus<'a> {
    pub async fn new(b: &'a Browser, page: &str) -> Tus<'a> {
        let csrf = b.get(page).await.csrf();
        Tus { b, csrf }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.b
            .with_cookie(self.b.raw().request(method, self.b.url(path)))
            .header("tus-resumable", "1.0.0")
            .header("x-csrf-token", &self.csrf)
            .header("origin", self.b.url(""))
    }

    pub async fn create(&self, length: u64, meta: &[(&str, &str)]) -> reqwest::Response {
        let meta: Vec<String> = meta
            .iter()
            .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
            .collect();
        self.req(reqwest::Method::POST, "/uploads")
            .header("upload-length", length.to_string())
            .header("upload-metadata", meta.join(","))
            .send()
            .await
            .unwrap()
    }

    /// Creates an upload and returns where it lives.
    pub async fn begin(&self, length: u64, meta: &[(&str, &str)]) -> String {
        let res = self.create(length, meta).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.headers()["location"].to_str().unwrap().to_string()
    }

    pub async fn offset(&self, at: &str) -> (u16, Option<u64>) {
        let res = self.req(reqwest::Method::HEAD, at).send().await.unwrap();
        let offset = res
            .headers()
            .get("upload-offset")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        (res.status().as_u16(), offset)
    }

    pub async fn patch(
        &self,
        at: &str,
        offset: u64,
        body: impl Into<reqwest::Body>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.req(reqwest::Method::PATCH, at)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(body)
            .send()
            .await
    }
}

/// Every object an upload keeps besides a recorded file: its parts, first and later.
async fn parts_of(app: &TestApp, firm_id: uuid::Uuid, upload_id: &str) -> Vec<String> {
    let mut keys = app
        .storage
        .list(&format!("uploads/{upload_id}"))
        .await
        .unwrap();
    keys.extend(
        app.storage
            .list(&format!("firms/{firm_id}/files/{upload_id}"))
            .await
            .unwrap(),
    );
    keys
}

/// Lets the day that removals wait pass and sweeps, as the worker does: what no row names
/// any more goes. Returns how many objects were removed.
pub(crate) async fn removals_fall_due(app: &TestApp) -> usize {
    let past = portico_db::now() - time::Duration::minutes(1);
    let sql = "UPDATE loose_objects SET remove_after = $1";
    match &app.db {
        portico_db::Db::Sqlite(p) => {
            sqlx::query(sql).bind(past).execute(p).await.unwrap();
        }
        portico_db::Db::Postgres(p) => {
            sqlx::query(sql).bind(past).execute(p).await.unwrap();
        }
    }
    portico_services::leftovers::sweep_loose_objects(&app.db, &app.storage)
        .await
        .unwrap()
}

/// Waits until the upload's offset stops moving (a cut-off request is still being stored).
async fn settled(t: &Tus<'_>, at: &str) -> u64 {
    let mut last = None;
    for _ in 0..100 {
        let (_, now) = t.offset(at).await;
        if let Some(n) = now
            && now == last
        {
            return n;
        }
        last = now;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the offset never settled");
}

both! {
    async fn a_large_file_arrives_in_parts_resumes_after_a_drop_and_appears_only_whole(backend: Backend) {
        let s3 = crate::support::s3::start().await;
        for on_s3 in [false, true] {
            let app = TestApp::start_with(backend, |c| {
                if on_s3 {
                    s3.use_for(&mut c.storage);
                    // Sealed at rest too: parts and the joined file.
                    c.storage.encryption_key = Some(crate::encryption::KEY.into());
                }
            }).await;
            let f = Fixture::new(&app.db).await;
            let (c1, email, _) = &f.a.clients[0];
            let client = app.browser();
            client.login(email, PASSWORD).await;
            let origin = portico_db::audit::Origin::system("test");
            let viewer = crate::support::fixture::client_viewer(&app.db, &f.a.owner, c1.id).await;
            let folder = portico_db::folders::create(&app.db, &viewer, c1.id, None, "Scans", &origin).await.unwrap();
            let t = Tus::new(&client, "/portal/files").await;

            let options = client.raw().request(reqwest::Method::OPTIONS, client.url("/uploads")).send().await.unwrap();
            assert_eq!(options.status(), 204);
            assert_eq!(options.headers()["tus-version"], "1.0.0");
            assert!(options.headers()["tus-extension"].to_str().unwrap().contains("creation"));

            let whole = bytes(3 * 1024 * 1024 + 123, 5);
            let at = t.begin(whole.len() as u64, &[("filename", "Scan – März.pdf"), ("folder", &folder.id.to_string())]).await;
            assert!(at.starts_with("/uploads/"));
            assert_eq!(t.offset(&at).await, (200, Some(0)));
            let head = t.req(reqwest::Method::HEAD, &at).send().await.unwrap();
            let expires = head.headers()["upload-expires"].to_str().unwrap().to_string();
            assert!(expires.ends_with(" GMT") && expires.len() == 29, "an HTTP date: {expires}");

            // The first megabyte arrives whole.
            let mb = 1024 * 1024;
            let r = t.patch(&at, 0, whole[..mb].to_vec()).await.unwrap();
            assert_eq!(r.status(), 204);
            assert_eq!(r.headers()["upload-offset"], mb.to_string().as_str());

            // The next request's connection drops after 300 KB: what arrived is kept.
            let sent = Bytes::copy_from_slice(&whole[mb..mb + 300 * 1024]);
            let cut = stream::iter(vec![Ok::<Bytes, std::io::Error>(sent)]).chain(stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                Err(std::io::Error::other("the line dropped"))
            }));
            let dropped = t.patch(&at, mb as u64, reqwest::Body::wrap_stream(cut)).await;
            assert!(dropped.is_err() || dropped.unwrap().status() != 204);
            let kept = settled(&t, &at).await;
            assert_eq!(kept, (mb + 300 * 1024) as u64, "the bytes before the drop were kept");

            // Not whole yet: nothing is listed or served, to either side.
            assert!(files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap().is_empty());
            let upload_id: uuid::Uuid = at.rsplit('/').next().unwrap().parse().unwrap();
            assert_eq!(fetch(&client, upload_id).await.0, 404);

            // A stale offset is refused with the real one; the rest then arrives.
            let stale = t.patch(&at, 0, whole[..10].to_vec()).await.unwrap();
            assert_eq!(stale.status(), 409);
            assert_eq!(stale.headers()["upload-offset"], kept.to_string().as_str());
            let r = t.patch(&at, kept, whole[kept as usize..].to_vec()).await.unwrap();
            assert_eq!(r.status(), 204);
            assert_eq!(r.headers()["upload-offset"], whole.len().to_string().as_str());

            let listed = files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap();
            assert_eq!(listed.len(), 1);
            let stored = files::get(&app.db, &f.a.owner, listed[0].id).await.unwrap();
            assert_eq!((stored.id, stored.name.as_str(), stored.size), (upload_id, "Scan – März.pdf", whole.len() as i64));
            assert_eq!(stored.folder_id, Some(folder.id));
            assert_eq!(stored.uploaded_side, "client");
            assert_eq!(stored.key_wrapped.is_empty(), !on_s3);
            assert_eq!(fetch(&client, stored.id).await, (200, whole.clone()));
            let staff = app.browser();
            staff.login(&f.a.member_email, PASSWORD).await;
            assert_eq!(fetch(&staff, stored.id).await, (200, whole.clone()), "staff see it at once");
            // Sent in several requests, the parts were joined into one file; they are kept a
            // day for backups taken meanwhile, then swept.
            assert!(stored.storage_key.ends_with("-joined"), "{}", stored.storage_key);
            assert!(!parts_of(&app, f.a.id, &upload_id.to_string()).await.is_empty());
            assert!(removals_fall_due(&app).await >= 2);
            assert!(parts_of(&app, f.a.id, &upload_id.to_string()).await.is_empty());
            assert_eq!(fetch(&client, stored.id).await, (200, whole.clone()), "the joined file stays");
            // Sending more to a finished upload adds nothing.
            let again = t.patch(&at, whole.len() as u64, Vec::new()).await.unwrap();
            assert_eq!(again.status(), 204);
            assert_eq!(files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap().len(), 1);
            app.stop().await;
        }
    }

    async fn uploads_refuse_lies_strangers_and_oversize_before_reading(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (c1, email, _) = &f.a.clients[0];
        let (c2, email2, _) = &f.a.clients[1];
        let client = app.browser();
        client.login(email, PASSWORD).await;
        let t = Tus::new(&client, "/portal/files").await;

        // A 6 GiB file is refused before a byte is read (the default limit is 5 GiB).
        let big = t.create(6 * 1024 * 1024 * 1024, &[("filename", "huge.iso")]).await;
        assert_eq!(big.status(), 413);
        assert!(big.text().await.unwrap().contains("larger than 5.00 GB"));
        // Malformed starts.
        assert_eq!(t.create(10, &[]).await.status(), 422, "no name");
        let no_length = t.req(reqwest::Method::POST, "/uploads").header("upload-metadata", format!("filename {}", STANDARD.encode("a"))).send().await.unwrap();
        assert_eq!(no_length.status(), 422);
        let bad_meta = t.req(reqwest::Method::POST, "/uploads").header("upload-length", "10").header("upload-metadata", "filename !!!").send().await.unwrap();
        assert_eq!(bad_meta.status(), 422);
        let negative = t.req(reqwest::Method::POST, "/uploads").header("upload-length", "-5").header("upload-metadata", format!("filename {}", STANDARD.encode("a"))).send().await.unwrap();
        assert_eq!(negative.status(), 422);
        let old = client.with_cookie(client.raw().post(client.url("/uploads"))).header("x-csrf-token", &t.csrf).header("upload-length", "10").send().await.unwrap();
        assert_eq!(old.status(), 412, "another protocol version");
        let forged = client.with_cookie(client.raw().post(client.url("/uploads"))).header("tus-resumable", "1.0.0").header("upload-length", "10").send().await.unwrap();
        assert_eq!(forged.status(), 403, "no form token");
        // Another client's folder; a client naming another client is ignored (its own is used).
        let origin = portico_db::audit::Origin::system("test");
        let theirs = portico_db::folders::create(&app.db, &f.a.owner, c2.id, None, "Theirs", &origin).await.unwrap();
        assert_eq!(t.create(10, &[("filename", "a.txt"), ("folder", &theirs.id.to_string())]).await.status(), 404);

        // The upload declares 1,000 bytes and then sends more: nothing of that request is kept.
        let at = t.begin(1000, &[("filename", "liar.bin"), ("client", &c2.id.to_string())]).await;
        let r = t.patch(&at, 0, vec![1u8; 1500]).await.unwrap();
        assert_eq!(r.status(), 413);
        assert_eq!(t.offset(&at).await, (200, Some(0)));
        // A chunked body that never ends stops at the declared length, keeping nothing.
        let endless = stream::repeat_with(|| Ok::<Bytes, std::io::Error>(Bytes::from(vec![7u8; 64 * 1024])));
        let r = t.patch(&at, 0, reqwest::Body::wrap_stream(endless)).await;
        if let Ok(r) = r {
            assert_eq!(r.status(), 413);
        }
        assert_eq!(t.offset(&at).await, (200, Some(0)));
        // Offsets that lie, and the wrong kind of body.
        assert_eq!(t.patch(&at, 50, vec![1u8; 10]).await.unwrap().status(), 409);
        let form = t.req(reqwest::Method::PATCH, &at).header("upload-offset", "0").header("content-type", "application/x-www-form-urlencoded").body("a=b").send().await.unwrap();
        assert_eq!(form.status(), 415);
        let no_offset = t.req(reqwest::Method::PATCH, &at).header("content-type", "application/offset+octet-stream").body("abc").send().await.unwrap();
        assert_eq!(no_offset.status(), 422);
        assert_eq!(t.offset(&at).await, (200, Some(0)));

        // Nobody else can see, continue or end it: another person of the firm's clients, staff
        // of the firm, another firm.
        let other_client = app.browser();
        other_client.login(email2, PASSWORD).await;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let beta = app.browser();
        beta.login(&f.b.owner_email, PASSWORD).await;
        for (b, page) in [(&other_client, "/portal/files".to_string()), (&staff, "/staff/clients".to_string()), (&beta, "/staff/clients".to_string())] {
            let them = Tus::new(b, &page).await;
            assert_eq!(them.offset(&at).await.0, 404);
            assert_eq!(them.patch(&at, 0, vec![1u8; 10]).await.unwrap().status(), 404);
            assert_eq!(them.req(reqwest::Method::DELETE, &at).send().await.unwrap().status(), 404);
        }
        assert_eq!(t.offset(&at).await, (200, Some(0)));
        // Staff must say whose files, and only their own firm's clients will do.
        let st = Tus::new(&staff, "/staff/clients").await;
        assert_eq!(st.create(10, &[("filename", "a.txt")]).await.status(), 404);
        assert_eq!(st.create(10, &[("filename", "a.txt"), ("client", &f.b.clients[0].0.id.to_string())]).await.status(), 404);
        let theirs_at = st.begin(10, &[("filename", "for-c2.txt"), ("client", &c2.id.to_string())]).await;
        assert_eq!(st.patch(&theirs_at, 0, b"0123456789".to_vec()).await.unwrap().status(), 204);
        assert_eq!(files::for_client(&app.db, &f.a.owner, c2.id, 10).await.unwrap()[0].name, "for-c2.txt");

        // Two windows send the same part at once: one counts, the other is told where it got to.
        let at = t.begin(200_000, &[("filename", "twice.bin")]).await;
        let part = bytes(100_000, 3);
        let (r1, r2) = tokio::join!(t.patch(&at, 0, part.clone()), t.patch(&at, 0, part.clone()));
        let mut statuses = [r1.unwrap().status().as_u16(), r2.unwrap().status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [204, 409]);
        assert_eq!(t.offset(&at).await, (200, Some(100_000)));
        let upload_id = at.rsplit('/').next().unwrap().to_string();
        assert_eq!(parts_of(&app, f.a.id, &upload_id).await.len(), 1, "the losing part was removed");

        // Given up: the upload and its parts are gone.
        let ended = t.req(reqwest::Method::DELETE, &at).send().await.unwrap();
        assert_eq!(ended.status(), 204);
        assert_eq!(t.offset(&at).await.0, 404);
        removals_fall_due(&app).await;
        assert!(parts_of(&app, f.a.id, &upload_id).await.is_empty());

        // Abandoned: once expired, the sweep removes it and everything it stored.
        let at = t.begin(200_000, &[("filename", "abandoned.bin")]).await;
        assert_eq!(t.patch(&at, 0, bytes(50_000, 1)).await.unwrap().status(), 204);
        let upload_id: uuid::Uuid = at.rsplit('/').next().unwrap().parse().unwrap();
        assert_eq!(t.patch(&at, 50_000, bytes(50_000, 2)).await.unwrap().status(), 204);
        assert_eq!(parts_of(&app, f.a.id, &upload_id.to_string()).await.len(), 2);
        let past = portico_db::now() - time::Duration::hours(1);
        match &app.db {
            portico_db::Db::Sqlite(p) => { sqlx::query("UPDATE uploads SET expires_at = $1 WHERE id = $2").bind(past).bind(upload_id).execute(p).await.unwrap(); }
            portico_db::Db::Postgres(p) => { sqlx::query("UPDATE uploads SET expires_at = $1 WHERE id = $2").bind(past).bind(upload_id).execute(p).await.unwrap(); }
        }
        assert_eq!(t.offset(&at).await.0, 404, "an expired upload cannot go on");
        assert!(portico_services::leftovers::sweep_uploads(&app.db, &app.storage).await.unwrap() >= 1);
        removals_fall_due(&app).await;
        assert!(parts_of(&app, f.a.id, &upload_id.to_string()).await.is_empty());
        assert!(files::for_client(&app.db, &f.a.owner, c1.id, 10).await.unwrap().is_empty());
        app.stop().await;
    }
}

both! {
    async fn an_integration_uploads_lists_moves_and_downloads_files(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let token = crate::api::token_for(&app, &f).await;
        let http = app.http();
        let (c1, _, _) = &f.a.clients[0];
        let api = |path: &str| app.url(&format!("/api/v1{path}"));

        // A folder, then a file uploaded into it with tus and the token (no cookie, no form token).
        let res = http.post(api(&format!("/clients/{}/folders", c1.id))).bearer_auth(&token)
            .json(&serde_json::json!({"name": "Evidence"})).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let folder: serde_json::Value = res.json().await.unwrap();
        let folder_id = folder["id"].as_str().unwrap().to_string();
        let body = bytes(700_000, 4);
        let meta = format!("filename {},client {},folder {}", STANDARD.encode("photo 1.jpg"), STANDARD.encode(c1.id.to_string()), STANDARD.encode(&folder_id));
        let res = http.post(api("/uploads")).bearer_auth(&token).header("tus-resumable", "1.0.0")
            .header("upload-length", body.len().to_string()).header("upload-metadata", meta).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let at = res.headers()["location"].to_str().unwrap().to_string();
        assert!(at.starts_with("/api/v1/uploads/"), "{at}");
        for (start, end) in [(0, 400_000), (400_000, body.len())] {
            let res = http.patch(app.url(&at)).bearer_auth(&token).header("tus-resumable", "1.0.0")
                .header("upload-offset", start.to_string()).header("content-type", "application/offset+octet-stream")
                .body(body[start..end].to_vec()).send().await.unwrap();
            assert_eq!(res.status(), 204);
        }
        let listed: Vec<serde_json::Value> = http.get(api(&format!("/clients/{}/files?folder={folder_id}", c1.id))).bearer_auth(&token)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(listed.len(), 1);
        // The same bytes in one request become the file where they lie, hashed on the way:
        // the same SHA-256 as the joined upload's, and nothing else kept.
        let meta = format!("filename {},client {}", STANDARD.encode("photo 2.jpg"), STANDARD.encode(c1.id.to_string()));
        let res = http.post(api("/uploads")).bearer_auth(&token).header("tus-resumable", "1.0.0")
            .header("upload-length", body.len().to_string()).header("upload-metadata", meta).send().await.unwrap();
        let one_at = res.headers()["location"].to_str().unwrap().to_string();
        let res = http.patch(app.url(&one_at)).bearer_auth(&token).header("tus-resumable", "1.0.0")
            .header("upload-offset", "0").header("content-type", "application/offset+octet-stream")
            .body(body.clone()).send().await.unwrap();
        assert_eq!(res.status(), 204);
        let one_id: uuid::Uuid = one_at.rsplit('/').next().unwrap().parse().unwrap();
        let one = files::get(&app.db, &f.a.owner, one_id).await.unwrap();
        assert_eq!(one.sha256, listed[0]["sha256"].as_str().unwrap());
        assert_eq!(one.content_type, "application/octet-stream");
        assert_eq!(parts_of(&app, f.a.id, &one_id.to_string()).await, vec![one.storage_key.clone()]);
        let res = http.get(api(&format!("/files/{one_id}/content"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.bytes().await.unwrap().to_vec(), body);
        assert_eq!(listed[0]["name"], "photo 1.jpg");
        assert_eq!(listed[0]["size"], body.len());
        let id = listed[0]["id"].as_str().unwrap().to_string();
        let top: Vec<serde_json::Value> = http.get(api(&format!("/clients/{}/files", c1.id))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(top.len(), 1, "only the one sent to the top level");
        assert_eq!(top[0]["name"], "photo 2.jpg");

        // Whole and a range, byte for byte.
        let res = http.get(api(&format!("/files/{id}/content"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await.unwrap().to_vec(), body);
        let res = http.get(api(&format!("/files/{id}/content"))).bearer_auth(&token).header("range", "bytes=1000-1999").send().await.unwrap();
        assert_eq!(res.status(), 206);
        assert_eq!(res.bytes().await.unwrap().to_vec(), body[1000..2000].to_vec());

        // Moved to the top; then the details say so.
        let res = http.post(api("/files/move")).bearer_auth(&token)
            .json(&serde_json::json!({"client_id": c1.id, "files": [id], "to": null})).send().await.unwrap();
        assert_eq!(res.status(), 204);
        let got: serde_json::Value = http.get(api(&format!("/files/{id}"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert!(got["folder_id"].is_null());
        assert_eq!(got["version"], 1);
        let versions: Vec<serde_json::Value> = http.get(api(&format!("/files/{id}/versions"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(versions.len(), 1);

        // Hostile: no token, another firm's token, mass assignment, wrong types, a folder into
        // itself, another client's folder as the destination.
        assert_eq!(http.get(api(&format!("/files/{id}"))).send().await.unwrap().status(), 401);
        let beta_token = portico_services::tokens::new_token();
        portico_db::api_tokens::create(&app.db, &f.b.owner, "beta", &portico_services::tokens::hash_token(&beta_token), &portico_db::audit::Origin::system("test")).await.unwrap();
        assert_eq!(http.get(api(&format!("/files/{id}"))).bearer_auth(&beta_token).send().await.unwrap().status(), 404);
        assert_eq!(http.get(api(&format!("/files/{id}/content"))).bearer_auth(&beta_token).header("range", "bytes=0-10").send().await.unwrap().status(), 404);
        assert_eq!(http.get(api(&format!("/clients/{}/folders", c1.id))).bearer_auth(&beta_token).send().await.unwrap().status(), 404);
        let res = http.post(api(&format!("/clients/{}/folders", c1.id))).bearer_auth(&token)
            .json(&serde_json::json!({"name": "X", "client_id": f.b.clients[0].0.id})).send().await.unwrap();
        assert_eq!(res.status(), 422, "unknown fields are refused");
        let res = http.post(api(&format!("/clients/{}/folders", c1.id))).bearer_auth(&token)
            .json(&serde_json::json!({"name": 5})).send().await.unwrap();
        assert_eq!(res.status(), 422);
        let res = http.post(api("/files/move")).bearer_auth(&token)
            .json(&serde_json::json!({"client_id": c1.id, "folders": [folder_id], "to": folder_id})).send().await.unwrap();
        assert_eq!(res.status(), 409);
        let theirs = portico_db::folders::create(&app.db, &f.a.owner, f.a.clients[1].0.id, None, "Theirs", &portico_db::audit::Origin::system("test")).await.unwrap();
        let res = http.post(api("/files/move")).bearer_auth(&token)
            .json(&serde_json::json!({"client_id": c1.id, "files": [id], "to": theirs.id})).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let res = http.post(api("/uploads")).bearer_auth(&beta_token).header("tus-resumable", "1.0.0").header("upload-length", "10")
            .header("upload-metadata", format!("filename {},client {}", STANDARD.encode("a"), STANDARD.encode(c1.id.to_string()))).send().await.unwrap();
        assert_eq!(res.status(), 404, "another firm's client");
        let res = http.head(app.url(&at)).bearer_auth(&beta_token).header("tus-resumable", "1.0.0").send().await.unwrap();
        assert_eq!(res.status(), 404, "another firm's upload");
        app.stop().await;
    }
}

both! {
    async fn uploads_under_way_count_against_the_firms_quota(backend: Backend) {
        let app = TestApp::start_with(backend, |c| c.storage.firm_quota_bytes = Some(1024 * 1024)).await;
        let f = Fixture::new(&app.db).await;
        let (_, email, _) = &f.a.clients[0];
        let client = app.browser();
        client.login(email, PASSWORD).await;
        let t = Tus::new(&client, "/portal/files").await;
        let first = t.begin(700 * 1024, &[("filename", "one.bin")]).await;
        // The first upload's whole length is spoken for, though nothing has arrived yet.
        let second = t.create(700 * 1024, &[("filename", "two.bin")]).await;
        assert_eq!(second.status(), 413);
        assert!(second.text().await.unwrap().contains("storage is full"));
        // Given up, it frees its room.
        assert_eq!(t.req(reqwest::Method::DELETE, &first).send().await.unwrap().status(), 204);
        let second = t.begin(700 * 1024, &[("filename", "two.bin")]).await;
        assert_eq!(t.patch(&second, 0, bytes(700 * 1024, 1)).await.unwrap().status(), 204);
        assert_eq!(t.create(700 * 1024, &[("filename", "three.bin")]).await.status(), 413, "the file now counts");
        app.stop().await;
    }
}
