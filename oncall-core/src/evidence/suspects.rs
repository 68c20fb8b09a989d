//! Suspects: components (services, pods, hosts) ranked by how strongly the
//! evidence points at them — where failing requests' first errors appeared, new or
//! bursting error templates, metric shifts — weighing what moved first.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::latency::LatencySuspect;
use super::metrics::MetricShift;
use super::paths::{MissingStep, PathDivergence};
use super::service_graph::GraphSuspect;
use super::templates::{GIST_CHARS, LogTemplate, gist};
use super::traces::ErrorOrigin;

/// What kind of component a suspect is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// A service / app / deployment.
    Service,
    /// A pod.
    Pod,
    /// A host / node / instance.
    Host,
}

/// One ranked suspect (SPEC §5 `suspects[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    /// Name of the component.
    pub component: String,
    /// What kind of component.
    pub kind: ComponentKind,
    /// 0..1, relative to the other suspects of the same analysis.
    pub score: f64,
    /// Why, strongest first, in plain words.
    pub reasons: Vec<String>,
    /// When its earliest anomaly began, if known.
    pub first_anomaly_at: Option<DateTime<Utc>>,
    /// Pods of the service that showed anomalies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<String>,
    /// The kind of evidence behind its strongest reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<EvidenceKind>,
}

/// Labels naming a service, in order of preference.
const SERVICE_LABELS: [&str; 7] = [
    "service",
    "service_name",
    "app",
    "app_kubernetes_io_name",
    "k8s_app",
    "container",
    "deployment",
];
/// Labels naming a pod.
const POD_LABELS: [&str; 2] = ["pod", "pod_name"];
/// Labels naming a host.
const HOST_LABELS: [&str; 5] = ["node", "nodename", "host", "hostname", "instance"];

/// The service a pod belongs to: its name without the trailing ReplicaSet and pod
/// hashes (`api-7d9f8c6b5-x2x4z` → `api`) or StatefulSet ordinal (`db-0` → `db`).
pub fn service_of_pod(pod: &str) -> String {
    let parts: Vec<&str> = pod.split('-').collect();
    // Kubernetes draws generated suffixes from an alphabet without vowels (and
    // without 0, 1, 3), so real words like `cache` are never taken for a hash.
    const ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";
    let is_hash = |s: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&s.len()) && s.chars().all(|c| ALPHABET.contains(c))
    };
    let n = parts.len();
    if n >= 3 && is_hash(parts[n - 1], 5..=5) && is_hash(parts[n - 2], 6..=10) {
        return parts[..n - 2].join("-");
    }
    if n >= 2 && (is_hash(parts[n - 1], 5..=5) || parts[n - 1].chars().all(|c| c.is_ascii_digit()))
    {
        return parts[..n - 1].join("-");
    }
    pod.to_owned()
}

/// The component a set of labels describes: (kind, name, pod if any).
pub fn component_of(
    labels: &BTreeMap<String, String>,
) -> Option<(ComponentKind, String, Option<String>)> {
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| labels.get(*k))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let pod = get(&POD_LABELS);
    if let Some(service) = get(&SERVICE_LABELS) {
        return Some((ComponentKind::Service, service, pod));
    }
    if let Some(pod) = pod {
        return Some((ComponentKind::Service, service_of_pod(&pod), Some(pod)));
    }
    get(&HOST_LABELS).map(|h| {
        let host = h
            .rsplit_once(':')
            .map_or(h.as_str(), |(host, _)| host)
            .to_owned();
        (ComponentKind::Host, host, None)
    })
}

/// Weights of the kinds of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SuspectWeights {
    /// Failing requests' first errors (traces).
    pub origins: f64,
    /// Requests that left their usual path at the component (traces).
    pub paths: f64,
    /// Steps of the component that stopped following the steps they used to
    /// follow (traces).
    #[serde(default)]
    pub missing: f64,
    /// New or bursting error-level log templates.
    pub templates: f64,
    /// Metric shifts.
    pub metrics: f64,
    /// Slowed edges of the request graph (traces), by the Ochiai coefficient.
    #[serde(default)]
    pub latency: f64,
    /// Where the service graph's anomalous edges lead (service-graph metrics).
    #[serde(default)]
    pub graph: f64,
    /// Minutes after the earliest anomaly at which a component's metric evidence
    /// counts half (what moved first weighs more).
    pub onset_half_life_minutes: f64,
}

impl Default for SuspectWeights {
    fn default() -> Self {
        SuspectWeights {
            origins: 0.15,
            paths: 0.3,
            missing: 0.9,
            templates: 0.21,
            metrics: 0.7,
            // As much as the other evidence from the request graph (missing
            // steps): a delay fault leaves no other trace in the logs.
            latency: 0.9,
            // The same evidence as `latency`, from metrics instead of log lines.
            graph: 0.9,
            onset_half_life_minutes: 10.0,
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    kind: Option<ComponentKind>,
    origins: f64,
    paths: f64,
    missing: f64,
    templates: f64,
    metrics: f64,
    latency: f64,
    graph: f64,
    first: Option<DateTime<Utc>>,
    reasons: Vec<(f64, EvidenceKind, String)>,
    pods: Vec<String>,
}

/// The kinds of evidence a suspect's reasons come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// Failing requests' first errors (traces).
    Origins,
    /// Requests that left their usual path (traces).
    Paths,
    /// Steps that stopped following the steps they used to follow (traces).
    Missing,
    /// New or bursting error-level log templates.
    Templates,
    /// Metric shifts.
    Metrics,
    /// Slowed steps of requests (traces).
    Latency,
    /// The alert's subject's resources that moved.
    Resources,
    /// Where the service graph's anomalous edges lead (service-graph metrics).
    Graph,
    /// Confirmed root cause of a similar past incident (a bounded prior; see
    /// [`crate::memory::prior`]).
    Memory,
}

/// Everything [`rank_suspects`] weighs: one slice per kind of evidence and what
/// it takes to compare them.
#[derive(Debug, Clone, Copy)]
pub struct SuspectEvidence<'a> {
    /// Where failing requests' first errors appeared.
    pub origins: &'a [ErrorOrigin],
    /// Where requests left their usual paths.
    pub divergences: &'a [PathDivergence],
    /// Steps that stopped following the steps they used to follow.
    pub missing: &'a [MissingStep],
    /// Every mined log template (only error-level ones count).
    pub templates: &'a [LogTemplate],
    /// Metric shifts.
    pub shifts: &'a [MetricShift],
    /// Services the slowed edges of the request graph point at.
    pub latency: &'a [LatencySuspect],
    /// Services the service graph's anomalous edges lead to.
    pub graph: &'a [GraphSuspect],
    /// The incident window's length over the baseline's, to turn baseline counts
    /// into what the incident window would hold if nothing changed.
    pub incident_over_baseline: f64,
    /// How many components report each metric at all.
    pub components_per_metric: &'a HashMap<String, usize>,
}

/// Ranks components by the combined evidence; the best gets the highest score.
///
/// Each kind of evidence is an *excess* over that expectation:
/// - origins: failing requests whose first error the component logged;
/// - paths: requests that left the baseline's paths at the component (no
///   baseline expectation needed: the baseline's requests define the paths);
/// - missing steps: the component's most surprising shortfall of a step that
///   used to follow another (see [`super::paths::missing_steps`]);
/// - templates: error-level lines of the component;
/// - metrics: for each metric, the component that moved most, by how far it stands
///   out from the next one (a spike in one place outweighs a symptom that every
///   caller shows), weighted by how early it began.
///
/// Each kind is then trusted by how far its leading component stands above the
/// runner-up ([`TRUST_FLOOR`] when not at all), so evidence every component shows
/// about as much of weighs less than evidence that singles one out.
pub fn rank_suspects(evidence: &SuspectEvidence<'_>, weights: &SuspectWeights) -> Vec<Suspect> {
    let SuspectEvidence {
        origins,
        divergences,
        missing,
        templates,
        shifts,
        latency,
        graph,
        incident_over_baseline,
        components_per_metric,
    } = *evidence;
    let ratio = incident_over_baseline.max(0.0);
    let mut tally: HashMap<String, Tally> = HashMap::new();

    for o in origins {
        let excess = surprise(o.incident, o.baseline, ratio);
        if excess <= 0.0 {
            continue;
        }
        let t = tally.entry(o.service.clone()).or_default();
        t.kind = Some(ComponentKind::Service);
        t.origins += excess;
        t.reasons.push((
            excess * weights.origins,
            EvidenceKind::Origins,
            format!(
                "first error of {} failing request(s) in the incident window (baseline {}; errors spread to {} service(s))",
                o.incident, o.baseline, o.spread
            ),
        ));
    }

    for d in divergences {
        let t = tally.entry(d.service.clone()).or_default();
        t.kind = Some(ComponentKind::Service);
        t.paths += d.weight;
        let step = |text: &Option<String>, none: &str| match text {
            Some(t) => format!("\"{}\"", gist(t, GIST_CHARS)),
            None => none.to_owned(),
        };
        let how = d.example.as_ref().map_or(String::new(), |e| {
            format!(
                ", e.g. after {} came {} instead of {}",
                step(&e.last_usual, "the start"),
                step(&e.unexpected, "the end of the request"),
                step(&e.expected, "the end of the request"),
            )
        });
        t.reasons.push((
            saturate(d.weight, PATH_SCALE) * weights.paths,
            EvidenceKind::Paths,
            format!(
                "{} of {} requests in the incident window left their usual path here{how}",
                d.requests, d.compared
            ),
        ));
    }

    for l in latency {
        let t = tally.entry(l.service.clone()).or_default();
        t.kind = Some(ComponentKind::Service);
        t.latency = t.latency.max(l.ochiai);
        if let Some(e) = l.slowed.first() {
            let edge = if e.caller == e.callee {
                "time between two of its own log lines".to_owned()
            } else {
                format!("time from its log line to {}'s next one", e.callee)
            };
            t.reasons.push((
                l.ochiai * weights.latency,
                EvidenceKind::Latency,
                format!(
                    "requests got slower here: the {edge} took {:.0} ms instead of {:.0} ms (median of {} requests); {} of its {} steps slowed",
                    e.incident_ms,
                    e.baseline_ms,
                    e.requests,
                    l.slowed.len(),
                    l.edges
                ),
            ));
        }
    }

    for g in graph {
        let t = tally.entry(g.service.clone()).or_default();
        t.kind = Some(ComponentKind::Service);
        // Off the path from the alert, it counts half.
        let s = g.score * if g.reached_from_alert { 1.0 } else { 0.5 };
        t.graph = t.graph.max(s);
        if let Some(e) = g.incoming.first() {
            let (b, n) = e.readable();
            t.reasons.push((
                s * weights.graph,
                EvidenceKind::Graph,
                format!(
                    "calls into it went wrong while its own calls did not: {} → {} {} {n} instead of {b} (service-graph metrics)",
                    e.client, e.server, if e.what == "errors" { "failed" } else { "took" }
                ),
            ));
        }
    }

    for m in missing {
        let t = tally.entry(m.service.clone()).or_default();
        t.kind = Some(ComponentKind::Service);
        t.missing = t.missing.max(m.surprise);
        t.reasons.push((
            saturate(m.surprise, MISSING_SCALE) * weights.missing,
            EvidenceKind::Missing,
            format!(
                "its step \"{}\" used to follow {}'s \"{}\" and stopped: {} in the incident window where {} are usual",
                gist(&m.step, GIST_CHARS),
                m.after_service,
                gist(&m.after, GIST_CHARS),
                m.seen,
                usual_count(m.expected)
            ),
        ));
    }

    for tpl in templates.iter().filter(|t| t.is_error_level) {
        for sc in tpl
            .services
            .iter()
            .filter(|s| s.incident > 0 && !s.service.is_empty())
        {
            let excess = surprise(sc.incident, sc.baseline, ratio);
            if excess <= 0.0 {
                continue;
            }
            let t = tally.entry(sc.service.clone()).or_default();
            t.kind = Some(ComponentKind::Service);
            t.templates += excess;
            if let Some(seen) = tpl.first_seen {
                t.first = Some(t.first.map_or(seen, |f| f.min(seen)));
            }
            let example = tpl
                .examples
                .first()
                .map_or_else(|| tpl.template.clone(), Clone::clone);
            t.reasons.push((
                excess * weights.templates,
                EvidenceKind::Templates,
                format!(
                    "{}: \"{}\"",
                    errors_against_usual(sc.incident, sc.baseline as f64 * ratio, false),
                    gist(&example, GIST_CHARS)
                ),
            ));
        }
    }

    // For each metric, who moved most and by how far they stand out.
    let earliest = shifts.iter().map(|s| s.started_at).min();
    let mut by_metric: HashMap<&str, Vec<(f64, String, &MetricShift)>> = HashMap::new();
    for shift in shifts {
        let Some((kind, name, pod)) = component_of(&shift.labels) else {
            continue;
        };
        let t = tally.entry(name.clone()).or_default();
        t.kind.get_or_insert(kind);
        t.first = Some(
            t.first
                .map_or(shift.started_at, |f| f.min(shift.started_at)),
        );
        if let Some(p) = pod
            && !t.pods.contains(&p)
        {
            t.pods.push(p);
        }
        by_metric
            .entry(shift.metric.as_str())
            .or_default()
            .push((shift.score, name, shift));
    }
    for (metric, list) in by_metric.iter_mut() {
        // A metric only some components have (an entry point's own SLO) cannot
        // single one out against the others.
        if components_per_metric.get(*metric).copied().unwrap_or(0) < 3 {
            continue;
        }
        // Strongest series per component, then components by strength.
        list.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut seen: Vec<String> = Vec::new();
        list.retain(|(_, name, _)| {
            if seen.contains(name) {
                false
            } else {
                seen.push(name.clone());
                true
            }
        });
        let per_request = is_per_request(metric);
        if per_request {
            // By how much each component's requests changed, not by how sure
            // the change is (see `per_request_effect`).
            list.sort_by(|a, b| per_request_effect(b.2).total_cmp(&per_request_effect(a.2)));
        }
        let Some((top, name, shift)) = list.first() else {
            continue;
        };
        let second = list.get(1).map_or(0.0, |x| x.0);
        // A one-sample blip is weaker evidence than a shift that persists.
        let persistence = (shift.anomalous_points as f64 / 3.0).min(1.0);
        let by_score = (top / (second + 1.0)).min(STANDOUT_CAP) / STANDOUT_CAP * persistence;
        let standout = if per_request {
            let lead = per_request_effect(shift);
            let next = list.get(1).map_or(0.0, |x| per_request_effect(x.2));
            // A tie (the caller sends every request to the failing service) is no
            // margin; the leader keeps what its score alone gives.
            let margin = if lead > 0.0 { 1.0 - next / lead } else { 0.0 };
            by_score.max(margin * persistence)
        } else {
            by_score
        };
        let late_min = earliest.map_or(0.0, |e| (shift.started_at - e).num_seconds() as f64 / 60.0);
        let onset = 0.5f64.powf(late_min.max(0.0) / weights.onset_half_life_minutes.max(0.1));
        let s = standout * onset;
        if let Some(t) = tally.get_mut(name.as_str()) {
            t.metrics = t.metrics.max(s);
            let dir = match shift.direction {
                super::metrics::Direction::Up => "rose",
                super::metrics::Direction::Down => "fell",
            };
            t.reasons.push((
                s * weights.metrics,
                EvidenceKind::Metrics,
                format!(
                    "{} {dir} from {b}{unit} to {p}{unit} at {} ({:.0} robust deviations, {:.0}× the next component's move)",
                    shift.metric,
                    shift.started_at.format("%H:%M:%S"),
                    shift.score,
                    top / (second + 1.0),
                    b = super::human_number(shift.baseline_median),
                    p = super::human_number(shift.peak),
                    unit = if shift.rate { "/s" } else { "" },
                ),
            ));
        }
    }

    // Absolute scales, not relative to the strongest component: a faint signal
    // stays faint even when it is the only one of its kind.
    let kinds = |t: &Tally| {
        [
            saturate(t.origins, SURPRISE_SCALE),
            saturate(t.paths, PATH_SCALE),
            saturate(t.missing, MISSING_SCALE),
            saturate(t.templates, SURPRISE_SCALE),
            t.metrics,
            t.latency,
            t.graph,
        ]
    };
    // A kind of evidence that singles one component out is worth more than one
    // that every component shows about as much of (chronic errors, a load change
    // everyone follows): each kind is trusted by its leader's margin.
    let trust: Vec<f64> = (0..KINDS)
        .map(|k| {
            let mut v: Vec<f64> = tally.values().map(|t| kinds(t)[k]).collect();
            v.sort_by(|a, b| b.total_cmp(a));
            let top = v.first().copied().unwrap_or(0.0);
            let second = v.get(1).copied().unwrap_or(0.0);
            let margin = if top > 0.0 { (top - second) / top } else { 0.0 };
            TRUST_FLOOR + (1.0 - TRUST_FLOOR) * margin
        })
        .collect();
    let w = [
        weights.origins,
        weights.paths,
        weights.missing,
        weights.templates,
        weights.metrics,
        weights.latency,
        weights.graph,
    ];
    let mut out: Vec<Suspect> = tally
        .into_iter()
        .map(|(component, mut t)| {
            let score = kinds(&t)
                .iter()
                .zip(w.iter().zip(&trust))
                .map(|(x, (w, trust))| x * w * trust)
                .sum();
            t.reasons.sort_by(|a, b| b.0.total_cmp(&a.0));
            t.reasons.dedup_by(|a, b| a.2 == b.2);
            let lead = t.reasons.first().map(|r| r.1);
            Suspect {
                component,
                kind: t.kind.unwrap_or(ComponentKind::Service),
                score,
                reasons: t.reasons.into_iter().take(5).map(|(_, _, r)| r).collect(),
                lead,
                first_anomaly_at: t.first,
                pods: t.pods,
            }
        })
        .filter(|s| s.score > 0.0)
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.component.cmp(&b.component))
    });
    let top = out.first().map_or(1.0, |s| s.score).max(f64::EPSILON);
    for s in &mut out {
        s.score = (s.score / top).clamp(0.0, 1.0) * top.min(1.0);
    }
    out
}

/// Per-request figures whose leader is found by effect (see
/// [`per_request_effect`]): the error ratio derived from a component's counters
/// (`…:ratio`), and an availability or success rate a monitor reports.
///
/// Not mean latency (`…:mean`): a service measures its own requests, and a delay
/// in its network shows in its callers' latency, not its own (a leaf's time to
/// answer does not hold the wait of its answer on the wire), so by effect the
/// caller would lead; its z-score comparison and the graph evidence stay.
fn is_per_request(metric: &str) -> bool {
    metric.ends_with(":ratio") || succeeding_share(metric)
}

/// A metric that reports the share of requests that *succeed* (availability,
/// success rate), whose fall is the failing share's rise.
fn succeeding_share(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    m.contains("availability") || m.contains("success_rate") || m.contains("success_ratio")
}

/// How much a component's requests got worse, per request: the share of its
/// requests that newly fail (the error ratio it held, minus its baseline; or
/// the availability / success rate it lost). Fewer failures count for nothing.
///
/// Per request is where the origin of failures stands out from its callers: a
/// caller fails only the requests that reached the failing service, so its
/// failing share is the origin's times the share of its requests that call it,
/// diluted further by its other work. The leader's margin is therefore
/// `1 − next/lead`: 0 when the next component fails as large a share (a symptom
/// they share), towards 1 when only the leader fails. This is the comparison the
/// RED method's errors allow without a call graph; with one, the graph evidence
/// walks it (`service_graph`). Peaks would not do: with a few requests per
/// sample, every component's ratio touches 1 now and then.
fn per_request_effect(shift: &MetricShift) -> f64 {
    use super::metrics::Direction;
    if !succeeding_share(&shift.metric) {
        return match shift.direction {
            Direction::Up => (shift.held - shift.baseline_median).max(0.0),
            Direction::Down => 0.0,
        };
    }
    // A success share falls; in percent when its name or its level says so.
    let scale =
        if shift.metric.to_ascii_lowercase().contains("percent") || shift.baseline_median > 1.0 {
            100.0
        } else {
            1.0
        };
    match shift.direction {
        Direction::Down => (shift.baseline_median - shift.held).max(0.0) / scale,
        Direction::Up => 0.0,
    }
}

/// Kinds of evidence weighed.
const KINDS: usize = 7;

/// How many times the next component's move a metric's leader must stand out by
/// to count fully. A CPU hog stands 100–200× above the next pod; a symptom that
/// callers share, a few times. (At 20, the cap used before, a 183× CPU standout
/// weighed no more than a 20× network blip on another pod.)
const STANDOUT_CAP: f64 = 40.0;

/// Surprise (in Poisson deviations) at which log evidence counts 63 % of its weight.
const SURPRISE_SCALE: f64 = 5.0;

/// Trust in a kind of evidence whose leader does not stand out at all.
pub const TRUST_FLOOR: f64 = 0.5;

/// Surprise of a missing step at which it counts 63 % of its weight.
const MISSING_SCALE: f64 = 5.0;

/// Diverging requests (blame summed) at which path evidence counts 63 % of its weight.
const PATH_SCALE: f64 = 30.0;

/// 0 → 0, `scale` → 0.63, towards 1 beyond.
fn saturate(x: f64, scale: f64) -> f64 {
    1.0 - (-x.max(0.0) / scale).exp()
}

/// How surprising `incident` events are when the baseline had `baseline` over a
/// window `1 / ratio` times as long: the excess over the expectation in units of
/// its Poisson spread, so a component that always errs does not outrank one that
/// just started.
pub fn surprise(incident: u64, baseline: u64, ratio: f64) -> f64 {
    let expected = baseline as f64 * ratio;
    (incident as f64 - expected) / (expected + 1.0).sqrt()
}

/// "6 errors in the incident window where 2.4 are usual" (or "…, none before"):
/// how many error lines came against how many the baseline's rate gives.
pub fn errors_against_usual(incident: u64, expected: f64, zh: bool) -> String {
    let plural = if incident == 1 { "" } else { "s" };
    match (expected > 0.0, zh) {
        (false, false) => format!("{incident} error{plural} in the incident window, none before"),
        (false, true) => format!("告警窗口内 {incident} 次错误，此前没有"),
        (true, false) => format!(
            "{incident} error{plural} in the incident window where {} are usual",
            usual_count(expected)
        ),
        (true, true) => format!(
            "告警窗口内 {incident} 次错误，平时约 {} 次",
            usual_count(expected)
        ),
    }
}

/// An expected count as people say it: `42`, `4`, `2.4`, `0.4` (one decimal
/// below ten, none from ten on).
pub fn usual_count(expected: f64) -> String {
    if expected >= 10.0 {
        format!("{expected:.0}")
    } else {
        let s = format!("{expected:.1}");
        s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No evidence of any kind, windows of 1:3.
    fn evidence(per_metric: &HashMap<String, usize>) -> SuspectEvidence<'_> {
        SuspectEvidence {
            origins: &[],
            divergences: &[],
            missing: &[],
            templates: &[],
            shifts: &[],
            latency: &[],
            graph: &[],
            incident_over_baseline: 1.0 / 3.0,
            components_per_metric: per_metric,
        }
    }

    /// Suspects from metric shifts alone, with default weights.
    fn rank_shifts(shifts: &[MetricShift], per_metric: &HashMap<String, usize>) -> Vec<Suspect> {
        rank_suspects(
            &SuspectEvidence {
                shifts,
                ..evidence(per_metric)
            },
            &SuspectWeights::default(),
        )
    }

    /// A held rise of `metric` at service `svc` (1 → 90, four samples) scoring
    /// `score` robust deviations.
    fn cpu_like_shift(metric: &str, svc: &str, score: f64) -> MetricShift {
        MetricShift {
            metric: metric.into(),
            labels: [("service".to_string(), svc.to_string())]
                .into_iter()
                .collect(),
            baseline_median: 1.0,
            baseline_spread: 0.1,
            peak: 90.0,
            score,
            direction: super::super::metrics::Direction::Up,
            relative_change: 89.0,
            started_at: DateTime::parse_from_rfc3339("2026-11-24T10:30:00Z")
                .unwrap()
                .with_timezone(&Utc),
            held: 90.0,
            anomalous_points: 4,
            points: vec![],
            appeared: false,
            rate: false,
        }
    }

    #[test]
    fn a_standout_far_above_the_next_outweighs_one_barely_at_twenty() {
        let shift = cpu_like_shift;
        // the CPU of `hog` stands 183x above the next; `noisy`'s network 20x
        let shifts = vec![
            shift("cpu", "hog", 930.0),
            shift("cpu", "other", 4.08),
            shift("net", "noisy", 105.0),
            shift("net", "other", 4.25),
        ];
        let per_metric: HashMap<String, usize> = [("cpu".to_string(), 6), ("net".to_string(), 6)]
            .into_iter()
            .collect();
        let ranked = rank_shifts(&shifts, &per_metric);
        assert_eq!(ranked[0].component, "hog", "{ranked:?}");
        assert_eq!(ranked[1].component, "noisy", "{ranked:?}");
        assert!(ranked[0].score > ranked[1].score * 1.5, "{ranked:?}");
    }

    #[test]
    fn the_failing_share_of_requests_names_the_origin_not_the_surest_caller() {
        // `inventory` fails half its requests; `frontend` calls it with half of
        // its own and fails those: a quarter of its requests, but on more traffic
        // its ratio is the surer move (higher score).
        let ratio = |svc: &str, held: f64, score: f64| MetricShift {
            baseline_median: 0.0,
            held,
            peak: 1.0,
            ..cpu_like_shift("http_request_errors_total:ratio", svc, score)
        };
        let shifts = vec![ratio("frontend", 0.25, 60.0), ratio("inventory", 0.5, 40.0)];
        let per_metric: HashMap<String, usize> =
            [("http_request_errors_total:ratio".to_string(), 5)]
                .into_iter()
                .collect();
        let ranked = rank_shifts(&shifts, &per_metric);
        assert_eq!(ranked[0].component, "inventory", "{ranked:?}");
        // A caller that sends it every request fails as large a share: a tie
        // gives no margin, and both stay suspects.
        let shifts = vec![ratio("frontend", 0.5, 60.0), ratio("inventory", 0.5, 40.0)];
        let ranked = rank_shifts(&shifts, &per_metric);
        assert!(ranked[0].score < 0.1, "{ranked:?}");
    }

    #[test]
    fn lost_availability_is_the_failing_share_mirrored() {
        // A monitor's availability in percent: `inventory` holds 50 %, its caller
        // `frontend` 75 %, the caller's fall the surer one.
        let availability = |svc: &str, held: f64, score: f64| MetricShift {
            baseline_median: 100.0,
            held,
            peak: 0.0,
            direction: super::super::metrics::Direction::Down,
            ..cpu_like_shift("availability_percent", svc, score)
        };
        let shifts = vec![
            availability("frontend", 75.0, 60.0),
            availability("inventory", 50.0, 40.0),
        ];
        let per_metric: HashMap<String, usize> = [("availability_percent".to_string(), 5)]
            .into_iter()
            .collect();
        let ranked = rank_shifts(&shifts, &per_metric);
        assert_eq!(ranked[0].component, "inventory", "{ranked:?}");
        assert!((per_request_effect(&shifts[1]) - 0.5).abs() < 1e-9);
        // Availability that rose is no fault.
        let up = MetricShift {
            direction: super::super::metrics::Direction::Up,
            ..availability("frontend", 100.0, 5.0)
        };
        assert_eq!(per_request_effect(&up), 0.0);
    }

    #[test]
    fn counts_read_as_people_say_them() {
        assert_eq!(usual_count(42.4), "42");
        assert_eq!(usual_count(4.0), "4");
        assert_eq!(usual_count(2.44), "2.4");
        assert_eq!(
            errors_against_usual(6, 2.4, false),
            "6 errors in the incident window where 2.4 are usual"
        );
        assert_eq!(
            errors_against_usual(1, 0.0, false),
            "1 error in the incident window, none before"
        );
        assert_eq!(
            errors_against_usual(6, 2.4, true),
            "告警窗口内 6 次错误，平时约 2.4 次"
        );
    }

    #[test]
    fn pods_map_to_their_services() {
        assert_eq!(
            service_of_pod("ts-contacts-service-866bd68c97-xcqfx"),
            "ts-contacts-service"
        );
        assert_eq!(service_of_pod("redis-0"), "redis");
        assert_eq!(service_of_pod("api-7d9f8c6b5-x2x4z"), "api");
        assert_eq!(service_of_pod("payment"), "payment");
        assert_eq!(
            service_of_pod("node-exporter-x7k2p"),
            "node-exporter",
            "DaemonSet pods have one hash"
        );
        assert_eq!(
            service_of_pod("redis-cache"),
            "redis-cache",
            "words are not hashes"
        );
    }

    #[test]
    fn components_prefer_service_labels() {
        let l = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            component_of(&l(&[("service", "api"), ("pod", "api-1")]))
                .unwrap()
                .1,
            "api"
        );
        assert_eq!(component_of(&l(&[("pod", "db-0")])).unwrap().1, "db");
        let (kind, host, _) = component_of(&l(&[("instance", "10.0.0.5:9100")])).unwrap();
        assert_eq!((kind, host.as_str()), (ComponentKind::Host, "10.0.0.5"));
        assert!(component_of(&l(&[("le", "0.5")])).is_none());
    }

    #[test]
    fn evidence_that_singles_one_out_outweighs_evidence_everyone_shows() {
        // Requests diverge evenly at three services (a change all of them follow);
        // one metric puts `db` far ahead of everyone else.
        let divergences: Vec<PathDivergence> = ["api", "cart", "web"]
            .iter()
            .map(|s| PathDivergence {
                service: (*s).into(),
                weight: 20.0,
                requests: 20,
                compared: 100,
                example: None,
            })
            .collect();
        let shift = |svc: &str, score: f64| cpu_like_shift("cpu", svc, score);
        let shifts = vec![shift("db", 300.0), shift("api", 10.0)];
        let per_metric: HashMap<String, usize> = [("cpu".to_string(), 6)].into_iter().collect();
        let ranked = rank_suspects(
            &SuspectEvidence {
                divergences: &divergences,
                shifts: &shifts,
                ..evidence(&per_metric)
            },
            &SuspectWeights::default(),
        );
        assert_eq!(ranked[0].component, "db", "{ranked:?}");
        assert!(
            ranked
                .iter()
                .any(|s| s.component == "cart" && s.reasons[0].contains("20 of 100 requests")),
            "{ranked:?}"
        );
    }

    #[test]
    fn combined_evidence_outranks_one_kind_alone() {
        let origins = vec![
            ErrorOrigin {
                service: "db".into(),
                incident: 20,
                baseline: 0,
                rate_ratio: 40.0,
                spread: 3,
            },
            ErrorOrigin {
                service: "api".into(),
                incident: 2,
                baseline: 1,
                rate_ratio: 2.0,
                spread: 2,
            },
        ];
        let t0 = DateTime::parse_from_rfc3339("2026-11-24T10:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let shift = |svc: &str, score: f64, min: i64| MetricShift {
            metric: "latency".into(),
            labels: [("service".to_string(), svc.to_string())]
                .into_iter()
                .collect(),
            baseline_median: 1.0,
            baseline_spread: 0.1,
            peak: 3.0,
            score,
            direction: super::super::metrics::Direction::Up,
            relative_change: 2.0,
            started_at: t0 + chrono::Duration::minutes(min),
            held: 3.0,
            anomalous_points: 3,
            points: vec![],
            appeared: false,
            rate: false,
        };
        let shifts = vec![shift("gateway", 30.0, 2), shift("db", 20.0, 0)];
        let per_metric: HashMap<String, usize> = [("latency".to_string(), 5)].into_iter().collect();
        let ranked = rank_suspects(
            &SuspectEvidence {
                origins: &origins,
                shifts: &shifts,
                ..evidence(&per_metric)
            },
            &SuspectWeights::default(),
        );
        assert_eq!(ranked[0].component, "db");
        assert!(ranked[0].score <= 1.0 && ranked[0].score > ranked[1].score);
        assert!(
            ranked[0].reasons[0].contains("first error"),
            "{:?}",
            ranked[0].reasons
        );
        assert!(ranked.iter().any(|s| s.component == "gateway"));
    }
}
