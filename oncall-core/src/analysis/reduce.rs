//! The reduce stage: what the collect stage gathered (log lines, metric series)
//! becomes [`Evidence`] — log templates, metric shifts, error origins, suspects.
//! Pure code, shared by the pipeline and the offline evaluation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::latency::{LatencySuspect, latency_suspects};
use crate::evidence::metrics::{
    MetricShift, SeriesInput, ShiftConfig, TimeWindow, counter_rates, counts_events, is_counter,
    metric_shifts,
};
use crate::evidence::paths::{
    MissingStep, PathDivergence, PathEvent, missing_steps, path_divergences,
};
use crate::evidence::resources::{Resource, SubjectFindings, subject_findings};
use crate::evidence::service_graph::{GraphSeries, ServiceGraph, service_graph};
use crate::evidence::suspects::{
    Suspect, SuspectEvidence, SuspectWeights, rank_suspects, service_of_pod,
};
use crate::evidence::traces::{ErrorOrigin, TraceEvent, error_origins};
use crate::evidence::{
    BurstTest, LogLevel, LogRecord, LogTemplate, MinerConfig, TemplateId, TemplateMiner, Window,
    WindowSpans, human_number,
};

/// One log line as collected from any log source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectedLog {
    /// Name of the data source it came from.
    pub source: String,
    /// When it was logged.
    pub time: DateTime<Utc>,
    /// The message.
    pub message: String,
    /// Level as the source gave it (`ERROR`, `warn`, ...), if any.
    pub level: Option<String>,
    /// Service / app it came from, if the source says.
    pub service: Option<String>,
    /// Pod it came from, if the source says.
    pub pod: Option<String>,
    /// Trace id, if the line carries one.
    pub trace_id: Option<String>,
}

/// One metric series as collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectedSeries {
    /// Name of the data source it came from.
    pub source: String,
    /// Labels, `__name__` included.
    pub labels: BTreeMap<String, String>,
    /// Samples in time order.
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// Everything the collect stage gathered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Collected {
    /// Log lines of every log source.
    pub logs: Vec<CollectedLog>,
    /// Series of every metric source.
    pub series: Vec<CollectedSeries>,
    /// Series of the alert's own expression (without its threshold): shown first,
    /// not judged with the rest.
    pub alert: Vec<CollectedSeries>,
    /// Metric name → type (`counter`, `gauge`, ...) as the source's metadata gives
    /// it (Prometheus `TYPE`), for the collected names it knows.
    pub metric_types: BTreeMap<String, String>,
}

/// What the reduce stage found; stored as the analysis' evidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// The windows compared.
    pub window: Option<TimeWindow>,
    /// The windows the logs were judged over, when not `window`: the metrics'
    /// history was shorter than planned, the logs kept the planned baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_window: Option<TimeWindow>,
    /// The alert's own expression evaluated over the windows, when the alert
    /// carries one (Prometheus' `generatorURL`) and a metric source answered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_query: Option<crate::analysis::alert_query::AlertQuery>,
    /// Log templates worth a look (new, bursting or error-level), strongest first.
    pub log_templates: Vec<LogTemplate>,
    /// Series that moved, strongest first.
    pub metric_shifts: Vec<MetricShift>,
    /// Where failing requests' first errors appeared.
    pub error_origins: Vec<ErrorOrigin>,
    /// Where requests first left the paths of the baseline's requests.
    pub path_divergences: Vec<PathDivergence>,
    /// Steps that stopped following the steps they used to follow, the strongest
    /// per service.
    pub missing_steps: Vec<MissingStep>,
    /// Services the slowed edges of the request graph point at, best first.
    #[serde(default)]
    pub latency: Vec<LatencySuspect>,
    /// For an alert about one host, pod or instance: which of its resources moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectFindings>,
    /// The call graph that service-graph metrics describe, when a source has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_graph: Option<ServiceGraph>,
    /// Ranked suspects.
    pub suspects: Vec<Suspect>,
    /// Log lines and series looked at.
    pub log_lines: usize,
    /// Series looked at.
    pub series: usize,
    /// Distinct templates mined.
    pub templates_total: usize,
    /// How much of the windows the data covered.
    #[serde(default)]
    pub coverage: Coverage,
    /// Similar past incidents and what the memory prior did (see [`crate::memory`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<crate::memory::MemoryDigest>,
}

/// How much of the windows the collected data covered, so a result can say when
/// it rests on less than was asked for (a new host, a restarted Prometheus, an
/// alert whose incident window has not filled yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Earliest sample or log line at or after the baseline's start.
    pub first_data_at: Option<DateTime<Utc>>,
    /// Latest sample or log line.
    pub last_data_at: Option<DateTime<Utc>>,
    /// Series judged (after de-duplication; counters as rates).
    pub series_judged: usize,
    /// Series with too few baseline samples to be judged.
    pub series_without_baseline: usize,
    /// Series that were counters and were judged as per-second rates.
    pub counters_as_rates: usize,
    /// Identical series returned more than once (by several selectors), dropped.
    pub duplicate_series: usize,
    /// Log lines that carried a trace id (the request graph is built from them).
    #[serde(default)]
    pub trace_lines: usize,
    /// Where the baseline was planned to start, when it had to start later
    /// because the data did (see [`crate::analysis::pipeline::short_baseline`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_baseline_start: Option<DateTime<Utc>>,
}

/// How many of each kind of evidence to keep.
const KEEP_TEMPLATES: usize = 30;
const KEEP_SHIFTS: usize = 50;
const KEEP_SUSPECTS: usize = 10;

/// The service a log line belongs to.
fn log_service(l: &CollectedLog) -> String {
    l.service
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| l.pod.as_deref().map(service_of_pod))
        .unwrap_or_default()
}

/// Reduces collected data to evidence for `window`.
pub fn reduce(collected: &Collected, window: &TimeWindow) -> Evidence {
    reduce_with(collected, window, &SuspectWeights::default())
}

/// [`reduce`] with other weights for the kinds of evidence (for tuning them offline).
pub fn reduce_with(
    collected: &Collected,
    window: &TimeWindow,
    weights: &SuspectWeights,
) -> Evidence {
    findings(collected, window).into_evidence(weights)
}

/// Mines `collected` for every kind of evidence over `window` (the expensive part
/// of [`reduce`]); rank them with [`Findings::rank`] / [`Findings::into_evidence`].
pub fn findings(collected: &Collected, window: &TimeWindow) -> Findings {
    findings_in(collected, window, window)
}

/// [`findings`] with the logs judged over `window` and the metrics over
/// `metrics_window` (the windows the evidence shows). They differ when the
/// metrics' history is shorter than planned (a new host, a restarted
/// Prometheus: see [`super::pipeline::short_baseline`]): that says nothing of
/// how far back the logs reach, so their baseline stays the planned one instead
/// of shrinking to the metrics' few minutes.
pub fn findings_in(
    collected: &Collected,
    window: &TimeWindow,
    metrics_window: &TimeWindow,
) -> Findings {
    let mut miner = TemplateMiner::new(MinerConfig::default());
    let mut services: Vec<String> = Vec::with_capacity(collected.logs.len());
    let mut trace_events: Vec<(usize, bool, TemplateId)> = Vec::new();
    for (i, l) in collected.logs.iter().enumerate() {
        let service = log_service(l);
        let window_of = if window.in_incident(l.time) {
            Some(Window::Incident)
        } else if window.in_baseline(l.time) {
            Some(Window::Baseline)
        } else {
            None
        };
        let has_trace = l.trace_id.as_deref().is_some_and(|t| !t.is_empty());
        let level = l
            .level
            .as_deref()
            .map_or(LogLevel::Unknown, LogLevel::parse);
        let template = match window_of {
            Some(w) => miner.add(
                &LogRecord::new(&l.message, w)
                    .service(&service)
                    .level(level)
                    .at(l.time),
            ),
            // Older than the baseline: only the paths of requests learn from it.
            None if has_trace && l.time < window.baseline_start => miner.template_of(&l.message),
            None => {
                services.push(service);
                continue;
            }
        };
        if has_trace {
            let is_error = level.is_error() || looks_like_exception(&l.message);
            trace_events.push((i, is_error, template));
        }
        services.push(service);
    }
    let spans = WindowSpans {
        baseline_seconds: (window.incident_start - window.baseline_start)
            .num_seconds()
            .max(1) as f64,
        incident_seconds: (window.incident_end - window.incident_start)
            .num_seconds()
            .max(1) as f64,
    };
    let all_templates = miner.templates(&spans, &BurstTest::default());
    let templates_total = all_templates.len();

    let events: Vec<TraceEvent<'_>> = trace_events
        .iter()
        .map(|&(i, is_error, _)| TraceEvent {
            trace: collected.logs[i].trace_id.as_deref().unwrap_or_default(),
            service: &services[i],
            time: collected.logs[i].time,
            is_error,
        })
        .collect();
    let origins = error_origins(&events, window);
    let latency = latency_suspects(&events, window);
    let path_events: Vec<PathEvent<'_>> = trace_events
        .iter()
        .zip(&events)
        .map(|(&(_, _, template), e)| PathEvent {
            trace: e.trace,
            service: e.service,
            template: miner.resolve(template),
            is_error: e.is_error,
            time: e.time,
        })
        .collect();
    let divergences = path_divergences(&path_events, window, |id| {
        miner.template_text(id).unwrap_or_default()
    });

    let missing = missing_steps(&path_events, window, |id| {
        miner.template_text(id).unwrap_or_default()
    });

    let prepared = prepare_series(&collected.series, &collected.metric_types);
    let inputs: Vec<SeriesInput<'_>> = prepared
        .series
        .iter()
        .map(|s| SeriesInput {
            labels: &s.labels,
            points: &s.points,
            events: s.labels.contains_key(RATE_LABEL)
                && s.labels.get("__name__").is_some_and(|n| counts_events(n)),
        })
        .collect();
    let shift_config = ShiftConfig::default();
    let mut shifts = metric_shifts(&inputs, metrics_window, &shift_config);
    for shift in &mut shifts {
        shift.rate = shift.labels.remove(RATE_LABEL).is_some();
    }
    let mut coverage = coverage_of(collected, &prepared, metrics_window, &shift_config);
    coverage.trace_lines = trace_events.len();
    let graph_input: Vec<GraphSeries<'_>> = collected
        .series
        .iter()
        .map(|s| (&s.labels, s.points.as_slice()))
        .collect();
    let graph = service_graph(&graph_input, metrics_window, &[]);

    Findings {
        window: *metrics_window,
        log_window: *window,
        origins,
        divergences,
        missing,
        templates: all_templates,
        shifts,
        latency,
        graph,
        subject: None,
        components_per_metric: components_per_metric(&prepared.series),
        log_lines: collected.logs.len(),
        series: collected.series.len(),
        templates_total,
        coverage,
    }
}

/// Everything the reduce stage found, before suspects are ranked: ranking is
/// cheap and weighs the kinds of evidence, so an evaluation can rank the same
/// findings under other weights (leave-one-out) without mining them again.
#[derive(Debug, Clone)]
pub struct Findings {
    window: TimeWindow,
    log_window: TimeWindow,
    origins: Vec<ErrorOrigin>,
    divergences: Vec<PathDivergence>,
    missing: Vec<MissingStep>,
    templates: Vec<LogTemplate>,
    shifts: Vec<MetricShift>,
    latency: Vec<LatencySuspect>,
    graph: ServiceGraph,
    subject: Option<SubjectFindings>,
    components_per_metric: std::collections::HashMap<String, usize>,
    log_lines: usize,
    series: usize,
    templates_total: usize,
    coverage: Coverage,
}

impl Findings {
    /// Marks the alert as one about `subject` (a host, pod or instance), and
    /// about the resource `about` when it names one: the subject's resources that
    /// moved are found and it becomes the first suspect (see
    /// [`crate::evidence::resources`]).
    pub fn with_subject(mut self, subject: Option<&str>, about: Option<Resource>) -> Self {
        self.subject = subject
            .map(|s| subject_findings(&self.shifts, s, about))
            .filter(|f| !f.findings.is_empty());
        self
    }

    /// Components ranked under `weights`, strongest first; the alert's subject
    /// first when it has one whose resources moved.
    pub fn rank(&self, weights: &SuspectWeights) -> Vec<Suspect> {
        let mut ranked = self.rank_components(weights);
        if let Some(subject) = &self.subject {
            ranked.retain(|s| s.component != subject.component);
            let top = ranked.first().map_or(1.0, |s| s.score).max(f64::EPSILON);
            ranked.insert(0, subject_suspect(subject, top));
        }
        ranked
    }

    fn rank_components(&self, weights: &SuspectWeights) -> Vec<Suspect> {
        rank_suspects(
            &SuspectEvidence {
                origins: &self.origins,
                divergences: &self.divergences,
                missing: &self.missing,
                templates: &self.templates,
                shifts: &self.shifts,
                latency: &self.latency,
                graph: &self.graph.suspects,
                incident_over_baseline: self.log_window.incident_over_baseline(),
                components_per_metric: &self.components_per_metric,
            },
            weights,
        )
    }

    /// The evidence as stored, with suspects ranked under `weights`.
    pub fn into_evidence(self, weights: &SuspectWeights) -> Evidence {
        let suspects = self.rank(weights);
        let mut interesting: Vec<LogTemplate> = self
            .templates
            .into_iter()
            .filter(|t| t.incident_count > 0 && (t.is_new || t.is_bursting || t.is_error_level))
            .collect();
        interesting.sort_by(|a, b| {
            let key = |t: &LogTemplate| {
                (
                    t.is_error_level && (t.is_new || t.is_bursting),
                    t.is_new,
                    t.incident_count,
                )
            };
            key(b).cmp(&key(a))
        });
        interesting.truncate(KEEP_TEMPLATES);

        Evidence {
            window: Some(self.window),
            log_window: (self.log_window != self.window).then_some(self.log_window),
            alert_query: None,
            log_templates: interesting,
            metric_shifts: self.shifts.into_iter().take(KEEP_SHIFTS).collect(),
            error_origins: self.origins.into_iter().take(KEEP_SUSPECTS * 2).collect(),
            path_divergences: self
                .divergences
                .into_iter()
                .take(KEEP_SUSPECTS * 2)
                .collect(),
            missing_steps: self.missing.into_iter().take(KEEP_SUSPECTS * 2).collect(),
            latency: self.latency.into_iter().take(KEEP_SUSPECTS).collect(),
            subject: self.subject,
            service_graph: self.graph.source.is_some().then_some(self.graph),
            suspects: suspects.into_iter().take(KEEP_SUSPECTS).collect(),
            log_lines: self.log_lines,
            series: self.series,
            templates_total: self.templates_total,
            coverage: self.coverage,
            memory: None,
        }
    }
}

/// The alert's subject as the first suspect: its resources that moved are its
/// reasons, largest effect first; its score matches the best other suspect's.
fn subject_suspect(subject: &SubjectFindings, top: f64) -> Suspect {
    use crate::evidence::metrics::Direction;
    let reasons = subject
        .findings
        .iter()
        .take(5)
        .map(|f| {
            let (series, unit) = super::statistical::series_text(
                &f.metric,
                &crate::evidence::resources::own_labels(&f.labels),
                f.rate,
            );
            format!(
                "{}: {series} {} from {}{unit} to {}{unit} at {} ({} {} series moved)",
                f.resource.label(),
                match f.direction {
                    Direction::Up => "rose",
                    Direction::Down => "fell",
                },
                human_number(f.baseline),
                human_number(f.peak),
                f.started_at.format("%H:%M:%S"),
                f.series,
                f.resource.label(),
            )
        })
        .collect();
    Suspect {
        component: subject.component.clone(),
        kind: crate::evidence::suspects::ComponentKind::Host,
        score: top.min(1.0),
        reasons,
        first_anomaly_at: subject.findings.iter().map(|f| f.started_at).min(),
        pods: vec![],
        lead: Some(crate::evidence::suspects::EvidenceKind::Resources),
    }
}

/// A label marking series turned from counters into rates while they are judged
/// (removed again from the shifts, which carry [`MetricShift::rate`] instead).
const RATE_LABEL: &str = "__rate__";

/// The series as judged: one per label set, counters as per-second rates.
struct PreparedSeries {
    series: Vec<CollectedSeries>,
    duplicates: usize,
    counters: usize,
}

/// De-duplicates series (several scope selectors may return the same one) and
/// turns counters into rates: a counter's raw value only says how long the
/// process has been up, its rate says what it is doing. Histogram buckets are
/// left out: their `_sum` and `_count` carry the same change in two series
/// instead of one per bucket boundary. A counter is what the source's metadata
/// says is one (`types`, Prometheus `TYPE`), else what the naming conventions say
/// ([`is_counter`]); metadata that calls a `_total` a gauge wins.
fn prepare_series(series: &[CollectedSeries], types: &BTreeMap<String, String>) -> PreparedSeries {
    let mut seen: std::collections::HashSet<&BTreeMap<String, String>> =
        std::collections::HashSet::new();
    let mut out = Vec::with_capacity(series.len());
    let (mut duplicates, mut counters) = (0, 0);
    for s in series {
        if !seen.insert(&s.labels) {
            duplicates += 1;
            continue;
        }
        let name = s.labels.get("__name__").map_or("", String::as_str);
        if name.ends_with("_bucket") {
            continue;
        }
        let counter = match types.get(name).map(String::as_str) {
            Some("counter") => true,
            Some("gauge") => false,
            // histogram / summary metadata is keyed by the family's name, not its
            // `_sum` / `_count` series; `unknown` and absent: by name.
            _ => is_counter(name),
        };
        if counter {
            counters += 1;
            let mut labels = s.labels.clone();
            labels.insert(RATE_LABEL.to_owned(), String::new());
            out.push(CollectedSeries {
                source: s.source.clone(),
                labels,
                points: counter_rates(&s.points),
            });
        } else {
            out.push(s.clone());
        }
    }
    let (derived, replaced) = derived_ratios(&out);
    // A numerator whose per-request figure is derived says the same less
    // precisely (it also moves with the request rate): the ratio replaces it.
    out.retain(|s| !replaced.contains(&s.labels));
    out.extend(derived);
    PreparedSeries {
        series: out,
        duplicates,
        counters,
    }
}

/// The per-request figures a component's counters imply, the "duration" and
/// "errors" of the RED method: mean latency (`X_sum` over `X_count`, as a
/// histogram or summary exports them) and error ratio (an `…error…`/`…fail…`
/// counter over the `…request…` counter with the same labels). Counters alone
/// rise at every caller of a slow or failing service alike; per request, a
/// caller's share is diluted by its other work and its other calls, so the
/// service where it starts moves most.
fn derived_ratios(
    rates: &[CollectedSeries],
) -> (Vec<CollectedSeries>, Vec<BTreeMap<String, String>>) {
    let key = |s: &CollectedSeries| {
        let mut l = s.labels.clone();
        l.remove("__name__");
        l
    };
    let name = |s: &CollectedSeries| s.labels.get("__name__").cloned().unwrap_or_default();
    let is_rate = |s: &&CollectedSeries| s.labels.contains_key(RATE_LABEL);
    let mut by_name: std::collections::HashMap<
        (String, BTreeMap<String, String>),
        &CollectedSeries,
    > = std::collections::HashMap::new();
    for s in rates.iter().filter(is_rate) {
        by_name.insert((name(s), key(s)), s);
    }
    let divide = |num: &CollectedSeries, den: &CollectedSeries, derived: String| {
        let at: std::collections::HashMap<DateTime<Utc>, f64> =
            den.points.iter().copied().collect();
        let points: Vec<(DateTime<Utc>, f64)> = num
            .points
            .iter()
            .filter_map(|(t, v)| at.get(t).filter(|d| **d > 0.0).map(|d| (*t, v / d)))
            .collect();
        let mut labels = key(num);
        labels.remove(RATE_LABEL);
        labels.insert("__name__".to_owned(), derived);
        CollectedSeries {
            source: num.source.clone(),
            labels,
            points,
        }
    };
    let mut out = Vec::new();
    let mut replaced = Vec::new();
    for s in rates.iter().filter(is_rate) {
        let n = name(s);
        let k = key(s);
        if let Some(stem) = n.strip_suffix("_sum")
            && let Some(count) = by_name.get(&(format!("{stem}_count"), k.clone()))
        {
            out.push(divide(s, count, format!("{stem}:mean")));
            replaced.push(s.labels.clone());
        }
        let lower = n.to_ascii_lowercase();
        if lower.contains("error") || lower.contains("fail") {
            // The request counter with the same labels; a `_total` before a
            // histogram's `_count`, then by name, so the choice never depends on
            // the map's order.
            let requests = by_name
                .iter()
                .filter(|((other, labels), _)| {
                    let o = other.to_ascii_lowercase();
                    labels == &k
                        && o.contains("request")
                        && !o.contains("error")
                        && !o.contains("fail")
                        && (o.ends_with("_total") || o.ends_with("_count"))
                })
                .min_by_key(|((other, _), _)| (!other.ends_with("_total"), other.clone()));
            if let Some((_, req)) = requests {
                out.push(divide(s, req, format!("{n}:ratio")));
                replaced.push(s.labels.clone());
            }
        }
    }
    (out, replaced)
}

/// What the data covered (see [`Coverage`]).
fn coverage_of(
    collected: &Collected,
    prepared: &PreparedSeries,
    window: &TimeWindow,
    cfg: &ShiftConfig,
) -> Coverage {
    let times = collected
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|(t, _)| *t))
        .chain(collected.logs.iter().map(|l| l.time))
        .filter(|t| *t >= window.baseline_start && *t <= window.incident_end);
    let (mut first, mut last) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
    for t in times {
        first = Some(first.map_or(t, |f| f.min(t)));
        last = Some(last.map_or(t, |l| l.max(t)));
    }
    let without_baseline = prepared
        .series
        .iter()
        .filter(|s| {
            s.points
                .iter()
                .filter(|(t, v)| window.in_baseline(*t) && v.is_finite())
                .count()
                < cfg.min_baseline_points
        })
        .count();
    Coverage {
        first_data_at: first,
        last_data_at: last,
        series_judged: prepared.series.len(),
        series_without_baseline: without_baseline,
        counters_as_rates: prepared.counters,
        duplicate_series: prepared.duplicates,
        trace_lines: 0,
        planned_baseline_start: None,
    }
}

/// How many distinct components report each metric.
fn components_per_metric(series: &[CollectedSeries]) -> std::collections::HashMap<String, usize> {
    let mut seen: std::collections::HashMap<String, std::collections::HashSet<String>> =
        std::collections::HashMap::new();
    for s in series {
        if let (Some(name), Some((_, component, _))) = (
            s.labels.get("__name__"),
            crate::evidence::suspects::component_of(&s.labels),
        ) {
            seen.entry(name.clone()).or_default().insert(component);
        }
    }
    seen.into_iter().map(|(k, v)| (k, v.len())).collect()
}

/// Lines that report an exception even when logged below error level.
fn looks_like_exception(message: &str) -> bool {
    message.contains("Exception")
        || message.contains("Traceback")
        || message.contains("panicked at")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::test_support::{t0, window};
    use chrono::Duration;

    fn series(labels: &[(&str, &str)], value: impl Fn(i64) -> f64) -> CollectedSeries {
        CollectedSeries {
            source: "prom".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points: (0..=40)
                .map(|m| (t0() + Duration::minutes(m), value(m)))
                .collect(),
        }
    }

    #[test]
    fn counters_are_judged_as_rates_and_duplicates_once() {
        // A CPU counter: 0.05 s/s at rest, 1 s/s from minute 33 (a burn).
        let cpu = |m: i64| {
            let (rest, burn) = (m.min(33) as f64, (m - 33).max(0) as f64);
            rest * 60.0 * 0.05 + burn * 60.0
        };
        let labels = [
            ("__name__", "node_cpu_seconds_total"),
            ("instance", "host-a:9100"),
            ("mode", "user"),
        ];
        let collected = Collected {
            logs: vec![],
            // The same series twice, as two scope selectors return it.
            series: vec![series(&labels, cpu), series(&labels, cpu)],
            ..Default::default()
        };
        let e = reduce(&collected, &window());
        assert_eq!(e.coverage.duplicate_series, 1);
        assert_eq!(e.coverage.counters_as_rates, 1);
        assert_eq!(e.metric_shifts.len(), 1, "{:?}", e.metric_shifts);
        let s = &e.metric_shifts[0];
        assert!(s.rate, "{s:?}");
        assert!(!s.labels.contains_key(RATE_LABEL), "{s:?}");
        assert!((s.peak - 1.0).abs() < 1e-9, "{s:?}");
        assert!((s.baseline_median - 0.05).abs() < 1e-9, "{s:?}");
        assert!(
            !s.points.is_empty(),
            "the strongest shifts keep their samples"
        );
    }

    #[test]
    fn a_single_host_alert_names_what_on_it_changed() {
        // Host a: CPU burns from minute 33; memory steady. Host b: quiet.
        let cpu = |rate: f64| {
            move |m: i64| {
                let (rest, burn) = (m.min(33) as f64, (m - 33).max(0) as f64);
                rest * 60.0 * 0.05 + burn * 60.0 * rate
            }
        };
        let collected = Collected {
            logs: vec![],
            series: vec![
                series(
                    &[
                        ("__name__", "node_cpu_seconds_total"),
                        ("instance", "a:9100"),
                        ("mode", "user"),
                    ],
                    cpu(0.97),
                ),
                series(
                    &[
                        ("__name__", "node_cpu_seconds_total"),
                        ("instance", "b:9100"),
                        ("mode", "user"),
                    ],
                    cpu(0.05),
                ),
                series(
                    &[
                        ("__name__", "node_memory_MemAvailable_bytes"),
                        ("instance", "a:9100"),
                    ],
                    |m| 2.0e10 + (m % 3) as f64 * 1e6,
                ),
            ],
            ..Default::default()
        };
        let e = findings(&collected, &window())
            .with_subject(Some("a:9100"), None)
            .into_evidence(&SuspectWeights::default());
        let subject = e.subject.as_ref().expect("subject findings");
        assert_eq!(
            subject.findings[0].resource,
            crate::evidence::resources::Resource::Cpu
        );
        assert_eq!(e.suspects[0].component, "a:9100");
        assert!(
            e.suspects[0].reasons[0].starts_with(
                "CPU: rate(node_cpu_seconds_total{mode=\"user\"}) rose from 0.0500/s to 0.970/s"
            ),
            "{:?}",
            e.suspects[0].reasons
        );
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(human_number(6_291_456.0), "6.29M");
        assert_eq!(human_number(0.0512), "0.0512");
        assert_eq!(human_number(16.342), "16.3");
        assert_eq!(human_number(0.0), "0");
        assert_eq!(human_number(-2.5e10), "-25.0G");
    }

    #[test]
    fn per_request_latency_and_error_ratio_are_derived_from_counters() {
        let svc = |name: &'static str| [("__name__", name), ("service", "api")];
        // 10 req/s throughout; 1 s of latency per request, 3 s from minute 33;
        // errors 0.1/s, 5/s from minute 33.
        let per_min = |base: f64, from_33: f64| {
            move |m: i64| (m.min(33) as f64 * base + (m - 33).max(0) as f64 * from_33) * 60.0
        };
        let collected = Collected {
            logs: vec![],
            series: vec![
                series(&svc("http_requests_total"), per_min(10.0, 10.0)),
                series(
                    &svc("http_request_duration_seconds_count"),
                    per_min(10.0, 10.0),
                ),
                series(
                    &svc("http_request_duration_seconds_sum"),
                    per_min(10.0, 30.0),
                ),
                series(&svc("http_request_errors_total"), per_min(0.1, 5.0)),
            ],
            ..Default::default()
        };
        let e = reduce(&collected, &window());
        let shift = |metric: &str| e.metric_shifts.iter().find(|s| s.metric == metric);
        let mean = shift("http_request_duration_seconds:mean").expect("mean latency");
        assert!(
            (mean.baseline_median - 1.0).abs() < 1e-9 && (mean.peak - 3.0).abs() < 1e-9,
            "{mean:?}"
        );
        assert!(!mean.rate);
        let ratio = shift("http_request_errors_total:ratio").expect("error ratio");
        assert!((ratio.peak - 0.5).abs() < 1e-9, "{ratio:?}");
        assert!(
            shift("http_request_duration_seconds_sum").is_none()
                && shift("http_request_errors_total").is_none(),
            "the ratios replace their numerators: {:?}",
            e.metric_shifts
        );
    }

    #[test]
    fn coverage_says_where_the_data_begins() {
        // Data only from minute 28: two baseline samples, too few to judge.
        let mut s = series(&[("__name__", "x"), ("pod", "a-1")], |_| 1.0);
        s.points.retain(|(t, _)| *t >= t0() + Duration::minutes(28));
        let e = reduce(
            &Collected {
                logs: vec![],
                series: vec![s],
                ..Default::default()
            },
            &window(),
        );
        assert_eq!(e.coverage.first_data_at, Some(t0() + Duration::minutes(28)));
        assert_eq!(e.coverage.series_without_baseline, 1);
        assert_eq!(e.coverage.series_judged, 1);
    }
}
