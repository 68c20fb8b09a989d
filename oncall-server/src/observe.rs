//! `/metrics`: request counts and latencies by operation and status, in the
//! Prometheus text format, plus analyses by state.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response, Result};
use poem_openapi::OperationId;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request statistics, keyed by (route, method, status).
#[derive(Debug, Default)]
pub struct RequestMetrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl RequestMetrics {
    fn observe(&self, route: String, method: String, status: u16, seconds: f64) {
        let mut map = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = map.entry((route, method, status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition of what was observed.
    pub fn render(&self, out: &mut String) {
        let map = self
            .series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        out.push_str(
            "# HELP oncall_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE oncall_http_requests_total counter\n");
        for ((route, method, status), s) in &map {
            let _ = writeln!(
                out,
                "oncall_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP oncall_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE oncall_http_request_duration_seconds histogram\n");
        for ((route, method, status), s) in &map {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "oncall_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "oncall_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "oncall_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "oncall_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

/// The route label: the API operation id, a fixed path, or `static`.
fn route_of(req_path: &str, resp: &Response) -> String {
    if let Some(op) = resp.data::<OperationId>() {
        return op.0.to_owned();
    }
    match req_path {
        "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json" => req_path.to_owned(),
        p if p.starts_with("/docs") => "/docs".to_owned(),
        p if p.starts_with("/api/") => "api_unmatched".to_owned(),
        _ => "static".to_owned(),
    }
}

/// Middleware endpoint that records every request in `metrics`.
pub async fn record<E: Endpoint>(
    next: E,
    req: Request,
    metrics: Arc<RequestMetrics>,
) -> Result<Response> {
    let started = Instant::now();
    let path = req.uri().path().to_owned();
    let method = req.method().to_string();
    let resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => crate::error::to_json_response(e).await,
    };
    let route = route_of(&path, &resp);
    metrics.observe(
        route,
        method,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    Ok(resp)
}
