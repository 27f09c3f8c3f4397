//! The `portico` program itself: the demo walkthrough, operator commands, clear start-up
//! errors, and crash safety under kill -9.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::both;
use crate::support::{Backend, Browser, pg};

fn portico(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portico"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PORTICO_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("PORTICO_DATA", data)
        .env("PORTICO_LOG_LEVEL", "warn");
    cmd
}

/// Runs a command to completion: (success, stdout, stderr).
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run portico");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Demo {
    child: Child,
    url: String,
    logins: Vec<(String, String, String)>,
}

fn start_demo(data: &Path) -> Demo {
    let mut child = portico(data)
        .args(["demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = String::new();
    let mut logins = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(u) = line.strip_prefix("Portico demo is running at ") {
            url = u.to_string();
        } else if let Some(l) = line.strip_prefix("login: ") {
            let parts: Vec<&str> = l.split(' ').collect();
            logins.push((
                parts[0].to_string(),
                parts[1].to_string(),
                parts[2].to_string(),
            ));
        } else if line.starts_with("Data folder:") {
            break;
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Demo { child, url, logins }
}

fn stop(child: &mut Child) {
    unsafe_kill(child, "TERM");
    let _ = child.wait();
}

fn unsafe_kill(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_logins_that_work_for_staff_and_clients() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = start_demo(dir.path());
    assert!(demo.url.starts_with("http://127.0.0.1:"), "{}", demo.url);
    let staff: Vec<_> = demo.logins.iter().filter(|l| l.0 == "staff").collect();
    let clients: Vec<_> = demo.logins.iter().filter(|l| l.0 == "client").collect();
    assert_eq!(staff.len(), 2);
    assert_eq!(clients.len(), 4);

    let b = Browser::new(&demo.url);
    let p = b.login(&staff[0].1, &staff[0].2).await;
    assert_eq!(p.location.as_deref(), Some("/staff"));
    let home = b.get("/staff").await;
    assert!(
        home.body.contains("Alder &amp; Finch Law") || home.body.contains("Alder &#38; Finch Law")
    );
    assert!(home.body.contains("href=\"/staff/clients\""));
    let list = b.get("/staff/clients").await;
    for name in [
        "Daniel Reyes",
        "Sofia Lindqvist",
        "Brightwater Robotics Ltd",
    ] {
        assert!(list.body.contains(name), "{name}");
    }
    assert_eq!(b.submit("/staff", "/logout", &[]).await.status, 303);
    assert_eq!(b.get("/staff").await.status, 303);

    // Both users of the company see the company's matters.
    for login in clients
        .iter()
        .filter(|l| l.1.ends_with("brightwater.example"))
    {
        let c = Browser::new(&demo.url);
        assert_eq!(
            c.login(&login.1, &login.2).await.location.as_deref(),
            Some("/portal")
        );
        let home = c.get("/portal").await;
        assert!(home.body.contains("Trademark: BRIGHTWATER"));
        assert!(home.body.contains("href=\"/portal/matters\""));
        assert!(!home.body.contains("href=\"/staff/clients\""));
        assert!(!home.body.contains("H-1B extension"));
    }
    // The closed demo matter stays hidden from its client.
    let sofia = clients.iter().find(|l| l.1.starts_with("sofia")).unwrap();
    let c = Browser::new(&demo.url);
    c.login(&sofia.1, &sofia.2).await;
    let m = c.get("/portal/matters").await;
    assert!(m.body.contains("Naturalisation") && !m.body.contains("Travel document"));
    // The first client has the intake questionnaire to fill in.
    let daniel = clients.iter().find(|l| l.1.starts_with("daniel")).unwrap();
    let c = Browser::new(&demo.url);
    c.login(&daniel.1, &daniel.2).await;
    assert!(
        c.get("/portal")
            .await
            .body
            .contains("Fill in “Client intake questionnaire”")
    );
    let forms = c.get("/portal/forms").await.body;
    assert!(forms.contains("Client intake questionnaire") && forms.contains("Not started"));
    stop(&mut demo.child);

    // Running it again reuses the data and prints the same logins.
    let mut again = start_demo(dir.path());
    assert_eq!(again.logins, demo.logins);
    let b = Browser::new(&again.url);
    assert_eq!(b.login(&staff[0].1, &staff[0].2).await.status, 303);
    stop(&mut again.child);
}

/// Environment, arguments, and the start of the expected message.
type Case<'a> = (Vec<(&'a str, String)>, Vec<&'a str>, &'a str);

#[test]
fn wrong_settings_stop_start_up_with_one_sentence_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = vec![
        (
            vec![("PORTICO_DATABASE_URL", "mysql://localhost/db".into())],
            vec!["migrate"],
            "database.url: `mysql://localhost/db` has an unknown scheme",
        ),
        (
            vec![(
                "PORTICO_DATABASE_URL",
                "postgres://portico:secret@127.0.0.1:1/portico".into(),
            )],
            vec!["migrate"],
            "database.url: cannot reach PostgreSQL",
        ),
        (
            vec![(
                "PORTICO_DATABASE_URL",
                "sqlite:///no/such/folder/portico.db".into(),
            )],
            vec!["migrate"],
            "database.url: the folder /no/such/folder",
        ),
        (
            vec![],
            vec!["serve", "--bind", "127.0.0.1:99999"],
            "bind: `127.0.0.1:99999` is not an address",
        ),
        (
            vec![("PORTICO_STORAGE_BACKEND", "ftp".into())],
            vec!["serve"],
            "storage.backend: `ftp` is unknown",
        ),
        (
            vec![("PORTICO_STORAGE_BACKEND", "s3".into())],
            vec!["serve"],
            "storage.bucket: required",
        ),
        (
            vec![("PORTICO_STORAGE_ENCRYPTION_KEY", "c2hvcnQ=".into())],
            vec!["serve"],
            "storage.encryption_key must be 32 bytes",
        ),
        (
            vec![("PORTICO_MAIL_TRANSPORT", "smtp".into())],
            vec!["serve"],
            "mail.smtp_host: required",
        ),
        (
            vec![("PORTICO_PUBLIC_URL", "ftp://example.com".into())],
            vec!["serve"],
            "public_url:",
        ),
        (
            vec![("PORTICO_DATABASE_URL_FILE", "/no/such/db-url".into())],
            vec!["migrate"],
            "PORTICO_DATABASE_URL_FILE: cannot read",
        ),
    ];
    for (env, args, expected) in cases {
        let mut cmd = portico(dir.path());
        cmd.args(&args);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let (ok, _, err) = run(&mut cmd);
        assert!(!ok, "{args:?} {env:?} started");
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
        assert!(
            !err.contains("panicked") && !err.contains("secret"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(started.elapsed() < Duration::from_secs(15));
    }
    // A config file is read too, and overridden by the environment.
    let file = dir.path().join("portico.toml");
    std::fs::write(&file, "[database]\nurl = \"oracle://x\"\n").unwrap();
    let (ok, _, err) =
        run(portico(dir.path()).args(["--config", file.to_str().unwrap(), "migrate"]));
    assert!(
        !ok && err.contains("`oracle://x` has an unknown scheme"),
        "{err}"
    );
    let secret = dir.path().join("db-url");
    std::fs::write(
        &secret,
        format!("sqlite://{}\n", dir.path().join("from-file.db").display()),
    )
    .unwrap();
    let (ok, _, err) = run(portico(dir.path())
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env("PORTICO_DATABASE_URL_FILE", &secret));
    assert!(ok, "{err}");
    assert!(dir.path().join("from-file.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_stops_start_up() {
    let s3 = crate::support::s3::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = portico(dir.path());
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .env("PORTICO_STORAGE_BACKEND", "s3")
        .env("PORTICO_STORAGE_BUCKET", "no-such-bucket")
        .env("PORTICO_STORAGE_ENDPOINT", &s3.endpoint)
        .env("PORTICO_STORAGE_ACCESS_KEY_ID", &s3.access_key)
        .env("PORTICO_STORAGE_SECRET_ACCESS_KEY", &s3.secret_key)
        .env("PORTICO_STORAGE_ALLOW_HTTP", "true");
    let (ok, _, err) = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert!(!ok);
    assert!(err.contains("no-such-bucket"), "{err}");
}

/// Starts `portico serve` and waits until it answers.
async fn serve(data: &Path, db_url: &str, port: u16) -> Child {
    serve_with(data, db_url, port, &[]).await
}

/// `serve` with further settings in the environment.
async fn serve_with(data: &Path, db_url: &str, port: u16, env: &[(&str, &str)]) -> Child {
    let mut child = portico(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("PORTICO_DATABASE_URL", db_url)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let ok = tokio::task::spawn_blocking({
            let url = url.clone();
            let data = data.to_path_buf();
            move || run(portico(&data).args(["healthcheck", "--url", &url])).0
        })
        .await
        .unwrap();
        if ok {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("portico serve did not become healthy");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs an operator command against a data folder and database; it must succeed.
fn admin(data: &Path, db_url: &str, args: &[&str]) -> String {
    let (ok, out, err) = run(portico(data).env("PORTICO_DATABASE_URL", db_url).args(args));
    assert!(ok, "{args:?}: {err}");
    out
}

/// A database for a crash test (SQLite in `data`, or a fresh PostgreSQL one) holding a firm
/// with an owner, made by the operator commands; returns its URL and the owner's API token.
async fn crash_test_firm(backend: Backend, data: &Path) -> (String, String) {
    let db_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", data.join("portico.db").display()),
        Backend::Postgres => pg::fresh_database().await,
    };
    let created = admin(
        data,
        &db_url,
        &["admin", "create-firm", "--name", "Crash Test LLP"],
    );
    assert!(created.contains("short name: crash-test-llp"), "{created}");
    let staff = admin(
        data,
        &db_url,
        &[
            "admin",
            "create-staff",
            "--firm",
            "crash-test-llp",
            "--email",
            "ops@crash.example",
            "--name",
            "Ops",
            "--role",
            "owner",
        ],
    );
    assert!(staff.contains("/set-password/"));
    let token = admin(
        data,
        &db_url,
        &[
            "admin",
            "create-api-token",
            "--firm",
            "crash-test-llp",
            "--email",
            "ops@crash.example",
        ],
    )
    .trim()
    .to_string();
    assert_eq!(token.len(), 43);
    (db_url, token)
}

both! {
    async fn acknowledged_writes_survive_kill_minus_nine(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let (db_url, token) = crash_test_firm(backend, dir.path()).await;

        let port = free_port();
        let mut child = serve(dir.path(), &db_url, port).await;
        let base = format!("http://127.0.0.1:{port}");
        portico_storage::use_ring_for_tls();
        let http = reqwest::Client::new();
        let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let mut writers = Vec::new();
        for w in 0..4 {
            let (http, base, token, acknowledged) = (http.clone(), base.clone(), token.clone(), acknowledged.clone());
            writers.push(tokio::spawn(async move {
                for n in 0..10_000 {
                    let name = format!("Burst {w}-{n}");
                    let res = http.post(format!("{base}/api/v1/clients")).bearer_auth(&token)
                        .json(&serde_json::json!({"kind": "person", "name": name})).send().await;
                    match res {
                        Ok(r) if r.status() == 201 => acknowledged.lock().unwrap().push(name),
                        _ => break,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        unsafe_kill(&child, "KILL");
        let _ = child.wait();
        for w in writers {
            let _ = w.await;
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(acknowledged.len() > 10, "only {} writes before the kill", acknowledged.len());

        let mut child = serve(dir.path(), &db_url, port).await;
        let mut stored = std::collections::HashSet::new();
        for page in 1.. {
            let list: Vec<serde_json::Value> = http.get(format!("{base}/api/v1/clients?per_page=200&page={page}"))
                .bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            if list.is_empty() {
                break;
            }
            stored.extend(list.into_iter().map(|c| c["name"].as_str().unwrap().to_string()));
        }
        for name in &acknowledged {
            assert!(stored.contains(name), "acknowledged {name} was lost");
        }
        stop(&mut child);
        let verified = admin(dir.path(), &db_url, &["audit", "verify"]);
        assert!(verified.contains("audit log intact"), "{verified}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_fails_when_nothing_answers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (ok, _, err) = run(portico(dir.path()).args([
        "healthcheck",
        "--url",
        &format!("http://127.0.0.1:{port}"),
    ]));
    assert!(!ok);
    assert!(err.contains("did not answer"), "{err}");
}

#[test]
fn seeding_ten_thousand_clients_is_quick_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (ok, out, err) =
        run(portico(dir.path()).args(["admin", "seed", "--clients", "10000", "--items", "2"]));
    assert!(ok, "{err}");
    assert!(out.contains("seeded 10000 clients"), "{out}");
    // A report, not a timed assertion: the figure goes to the test output.
    eprintln!(
        "seed of 10,000 clients with 2 matters each: {:.1} s ({out})",
        started.elapsed().as_secs_f64()
    );
}

/// Every file under a folder, as paths relative to it.
fn files_in(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files_in(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

both! {
    async fn a_resumable_upload_survives_kill_minus_nine_and_leaves_nothing_half_done(backend: Backend) {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let dir = tempfile::tempdir().unwrap();
        let (db_url, token) = crash_test_firm(backend, dir.path()).await;
        let port = free_port();
        let mut child = serve(dir.path(), &db_url, port).await;
        let base = format!("http://127.0.0.1:{port}");
        portico_storage::use_ring_for_tls();
        let http = reqwest::Client::new();
        let client: serde_json::Value = http.post(format!("{base}/api/v1/clients")).bearer_auth(&token)
            .json(&serde_json::json!({"kind": "person", "name": "Ada Byron"})).send().await.unwrap().json().await.unwrap();
        let client_id = client["id"].as_str().unwrap().to_string();

        let whole: Vec<u8> = (0..5 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let res = http.post(format!("{base}/api/v1/uploads")).bearer_auth(&token).header("tus-resumable", "1.0.0")
            .header("upload-length", whole.len().to_string())
            .header("upload-metadata", format!("filename {},client {}", b64("deed.pdf"), b64(&client_id))).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let at = format!("{base}{}", res.headers()["location"].to_str().unwrap());
        let patch = |offset: usize, body: reqwest::Body| {
            http.patch(&at).bearer_auth(&token).header("tus-resumable", "1.0.0").header("upload-offset", offset.to_string())
                .header("content-type", "application/offset+octet-stream").body(body).send()
        };
        let mb = 1024 * 1024;
        assert_eq!(patch(0, whole[..mb].to_vec().into()).await.unwrap().status(), 204);

        // The server dies while the next part streams in.
        let first = bytes::Bytes::copy_from_slice(&whole[mb..mb + 256 * 1024]);
        let hanging = futures_util::StreamExt::chain(futures_util::stream::iter([Ok::<_, std::io::Error>(first)]), futures_util::stream::pending());
        let inflight = tokio::spawn(patch(mb, reqwest::Body::wrap_stream(hanging)));
        tokio::time::sleep(Duration::from_millis(700)).await;
        unsafe_kill(&child, "KILL");
        let _ = child.wait();
        assert!(inflight.await.unwrap().is_err(), "the request died with the server");

        let mut child = serve(dir.path(), &db_url, port).await;
        // Nothing of the upload is a file yet.
        let listed: Vec<serde_json::Value> = http.get(format!("{base}/api/v1/clients/{client_id}/files")).bearer_auth(&token)
            .send().await.unwrap().json().await.unwrap();
        assert!(listed.is_empty(), "{listed:?}");
        // It goes on from the last part the server recorded.
        let head = http.head(&at).bearer_auth(&token).header("tus-resumable", "1.0.0").send().await.unwrap();
        assert_eq!(head.status(), 200);
        let offset: usize = head.headers()["upload-offset"].to_str().unwrap().parse().unwrap();
        assert_eq!(offset, mb);
        assert_eq!(patch(offset, whole[offset..].to_vec().into()).await.unwrap().status(), 204);
        let listed: Vec<serde_json::Value> = http.get(format!("{base}/api/v1/clients/{client_id}/files")).bearer_auth(&token)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(listed.len(), 1);
        let id = listed[0]["id"].as_str().unwrap();
        let got = http.get(format!("{base}/api/v1/files/{id}/content")).bearer_auth(&token).send().await.unwrap().bytes().await.unwrap();
        assert!(got.to_vec() == whole, "the file comes back byte for byte");
        // The parts wait a day on the loose list (a backup running meanwhile still finds
        // them); once that has passed, the sweep leaves no part, staged or whole, anywhere:
        // the one object kept is the file.
        assert!(!files_in(&dir.path().join("files").join("uploads")).is_empty());
        let db = portico_db::Db::connect(&db_url, portico_db::PoolSettings::default()).await.unwrap();
        let storage = portico_storage::Storage::open(&portico_storage::StorageConfig::Local { path: dir.path().join("files") }).await.unwrap();
        let past = portico_db::now() - time::Duration::minutes(1);
        let due = "UPDATE loose_objects SET remove_after = $1";
        match &db {
            portico_db::Db::Sqlite(p) => { sqlx::query(due).bind(past).execute(p).await.unwrap(); }
            portico_db::Db::Postgres(p) => { sqlx::query(due).bind(past).execute(p).await.unwrap(); }
        }
        assert!(portico_services::leftovers::sweep_loose_objects(&db, &storage).await.unwrap() >= 1);
        db.close().await;
        assert_eq!(files_in(&dir.path().join("files").join("uploads")), Vec::<String>::new());
        let kept = files_in(&dir.path().join("files").join("firms"));
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0].ends_with(&format!("{id}-joined")), "{kept:?}");
        stop(&mut child);
    }
}

both! {
    async fn an_operator_backs_up_checks_and_restores_with_the_commands(backend: Backend) {
        let old = tempfile::tempdir().unwrap();
        let (old_url, _) = crash_test_firm(backend, old.path()).await;
        let archive = old.path().join("nightly.tar");
        let archive_arg = archive.to_str().unwrap();
        let out = admin(old.path(), &old_url, &["backup", archive_arg]);
        assert!(out.starts_with("backed up to") && out.contains("schema version"), "{out}");
        let out = admin(old.path(), &old_url, &["backup", "verify", archive_arg]);
        assert!(out.contains("is whole"), "{out}");

        let new = tempfile::tempdir().unwrap();
        let new_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", new.path().join("portico.db").display()),
            Backend::Postgres => pg::fresh_database().await,
        };
        let out = admin(new.path(), &new_url, &["restore", archive_arg]);
        assert!(out.starts_with("restored"), "{out}");
        // The restored portal knows the firm and its owner.
        let token = admin(new.path(), &new_url, &["admin", "create-api-token", "--firm", "crash-test-llp", "--email", "ops@crash.example"]);
        assert_eq!(token.trim().len(), 43);

        // Restoring again over it is refused in one sentence, and changes nothing.
        let (ok, _, err) = run(portico(new.path()).env("PORTICO_DATABASE_URL", &new_url).args(["restore", archive_arg]));
        assert!(!ok);
        assert!(err.starts_with("portico: ") && (err.contains("exists already") || err.contains("has tables already")), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        let (ok, _, err) = run(portico(new.path()).env("PORTICO_DATABASE_URL", &new_url).args(["backup", "verify", "/no/such.tar"]));
        assert!(!ok && err.contains("cannot open /no/such.tar"), "{err}");
    }

    async fn sigterm_with_a_slow_upload_in_flight_exits_within_the_grace_period_and_keeps_no_half_file(backend: Backend) {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let dir = tempfile::tempdir().unwrap();
        let (db_url, token) = crash_test_firm(backend, dir.path()).await;
        let port = free_port();
        let grace = [("PORTICO_HTTP_SHUTDOWN_GRACE_SECS", "2")];
        let mut child = serve_with(dir.path(), &db_url, port, &grace).await;
        let base = format!("http://127.0.0.1:{port}");
        portico_storage::use_ring_for_tls();
        let http = reqwest::Client::new();
        let client: serde_json::Value = http.post(format!("{base}/api/v1/clients")).bearer_auth(&token)
            .json(&serde_json::json!({"kind": "person", "name": "Ada Byron"})).send().await.unwrap().json().await.unwrap();
        let client_id = client["id"].as_str().unwrap().to_string();
        let res = http.post(format!("{base}/api/v1/uploads")).bearer_auth(&token).header("tus-resumable", "1.0.0")
            .header("upload-length", (4 * 1024 * 1024).to_string())
            .header("upload-metadata", format!("filename {},client {}", b64("slow.pdf"), b64(&client_id))).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let at = format!("{base}{}", res.headers()["location"].to_str().unwrap());
        // A slow sender: a little, then a chunk every half second, never finishing in time.
        let slow = futures_util::stream::unfold(0u32, |n| async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Some((Ok::<_, std::io::Error>(bytes::Bytes::from(vec![7u8; 16 * 1024])), n + 1))
        });
        let inflight = tokio::spawn(http.patch(&at).bearer_auth(&token).header("tus-resumable", "1.0.0").header("upload-offset", "0")
            .header("content-type", "application/offset+octet-stream").body(reqwest::Body::wrap_stream(slow)).send());
        tokio::time::sleep(Duration::from_millis(700)).await;

        let asked = Instant::now();
        unsafe_kill(&child, "TERM");
        let exited = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if asked.elapsed() > Duration::from_secs(10) {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let Some(status) = exited else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server was still running 10 s after SIGTERM");
        };
        let took = asked.elapsed();
        assert!(status.success(), "{status:?}");
        assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(5), "stopped after {took:?}");
        assert!(inflight.await.unwrap().is_err(), "the slow upload was cut off");

        let mut child = serve(dir.path(), &db_url, port).await;
        let listed: Vec<serde_json::Value> = http.get(format!("{base}/api/v1/clients/{client_id}/files")).bearer_auth(&token)
            .send().await.unwrap().json().await.unwrap();
        assert!(listed.is_empty(), "no half file is listed: {listed:?}");
        stop(&mut child);
    }
}
