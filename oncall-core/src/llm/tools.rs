//! The agent's read-only tools. Each one checks its arguments (source name and
//! kind, time range within the analysis window ± 1 h, step and row caps) and
//! answers with a compact JSON text capped at [`MAX_RESULT_CHARS`]. A bad call
//! is the model's problem, not the user's: it gets the error as the tool result.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::ToolSpec;
use crate::analysis::reduce::Evidence;
use crate::analysis::window::WindowPlan;
use crate::connectors::{
    Connector, DataSource, DataSourceKind, LogFilter, LogOrder, LogQuery, TimeRange,
};
use crate::evidence::templates::{
    BurstTest, LogLevel, LogRecord, MinerConfig, TemplateMiner, Window, WindowSpans,
};

/// Longest tool answer sent back to the model, in characters.
pub const MAX_RESULT_CHARS: usize = 2_400;
/// How far outside the analysis window a tool may look.
pub const WINDOW_SLACK: chrono::Duration = chrono::Duration::hours(1);
/// Most series described in one metric answer.
const MAX_SERIES: usize = 12;
/// Points kept per series (evenly spaced).
const POINTS_PER_SERIES: usize = 8;
/// Most log lines one search may return.
const MAX_LOG_LINES: usize = 40;
/// Most log lines mined by `log_templates` for a custom window.
const MAX_MINED_LINES: usize = 5_000;
/// Longest a single tool call may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

/// What the tools can see: the analysis' sources, window and evidence.
#[derive(Debug)]
pub struct ToolBox<'a> {
    /// Enabled data sources with their connectors (credentials stay inside).
    pub sources: &'a [(DataSource, Arc<dyn Connector>)],
    /// The analysis window.
    pub window: &'a WindowPlan,
    /// The statistical evidence (templates already mined).
    pub evidence: &'a Evidence,
}

/// The answer of one tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// JSON text for the model (not yet redacted).
    pub text: String,
    /// Rows (series, lines, templates, values) returned.
    pub rows: u64,
    /// Why the call failed, when it did (the text then says so too).
    pub error: Option<String>,
}

impl ToolOutput {
    fn ok(value: Value, rows: u64) -> Self {
        ToolOutput {
            text: cap(value.to_string()),
            rows,
            error: None,
        }
    }

    fn err(message: impl Into<String>) -> Self {
        let message = message.into();
        ToolOutput {
            text: json!({ "error": message }).to_string(),
            rows: 0,
            error: Some(message),
        }
    }
}

fn cap(mut text: String) -> String {
    if text.len() > MAX_RESULT_CHARS {
        let mut end = MAX_RESULT_CHARS;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("…[truncated]");
    }
    text
}

fn spec(name: &str, description: &str, parameters: Value) -> ToolSpec {
    ToolSpec {
        kind: "function",
        function: json!({"name": name, "description": description, "parameters": parameters}),
    }
}

const TIME_HELP: &str = "RFC 3339 time (e.g. 2026-11-24T10:30:00Z); within the analysis window ±1h";

/// The tools offered to the model.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        spec(
            "query_metrics",
            "Run a PromQL query on a Prometheus source over a time range (default: the incident window). Returns per series its labels, min/max/last and a few points.",
            json!({"type": "object", "properties": {
                "source": {"type": "string", "description": "Prometheus data source name"},
                "query": {"type": "string", "description": "PromQL expression"},
                "start": {"type": "string", "description": TIME_HELP},
                "end": {"type": "string", "description": TIME_HELP},
                "step_seconds": {"type": "integer", "description": "resolution, 15..3600"}
            }, "required": ["source", "query"]}),
        ),
        spec(
            "list_metrics",
            "Discover metrics on a Prometheus source: metric names and label names of series matching a selector, or the values of one label.",
            json!({"type": "object", "properties": {
                "source": {"type": "string"},
                "match": {"type": "string", "description": "series selector, e.g. {namespace=\"shop\"}"},
                "label": {"type": "string", "description": "list this label's values instead"}
            }, "required": ["source"]}),
        ),
        spec(
            "search_logs",
            "Search log lines on an Elasticsearch or Loki source, newest first.",
            json!({"type": "object", "properties": {
                "source": {"type": "string"},
                "text": {"type": "string", "description": "phrase the message must contain"},
                "service": {"type": "string"},
                "level": {"type": "string", "description": "e.g. ERROR"},
                "start": {"type": "string", "description": TIME_HELP},
                "end": {"type": "string", "description": TIME_HELP},
                "limit": {"type": "integer", "description": "at most 40"}
            }, "required": ["source"]}),
        ),
        spec(
            "past_incidents",
            "Similar past incidents (\"seen before\"): similarity 0..1, their ticket, the root cause engineers confirmed and the resolution, what they share with this one, and confirmed causes with no current evidence (hints). Memory informs; the current evidence decides.",
            json!({"type": "object", "properties": {
                "component": {"type": "string", "description": "only incidents whose confirmed root cause or top suspect is this component"}
            }}),
        ),
        spec(
            "log_templates",
            "Log templates (messages with variable parts masked) with counts in the baseline and the incident window, optionally for one service or a custom time range.",
            json!({"type": "object", "properties": {
                "service": {"type": "string"},
                "start": {"type": "string", "description": TIME_HELP},
                "end": {"type": "string", "description": TIME_HELP}
            }}),
        ),
    ]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryMetrics {
    source: String,
    query: String,
    start: Option<String>,
    end: Option<String>,
    step_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListMetrics {
    source: String,
    #[serde(rename = "match")]
    matcher: Option<String>,
    label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchLogs {
    source: String,
    text: Option<String>,
    service: Option<String>,
    level: Option<String>,
    start: Option<String>,
    end: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PastIncidents {
    component: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogTemplates {
    service: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

fn parse_args<T: for<'de> Deserialize<'de>>(tool: &str, args: &str) -> Result<T, String> {
    let args = if args.trim().is_empty() { "{}" } else { args };
    serde_json::from_str(args).map_err(|e| format!("invalid arguments for {tool}: {e}"))
}

impl ToolBox<'_> {
    /// Runs tool `name` with JSON `arguments`; never fails, the output says why.
    pub async fn call(&self, name: &str, arguments: &str) -> ToolOutput {
        let work = async {
            match name {
                "query_metrics" => match parse_args(name, arguments) {
                    Ok(a) => self.query_metrics(a).await,
                    Err(e) => ToolOutput::err(e),
                },
                "list_metrics" => match parse_args(name, arguments) {
                    Ok(a) => self.list_metrics(a).await,
                    Err(e) => ToolOutput::err(e),
                },
                "search_logs" => match parse_args(name, arguments) {
                    Ok(a) => self.search_logs(a).await,
                    Err(e) => ToolOutput::err(e),
                },
                "log_templates" => match parse_args(name, arguments) {
                    Ok(a) => self.log_templates(a).await,
                    Err(e) => ToolOutput::err(e),
                },
                "past_incidents" => match parse_args(name, arguments) {
                    Ok(a) => self.past_incidents(a),
                    Err(e) => ToolOutput::err(e),
                },
                other => ToolOutput::err(format!(
                    "unknown tool `{other}`; the tools are query_metrics, list_metrics, search_logs, log_templates, past_incidents"
                )),
            }
        };
        match tokio::time::timeout(TOOL_TIMEOUT, work).await {
            Ok(out) => out,
            Err(_) => ToolOutput::err(format!(
                "{name} took longer than {} s",
                TOOL_TIMEOUT.as_secs()
            )),
        }
    }

    fn source(&self, name: &str, kinds: &[DataSourceKind]) -> Result<&Arc<dyn Connector>, String> {
        let usable: Vec<&str> = self
            .sources
            .iter()
            .filter(|(d, _)| kinds.contains(&d.kind))
            .map(|(d, _)| d.name.as_str())
            .collect();
        match self.sources.iter().find(|(d, _)| d.name == name) {
            Some((d, c)) if kinds.contains(&d.kind) => Ok(c),
            Some((d, _)) => Err(format!(
                "source `{name}` is {}, not usable here; use one of: {}",
                d.kind.as_str(),
                usable.join(", ")
            )),
            None => Err(format!(
                "no source named `{name}`; use one of: {}",
                usable.join(", ")
            )),
        }
    }

    /// The range asked for, defaulting to `default`, within the window ± slack.
    fn range(
        &self,
        start: Option<&str>,
        end: Option<&str>,
        default: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<TimeRange, String> {
        let parse = |s: &str| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("`{s}` is not an RFC 3339 time: {e}"))
        };
        let start = start.map(parse).transpose()?.unwrap_or(default.0);
        let end = end.map(parse).transpose()?.unwrap_or(default.1);
        let lo = self.window.baseline_start - WINDOW_SLACK;
        let hi = self.window.incident_end + WINDOW_SLACK;
        if start < lo || end > hi {
            return Err(format!(
                "time range {start} .. {end} is outside what may be looked at ({lo} .. {hi})"
            ));
        }
        TimeRange::new(start, end).map_err(|e| e.to_string())
    }

    fn incident(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.window.incident_start, self.window.incident_end)
    }

    async fn query_metrics(&self, a: QueryMetrics) -> ToolOutput {
        let conn = match self.source(&a.source, &[DataSourceKind::Prometheus]) {
            Ok(c) => c,
            Err(e) => return ToolOutput::err(e),
        };
        if a.query.trim().is_empty() {
            return ToolOutput::err("query is empty");
        }
        let range = match self.range(a.start.as_deref(), a.end.as_deref(), self.incident()) {
            Ok(r) => r,
            Err(e) => return ToolOutput::err(e),
        };
        let span = range.duration().as_secs().max(1);
        let step = a
            .step_seconds
            .unwrap_or(60)
            .clamp((span / 250).max(15), 3600);
        let data = match conn
            .metric_range(&a.query, &range, Some(Duration::from_secs(step)))
            .await
        {
            Ok(d) => d,
            Err(e) => return ToolOutput::err(e.to_string()),
        };
        let total = data.series.len();
        let series: Vec<Value> = data
            .series
            .iter()
            .take(MAX_SERIES)
            .map(|s| {
                let values: Vec<f64> = s
                    .samples
                    .iter()
                    .map(|p| p.value)
                    .filter(|v| v.is_finite())
                    .collect();
                let min = values.iter().copied().fold(f64::INFINITY, f64::min);
                let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let every = (s.samples.len() / POINTS_PER_SERIES).max(1);
                let points: Vec<Value> = s
                    .samples
                    .iter()
                    .step_by(every)
                    .take(POINTS_PER_SERIES)
                    .map(|p| json!([p.timestamp.format("%H:%M").to_string(), round(p.value)]))
                    .collect();
                json!({
                    "labels": s.labels,
                    "min": if values.is_empty() { Value::Null } else { json!(round(min)) },
                    "max": if values.is_empty() { Value::Null } else { json!(round(max)) },
                    "last": values.last().map(|v| round(*v)),
                    "points": points,
                })
            })
            .collect();
        ToolOutput::ok(
            json!({"series_total": total, "step_seconds": step, "series": series}),
            total as u64,
        )
    }

    async fn list_metrics(&self, a: ListMetrics) -> ToolOutput {
        let conn = match self.source(&a.source, &[DataSourceKind::Prometheus]) {
            Ok(c) => c,
            Err(e) => return ToolOutput::err(e),
        };
        let range = match self.range(
            None,
            None,
            (self.window.baseline_start, self.window.incident_end),
        ) {
            Ok(r) => r,
            Err(e) => return ToolOutput::err(e),
        };
        if let Some(label) = a.label.as_deref() {
            return match conn.label_values(label, a.matcher.as_deref(), &range).await {
                Ok(values) => {
                    let n = values.len();
                    ToolOutput::ok(
                        json!({"label": label, "values_total": n,
                               "values": values.into_iter().take(100).collect::<Vec<_>>()}),
                        n as u64,
                    )
                }
                Err(e) => ToolOutput::err(e.to_string()),
            };
        }
        let matcher = a.matcher.unwrap_or_else(|| "{__name__=~\".+\"}".to_owned());
        match conn.series(&[matcher], &range, 5_000).await {
            Ok(sets) => {
                let mut names: BTreeMap<String, u64> = BTreeMap::new();
                let mut labels: BTreeMap<String, ()> = BTreeMap::new();
                for set in &sets {
                    if let Some(n) = set.get("__name__") {
                        *names.entry(n.clone()).or_default() += 1;
                    }
                    for k in set.keys().filter(|k| *k != "__name__") {
                        labels.insert(k.clone(), ());
                    }
                }
                let mut top: Vec<(String, u64)> = names.into_iter().collect();
                top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let metric_count = top.len();
                let metrics: Vec<Value> = top
                    .into_iter()
                    .take(80)
                    .map(|(n, c)| json!({"name": n, "series": c}))
                    .collect();
                ToolOutput::ok(
                    json!({"series_total": sets.len(), "metrics_total": metric_count,
                           "metrics": metrics, "label_names": labels.keys().collect::<Vec<_>>()}),
                    sets.len() as u64,
                )
            }
            Err(e) => ToolOutput::err(e.to_string()),
        }
    }

    async fn search_logs(&self, a: SearchLogs) -> ToolOutput {
        let conn = match self.source(&a.source, &[DataSourceKind::Elk, DataSourceKind::Loki]) {
            Ok(c) => c,
            Err(e) => return ToolOutput::err(e),
        };
        let range = match self.range(a.start.as_deref(), a.end.as_deref(), self.incident()) {
            Ok(r) => r,
            Err(e) => return ToolOutput::err(e),
        };
        let limit = a.limit.unwrap_or(20).clamp(1, MAX_LOG_LINES);
        let mut labels = BTreeMap::new();
        if let Some(s) = a.service.filter(|s| !s.trim().is_empty()) {
            labels.insert("service".to_owned(), s);
        }
        let query = LogQuery {
            range,
            filter: LogFilter {
                levels: a
                    .level
                    .into_iter()
                    .filter(|l| !l.trim().is_empty())
                    .collect(),
                text: a.text.filter(|t| !t.trim().is_empty()),
                labels,
                query: None,
            },
            limit,
            order: LogOrder::NewestFirst,
        };
        match conn.logs(&query).await {
            Ok(batch) => {
                let n = batch.records.len();
                let lines: Vec<String> = batch
                    .records
                    .iter()
                    .map(|r| {
                        let service = ["service", "service_name", "app", "container", "job"]
                            .iter()
                            .find_map(|k| r.labels.get(*k))
                            .map_or("-", |s| s.as_str());
                        let msg: String = r.message.chars().take(240).collect();
                        format!(
                            "{} {} {} {}",
                            r.timestamp.format("%H:%M:%S%.3f"),
                            service,
                            r.level.as_deref().unwrap_or("-"),
                            msg
                        )
                    })
                    .collect();
                ToolOutput::ok(
                    json!({"lines": lines, "returned": n, "more": batch.truncated}),
                    n as u64,
                )
            }
            Err(e) => ToolOutput::err(e.to_string()),
        }
    }

    /// The incident-memory digest of this analysis (read-only: retrieval ran before
    /// the agent), optionally about one component.
    fn past_incidents(&self, a: PastIncidents) -> ToolOutput {
        use crate::memory::prior::same_component;
        let component = a.component.filter(|c| !c.trim().is_empty());
        let about = |c: Option<&String>| match (&component, c) {
            (None, _) => true,
            (Some(want), Some(c)) => same_component(c, want),
            (Some(_), None) => false,
        };
        let Some(m) = self.evidence.memory.as_ref() else {
            return ToolOutput::ok(
                json!({"incidents": [], "hints": [], "note": "no similar past incident is stored"}),
                0,
            );
        };
        let incidents: Vec<Value> = m
            .similar
            .iter()
            .filter(|p| about(p.confirmed_root_cause.as_ref()) || about(p.top_suspect.as_ref()))
            .map(|p| {
                json!({
                    "alert": p.alert_name,
                    "at": p.incident_at.to_rfc3339(),
                    "similarity": p.similarity,
                    "ticket": p.ticket_no,
                    "ticket_status": p.ticket_status,
                    "confirmed_root_cause": p.confirmed_root_cause,
                    "resolution": p.resolution,
                    "top_suspect_then": p.top_suspect,
                    "shared": p.shared,
                })
            })
            .collect();
        let hints: Vec<Value> = m
            .hints
            .iter()
            .filter(|h| about(Some(&h.component)))
            .map(|h| json!({"component": h.component, "ticket": h.ticket_no, "similarity": h.similarity, "current_evidence": false}))
            .collect();
        let rows = (incidents.len() + hints.len()) as u64;
        ToolOutput::ok(json!({"incidents": incidents, "hints": hints}), rows)
    }

    async fn log_templates(&self, a: LogTemplates) -> ToolOutput {
        let service = a.service.filter(|s| !s.trim().is_empty());
        if a.start.is_none() && a.end.is_none() {
            let rows: Vec<Value> = self
                .evidence
                .log_templates
                .iter()
                .filter(|t| {
                    service
                        .as_ref()
                        .is_none_or(|s| t.services.iter().any(|c| &c.service == s))
                })
                .take(15)
                .map(|t| {
                    json!({
                        "template": t.template,
                        "baseline": t.baseline_count,
                        "incident": t.incident_count,
                        "new": t.is_new,
                        "bursting": t.is_bursting,
                        "error_level": t.is_error_level,
                        "example": t.examples.first().map(|e| e.chars().take(200).collect::<String>()),
                    })
                })
                .collect();
            let n = rows.len() as u64;
            return ToolOutput::ok(json!({"window": "analysis", "templates": rows}), n);
        }
        let range = match self.range(a.start.as_deref(), a.end.as_deref(), self.incident()) {
            Ok(r) => r,
            Err(e) => return ToolOutput::err(e),
        };
        let mut labels = BTreeMap::new();
        if let Some(s) = &service {
            labels.insert("service".to_owned(), s.clone());
        }
        let mut miner = TemplateMiner::new(MinerConfig::default());
        let mut lines = 0usize;
        for (ds, conn) in self
            .sources
            .iter()
            .filter(|(d, _)| matches!(d.kind, DataSourceKind::Elk | DataSourceKind::Loki))
        {
            let query = LogQuery {
                range,
                filter: LogFilter {
                    labels: labels.clone(),
                    ..LogFilter::default()
                },
                limit: MAX_MINED_LINES,
                order: LogOrder::NewestFirst,
            };
            match conn.logs(&query).await {
                Ok(batch) => {
                    for r in &batch.records {
                        let level = r
                            .level
                            .as_deref()
                            .map_or(LogLevel::Unknown, LogLevel::parse);
                        miner.add(&LogRecord::new(&r.message, Window::Incident).level(level));
                        lines += 1;
                    }
                }
                Err(e) => {
                    return ToolOutput::err(format!("{}: {e}", ds.name));
                }
            }
        }
        let spans = WindowSpans {
            baseline_seconds: 1.0,
            incident_seconds: range.duration().as_secs_f64().max(1.0),
        };
        let mut templates = miner.templates(&spans, &BurstTest::default());
        templates.sort_by_key(|t| std::cmp::Reverse(t.incident_count));
        let rows: Vec<Value> = templates
            .iter()
            .take(15)
            .map(|t| {
                json!({
                    "template": t.template,
                    "count": t.incident_count,
                    "error_level": t.is_error_level,
                })
            })
            .collect();
        let n = rows.len() as u64;
        ToolOutput::ok(
            json!({"window": {"start": range.start, "end": range.end}, "lines": lines, "templates": rows}),
            n,
        )
    }
}

fn round(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let mag = v.abs();
    let digits = if mag >= 100.0 {
        1.0
    } else if mag >= 1.0 {
        100.0
    } else {
        10_000.0
    };
    (v * digits).round() / digits
}
