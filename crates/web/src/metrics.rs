//! Request counters for the Prometheus endpoint. Per process by nature: each server reports
//! its own and Prometheus adds them up.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub(crate) struct Metrics {
    started: Instant,
    by_class: [AtomicU64; 5],
    duration_micros: AtomicU64,
    /// Requests and SQL statements by route (the route's pattern, a fixed set).
    by_route: Mutex<BTreeMap<String, [u64; 2]>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            by_class: Default::default(),
            duration_micros: AtomicU64::new(0),
            by_route: Mutex::default(),
        }
    }
}

impl Metrics {
    pub(crate) fn record(&self, status: u16, micros: u64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.duration_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts one request to `route` and the statements it sent.
    pub(crate) fn record_route(&self, route: &str, statements: u32) {
        let mut routes = self.by_route.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match routes.get_mut(route) {
            Some(e) => e,
            None => routes.entry(route.to_string()).or_default(),
        };
        entry[0] += 1;
        entry[1] += u64::from(statements);
    }

    pub(crate) fn render(&self, jobs: &[(String, i64)], pages_kept: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP portico_http_requests_total HTTP responses by status class."
        );
        let _ = writeln!(out, "# TYPE portico_http_requests_total counter");
        for (i, c) in self.by_class.iter().enumerate() {
            let _ = writeln!(
                out,
                "portico_http_requests_total{{class=\"{}xx\"}} {}",
                i + 1,
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP portico_http_request_duration_seconds_total Time spent answering requests."
        );
        let _ = writeln!(
            out,
            "# TYPE portico_http_request_duration_seconds_total counter"
        );
        let secs = self.duration_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "portico_http_request_duration_seconds_total {secs}");
        let _ = writeln!(
            out,
            "# HELP portico_jobs Jobs in the durable queue by status."
        );
        let _ = writeln!(out, "# TYPE portico_jobs gauge");
        for (status, n) in jobs {
            let _ = writeln!(out, "portico_jobs{{status=\"{status}\"}} {n}");
        }
        let routes = self.by_route.lock().unwrap_or_else(|e| e.into_inner());
        for (name, help, i) in [
            (
                "portico_route_requests_total",
                "Requests answered, by route.",
                0,
            ),
            (
                "portico_route_sql_statements_total",
                "SQL statements sent while answering, by route.",
                1,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (route, n) in routes.iter() {
                let _ = writeln!(out, "{name}{{route=\"{route}\"}} {}", n[i]);
            }
        }
        drop(routes);
        let _ = writeln!(
            out,
            "# HELP portico_pages_kept Pages whose data this process keeps for repeat visits."
        );
        let _ = writeln!(out, "# TYPE portico_pages_kept gauge");
        let _ = writeln!(out, "portico_pages_kept {pages_kept}");
        let _ = writeln!(
            out,
            "# HELP portico_uptime_seconds Seconds since this process started."
        );
        let _ = writeln!(out, "# TYPE portico_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "portico_uptime_seconds {}",
            self.started.elapsed().as_secs()
        );
        out
    }
}
