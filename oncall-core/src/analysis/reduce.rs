//! The reduce stage: what the collect stage gathered (log lines, metric series)
//! becomes [`Evidence`] — log templates, metric shifts, error origins, suspects.
//! Pure code, shared by the pipeline and the offline evaluation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::metrics::{MetricShift, SeriesInput, ShiftConfig, TimeWindow, metric_shifts};
use crate::evidence::paths::{
    MissingStep, PathDivergence, PathEvent, missing_steps, path_divergences,
};
use crate::evidence::suspects::{
    Suspect, SuspectEvidence, SuspectWeights, rank_suspects, service_of_pod,
};
use crate::evidence::traces::{ErrorOrigin, TraceEvent, error_origins};
use crate::evidence::{
    BurstTest, LogLevel, LogRecord, LogTemplate, MinerConfig, TemplateId, TemplateMiner, Window,
    WindowSpans,
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
}

/// What the reduce stage found; stored as the analysis' evidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// The windows compared.
    pub window: Option<TimeWindow>,
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
    /// Ranked suspects.
    pub suspects: Vec<Suspect>,
    /// Log lines and series looked at.
    pub log_lines: usize,
    /// Series looked at.
    pub series: usize,
    /// Distinct templates mined.
    pub templates_total: usize,
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

    let inputs: Vec<SeriesInput<'_>> = collected
        .series
        .iter()
        .map(|s| SeriesInput {
            labels: &s.labels,
            points: &s.points,
        })
        .collect();
    let shifts = metric_shifts(&inputs, window, &ShiftConfig::default());

    let suspects = rank_suspects(
        &SuspectEvidence {
            origins: &origins,
            divergences: &divergences,
            missing: &missing,
            templates: &all_templates,
            shifts: &shifts,
            incident_over_baseline: spans.incident_seconds / spans.baseline_seconds,
            components_per_metric: &components_per_metric(&collected.series),
        },
        weights,
    );

    let mut interesting: Vec<LogTemplate> = all_templates
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
        window: Some(*window),
        log_templates: interesting,
        metric_shifts: shifts.into_iter().take(KEEP_SHIFTS).collect(),
        error_origins: origins.into_iter().take(KEEP_SUSPECTS * 2).collect(),
        path_divergences: divergences.into_iter().take(KEEP_SUSPECTS * 2).collect(),
        missing_steps: missing.into_iter().take(KEEP_SUSPECTS * 2).collect(),
        suspects: suspects.into_iter().take(KEEP_SUSPECTS).collect(),
        log_lines: collected.logs.len(),
        series: collected.series.len(),
        templates_total,
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
