//! Benchmark driver for messaging (run by `bench/live.sh`, which starts Portico and signs in):
//!
//! 1. Latency from sending a message to its arrival on open Server-Sent-Event streams: opens
//!    `STREAMS` streams as a client spread over `CONVERSATIONS` conversations, sends messages
//!    through the API one after another at a steady pace, and reports percentiles of
//!    send-to-event time over every delivery.
//! 2. Paging a conversation of 10,000 messages: the time of one page near the newest, in the
//!    middle and at the oldest end.
//!
//! Usage: live BASE_URL API_TOKEN CLIENT_COOKIE STREAMS CONVERSATIONS MESSAGES PACE_MS

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Arrival times of (conversation, message number) as streams saw them.
type Arrivals = Arc<Mutex<Vec<(String, i64, Instant)>>>;

async fn watch(
    http: reqwest::Client,
    url: String,
    cookie: String,
    conversation: String,
    arrivals: Arrivals,
    ready: tokio::sync::mpsc::Sender<()>,
) {
    let res = http
        .get(&url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("stream opens");
    assert_eq!(res.status(), 200, "stream {url}");
    let _ = ready.send(()).await;
    let mut body = res.bytes_stream();
    let mut pending = String::new();
    while let Some(Ok(chunk)) = body.next().await {
        let now = Instant::now();
        pending.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            if let Some(seq) = event
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .and_then(|v| v.trim().parse::<i64>().ok())
            {
                arrivals
                    .lock()
                    .unwrap()
                    .push((conversation.clone(), seq, now));
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [
        _,
        base,
        token,
        cookie,
        streams,
        conversations,
        messages,
        pace,
    ] = args.as_slice()
    else {
        eprintln!(
            "usage: live BASE_URL API_TOKEN CLIENT_COOKIE STREAMS CONVERSATIONS MESSAGES PACE_MS"
        );
        std::process::exit(2);
    };
    let streams: usize = streams.parse().expect("STREAMS");
    let conversations: usize = conversations.parse().expect("CONVERSATIONS");
    let messages: usize = messages.parse().expect("MESSAGES");
    let pace = Duration::from_millis(pace.parse().expect("PACE_MS"));
    portico_storage::use_ring_for_tls();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(streams + 16)
        .build()
        .expect("client");
    let api = |path: &str| format!("{base}/api/v1{path}");

    let clients: Vec<Value> = http
        .get(api("/clients"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = clients[0]["id"].as_str().expect("a client").to_string();
    let mut ids = Vec::new();
    for n in 0..conversations {
        let c: Value = http
            .post(api(&format!("/clients/{client_id}/conversations")))
            .bearer_auth(token)
            .json(&json!({"title": format!("Bench {n}"), "body": "opening message"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(c["id"].as_str().unwrap().to_string());
    }

    // 1. Send-to-event latency.
    let arrivals: Arrivals = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(streams);
    let mut watchers = Vec::new();
    let mut per_conversation: HashMap<String, usize> = HashMap::new();
    for s in 0..streams {
        let c = ids[s % ids.len()].clone();
        *per_conversation.entry(c.clone()).or_default() += 1;
        let url = format!("{base}/messages/{c}/live?after=1");
        watchers.push(tokio::spawn(watch(
            http.clone(),
            url,
            cookie.clone(),
            c,
            arrivals.clone(),
            ready_tx.clone(),
        )));
    }
    for _ in 0..streams {
        ready_rx.recv().await.expect("streams open");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sent: HashMap<(String, i64), Instant> = HashMap::new();
    let mut expected = 0;
    for m in 0..messages {
        let c = ids[m % ids.len()].clone();
        let t0 = Instant::now();
        let res: Value = http
            .post(api(&format!("/conversations/{c}/messages")))
            .bearer_auth(token)
            .json(&json!({"body": format!("message {m}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let seq = res["seq"].as_i64().expect("sent");
        sent.insert((c.clone(), seq), t0);
        expected += per_conversation[&c];
        tokio::time::sleep(pace).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = arrivals.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = got
        .iter()
        .filter_map(|(c, seq, at)| {
            sent.get(&(c.clone(), *seq))
                .map(|t0| at.duration_since(*t0))
        })
        .collect();
    latencies.sort();
    println!(
        "live updates: {streams} open streams over {conversations} conversation(s), {messages} messages sent {} ms apart",
        pace.as_millis()
    );
    println!(
        "  deliveries {} of {expected}; send-to-event p50 {}, p95 {}, p99 {}, max {}",
        latencies.len(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.95)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    for w in watchers {
        w.abort();
    }

    // 2. Paging a long conversation.
    let long = &ids[0];
    let total = 10_000;
    let have = http
        .get(api(&format!("/conversations/{long}/messages?limit=1")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["conversation"]["last_seq"]
        .as_i64()
        .unwrap();
    let missing = (total - have).max(0) as usize;
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut fill = Vec::new();
    for n in 0..missing {
        let (http, url, token, sem) = (
            http.clone(),
            api(&format!("/conversations/{long}/messages")),
            token.clone(),
            sem.clone(),
        );
        fill.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({"body": format!("filler {n}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }));
    }
    for f in fill {
        f.await.unwrap();
    }
    println!("paging a conversation of {total} messages, 50 per page, 200 requests each:");
    for (label, before) in [
        ("newest page", None),
        ("middle page", Some(total / 2)),
        ("oldest page", Some(51)),
    ] {
        let url = match before {
            Some(b) => api(&format!(
                "/conversations/{long}/messages?limit=50&before={b}"
            )),
            None => api(&format!("/conversations/{long}/messages?limit=50")),
        };
        let mut times = Vec::new();
        for _ in 0..200 {
            let t0 = Instant::now();
            let res = http.get(&url).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let _ = res.bytes().await.unwrap();
            times.push(t0.elapsed());
        }
        times.sort();
        println!(
            "  {label:<12} p50 {}, p99 {}",
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99))
        );
    }
}
