//! Prometheus text exposition (`GET /metrics`): requests by route and status, a latency
//! histogram per route, jobs by state, paths simulated, keeper publications.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the latency histogram, seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Http {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// The `method` label of a request: one of the HTTP methods of RFC 9110 (and PATCH), or
/// `other`, so that a client inventing methods cannot grow the exposition without bound.
pub fn method_label(m: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT",
    ];
    KNOWN
        .into_iter()
        .find(|k| *k == m.as_str())
        .unwrap_or("other")
}

/// The `route` label of a request: the matched route template (`/v1/simulations/{id}`), never
/// the path as sent; [`UNMATCHED`] for every path no route matches.
pub fn route_label(matched: Option<&axum::extract::MatchedPath>) -> &str {
    matched.map_or(UNMATCHED, |m| m.as_str())
}

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "(unmatched)";

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    http: Mutex<Http>,
    /// Paths simulated by this process (all legs).
    pub paths_simulated: AtomicU64,
    /// Keeper publications that succeeded.
    pub publish_ok: AtomicU64,
    /// Keeper publication attempts that failed (each retry counts).
    pub publish_failed: AtomicU64,
}

impl Metrics {
    /// Records one answered request; `route` and `method` are bounded labels
    /// ([`route_label`], [`method_label`]).
    pub fn record(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        let mut h = self.http.lock().unwrap_or_else(|p| p.into_inner());
        *h.requests
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let hist = h.latency.entry(route.to_string()).or_default();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|&b| seconds <= b) {
            hist.counts[i] += 1;
        }
        hist.count += 1;
        hist.sum += seconds;
    }

    /// The exposition text; `jobs` are the counts by state.
    pub fn render(&self, jobs: &[(String, i64)]) -> String {
        let mut s = String::new();
        let h = self.http.lock().unwrap_or_else(|p| p.into_inner());
        s.push_str("# HELP gaib_http_requests_total HTTP requests answered, by route, method and status.\n");
        s.push_str("# TYPE gaib_http_requests_total counter\n");
        for ((route, method, status), n) in &h.requests {
            let _ = writeln!(
                s,
                "gaib_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        s.push_str(
            "# HELP gaib_http_request_duration_seconds Time to answer a request, by route.\n",
        );
        s.push_str("# TYPE gaib_http_request_duration_seconds histogram\n");
        for (route, hist) in &h.latency {
            let r = escape(route);
            let mut cum = 0;
            for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
                cum += hist.counts[i];
                let _ = writeln!(
                    s,
                    "gaib_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {cum}"
                );
            }
            let _ = writeln!(
                s,
                "gaib_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                hist.count
            );
            let _ = writeln!(
                s,
                "gaib_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                hist.sum
            );
            let _ = writeln!(
                s,
                "gaib_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                hist.count
            );
        }
        drop(h);
        s.push_str("# HELP gaib_jobs Simulation jobs in the database, by state.\n");
        s.push_str("# TYPE gaib_jobs gauge\n");
        for state in crate::db::state::ALL {
            let n = jobs.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            let _ = writeln!(s, "gaib_jobs{{state=\"{state}\"}} {n}");
        }
        s.push_str("# HELP gaib_paths_simulated_total Monte Carlo paths simulated by this process (all legs).\n");
        s.push_str("# TYPE gaib_paths_simulated_total counter\n");
        let _ = writeln!(
            s,
            "gaib_paths_simulated_total {}",
            self.paths_simulated.load(Ordering::Relaxed)
        );
        s.push_str("# HELP gaib_publish_total Keeper publications of valuations, by outcome.\n");
        s.push_str("# TYPE gaib_publish_total counter\n");
        let _ = writeln!(
            s,
            "gaib_publish_total{{outcome=\"ok\"}} {}",
            self.publish_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "gaib_publish_total{{outcome=\"failed\"}} {}",
            self.publish_failed.load(Ordering::Relaxed)
        );
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
