//! `/metrics`: request counts and latencies by operation and status, in the
//! Prometheus text format, plus analyses by state.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use poem::PathPattern;
use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

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
#[derive(Debug)]
pub struct RequestMetrics {
    series: Mutex<BTreeMap<(Route, &'static str, u16), Series>>,
    /// API route templates by route-table pattern (see [`crate::api::route_templates`]).
    templates: HashMap<String, Arc<str>>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        RequestMetrics {
            series: Mutex::default(),
            templates: crate::api::route_templates(),
        }
    }
}

impl RequestMetrics {
    fn observe(&self, route: Route, method: &'static str, status: u16, seconds: f64) {
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
            let route = route.label();
            let _ = writeln!(
                out,
                "oncall_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP oncall_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE oncall_http_request_duration_seconds histogram\n");
        for ((route, method, status), s) in &map {
            let route = route.label();
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

/// A route label: a pattern from the route table, or one of a few fixed names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// A pattern of the route table in poem's form (`/api/tickets/:no`), shared
    /// with the table (cloning it costs a reference count, not an allocation).
    Pattern(Arc<str>),
    /// `api_unmatched`, `static`, `/docs`, `unmatched`.
    Fixed(&'static str),
}

impl Route {
    fn as_str(&self) -> &str {
        match self {
            Route::Pattern(p) => p,
            Route::Fixed(s) => s,
        }
    }

    /// The label as written in `/metrics`: the route template in the OpenAPI
    /// form, `/api/tickets/{no}`.
    fn label(&self) -> String {
        let mut out = String::with_capacity(self.as_str().len() + 2);
        for (i, segment) in self.as_str().split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            match segment.strip_prefix(':') {
                Some(name) => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
                None => out.push_str(segment),
            }
        }
        out
    }
}

impl PartialOrd for Route {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Route {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// The route label of a request, from the route table: poem leaves the pattern
/// of the innermost matched route on the response or error, and API patterns
/// are turned back into their documented template (`/api/tickets/{no}`). Only
/// the table's own patterns become labels, so their number is bounded whatever
/// paths clients send: an `/api/...` path no operation has is `api_unmatched`,
/// anything the web UI serves is `static`, and a request refused before routing
/// (413) is `unmatched`.
fn route_of(pattern: Option<&PathPattern>, templates: &HashMap<String, Arc<str>>) -> Route {
    let Some(PathPattern(p)) = pattern else {
        return Route::Fixed("unmatched");
    };
    match &**p {
        // The `/api` nest itself answers paths the API does not have.
        "/api" | "/api/" => Route::Fixed("api_unmatched"),
        // The web UI's nest at `/` (files and the SPA fallback).
        "" | "/" => Route::Fixed("static"),
        s if s.starts_with("/docs") => Route::Fixed("/docs"),
        s => Route::Pattern(templates.get(s).unwrap_or(p).clone()),
    }
}

/// The method label; methods outside the standard set share one label.
fn method_of(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware endpoint that records every request in `metrics`.
pub async fn record<E: Endpoint>(
    next: E,
    req: Request,
    metrics: Arc<RequestMetrics>,
) -> Result<Response> {
    let started = Instant::now();
    let method = method_of(req.method());
    let path = req.uri().path().to_owned();
    let (route, resp) = match next.call(req).await {
        Ok(r) => {
            let r = r.into_response();
            (route_of(r.data::<PathPattern>(), &metrics.templates), r)
        }
        Err(e) => {
            let route = route_of(e.data::<PathPattern>(), &metrics.templates);
            let resp = match crate::refusals::bad_parameter(&e, &route.label(), &path) {
                Some(r) => r,
                None => crate::error::to_json_response(e).await,
            };
            (route, resp)
        }
    };
    if resp.status().is_client_error() {
        crate::refusals::log_refused(method, &route.label(), &path, resp.status());
    }
    metrics.observe(
        route,
        method,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    Ok(resp)
}

/// Guards `/metrics` with `ONCALL_METRICS_TOKEN` when it is set: the scrape must
/// send `Authorization: Bearer <token>` (Prometheus: `authorization:
/// {credentials: <token>}`), else 401. Unset: open, as before.
pub async fn require_metrics_token<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let state = req.data::<Arc<crate::AppState>>();
    if let Some(expected) = state.and_then(|s| s.oncall.settings().metrics_token.clone()) {
        let given = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().as_bytes().to_vec())
            .unwrap_or_default();
        let expected = expected.as_bytes();
        // Constant time over the expected token's length.
        let same = given.len() == expected.len()
            && given
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Ok(Response::builder()
                .status(poem::http::StatusCode::UNAUTHORIZED)
                .header("WWW-Authenticate", "Bearer")
                .content_type("text/plain; charset=utf-8")
                .body("/metrics needs Authorization: Bearer <ONCALL_METRICS_TOKEN>"));
        }
    }
    Ok(next.call(req).await?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_route_templates_from_the_table() {
        let templates = crate::api::route_templates();
        let route = |s: &str| route_of(Some(&PathPattern(Arc::from(s))), &templates).label();
        assert_eq!(route("/api/tickets/:param0"), "/api/tickets/{no}");
        assert_eq!(route("/api/tickets"), "/api/tickets");
        assert_eq!(route("/healthz"), "/healthz");
        assert_eq!(route("/api"), "api_unmatched");
        assert_eq!(route(""), "static");
        assert_eq!(route_of(None, &templates).label(), "unmatched");
        // Every documented path has its table pattern.
        assert!(
            templates.values().any(|t| &**t == "/api/analysis/{id}"),
            "{templates:?}"
        );
    }
}
