//! The analysis pipeline: parse → plan → collect (every enabled source in
//! parallel, each bounded) → reduce → analyze → store, reporting each stage as an
//! event. A failed or slow source gives a partial analysis that says so; it never
//! fails the whole analysis.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reduce::{Collected, CollectedLog, CollectedSeries, Evidence, findings_in};
use super::statistical::{AnalysisResult, EvidenceSources, analyze};
pub use super::window::{
    DEFAULT_BASELINE_MINUTES, DEFAULT_INCIDENT_MINUTES, LEAD_MINUTES, WindowPlan, plan_window,
};
use super::{Analysis, AnalysisEvent, AnalysisStatus, Stage};
use crate::alert::Alert;
use crate::connectors::{
    Connector, DataSource, DataSourceKind, LogFilter, LogOrder, LogQuery, TimeRange, connector_for,
};
use crate::engine::{AnalysisOptions, OnCall};
use crate::error::{Error, Result};
use crate::evidence::metrics::{ShiftConfig, TimeWindow};
use crate::evidence::suspects::SuspectWeights;
use crate::llm::{AgentEvent, AgentInput, LlmClient, LlmRun};

/// Most series pulled from one metric source.
pub const MAX_SERIES: usize = 3000;
/// Most log lines pulled per window from one log source.
pub const MAX_LOG_LINES_PER_WINDOW: usize = 20_000;
/// How far back the baseline's log query reaches for requests' usual paths
/// (newest lines first, within [`MAX_LOG_LINES_PER_WINDOW`]).
pub const PATH_LOOKBACK: chrono::Duration = chrono::Duration::hours(24);
/// Longest one source may take in all.
pub const SOURCE_BUDGET: Duration = Duration::from_secs(60);

/// How querying one data source went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum SourceStatus {
    /// Queried; it answered (perhaps with no rows).
    #[default]
    Ok,
    /// Not queried: the notes say why (e.g. the alert names no scope to select series by).
    Skipped,
    /// Queried and failed: `error` says why.
    Failed,
}

/// What happened when one data source was queried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct SourceReport {
    /// Data source name.
    pub name: String,
    /// `elk`, `loki` or `prometheus`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", oai(rename = "type"))]
    pub kind: String,
    /// The queries sent.
    pub queries: Vec<String>,
    /// Rows (log lines or series) received.
    pub rows: u64,
    /// Milliseconds taken.
    pub ms: u64,
    /// More matched than the row cap allowed.
    pub truncated: bool,
    /// Notes (e.g. a scope filter that matched nothing and was dropped).
    pub notes: Vec<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Answered, skipped (the notes say why) or failed (`error` says why).
    #[serde(default)]
    pub status: SourceStatus,
}

/// Prometheus selectors for the alert's scope (one per scope dimension, most
/// specific first), e.g. `{namespace="shop"}`, `{service=~"api|db"}`.
pub fn scope_selectors(alert: &Alert) -> Vec<String> {
    let quote = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    let any_of = |vals: &[String]| {
        vals.iter()
            .map(|v| regex_escape(v))
            .collect::<Vec<_>>()
            .join("|")
    };
    let s = &alert.scope;
    let mut out = Vec::new();
    if let Some(ns) = &s.namespace {
        out.push(format!("{{namespace=\"{}\"}}", quote(ns)));
    } else {
        if !s.services.is_empty() {
            out.push(format!("{{service=~\"{}\"}}", quote(&any_of(&s.services))));
        }
        if !s.pods.is_empty() {
            out.push(format!("{{pod=~\"{}\"}}", quote(&any_of(&s.pods))));
        }
        if !s.instances.is_empty() {
            // The host with any port: its other exporters (processes, containers)
            // are scraped as other instances of the same machine.
            let mut hosts: Vec<String> = s.instances.iter().map(|i| host_of_instance(i)).collect();
            hosts.dedup();
            out.push(format!(
                "{{instance=~\"{}\"}}",
                quote(&format!("({})(:[0-9]+)?", any_of(&hosts)))
            ));
        }
        // A job is every instance it scrapes: only the scope when nothing narrower
        // is named (with an instance it would pull in the neighbouring hosts).
        if let Some(job) = &s.job
            && out.is_empty()
        {
            out.push(format!("{{job=\"{}\"}}", quote(job)));
        }
    }
    out
}

/// The host of an instance as its `instance` label writes it: `node-1` of
/// `node-1:9100`, `[::1]` of `[::1]:9100` (an IPv6 host keeps its brackets).
fn host_of_instance(instance: &str) -> String {
    let host = crate::alert::instance_host(instance);
    if instance.trim_start().starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The one host, pod or instance an alert is about, when it names exactly one
/// and no service ("CPU above 70 % on node-3"): the question is then what on it
/// changed (see [`crate::evidence::resources`]).
pub fn single_subject(scope: &crate::alert::Scope) -> Option<String> {
    if !scope.services.is_empty() {
        return None;
    }
    match (
        scope.pods.as_slice(),
        scope.instances.as_slice(),
        scope.hosts.as_slice(),
    ) {
        ([pod], _, _) => Some(pod.clone()),
        ([], [instance], _) => Some(instance.clone()),
        ([], [], [host]) => Some(host.clone()),
        _ => None,
    }
}

/// When the metric data begins so late that the planned baseline holds fewer
/// than the samples a series' baseline needs to be judged
/// ([`ShiftConfig::min_baseline_points`]), the windows that use
/// what there is: the time from the first sample to the alert is split in two
/// halves, baseline and the start of the incident window (never later than the
/// planned start moved to the alert). `None` when the planned baseline is fine
/// or there is no data before the alert at all.
pub fn short_baseline(
    window: &TimeWindow,
    alert_start: DateTime<Utc>,
    collected: &Collected,
) -> Option<TimeWindow> {
    let first = collected
        .series
        .iter()
        .filter_map(|s| s.points.first().map(|(t, _)| *t))
        .min()?;
    if first >= alert_start || first <= window.baseline_start {
        return None;
    }
    // The typical series' samples in the planned baseline.
    let mut counts: Vec<usize> = collected
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter(|(t, _)| window.in_baseline(*t))
                .count()
        })
        .collect();
    counts.sort_unstable();
    let typical = counts.get(counts.len() / 2).copied().unwrap_or(0);
    if typical >= ShiftConfig::default().min_baseline_points {
        return None;
    }
    let split = first + (alert_start - first) / 2;
    (split > window.incident_start).then_some(TimeWindow {
        baseline_start: first,
        incident_start: split,
        incident_end: window.incident_end,
    })
}

/// The resource the alert is about, from its rule's expression (Prometheus'
/// `generatorURL` carries it as `g0.expr`), its name and its summary.
pub fn alert_resource(alert: &Alert) -> Option<crate::evidence::resources::Resource> {
    let expr = super::alert_query::expression(alert).unwrap_or_default();
    let summary = alert.annotations.get("summary").map_or("", String::as_str);
    crate::evidence::resources::resource_named(&[&expr, &alert.name, summary])
}

/// Most samples per series a metric query asks for over both windows.
pub const MAX_POINTS_PER_SERIES: i64 = 300;

/// How to read `range`: the query step, and whether to read the raw samples
/// instead of a grid (`true` when the source's own sample interval gives no more
/// than [`MAX_POINTS_PER_SERIES`] samples per series; the step is then that
/// interval, else the interval widened to that many points).
///
/// Raw samples are the series as they are. A grid re-reads them: each step takes
/// the newest sample up to five minutes old (Prometheus' lookback), so a series
/// whose samples drift against the grid has one repeated and the next skipped, and
/// a gap is filled with the last value — a sparse series then reads as busier than
/// it was. A fixed minute step gives a host scraped every 5 s with a few minutes
/// of history too few samples to judge, and a finer step than the samples only
/// repeats them. The interval is read from the samples themselves in the two
/// minutes up to `at`: the scrape targets' `up` series when the source scrapes
/// (one sample per scrape), else the raw samples of the scope's own series
/// (backfilled or federated data). Without either: a one-minute grid, and a note
/// saying so.
async fn query_step(
    conn: &dyn Connector,
    selector: &str,
    range: &TimeRange,
    at: DateTime<Utc>,
    notes: &mut Vec<String>,
) -> (Duration, bool) {
    let floor = (range.duration().as_secs() / MAX_POINTS_PER_SERIES.unsigned_abs()).max(1);
    let mut interval = None;
    for probe in ["up[2m]".to_owned(), format!("{selector}[2m]")] {
        if let Ok(data) = conn.metric_query(&probe, at).await {
            interval = sample_interval(&data.series);
        }
        if interval.is_some() {
            break;
        }
    }
    match interval {
        Some(seconds) => {
            let own = (seconds.round() as u64).max(1);
            (Duration::from_secs(own.max(floor)), own > floor)
        }
        None => {
            notes.push(
                "could not tell the sample interval (no samples in the 2 minutes before the window's end): queried at a 60 s step".into(),
            );
            (Duration::from_secs(60.max(floor)), false)
        }
    }
}

/// The median time between consecutive samples over `series` (raw samples of a
/// range-vector query), in seconds; `None` without two samples in one series.
fn sample_interval(series: &[crate::connectors::MetricSeries]) -> Option<f64> {
    let mut gaps: Vec<f64> = series
        .iter()
        .take(50)
        .flat_map(|s| {
            s.samples
                .windows(2)
                .map(|w| (w[1].timestamp - w[0].timestamp).num_milliseconds() as f64 / 1000.0)
        })
        .filter(|g| *g > 0.0)
        .collect();
    crate::evidence::metrics::median(&mut gaps)
}

fn regex_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Log filters for the alert's scope: the namespace when known, else nothing
/// (the services of a namespace are what we want to compare).
fn log_scope(alert: &Alert) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    if let Some(ns) = &alert.scope.namespace {
        labels.insert("namespace".to_owned(), ns.clone());
    }
    labels
}

/// Writes one event and remembers the sequence.
struct Reporter<'a> {
    engine: &'a OnCall,
    analysis: uuid::Uuid,
    next: i64,
}

impl Reporter<'_> {
    async fn emit(&mut self, stage: Stage, message: String, data: Option<Value>) {
        let event = AnalysisEvent {
            seq: self.next,
            stage,
            message,
            data,
            at: Utc::now(),
        };
        match self.engine.store.append_event(self.analysis, &event).await {
            Ok(()) => self.next += 1,
            Err(e) => {
                tracing::warn!(analysis = %self.analysis, error = %e, "recording an analysis event")
            }
        }
    }
}

/// Runs the whole pipeline for a claimed analysis and stores the outcome.
pub(crate) async fn run(engine: &OnCall, mut analysis: Analysis, owner: &str) -> Result<()> {
    let started = Instant::now();
    let past = engine.store.events(analysis.id, 0).await?;
    let mut reporter = Reporter {
        engine,
        analysis: analysis.id,
        next: past.last().map_or(1, |e| e.seq + 1),
    };

    let options: AnalysisOptions =
        serde_json::from_value(analysis.options.clone()).unwrap_or_default();
    let input: Value = match serde_json::from_str::<Value>(&analysis.raw_alert) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(analysis.raw_alert.clone()),
    };
    // Out of `pending` as soon as a worker has it: what follows is shown as progress.
    analysis.status = AnalysisStatus::Collecting;
    analysis.started_at.get_or_insert(Utc::now());
    engine
        .store
        .update_claimed_analysis(&analysis, owner)
        .await?;
    if analysis.revision > 1 {
        reporter
            .emit(
                Stage::Collecting,
                format!(
                    "revision {}: running again now that the incident window has filled",
                    analysis.revision
                ),
                Some(json!({"revision": analysis.revision})),
            )
            .await;
    }
    let sources = enabled_sources(engine).await?;
    if input.is_string() {
        for (ds, _) in &sources {
            reporter
                .emit(
                    Stage::Collecting,
                    format!("matching names in {} …", ds.name),
                    Some(json!({"source": ds.name, "step": "names"})),
                )
                .await;
        }
    }
    let (alert, _, names) = crate::engine::understood::understand(
        &input,
        &sources,
        &options,
        Utc::now(),
        &engine.names,
    )
    .await?;
    for (source, f) in names {
        let n = f.names.services.len()
            + f.names.pods.len()
            + f.names.hosts.len()
            + f.names.instances.len()
            + f.names.namespaces.len();
        let message = match &f.error {
            Some(e) => format!("names from {source}: {n} ({e})"),
            None if f.cached => format!("names from {source}: {n} (cached)"),
            None => format!("names from {source}: {n}"),
        };
        reporter
            .emit(
                Stage::Collecting,
                message,
                Some(json!({"source": source, "step": "names", "names": n, "error": f.error})),
            )
            .await;
    }
    let plan = plan_window(&alert, &options);
    let language = crate::engine::result_language(&alert, &options);
    analysis.alert = serde_json::to_value(&alert).unwrap_or(Value::Null);
    analysis.window = serde_json::to_value(&plan).unwrap_or(Value::Null);
    engine
        .store
        .update_claimed_analysis(&analysis, owner)
        .await?;
    reporter
        .emit(
            Stage::Parsed,
            format!(
                "parsed {:?} alert \"{}\" starting {}",
                alert.format, alert.name, alert.starts_at
            ),
            Some(json!({"starts_at": alert.starts_at, "scope": alert.scope})),
        )
        .await;

    // Collect from every source at once; each is bounded by its own budget.
    for (ds, _) in &sources {
        reporter
            .emit(
                Stage::Collecting,
                format!("querying {} ({})", ds.name, ds.kind.as_str()),
                Some(json!({"source": ds.name})),
            )
            .await;
    }
    let window = plan.time_window();
    let tasks = sources
        .iter()
        .map(|(ds, conn)| collect_one(ds, conn.clone(), &alert, &window));
    let results = futures_util::future::join_all(tasks).await;
    let mut collected = Collected::default();
    let mut reports = Vec::new();
    let mut evidence_sources = EvidenceSources::default();
    for (report, data) in results {
        match &report.error {
            None if report.status == SourceStatus::Skipped => {
                reporter
                    .emit(
                        Stage::Collected,
                        format!("{}: skipped: no scope", report.name),
                        Some(json!({"source": report.name, "skipped": "no scope"})),
                    )
                    .await
            }
            None => {
                reporter
                    .emit(
                        Stage::Collected,
                        format!("{}: {} rows in {} ms", report.name, report.rows, report.ms),
                        Some(json!({"source": report.name, "rows": report.rows, "ms": report.ms})),
                    )
                    .await
            }
            Some(e) => {
                reporter
                    .emit(
                        Stage::Collected,
                        format!("{} failed: {e}", report.name),
                        Some(json!({"source": report.name, "error": e})),
                    )
                    .await
            }
        }
        if !data.logs.is_empty() && evidence_sources.logs.is_none() {
            evidence_sources.logs = Some((
                report.name.clone(),
                report.queries.first().cloned().unwrap_or_default(),
            ));
        }
        if !data.series.is_empty() && evidence_sources.metrics.is_none() {
            evidence_sources.metrics = Some((
                report.name.clone(),
                report.queries.first().cloned().unwrap_or_default(),
            ));
        }
        collected.logs.extend(data.logs);
        collected.series.extend(data.series);
        if collected.alert.is_empty() {
            collected.alert = data.alert;
        }
        collected.metric_types.extend(data.metric_types);
        reports.push(report);
    }
    analysis.sources = serde_json::to_value(&reports).unwrap_or(Value::Null);
    analysis.status = AnalysisStatus::Analyzing;
    engine
        .store
        .update_claimed_analysis(&analysis, owner)
        .await?;

    reporter
        .emit(
            Stage::Reducing,
            format!(
                "mining {} log lines and {} series",
                collected.logs.len(),
                collected.series.len()
            ),
            None,
        )
        .await;
    // A short history (a new host, a restarted Prometheus): the baseline is the
    // data there is before the alert, not an empty window.
    let planned = window;
    let window = match short_baseline(&window, plan.alert_start, &collected) {
        Some(shorter) => {
            reporter
                .emit(
                    Stage::Reducing,
                    format!(
                        "little history: the baseline is the data before {} (from {})",
                        shorter.incident_start.format("%H:%M:%S"),
                        shorter.baseline_start.format("%H:%M:%S")
                    ),
                    None,
                )
                .await;
            shorter
        }
        None => window,
    };
    let alert_query = super::alert_query::expression(&alert).and_then(|expr| {
        super::alert_query::AlertQuery::new(expr, std::mem::take(&mut collected.alert), &window)
    });
    let subject = single_subject(&alert.scope);
    let about = alert_resource(&alert);
    let mut evidence: Evidence = tokio::task::spawn_blocking(move || {
        findings_in(&collected, &planned, &window)
            .with_subject(subject.as_deref(), about)
            .into_evidence(&SuspectWeights::default())
    })
    .await
    .map_err(|e| Error::Internal(format!("reduce stage: {e}")))?;
    if window != planned {
        evidence.coverage.planned_baseline_start = Some(planned.baseline_start);
    }
    evidence.alert_query = alert_query;

    reporter
        .emit(
            Stage::Analyzing,
            format!("ranking {} suspects", evidence.suspects.len()),
            None,
        )
        .await;
    let signature =
        crate::engine::memory::recall_into(engine, analysis.id, &alert, &mut evidence).await;
    let statistical = analyze(&alert, &evidence, language, &evidence_sources);
    let mut notes: Vec<String> = Vec::new();
    let failed_sources: Vec<&str> = reports
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.name.as_str())
        .collect();
    if !failed_sources.is_empty() {
        notes.push(format!(
            "partial analysis: {} failed",
            failed_sources.join(", ")
        ));
    }
    let mut usage = json!({});
    let (result, analyzer) = match (&engine.llm, options.llm) {
        (Some(client), None | Some(true)) => {
            let input = AgentInput {
                alert: &alert,
                window: &plan,
                evidence: &evidence,
                statistical: &statistical,
                sources: &sources,
                language,
            };
            let deadline = (started + engine.settings.analysis_deadline)
                .checked_sub(LLM_DEADLINE_MARGIN)
                .unwrap_or(started)
                .min(Instant::now() + client.limits().time_budget);
            let (answer, run) = ask_llm(client, input, deadline, &mut reporter).await;
            usage["llm"] = serde_json::to_value(&run).unwrap_or(Value::Null);
            match answer {
                Some(r) => (r, client.model().to_owned()),
                None => {
                    notes.push(format!(
                        "LLM ({}) failed, statistical result kept: {}",
                        client.model(),
                        run.error.as_deref().unwrap_or("no answer")
                    ));
                    (statistical, "statistical".to_owned())
                }
            }
        }
        (None, Some(true)) => {
            notes.push(
                "an LLM was asked for, but none is configured (LLM_PROVIDER=none): statistical result"
                    .into(),
            );
            (statistical, "statistical".to_owned())
        }
        (_, _) => (statistical, "statistical".to_owned()),
    };

    analysis.evidence = serde_json::to_value(&evidence).unwrap_or(Value::Null);
    analysis.result = Some(serde_json::to_value(&result).unwrap_or(Value::Null));
    analysis.analyzer = Some(analyzer);
    usage["seconds"] = json!(started.elapsed().as_secs_f64());
    analysis.usage = Some(usage);
    let completed_at = Utc::now();
    analysis.refresh_at = super::refresh_time(&analysis, plan.incident_end, completed_at);
    if let Some(at) = analysis.refresh_at {
        notes.push(format!(
            "the incident window was still open: this analysis runs again at {} (revision {})",
            at.format("%H:%M UTC"),
            analysis.revision + 1
        ));
    }
    analysis.error = (!notes.is_empty()).then(|| notes.join("; "));
    analysis.status = AnalysisStatus::Completed;
    analysis.completed_at = Some(completed_at);
    engine
        .store
        .update_claimed_analysis(&analysis, owner)
        .await?;
    crate::engine::memory::remember(engine, analysis.id, &alert, signature).await;
    let top = result
        .suspects
        .first()
        .map(|s| s.component.clone())
        .unwrap_or_default();
    reporter
        .emit(
            Stage::Done,
            format!(
                "done in {:.1} s: {}",
                started.elapsed().as_secs_f64(),
                result.root_cause
            ),
            Some(json!({"top_suspect": top})),
        )
        .await;
    Ok(())
}

/// Time kept back from the analysis deadline for storing the outcome after the LLM.
const LLM_DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// Runs the agent, turning its progress into analysis events.
async fn ask_llm(
    client: &LlmClient,
    input: AgentInput<'_>,
    deadline: Instant,
    reporter: &mut Reporter<'_>,
) -> (Option<AnalysisResult>, LlmRun) {
    reporter
        .emit(
            Stage::Analyzing,
            format!(
                "asking {} (up to {} tool calls)",
                client.model(),
                client.limits().max_tool_calls
            ),
            Some(json!({"llm": client.model()})),
        )
        .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let agent = crate::llm::agent::run(client, input, deadline, tx);
    tokio::pin!(agent);
    let outcome = loop {
        tokio::select! {
            out = &mut agent => break out,
            Some(event) = rx.recv() => report_agent_event(reporter, event).await,
        }
    };
    while let Ok(event) = rx.try_recv() {
        report_agent_event(reporter, event).await;
    }
    outcome
}

async fn report_agent_event(reporter: &mut Reporter<'_>, event: AgentEvent) {
    match event {
        AgentEvent::Answered {
            call,
            usage,
            ms,
            tool_calls,
        } => {
            reporter
                .emit(
                    Stage::Analyzing,
                    format!(
                        "LLM answer {call}: {}+{} tokens in {ms} ms{}",
                        usage.prompt_tokens,
                        usage.completion_tokens,
                        if tool_calls > 0 {
                            format!(", {tool_calls} tool call(s)")
                        } else {
                            String::new()
                        }
                    ),
                    Some(
                        json!({"llm_call": call, "prompt_tokens": usage.prompt_tokens,
                                "completion_tokens": usage.completion_tokens, "ms": ms}),
                    ),
                )
                .await
        }
        AgentEvent::Writing { call, pieces } => {
            reporter
                .emit(
                    Stage::Analyzing,
                    format!("LLM answer {call}: {pieces} tokens received so far"),
                    Some(json!({"llm_call": call, "streamed_tokens": pieces})),
                )
                .await
        }
        AgentEvent::Tool(record) => {
            let message = match &record.error {
                None => format!(
                    "tool {}: {} rows in {} ms",
                    record.name, record.rows, record.ms
                ),
                Some(e) => format!("tool {} failed: {e}", record.name),
            };
            reporter
                .emit(Stage::Analyzing, message, Some(json!({"tool": record})))
                .await
        }
    }
}

/// Marks an analysis failed with `reason` (used when the pipeline errs or gives up).
pub(crate) async fn fail(
    engine: &OnCall,
    mut analysis: Analysis,
    owner: &str,
    reason: String,
) -> Result<()> {
    let past = engine
        .store
        .events(analysis.id, 0)
        .await
        .unwrap_or_default();
    analysis.status = AnalysisStatus::Failed;
    analysis.error = Some(reason.clone());
    analysis.completed_at = Some(Utc::now());
    engine
        .store
        .update_claimed_analysis(&analysis, owner)
        .await?;
    let mut reporter = Reporter {
        engine,
        analysis: analysis.id,
        next: past.last().map_or(1, |e| e.seq + 1),
    };
    reporter.emit(Stage::Failed, reason, None).await;
    Ok(())
}

pub(crate) async fn enabled_sources(
    engine: &OnCall,
) -> Result<Vec<(DataSource, Arc<dyn Connector>)>> {
    let all = crate::store::all_pages(|page| engine.store.list_datasources(page)).await?;
    let mut out = Vec::new();
    for ds in all.into_iter().filter(|d| d.enabled) {
        let credentials = engine.credentials_of(&ds)?;
        match connector_for(&ds, credentials) {
            Ok(conn) => out.push((ds, conn)),
            Err(e) => {
                tracing::warn!(source = %ds.name, error = %e, "skipping a data source that cannot be used")
            }
        }
    }
    Ok(out)
}

async fn collect_one(
    ds: &DataSource,
    conn: Arc<dyn Connector>,
    alert: &Alert,
    window: &TimeWindow,
) -> (SourceReport, Collected) {
    let started = Instant::now();
    let mut report = SourceReport {
        name: ds.name.clone(),
        kind: ds.kind.as_str().into(),
        queries: vec![],
        rows: 0,
        ms: 0,
        truncated: false,
        notes: vec![],
        error: None,
        status: SourceStatus::Ok,
    };
    let mut data = Collected::default();
    let work = async {
        match ds.kind {
            DataSourceKind::Prometheus => {
                collect_metrics(ds, conn.as_ref(), alert, window, &mut report, &mut data).await
            }
            DataSourceKind::Elk | DataSourceKind::Loki => {
                collect_logs(ds, conn.as_ref(), alert, window, &mut report, &mut data).await
            }
        }
    };
    match tokio::time::timeout(SOURCE_BUDGET, work).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => report.error = Some(e.to_string()),
        Err(_) => report.error = Some(format!("timed out after {} s", SOURCE_BUDGET.as_secs())),
    }
    if report.error.is_some() {
        report.status = SourceStatus::Failed;
    }
    report.ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    (report, data)
}

/// Grafana Tempo's service-graph families the evidence reads (see
/// [`crate::evidence::service_graph`]); histogram buckets are left out.
const TEMPO_GRAPH_SELECTOR: &str = r#"{__name__=~"traces_service_graph_request_(total|failed_total|server_seconds_sum|server_seconds_count|client_seconds_sum|client_seconds_count)"}"#;

/// Series of the alert's expression read (a fleet-wide rule returns one per
/// instance); [`crate::analysis::alert_query::MAX_ALERT_SERIES`] of them are kept.
const ALERT_SERIES_READ: usize = 200;

/// A series as the metric source returned it, as the reduce stage reads it.
fn collected_series(source: &str, s: crate::connectors::MetricSeries) -> CollectedSeries {
    CollectedSeries {
        source: source.to_owned(),
        labels: s.labels,
        points: s
            .samples
            .into_iter()
            .map(|p| (p.timestamp, p.value))
            .collect(),
    }
}

async fn collect_metrics(
    ds: &DataSource,
    conn: &dyn Connector,
    alert: &Alert,
    window: &TimeWindow,
    report: &mut SourceReport,
    data: &mut Collected,
) -> Result<()> {
    let selectors = scope_selectors(alert);
    if selectors.is_empty() {
        report.status = SourceStatus::Skipped;
        report.notes.push(
            "skipped: no scope (the alert names no namespace, service, pod, instance or job \
             to select series by)"
                .into(),
        );
        return Ok(());
    }
    let range = TimeRange::new(window.baseline_start, window.incident_end)?;
    let probe_at = window.incident_end.min(Utc::now());
    let (step, raw) = query_step(conn, &selectors[0], &range, probe_at, &mut report.notes).await;
    // Grafana Tempo's service-graph series name services in `client` / `server`
    // and carry no namespace, pod or instance label: no scope selector reaches
    // them, so the call graph is asked for as well (nothing when there is none).
    // Istio's and Linkerd's carry the workload's namespace and come with the scope.
    let selectors = selectors
        .into_iter()
        .chain(std::iter::once(TEMPO_GRAPH_SELECTOR.to_owned()));
    for selector in selectors {
        if data.series.len() >= MAX_SERIES {
            report.truncated = true;
            break;
        }
        let result = if raw {
            // `selector[d]` at `at`: every sample in (at − d, at].
            let at = range.end.min(Utc::now());
            let seconds = (at - range.start).num_seconds().max(1);
            conn.metric_query(&format!("{selector}[{seconds}s]"), at)
                .await?
        } else {
            conn.metric_range(&selector, &range, Some(step)).await?
        };
        report.queries.push(result.query.clone());
        report.notes.extend(result.warnings.iter().cloned());
        for s in result.series {
            if data.series.len() >= MAX_SERIES {
                report.truncated = true;
                break;
            }
            data.series.push(collected_series(&ds.name, s));
        }
    }
    // The source's own word on which series are counters (Prometheus `TYPE`),
    // for the names collected; without it, the naming conventions decide.
    match conn.metric_types().await {
        Ok(types) => {
            let names: std::collections::BTreeSet<&str> = data
                .series
                .iter()
                .filter_map(|s| s.labels.get("__name__").map(String::as_str))
                .collect();
            data.metric_types = types
                .into_iter()
                .filter(|(name, _)| names.contains(name.as_str()))
                .collect();
        }
        Err(e) => report.notes.push(format!(
            "no metric metadata ({e}): counters told by their names (_total, _count, _sum)"
        )),
    }
    // What paged, as a curve: the rule's expression without its threshold.
    if let Some(expr) = super::alert_query::expression(alert) {
        let (query, _) = super::alert_query::split_threshold(&expr);
        match conn.metric_range(&query, &range, Some(step)).await {
            Ok(result) => {
                report.queries.push(result.query.clone());
                data.alert.extend(
                    result
                        .series
                        .into_iter()
                        .take(ALERT_SERIES_READ)
                        .map(|s| collected_series(&ds.name, s)),
                );
            }
            Err(e) => report.notes.push(format!(
                "the alert's expression could not be evaluated: {e}"
            )),
        }
    }
    report.rows = data.series.len() as u64;
    Ok(())
}

async fn collect_logs(
    ds: &DataSource,
    conn: &dyn Connector,
    alert: &Alert,
    window: &TimeWindow,
    report: &mut SourceReport,
    data: &mut Collected,
) -> Result<()> {
    let mut labels = log_scope(alert);
    let first = data.logs.len();
    // Baseline and incident are fetched apart, so a busy baseline never crowds out
    // the incident's lines under the row cap.
    // The baseline's query reaches back further than the baseline window: the newest
    // lines before the incident (up to the row cap) show which paths requests
    // normally take, which quiet or sparse logs may only show hours earlier.
    // Template counts still use the baseline window alone (see `reduce`).
    let ranges = [
        TimeRange::new(window.incident_start, window.incident_end)?,
        TimeRange::new(
            window
                .baseline_start
                .min(window.incident_start - PATH_LOOKBACK),
            window.incident_start,
        )?,
    ];
    for (i, range) in ranges.iter().enumerate() {
        let query = LogQuery {
            range: *range,
            filter: LogFilter {
                labels: labels.clone(),
                ..LogFilter::default()
            },
            limit: MAX_LOG_LINES_PER_WINDOW,
            order: LogOrder::NewestFirst,
        };
        let mut batch = conn.logs(&query).await?;
        if i == 0 && batch.records.is_empty() && !labels.is_empty() {
            // The source may not carry the scope's fields: look unscoped instead.
            report.notes.push(format!(
                "no lines matched {labels:?}; looked without the scope filter"
            ));
            labels.clear();
            let query = LogQuery {
                filter: LogFilter::default(),
                ..query
            };
            batch = conn.logs(&query).await?;
        }
        report.queries.push(batch.query.clone());
        report.truncated |= batch.truncated;
        // Newest first (so the row cap keeps the latest lines), ties newest first
        // too: reversed, lines of the same instant are in the order they were logged,
        // which the steps of one request depend on.
        for r in batch.records.into_iter().rev() {
            let field = |keys: &[&str]| keys.iter().find_map(|k| r.labels.get(*k)).cloned();
            data.logs.push(CollectedLog {
                source: ds.name.clone(),
                time: r.timestamp,
                service: field(&[
                    "service",
                    "service_name",
                    "app",
                    "kubernetes.labels.app",
                    "container",
                    "job",
                ]),
                pod: field(&["pod", "kubernetes.pod_name", "kubernetes.pod.name"]),
                trace_id: field(&["trace_id", "traceId", "trace.id", "traceID"]),
                level: r.level,
                message: r.message,
            });
        }
    }
    // Baseline before incident; a stable sort keeps the logged order of ties.
    data.logs[first..].sort_by_key(|l| l.time);
    report.rows = data.logs.len() as u64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(instances: &[&str], job: Option<&str>) -> Alert {
        let mut a = crate::alert::parse(
            &serde_json::json!("HostHighCpu"),
            &Default::default(),
            chrono::Utc::now(),
        )
        .unwrap();
        a.scope.instances = instances.iter().map(|s| s.to_string()).collect();
        a.scope.job = job.map(str::to_owned);
        a
    }

    #[test]
    fn an_instance_is_asked_for_as_its_host_on_any_port_and_without_its_job() {
        let a = scope(&["10.0.0.5:9100"], Some("node"));
        assert_eq!(
            scope_selectors(&a),
            vec![r#"{instance=~"(10\\.0\\.0\\.5)(:[0-9]+)?"}"#.to_owned()]
        );
        // A job alone is the scope.
        assert_eq!(
            scope_selectors(&scope(&[], Some("node"))),
            vec![r#"{job="node"}"#]
        );
        assert_eq!(host_of_instance("node-1"), "node-1");
        assert_eq!(host_of_instance("[::1]:9100"), "[::1]");
        assert_eq!(host_of_instance("fe80::1"), "fe80::1");
    }
}
