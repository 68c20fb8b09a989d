//! Anomaly traversal over the service graph that metrics already describe: who
//! calls whom, how often, how slowly and how often in vain, from the metrics
//! service meshes and tracing pipelines export —
//! Grafana Tempo / Alloy service graphs
//! (`traces_service_graph_request_total{client,server}`, `…_failed_total`,
//! `…_server_seconds_{sum,count}`, `…_client_seconds_{sum,count}`), Istio
//! (`istio_requests_total{source_workload,destination_workload,response_code}`,
//! `istio_request_duration_milliseconds_{sum,count}`) and Linkerd
//! (`response_total{deployment,dst_deployment,classification}`,
//! `response_latency_ms_{sum,count}`).
//!
//! Method (anomaly traversal, as in MonitorRank, Kim et al., SIGMETRICS 2013, and
//! the call-graph walks of MicroRCA, Wu et al., NOMS 2020). Each edge is judged
//! twice, each time against the robust threshold of [`super::metrics`]:
//! - *at the server*: the server's mean latency (sum rate over count rate) or
//!   its failed share rose — the trouble is in the server or below it;
//! - *on the wire*: the client's latency minus the server's rose — the network
//!   between them got slower (either end's outgoing traffic), seen only when the
//!   client side is measured too (Tempo's `client_seconds`).
//!
//! A service is where the trouble starts when (a) calls into it went wrong at the
//! server while its own calls did not go wrong at all — score: the share of its
//! incoming edges bad at the server times the share of its outgoing edges that
//! are fine — or (b) the edges it is on got slower on the wire — score: the
//! share of its edges slower on the wire. The larger counts; ties go to the
//! service with more bad edges. Walking from the roots (or the alert's service)
//! down bad edges marks the services on the path; off the path counts half. The
//! entry service can win like any other: its own callees being fine, or all of
//! its edges slower on the wire, singles it out.
//!
//! Pure code, no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::metrics::{ShiftConfig, TimeWindow, counter_rates, median, scaled_mad};

/// Samples in time order.
type Samples = Vec<(DateTime<Utc>, f64)>;

/// One edge's figures over time: request, failure and latency rates.
#[derive(Debug, Default)]
struct EdgeSeries {
    requests: Vec<(DateTime<Utc>, f64)>,
    failed: Vec<(DateTime<Utc>, f64)>,
    latency_sum: Vec<(DateTime<Utc>, f64)>,
    latency_count: Vec<(DateTime<Utc>, f64)>,
    client_sum: Vec<(DateTime<Utc>, f64)>,
    client_count: Vec<(DateTime<Utc>, f64)>,
}

/// An edge of the service graph that went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphEdgeShift {
    /// The calling service.
    pub client: String,
    /// The called service.
    pub server: String,
    /// What moved: `latency` (at the server), `errors` (at the server) or
    /// `network` (client latency minus server latency).
    pub what: String,
    /// Baseline median (seconds, or failed share 0..1).
    pub baseline: f64,
    /// Incident median.
    pub incident: f64,
    /// Robust deviations of the move.
    pub z: f64,
}

impl GraphEdgeShift {
    /// Baseline and incident values as people read them: milliseconds for
    /// latency and network, a percentage for errors.
    pub fn readable(&self) -> (String, String) {
        if self.what == "errors" {
            (
                format!("{:.1} %", self.baseline * 100.0),
                format!("{:.1} %", self.incident * 100.0),
            )
        } else {
            (
                format!("{:.0} ms", self.baseline * 1000.0),
                format!("{:.0} ms", self.incident * 1000.0),
            )
        }
    }
}

/// A service the anomaly traversal points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphSuspect {
    /// The service.
    pub service: String,
    /// Share of its incoming edges that went wrong × share of its outgoing edges
    /// that did not, 0..1.
    pub score: f64,
    /// Its incoming edges that went wrong, most deviations first.
    pub incoming: Vec<GraphEdgeShift>,
    /// Reached from the alert's service down anomalous edges.
    pub reached_from_alert: bool,
}

/// The service graph found in the metrics and what the traversal concluded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceGraph {
    /// Which exporter's metrics described it (`tempo`, `istio`, `linkerd`).
    pub source: Option<String>,
    /// Edges with enough data to judge.
    pub edges: usize,
    /// Edges that went wrong.
    pub anomalous: Vec<GraphEdgeShift>,
    /// Services ranked, best first.
    pub suspects: Vec<GraphSuspect>,
}

/// What one metric family is to the graph.
enum Part {
    Requests,
    Failed,
    LatencySum,
    LatencyCount,
    ClientSum,
    ClientCount,
}

/// Reads an edge sample's (exporter, client, server, part, is-failure) from its
/// labels, or `None` for series that are not service-graph metrics.
fn edge_of(
    labels: &BTreeMap<String, String>,
) -> Option<(&'static str, String, String, Part, bool)> {
    let name = labels.get("__name__")?.as_str();
    let get = |k: &str| labels.get(k).cloned().filter(|v| !v.is_empty());
    let tempo = || Some((get("client")?, get("server")?));
    let istio = || Some((get("source_workload")?, get("destination_workload")?));
    let linkerd = || Some((get("deployment")?, get("dst_deployment")?));
    let (source, (client, server), part, failed) = match name {
        "traces_service_graph_request_total" => ("tempo", tempo()?, Part::Requests, false),
        "traces_service_graph_request_failed_total" => ("tempo", tempo()?, Part::Failed, true),
        "traces_service_graph_request_server_seconds_sum" => {
            ("tempo", tempo()?, Part::LatencySum, false)
        }
        "traces_service_graph_request_server_seconds_count" => {
            ("tempo", tempo()?, Part::LatencyCount, false)
        }
        "traces_service_graph_request_client_seconds_sum" => {
            ("tempo", tempo()?, Part::ClientSum, false)
        }
        "traces_service_graph_request_client_seconds_count" => {
            ("tempo", tempo()?, Part::ClientCount, false)
        }
        "istio_requests_total" => {
            let failed = get("response_code").is_some_and(|c| c.starts_with('5'));
            ("istio", istio()?, Part::Requests, failed)
        }
        "istio_request_duration_milliseconds_sum" => ("istio", istio()?, Part::LatencySum, false),
        "istio_request_duration_milliseconds_count" => {
            ("istio", istio()?, Part::LatencyCount, false)
        }
        "response_total" => {
            let failed = get("classification").is_some_and(|c| c == "failure");
            ("linkerd", linkerd()?, Part::Requests, failed)
        }
        "response_latency_ms_sum" => ("linkerd", linkerd()?, Part::LatencySum, false),
        "response_latency_ms_count" => ("linkerd", linkerd()?, Part::LatencyCount, false),
        _ => return None,
    };
    Some((source, client, server, part, failed))
}

/// Adds rate series `b` into `a` sample by sample (same timestamps), or sets it.
fn add_into(a: &mut Vec<(DateTime<Utc>, f64)>, b: Vec<(DateTime<Utc>, f64)>) {
    if a.is_empty() {
        *a = b;
        return;
    }
    let at: HashMap<DateTime<Utc>, f64> = b.into_iter().collect();
    for (t, v) in a.iter_mut() {
        *v += at.get(t).copied().unwrap_or(0.0);
    }
}

/// `num / den` sample by sample where `den` > 0.
fn ratio(num: &[(DateTime<Utc>, f64)], den: &[(DateTime<Utc>, f64)]) -> Vec<(DateTime<Utc>, f64)> {
    let by_time: HashMap<DateTime<Utc>, f64> = num.iter().copied().collect();
    den.iter()
        .filter(|(_, d)| *d > 0.0)
        .map(|(t, d)| (*t, by_time.get(t).copied().unwrap_or(0.0) / d))
        .collect()
}

/// How far the incident window's median of `values` moved from the baseline's,
/// in robust deviations (spread floored as metric shifts floor it), with both
/// medians; only rises count (slower, failing more).
fn rise(values: &[(DateTime<Utc>, f64)], window: &TimeWindow) -> Option<(f64, f64, f64)> {
    let cfg = ShiftConfig::default();
    let mut base: Vec<f64> = values
        .iter()
        .filter(|(t, v)| window.in_baseline(*t) && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    let mut now: Vec<f64> = values
        .iter()
        .filter(|(t, v)| window.in_incident(*t) && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    if base.len() < cfg.min_baseline_points || now.len() < 2 {
        return None;
    }
    let b = median(&mut base)?;
    let n = median(&mut now)?;
    let spread = scaled_mad(&base, b)
        .max(cfg.min_relative_spread * b.abs().max(n.abs()))
        .max(f64::MIN_POSITIVE);
    Some(((n - b) / spread, b, n))
}

/// A series as [`service_graph`] reads it: its labels and samples.
pub type GraphSeries<'a> = (&'a BTreeMap<String, String>, &'a [(DateTime<Utc>, f64)]);

/// Builds the service graph from `series` and walks it from `alert_services`
/// (every service without callers when empty). Empty (no `source`) when the
/// series hold no service-graph metrics.
pub fn service_graph(
    series: &[GraphSeries<'_>],
    window: &TimeWindow,
    alert_services: &[String],
) -> ServiceGraph {
    let mut source = None;
    let mut edges: BTreeMap<(String, String), EdgeSeries> = BTreeMap::new();
    for (labels, points) in series {
        let Some((from, client, server, part, failed)) = edge_of(labels) else {
            continue;
        };
        source.get_or_insert(from);
        let rates = counter_rates(points);
        let e = edges.entry((client, server)).or_default();
        match part {
            Part::Requests => {
                if failed {
                    add_into(&mut e.failed, rates.clone());
                }
                add_into(&mut e.requests, rates);
            }
            Part::Failed => add_into(&mut e.failed, rates),
            Part::LatencySum => add_into(&mut e.latency_sum, rates),
            Part::LatencyCount => add_into(&mut e.latency_count, rates),
            Part::ClientSum => add_into(&mut e.client_sum, rates),
            Part::ClientCount => add_into(&mut e.client_count, rates),
        }
    }
    let Some(source) = source else {
        return ServiceGraph::default();
    };
    let threshold = ShiftConfig::default().threshold;
    let mut judged = 0;
    let mut anomalous: Vec<GraphEdgeShift> = Vec::new();
    // Per edge: (bad at the server, slower on the wire).
    let mut flags: BTreeMap<(String, String), (bool, bool)> = BTreeMap::new();
    let mut out_edges: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut in_edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for ((client, server), e) in &edges {
        out_edges.entry(client).or_default().push(server);
        in_edges.entry(server).or_default().push(client);
        let server_latency = ratio(&e.latency_sum, &e.latency_count);
        let mut checks: Vec<(&str, Samples)> = Vec::new();
        if !e.latency_count.is_empty() {
            checks.push(("latency", server_latency.clone()));
        }
        if !e.requests.is_empty() {
            checks.push(("errors", ratio(&e.failed, &e.requests)));
        }
        if !e.client_count.is_empty() && !e.latency_count.is_empty() {
            let at_server: HashMap<DateTime<Utc>, f64> = server_latency.iter().copied().collect();
            let wire: Vec<(DateTime<Utc>, f64)> = ratio(&e.client_sum, &e.client_count)
                .into_iter()
                .filter_map(|(t, c)| at_server.get(&t).map(|s| (t, c - s)))
                .collect();
            checks.push(("network", wire));
        }
        let mut any = false;
        let (mut at_server, mut on_wire) = (false, false);
        for (what, values) in checks {
            let Some((z, b, n)) = rise(&values, window) else {
                continue;
            };
            any = true;
            if z < threshold {
                continue;
            }
            if what == "network" {
                on_wire = true;
            } else {
                at_server = true;
            }
            anomalous.push(GraphEdgeShift {
                client: client.clone(),
                server: server.clone(),
                what: what.into(),
                baseline: b,
                incident: n,
                z,
            });
        }
        judged += usize::from(any);
        if at_server || on_wire {
            flags.insert((client.clone(), server.clone()), (at_server, on_wire));
        }
    }
    anomalous.sort_by(|a, b| b.z.total_cmp(&a.z));
    let flag = |c: &str, s: &str| {
        flags
            .get(&(c.to_owned(), s.to_owned()))
            .copied()
            .unwrap_or((false, false))
    };
    let bad_edges: BTreeSet<(String, String)> = flags.keys().cloned().collect();

    // Reachable from the alert's services down anomalous edges.
    let starts: Vec<&str> = if alert_services.is_empty() {
        out_edges
            .keys()
            .filter(|s| !in_edges.contains_key(*s))
            .copied()
            .collect()
    } else {
        alert_services.iter().map(String::as_str).collect()
    };
    let mut reached: BTreeSet<&str> = starts.iter().copied().collect();
    let mut stack = starts.clone();
    while let Some(s) = stack.pop() {
        for next in out_edges.get(s).into_iter().flatten() {
            if bad_edges.contains(&(s.to_owned(), (*next).to_owned())) && reached.insert(next) {
                stack.push(next);
            }
        }
    }

    let services: BTreeSet<&str> = in_edges.keys().chain(out_edges.keys()).copied().collect();
    let mut suspects: Vec<(GraphSuspect, usize)> = services
        .into_iter()
        .filter_map(|s| {
            let ins = in_edges.get(s).map_or(&[][..], Vec::as_slice);
            let outs = out_edges.get(s).map_or(&[][..], Vec::as_slice);
            let in_server = ins.iter().filter(|c| flag(c, s).0).count();
            let out_any = outs
                .iter()
                .filter(|v| {
                    let (a, b) = flag(s, v);
                    a || b
                })
                .count();
            let wire = ins.iter().filter(|c| flag(c, s).1).count()
                + outs.iter().filter(|v| flag(s, v).1).count();
            let own = if ins.is_empty() {
                0.0
            } else {
                in_server as f64 / ins.len() as f64
                    * (1.0 - out_any as f64 / outs.len().max(1) as f64)
            };
            let network = wire as f64 / (ins.len() + outs.len()).max(1) as f64;
            let score = own.max(network);
            let bad = in_server + out_any + ins.iter().filter(|c| flag(c, s).1).count();
            let incoming: Vec<GraphEdgeShift> = anomalous
                .iter()
                .filter(|e| e.server == s || (e.what == "network" && e.client == s))
                .cloned()
                .collect();
            (score > 0.0).then(|| {
                (
                    GraphSuspect {
                        service: s.to_owned(),
                        score,
                        incoming,
                        reached_from_alert: reached.contains(s),
                    },
                    bad,
                )
            })
        })
        .collect();
    suspects.sort_by(|(a, ab), (b, bb)| {
        b.reached_from_alert
            .cmp(&a.reached_from_alert)
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| bb.cmp(ab))
            .then_with(|| a.service.cmp(&b.service))
    });
    let suspects: Vec<GraphSuspect> = suspects.into_iter().map(|(s, _)| s).collect();
    ServiceGraph {
        source: Some(source.to_owned()),
        edges: judged,
        anomalous,
        suspects,
    }
}
