//! Connections are bounded: silent, slow-header and idle clients are let go, a body that stops
//! arriving is cut off while a slow one that keeps arriving finishes, a body declared too
//! large is refused before it is sent, and connections over the cap wait their turn.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or `within` passes: then `None`), returning
/// what it sent.
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&got).into_owned())
}

/// The status of the first response in what was read.
fn status(text: &str) -> u16 {
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

both! {
    async fn silent_slow_and_idle_connections_are_let_go(backend: Backend) {
        let app = TestApp::start_with(backend, |c| {
            c.http.header_timeout_secs = 1;
            c.http.body_idle_secs = 1;
        }).await;
        let f = Fixture::new(&app.db).await;

        // Connects and sends nothing.
        let mut silent = connect(&app).await;
        assert!(read_until_closed(&mut silent, Duration::from_secs(4)).await.is_some(), "a silent connection is closed");

        // Slowloris: a header byte now and then, never finishing.
        let mut slow = connect(&app).await;
        slow.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let started = Instant::now();
        let mut closed = false;
        while started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if slow.write_all(b"X").await.is_err() {
                closed = true;
                break;
            }
            let mut buf = [0u8; 512];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(10), slow.read(&mut buf)).await {
                // An answer (408) or the close itself.
                closed = n == 0 || status(&String::from_utf8_lossy(&buf[..n])) >= 400;
                if closed {
                    break;
                }
            }
        }
        assert!(closed, "a slowloris client is let go after the header timeout");

        // Kept alive after an answer, then idle.
        let mut idle = connect(&app).await;
        idle.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let text = read_until_closed(&mut idle, Duration::from_secs(4)).await.expect("the idle connection is closed");
        assert_eq!(status(&text), 200);

        // A form that declares 100 kB and sends 7 bytes.
        let mut stalled = connect(&app).await;
        stalled.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nemail=a").await.unwrap();
        assert!(read_until_closed(&mut stalled, Duration::from_secs(4)).await.is_some(), "a stalled body is cut off");

        // A slow form that keeps arriving finishes, though it takes longer than the pause allowed.
        let body = format!("email={}&password={}", f.a.owner_email.replace('@', "%40"), PASSWORD.replace(' ', "+"));
        let mut progressing = connect(&app).await;
        progressing.write_all(format!("POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes()).await.unwrap();
        let started = Instant::now();
        for piece in body.as_bytes().chunks(body.len().div_ceil(6)) {
            tokio::time::sleep(Duration::from_millis(600)).await;
            progressing.write_all(piece).await.unwrap();
        }
        assert!(started.elapsed() > Duration::from_secs(2));
        let text = read_until_closed(&mut progressing, Duration::from_secs(10)).await.unwrap();
        assert_eq!(status(&text), 303, "{text}");
        app.stop().await;
    }

    async fn a_body_declared_over_the_limit_is_refused_before_it_is_sent(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let b = app.browser();
        b.login(&f.a.owner_email, PASSWORD).await;
        let cookie = b.cookie().unwrap();
        for path in ["/login", "/account/profile/picture", "/api/v1/clients"] {
            let mut s = connect(&app).await;
            s.write_all(format!("POST {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50000000\r\n\r\nemail=").as_bytes()).await.unwrap();
            let started = Instant::now();
            let text = read_until_closed(&mut s, Duration::from_secs(5)).await.expect("an answer before the body");
            assert_eq!(status(&text), 413, "{path}: {text}");
            assert!(text.contains("too large"), "{text}");
            assert!(started.elapsed() < Duration::from_secs(2), "{path}: refused at once");
        }
        // Within the limit, the same routes still take bodies.
        assert_eq!(app.browser().login(&f.a.owner_email, PASSWORD).await.status, 303);
        app.stop().await;
    }

    async fn connections_over_the_cap_wait_until_one_is_free(backend: Backend) {
        let app = TestApp::start_with(backend, |c| {
            c.http.max_connections = 4;
            c.http.header_timeout_secs = 2;
        }).await;
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(connect(&app).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let res = app.http().get(app.url("/login")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let waited = started.elapsed();
        assert!(waited > Duration::from_millis(1000), "served only once an idle one was let go: {waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        drop(held);
        app.stop().await;
    }
}
