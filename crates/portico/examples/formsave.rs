//! Benchmark driver for forms (run by `bench/forms.sh`, which starts Portico and signs in):
//! staff build a form of 200 short questions on one page through the builder and send it to a
//! client `CONNECTIONS` times; then `CONNECTIONS` connections each save their own form's draft
//! as the page's script does, every save changing all 200 answers, for `SECONDS`. Reports the
//! save rate and latency percentiles.
//!
//! Usage: formsave BASE_URL STAFF_COOKIE CLIENT_COOKIE CONNECTIONS SECONDS

use std::time::{Duration, Instant};

const FIELDS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn find_all(body: &str, start: &str, end: char) -> Vec<String> {
    body.match_indices(start)
        .map(|(i, m)| {
            let rest = &body[i + m.len()..];
            rest[..rest.find(end).unwrap()].to_string()
        })
        .collect()
}

struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Session {
    async fn get(&self, path: &str) -> String {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.text().await.unwrap()
    }

    async fn post(&self, path: &str, form: &[(String, String)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn csrf(&self, path: &str) -> String {
        find_all(&self.get(path).await, "name=\"csrf\" value=\"", '"').remove(0)
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, staff_cookie, client_cookie, connections, seconds] = &args[..] else {
        panic!("usage: formsave BASE_URL STAFF_COOKIE CLIENT_COOKIE CONNECTIONS SECONDS");
    };
    portico_storage::use_ring_for_tls();
    let connections: usize = connections.parse().unwrap();
    let seconds: u64 = seconds.parse().unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let staff = Session {
        http: http.clone(),
        base: base.clone(),
        cookie: staff_cookie.clone(),
    };
    let client = Session {
        http: http.clone(),
        base: base.clone(),
        cookie: client_cookie.clone(),
    };

    // Build the form: 200 questions on one page, one builder change each.
    let csrf = staff.csrf("/staff/forms").await;
    let made = staff
        .post(
            "/staff/forms",
            &pairs(&[("csrf", &csrf), ("title", "Two hundred questions")]),
        )
        .await;
    let form = made.headers()["location"].to_str().unwrap().to_string();
    for i in 0..FIELDS {
        let version = (i + 1).to_string();
        let label = format!("Question {}", i + 1);
        let res = staff
            .post(
                &format!("{form}/edit"),
                &pairs(&[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("op", "add_field"),
                    ("section", "0"),
                    ("kind", "short_text"),
                    ("label", &label),
                    ("max", "200"),
                ]),
            )
            .await;
        assert_eq!(res.status(), 303, "adding question {i}");
    }
    let template = form.rsplit('/').next().unwrap().to_string();
    let clients = staff.get("/staff/clients").await;
    let client_id = find_all(&clients, "href=\"/staff/clients/", '"')
        .into_iter()
        .find(|id| id.len() == 36)
        .expect("a client");
    for _ in 0..connections {
        let res = staff
            .post(
                &format!("/staff/clients/{client_id}/forms"),
                &pairs(&[("csrf", &csrf), ("template", &template)]),
            )
            .await;
        assert_eq!(res.status(), 303, "sending the form");
    }
    let list = client.get("/portal/forms").await;
    let forms: Vec<String> = find_all(&list, "href=\"/portal/forms/", '"')
        .into_iter()
        .filter(|id| id.len() == 36)
        .collect();
    assert!(forms.len() >= connections, "{} forms", forms.len());
    let page = client.get(&format!("/portal/forms/{}", forms[0])).await;
    let questions = find_all(&page, "name=\"q\" value=\"", '"');
    assert_eq!(questions.len(), FIELDS);
    let client_csrf = find_all(&page, "name=\"csrf\" value=\"", '"').remove(0);

    println!(
        "form of {FIELDS} questions on one page; {connections} connections saving for {seconds} s"
    );
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for form in forms.into_iter().take(connections) {
        let (http, base, cookie) = (http.clone(), base.clone(), client_cookie.clone());
        let (questions, csrf) = (questions.clone(), client_csrf.clone());
        tasks.push(tokio::spawn(async move {
            let mut rev = 0i64;
            let mut times = Vec::new();
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
                let mut body = vec![
                    ("csrf".to_string(), csrf.clone()),
                    ("rev".into(), rev.to_string()),
                    ("page".into(), "1".into()),
                ];
                for q in &questions {
                    body.push(("q".into(), q.clone()));
                    body.push((format!("f.{q}"), format!("Answer to {q}, save {n}")));
                }
                let started = Instant::now();
                let res = http
                    .post(format!("{base}/portal/forms/{form}"))
                    .header("cookie", &cookie)
                    .header("origin", &base)
                    .header("x-autosave", "1")
                    .form(&body)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let text = res.text().await.unwrap();
                times.push(started.elapsed());
                assert_eq!(status, 200, "{text}");
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                let next = v["rev"].as_i64().unwrap();
                assert_eq!(next, rev + 1, "every save wrote");
                rev = next;
            }
            times
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    println!(
        "saves: {} ({:.0}/s); p50 {}, p90 {}, p99 {}, max {}",
        all.len(),
        all.len() as f64 / elapsed,
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.9)),
        ms(percentile(&all, 0.99)),
        ms(*all.last().unwrap())
    );
}
