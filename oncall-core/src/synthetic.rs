//! Synthetic incidents: **generated, not recorded** — request logs with trace
//! ids and per-service metrics of a small microservice application, with one
//! known faulty service, for tests and the root-cause benchmark of fault types
//! the recorded scenarios lack (network delay, a failing entry service, a
//! saturated service).
//!
//! The application is a random call tree rooted at an entry service
//! (`frontend`). Each request walks the tree from the root (each call made with
//! probability [`CALL_PROBABILITY`]); every service logs one line when a request
//! arrives and one when it answers, with the trace id. Hops take 1–2 ms each way,
//! each service works 2–20 ms per request. From one minute before the alert the
//! fault acts:
//! - [`FaultKind::Delay`]: every packet the faulty service sends waits
//!   100–300 ms more (like `tc netem delay` on its interface);
//! - [`FaultKind::Error`]: the faulty service fails half its requests (an
//!   exception in its log), its callers log the failed call and fail in turn;
//! - [`FaultKind::Saturation`]: the faulty service's CPU is pinned (its CPU
//!   counter runs at 0.95 s/s) and its own work takes four times as long.
//!
//! Metrics, one sample every 15 s per service: `process_cpu_seconds_total`,
//! `http_requests_total`, `http_request_errors_total`,
//! `http_request_duration_seconds_sum`, `http_request_duration_seconds_count`
//! (counters) and `process_resident_memory_bytes`
//! (a gauge), labelled `{namespace="synthetic", service=…}`. With
//! [`SyntheticConfig::service_graph`], also the service-graph metrics Grafana Tempo
//! derives from traces, per caller → callee edge (and `user` → the entry service):
//! `traces_service_graph_request_total`, `…_failed_total`,
//! `…_server_seconds_{sum,count}`, `…_client_seconds_{sum,count}` with
//! `{client, server}`. Without [`SyntheticConfig::logs`], no log lines (a system
//! seen through metrics only). With [`SyntheticConfig::gauges`], the services'
//! figures are per-period gauges as a cloud monitor reports them (requests per
//! second, mean latency, availability %, CPU %, memory) instead of counters.
//!
//! Deterministic for a seed. Pure code, no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::analysis::reduce::{Collected, CollectedLog, CollectedSeries};
use crate::evidence::metrics::TimeWindow;

/// Probability that a service calls each of its callees for a request.
pub const CALL_PROBABILITY: f64 = 0.8;

/// Names given to the services, the entry service first.
const NAMES: [&str; 16] = [
    "frontend",
    "checkout",
    "cart",
    "catalog",
    "payment",
    "shipping",
    "currency",
    "email",
    "recommendation",
    "ads",
    "auth",
    "inventory",
    "pricing",
    "user",
    "search",
    "review",
];

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// The service's outgoing packets are delayed.
    Delay,
    /// The service fails half its requests.
    Error,
    /// The service's CPU is saturated.
    Saturation,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 3] = [FaultKind::Delay, FaultKind::Error, FaultKind::Saturation];

    /// A short name (`delay`, `error`, `saturation`).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Delay => "delay",
            FaultKind::Error => "error",
            FaultKind::Saturation => "saturation",
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticConfig {
    /// Seed of the random topology, timings and fault size.
    pub seed: u64,
    /// Services, entry included (2..=16).
    pub services: usize,
    /// The fault.
    pub fault: FaultKind,
    /// Index of the faulty service (0 = the entry service); `None` picks one.
    pub faulty: Option<usize>,
    /// Requests entering the application per minute.
    pub requests_per_minute: u32,
    /// Emit the request logs (with trace ids).
    pub logs: bool,
    /// Emit Tempo-style service-graph metrics.
    pub service_graph: bool,
    /// Emit each service's figures as gauges a cloud monitor reports per period
    /// (`requests_per_second`, `latency_seconds` as the period's mean,
    /// `availability_percent`, `cpu_usage_percent`, `memory_bytes`) instead of
    /// Prometheus counters: the shape of a serverless application's metrics.
    pub gauges: bool,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            seed: 1,
            services: 8,
            fault: FaultKind::Delay,
            faulty: None,
            requests_per_minute: 20,
            logs: true,
            service_graph: false,
            gauges: false,
        }
    }
}

/// A generated incident and its truth.
#[derive(Debug, Clone)]
pub struct SyntheticIncident {
    /// Log lines (with trace ids) and metric series of both windows.
    pub collected: Collected,
    /// The windows an analysis of it compares (30 min baseline, the incident
    /// window from 2 min before the alert to 10 min after).
    pub window: TimeWindow,
    /// When the alert fired (a minute after the fault began).
    pub alert_start: DateTime<Utc>,
    /// The faulty service.
    pub truth: String,
    /// The entry service.
    pub entry: String,
    /// The fault.
    pub fault: FaultKind,
    /// Every service, entry first.
    pub services: Vec<String>,
}

/// Per caller → callee edge: (calls, failed, server ms, client ms).
type EdgeCalls = BTreeMap<(usize, usize), (u32, u32, f64, f64)>;

/// One request's walk, as the generator lays it out.
struct Walk<'a> {
    rng: &'a mut fastrand::Rng,
    children: &'a [Vec<usize>],
    work_ms: &'a [f64],
    names: &'a [String],
    fault: FaultKind,
    faulty: usize,
    delay_ms: f64,
    faulty_now: bool,
    trace: String,
    lines: Vec<CollectedLog>,
    /// Per service: (requests, errors, busy milliseconds) in this walk.
    served: Vec<(u32, u32, f64)>,
    /// Per caller → callee edge: (calls, failed, server ms, client ms) in this walk.
    calls: EdgeCalls,
}

impl Walk<'_> {
    /// One hop's time from `from` to `to`.
    fn hop(&mut self, from: usize) -> f64 {
        let delay = if self.faulty_now && self.fault == FaultKind::Delay && from == self.faulty {
            self.delay_ms
        } else {
            0.0
        };
        1.0 + self.rng.f64() + delay
    }

    fn log(&mut self, at: f64, start: DateTime<Utc>, service: usize, level: &str, message: String) {
        self.lines.push(CollectedLog {
            source: "synthetic".into(),
            time: start + Duration::microseconds((at * 1000.0) as i64),
            message,
            level: Some(level.into()),
            service: Some(self.names[service].clone()),
            pod: None,
            trace_id: Some(self.trace.clone()),
        });
    }

    /// Serves a request at `service` arriving at `at` ms; returns (answer time, ok).
    fn serve(&mut self, service: usize, at: f64, start: DateTime<Utc>) -> (f64, bool) {
        let name = self.names[service].clone();
        self.log(
            at,
            start,
            service,
            "INFO",
            format!("received request for /{name} from upstream"),
        );
        let saturated =
            self.faulty_now && self.fault == FaultKind::Saturation && service == self.faulty;
        let work = self.work_ms[service]
            * (0.8 + 0.4 * self.rng.f64())
            * if saturated { 4.0 } else { 1.0 };
        let mut t = at + work / 2.0;
        let mut ok = true;
        for callee in self.children[service].clone() {
            if self.rng.f64() >= CALL_PROBABILITY {
                continue;
            }
            let sent = t;
            let arrive = t + self.hop(service);
            let (answered, callee_ok) = self.serve(callee, arrive, start);
            t = answered + self.hop(callee);
            let edge = self.calls.entry((service, callee)).or_default();
            edge.0 += 1;
            edge.1 += u32::from(!callee_ok);
            edge.2 += answered - arrive;
            edge.3 += t - sent;
            if !callee_ok {
                ok = false;
                let callee_name = self.names[callee].clone();
                self.log(
                    t,
                    start,
                    service,
                    "ERROR",
                    format!("call to {callee_name} failed: status 500 Internal Server Error"),
                );
                break;
            }
        }
        t += work / 2.0;
        if self.faulty_now
            && self.fault == FaultKind::Error
            && service == self.faulty
            && self.rng.bool()
        {
            ok = false;
            let snapshot = self.rng.u32(1000..9999);
            self.log(
                t,
                start,
                service,
                "ERROR",
                format!(
                    "request for /{name} failed: java.lang.IllegalStateException: inventory snapshot {snapshot} is stale"
                ),
            );
        }
        let status = if ok { 200 } else { 500 };
        self.log(
            t,
            start,
            service,
            "INFO",
            format!("completed /{name} in {:.0} ms status {status}", t - at),
        );
        let s = &mut self.served[service];
        s.0 += 1;
        s.1 += u32::from(!ok);
        s.2 += t - at;
        (t, ok)
    }
}

/// One series' samples.
type Samples = Vec<(DateTime<Utc>, f64)>;

/// The gauges of [`SyntheticConfig::gauges`], in the order [`as_gauges`] gives.
const GAUGES: [&str; 5] = [
    "cpu_usage_percent",
    "requests_per_second",
    "availability_percent",
    "latency_seconds",
    "memory_bytes",
];

/// A service's counters (CPU seconds, requests, errors, busy seconds, memory,
/// requests again) as per-period gauges: CPU %, requests per second,
/// availability % and mean latency (periods without requests have none), memory.
fn as_gauges(
    counters: &[Vec<(DateTime<Utc>, f64)>; 6],
    period_s: f64,
) -> Vec<Vec<(DateTime<Utc>, f64)>> {
    let mut out = vec![Vec::new(); GAUGES.len()];
    for b in 1..counters[0].len() {
        let d = |k: usize| counters[k][b].1 - counters[k][b - 1].1;
        let at = counters[0][b].0;
        out[0].push((at, 100.0 * d(0) / period_s));
        out[1].push((at, d(1) / period_s));
        if d(1) > 0.0 {
            out[2].push((at, 100.0 * (1.0 - d(2) / d(1))));
            out[3].push((at, d(3) / d(1)));
        }
        out[4].push((at, counters[4][b].1));
    }
    out
}

/// Generates one incident (see the module documentation).
pub fn generate(cfg: &SyntheticConfig) -> SyntheticIncident {
    let mut rng = fastrand::Rng::with_seed(cfg.seed);
    let n = cfg.services.clamp(2, NAMES.len());
    let names: Vec<String> = NAMES[..n].iter().map(|s| (*s).to_owned()).collect();
    // A random tree: each service's caller is one of the services before it.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 1..n {
        children[rng.usize(0..i)].push(i);
    }
    let work_ms: Vec<f64> = (0..n).map(|_| 2.0 + 18.0 * rng.f64()).collect();
    let cpu_base: Vec<f64> = (0..n).map(|_| 0.05 + 0.25 * rng.f64()).collect();
    let memory: Vec<f64> = (0..n).map(|_| 2e8 + 6e8 * rng.f64()).collect();
    let faulty = cfg.faulty.unwrap_or_else(|| rng.usize(0..n)).min(n - 1);
    let delay_ms = 100.0 + 200.0 * rng.f64();

    let alert_start = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let window = TimeWindow {
        baseline_start: alert_start - Duration::minutes(32),
        incident_start: alert_start - Duration::minutes(2),
        incident_end: alert_start + Duration::minutes(10),
    };
    let fault_start = alert_start - Duration::minutes(1);
    let total_ms = (window.incident_end - window.baseline_start).num_milliseconds() as f64;
    let requests = (f64::from(cfg.requests_per_minute) * total_ms / 60_000.0) as usize;

    let mut lines = Vec::new();
    // Per 15-s bucket and service: (requests, errors, busy ms).
    let bucket_ms = 15_000.0;
    let buckets = (total_ms / bucket_ms).ceil() as usize + 1;
    let mut per_bucket = vec![vec![(0u32, 0u32, 0.0f64); n]; buckets];
    // Per bucket and edge (`n` stands for the user calling the entry service).
    let mut edge_buckets: Vec<EdgeCalls> = vec![BTreeMap::new(); buckets];
    for r in 0..requests {
        let at = total_ms * (r as f64 + rng.f64()) / requests as f64;
        let start = window.baseline_start + Duration::milliseconds(at as i64);
        let mut walk = Walk {
            rng: &mut rng,
            children: &children,
            work_ms: &work_ms,
            names: &names,
            fault: cfg.fault,
            faulty,
            delay_ms,
            faulty_now: start >= fault_start,
            trace: String::new(),
            lines: Vec::new(),
            served: vec![(0, 0, 0.0); n],
            calls: BTreeMap::new(),
        };
        walk.trace = format!("{:016x}", walk.rng.u64(..));
        let arrive = 1.0 + walk.rng.f64();
        let (answered, ok) = walk.serve(0, arrive, start);
        let back = walk.hop(0);
        walk.calls.insert(
            (n, 0),
            (1, u32::from(!ok), answered - arrive, answered + back),
        );
        let bucket = ((at / bucket_ms) as usize).min(buckets - 1);
        for (edge, c) in &walk.calls {
            let e = edge_buckets[bucket].entry(*edge).or_default();
            e.0 += c.0;
            e.1 += c.1;
            e.2 += c.2;
            e.3 += c.3;
        }
        for (i, s) in walk.served.iter().enumerate() {
            let b = &mut per_bucket[bucket][i];
            b.0 += s.0;
            b.1 += s.1;
            b.2 += s.2;
        }
        if cfg.logs {
            lines.extend(walk.lines);
        }
    }
    lines.sort_by_key(|l| l.time);

    let mut series = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let labels = |metric: &str| -> BTreeMap<String, String> {
            [
                ("__name__", metric),
                ("namespace", "synthetic"),
                ("service", name.as_str()),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
        };
        let (mut cpu, mut reqs, mut errs, mut busy) = (1000.0 * rng.f64(), 0.0, 0.0, 0.0);
        let mut points = [
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ];
        for (b, bucket) in per_bucket.iter().enumerate() {
            let at = window.baseline_start + Duration::milliseconds((b as f64 * bucket_ms) as i64);
            let saturated = cfg.fault == FaultKind::Saturation && i == faulty && at >= fault_start;
            let cpu_rate = if saturated {
                0.95
            } else {
                cpu_base[i] * (0.9 + 0.2 * rng.f64())
            };
            cpu += cpu_rate * bucket_ms / 1000.0;
            reqs += f64::from(bucket[i].0);
            errs += f64::from(bucket[i].1);
            busy += bucket[i].2 / 1000.0;
            points[0].push((at, cpu));
            points[1].push((at, reqs));
            points[2].push((at, errs));
            points[3].push((at, busy));
            points[4].push((at, memory[i] * (0.98 + 0.04 * rng.f64())));
            points[5].push((at, reqs));
        }
        let metrics = [
            "process_cpu_seconds_total",
            "http_requests_total",
            "http_request_errors_total",
            "http_request_duration_seconds_sum",
            "process_resident_memory_bytes",
            "http_request_duration_seconds_count",
        ];
        let (metrics, points): (&[&str], Vec<Samples>) = if cfg.gauges {
            (&GAUGES, as_gauges(&points, bucket_ms / 1000.0))
        } else {
            (&metrics, points.into())
        };
        for (metric, points) in metrics.iter().zip(points) {
            series.push(CollectedSeries {
                source: "synthetic".into(),
                labels: labels(metric),
                points,
            });
        }
    }

    if cfg.service_graph {
        let edges: std::collections::BTreeSet<(usize, usize)> = edge_buckets
            .iter()
            .flat_map(|b| b.keys().copied())
            .collect();
        for (client, server) in edges {
            let name = |i: usize| {
                if i == n {
                    "user".to_owned()
                } else {
                    names[i].clone()
                }
            };
            let labels = |metric: &str| -> BTreeMap<String, String> {
                [
                    ("__name__", metric.to_owned()),
                    ("client", name(client)),
                    ("server", name(server)),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect()
            };
            let mut totals = [0.0f64; 6];
            let mut points: [Vec<(DateTime<Utc>, f64)>; 6] = Default::default();
            for (b, bucket) in edge_buckets.iter().enumerate() {
                let at =
                    window.baseline_start + Duration::milliseconds((b as f64 * bucket_ms) as i64);
                let c = bucket.get(&(client, server)).copied().unwrap_or_default();
                let add = [
                    f64::from(c.0),
                    f64::from(c.1),
                    c.2 / 1000.0,
                    f64::from(c.0),
                    c.3 / 1000.0,
                    f64::from(c.0),
                ];
                for k in 0..6 {
                    totals[k] += add[k];
                    points[k].push((at, totals[k]));
                }
            }
            let metrics = [
                "traces_service_graph_request_total",
                "traces_service_graph_request_failed_total",
                "traces_service_graph_request_server_seconds_sum",
                "traces_service_graph_request_server_seconds_count",
                "traces_service_graph_request_client_seconds_sum",
                "traces_service_graph_request_client_seconds_count",
            ];
            for (metric, points) in metrics.iter().zip(points) {
                series.push(CollectedSeries {
                    source: "synthetic".into(),
                    labels: labels(metric),
                    points,
                });
            }
        }
    }

    SyntheticIncident {
        collected: Collected {
            logs: lines,
            series,
            ..Default::default()
        },
        window,
        alert_start,
        truth: names[faulty].clone(),
        entry: names[0].clone(),
        fault: cfg.fault,
        services: names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_incident() {
        let cfg = SyntheticConfig {
            seed: 7,
            ..SyntheticConfig::default()
        };
        let (a, b) = (generate(&cfg), generate(&cfg));
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.collected, b.collected);
        assert!(a.collected.logs.len() > 1000, "{}", a.collected.logs.len());
        assert_eq!(a.collected.series.len(), cfg.services * 6);
    }
}
