//! The reduce stage: what the collect stage gathered (log lines, metric series)
//! becomes [`Evidence`] — log templates, metric shifts, error origins, suspects.
//! Pure code, shared by the pipeline and the offline evaluation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::errors::{ErrorLine, error_onset, error_shifts};
use crate::evidence::metrics::{
    MetricShift, SeriesInput, ShiftConfig, TimeWindow, metric_shifts, metric_standouts,
};
use crate::evidence::suspects::{
    ComponentKind, FusionWeights, Signal, SignalKind, Suspect, component_of, rank_signals,
    service_of_pod,
};
use crate::evidence::traces::{
    ErrorOrigin, TraceEvent, TraceLine, error_origins, missing_callees, slowdowns,
};
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
    let mut miner = TemplateMiner::new(MinerConfig::default());
    let mut services: Vec<String> = Vec::with_capacity(collected.logs.len());
    let mut trace_events: Vec<(usize, bool)> = Vec::new();
    // (line index, template, is error) of every line in either window.
    let mut mined: Vec<(usize, TemplateId, bool)> = Vec::new();
    for (i, l) in collected.logs.iter().enumerate() {
        let service = log_service(l);
        let window_of = if window.in_incident(l.time) {
            Window::Incident
        } else if window.in_baseline(l.time) {
            Window::Baseline
        } else {
            services.push(service);
            continue;
        };
        let level = l
            .level
            .as_deref()
            .map_or(LogLevel::Unknown, LogLevel::parse);
        let template = miner.add(
            &LogRecord::new(&l.message, window_of)
                .service(&service)
                .level(level)
                .at(l.time),
        );
        let is_error = level.is_error() || looks_like_exception(&l.message);
        if l.trace_id.as_deref().is_some_and(|t| !t.is_empty()) {
            trace_events.push((i, is_error));
        }
        mined.push((i, template, is_error));
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
        .map(|&(i, is_error)| TraceEvent {
            trace: collected.logs[i].trace_id.as_deref().unwrap_or_default(),
            service: &services[i],
            time: collected.logs[i].time,
            is_error,
        })
        .collect();
    let origins = error_origins(&events, window);

    let inputs: Vec<SeriesInput<'_>> = collected
        .series
        .iter()
        .map(|s| SeriesInput {
            labels: &s.labels,
            points: &s.points,
        })
        .collect();
    let shifts = metric_shifts(&inputs, window, &ShiftConfig::default());

    let mut signals = log_signals(collected, &services, &mined, &miner, &all_templates, window);
    signals.extend(metric_signals(&inputs, window));
    let suspects = rank_signals(&signals, &FusionWeights::default());

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
        suspects: suspects.into_iter().take(KEEP_SUSPECTS).collect(),
        log_lines: collected.logs.len(),
        series: collected.series.len(),
        templates_total,
    }
}

/// Metric shifts must begin this soon after the incident window opens to count
/// for a suspect: what changed *at* the alert, not anything that ever changed.
const METRIC_HORIZON_MINUTES: i64 = 5;
/// A metric must be reported by this many components to single one out.
const MIN_METRIC_COMPONENTS: usize = 3;

/// Evidence from the logs: error shifts at the onset, and from trace ids, callees
/// that went missing and services whose own steps slowed.
fn log_signals(
    collected: &Collected,
    services: &[String],
    mined: &[(usize, TemplateId, bool)],
    miner: &TemplateMiner,
    templates: &[LogTemplate],
    window: &TimeWindow,
) -> Vec<Signal> {
    let service_kind = |name: &str| Signal {
        kind: SignalKind::Errors,
        component: name.to_owned(),
        component_kind: ComponentKind::Service,
        strength: 0.0,
        reason: String::new(),
        at: None,
        pod: None,
    };
    let mut out = Vec::new();
    let lines: Vec<ErrorLine<'_>> = mined
        .iter()
        .filter_map(|&(i, _, is_error)| {
            Some(ErrorLine {
                component: services.get(i)?.as_str(),
                time: collected.logs.get(i)?.time,
                is_error,
            })
        })
        .collect();
    let onset = error_onset(&lines, window).unwrap_or(window.incident_start);
    for e in error_shifts(&lines, window, onset)
        .into_iter()
        .filter(|e| e.surprise > 0.0)
    {
        // The component's most frequent error template in the incident, as an example.
        let example = templates
            .iter()
            .filter(|t| t.is_error_level)
            .filter_map(|t| {
                let c = t.services.iter().find(|c| c.service == e.component)?;
                (c.incident > 0).then_some((c.incident, &t.template))
            })
            .max_by_key(|(n, _)| *n)
            .map(|(n, t)| format!("; most often \"{}\" ×{n}", truncate(t, 160)))
            .unwrap_or_default();
        out.push(Signal {
            strength: e.surprise,
            reason: format!(
                "its error lines rose to {} of {} from {} (errors were {} of {} before; {:.1} deviations above its own share){example}",
                e.errors_after,
                e.lines_after,
                onset.format("%H:%M:%S"),
                e.errors_before,
                e.lines_before,
                e.surprise
            ),
            at: Some(onset),
            ..service_kind(&e.component)
        });
    }

    let trace_lines: Vec<TraceLine<'_>> = mined
        .iter()
        .filter_map(|&(i, template, _)| {
            let l = collected.logs.get(i)?;
            let trace = l.trace_id.as_deref().filter(|t| !t.is_empty())?;
            Some(TraceLine {
                trace,
                service: services.get(i)?.as_str(),
                template: miner.resolve(template).0,
                time: l.time,
            })
        })
        .collect();
    for m in missing_callees(&trace_lines, window)
        .into_iter()
        .filter(|m| !m.service.is_empty())
    {
        out.push(Signal {
            kind: SignalKind::MissingCalls,
            strength: m.score,
            reason: format!(
                "requests stopped reaching it: {} of its lines expected right after its callers' in the incident window, {} seen",
                m.expected.round(),
                m.observed
            ),
            ..service_kind(&m.service)
        });
    }
    for s in slowdowns(&trace_lines, window)
        .into_iter()
        .filter(|s| !s.service.is_empty())
    {
        out.push(Signal {
            kind: SignalKind::Slowdown,
            strength: s.score,
            reason: format!(
                "its own steps within requests slowed, up to {:.1}× the baseline's upper quartile ({} steps)",
                s.worst_ratio, s.steps
            ),
            ..service_kind(&s.service)
        });
    }
    out
}

/// Evidence from the metrics: components that stood out from all the others on a
/// metric soon after the incident window opened.
fn metric_signals(inputs: &[SeriesInput<'_>], window: &TimeWindow) -> Vec<Signal> {
    let horizon = (window.incident_start + chrono::Duration::minutes(METRIC_HORIZON_MINUTES))
        .min(window.incident_end);
    metric_standouts(
        inputs,
        window,
        horizon,
        &ShiftConfig::default(),
        MIN_METRIC_COMPONENTS,
        |labels| component_of(labels).map(|(_, name, _)| name),
    )
    .into_iter()
    .map(|(component, m)| {
        let (component_kind, pod) =
            component_of(&m.labels).map_or((ComponentKind::Service, None), |(k, _, p)| (k, p));
        Signal {
            kind: SignalKind::Metrics,
            component,
            component_kind,
            strength: m.margin,
            reason: format!(
                "{} moved {}{:.0} robust deviations at {}, e^{:.1}× as far as any other component",
                m.metric,
                if m.z >= crate::evidence::metrics::Z_CAP {
                    "≥"
                } else {
                    ""
                },
                m.z,
                m.at.format("%H:%M:%S"),
                m.margin
            ),
            at: Some(m.at),
            pod,
        }
    })
    .collect()
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Lines that report an exception even when logged below error level.
fn looks_like_exception(message: &str) -> bool {
    message.contains("Exception")
        || message.contains("Traceback")
        || message.contains("panicked at")
}
