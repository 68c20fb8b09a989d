//! Analyses through the facade: submission (stored `pending`, returned at once),
//! reading and history, and [`AnalysisView`], the typed shape readers get.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::OnCall;
use super::understood::{notices, result_language};
use crate::analysis::pipeline::{SourceReport, SourceStatus, WindowPlan};
use crate::analysis::statistical::AnalysisResult;
use crate::analysis::{Analysis, AnalysisStatus, AnalysisSummary};
use crate::error::{Error, Result};
use crate::store::{AnalysisFilter, Page, PageRequest};
use crate::users::{Role, User};

/// Largest alert accepted, in bytes of its text or JSON.
pub const MAX_ALERT_BYTES: usize = 1024 * 1024;

/// Options of one analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct AnalysisOptions {
    /// Use the LLM agent (when one is configured); default: when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<bool>,
    /// `zh` or `en`; default: the alert's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Minutes before the alert used as the baseline (default 30).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_minutes: Option<u32>,
    /// Minutes after the alert start looked at (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_minutes: Option<u32>,
    /// When the alert started, as the engineer confirmed it: replaces the time the
    /// alert gives (or the submission time when it gives none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    /// Services, as the engineer confirmed them: replace those the alert names
    /// (an empty list: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    /// Kubernetes namespace, as the engineer confirmed it (empty: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Pods, as the engineer confirmed them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<Vec<String>>,
    /// Prometheus instances (`host:port`), as the engineer confirmed them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<String>>,
}

/// Most names in one scope list of [`AnalysisOptions`].
pub const MAX_SCOPE_NAMES: usize = 32;
/// Longest name in a scope list of [`AnalysisOptions`], in bytes.
const MAX_NAME_BYTES: usize = 253;
/// How far in the future a confirmed start may lie (clock skew).
const START_TOLERANCE: chrono::Duration = chrono::Duration::minutes(10);

impl AnalysisOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(t) = self.starts_at
            && t > Utc::now() + START_TOLERANCE
        {
            return Err(Error::invalid(
                "options.starts_at",
                format!("{} is in the future", t.format("%Y-%m-%d %H:%M UTC")),
            ));
        }
        for (field, list) in [
            ("options.services", &self.services),
            ("options.pods", &self.pods),
            ("options.instances", &self.instances),
        ] {
            let Some(list) = list else { continue };
            if list.len() > MAX_SCOPE_NAMES {
                return Err(Error::invalid(
                    field,
                    format!("at most {MAX_SCOPE_NAMES} names, got {}", list.len()),
                ));
            }
            for name in list {
                check_name(field, name)?;
            }
        }
        if let Some(ns) = &self.namespace {
            check_name("options.namespace", ns)?;
        }
        if let Some(l) = &self.language
            && !matches!(l.as_str(), "zh" | "en")
        {
            return Err(Error::invalid("options.language", "must be zh or en"));
        }
        if self
            .baseline_minutes
            .is_some_and(|m| !(1..=1440).contains(&m))
        {
            return Err(Error::invalid(
                "options.baseline_minutes",
                "must be 1..=1440",
            ));
        }
        if self
            .incident_minutes
            .is_some_and(|m| !(1..=720).contains(&m))
        {
            return Err(Error::invalid(
                "options.incident_minutes",
                "must be 1..=720",
            ));
        }
        Ok(())
    }
}

fn check_name(field: &str, name: &str) -> Result<()> {
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::invalid(
            field,
            format!(
                "`{}…` is longer than {MAX_NAME_BYTES} bytes",
                name.chars().take(32).collect::<String>()
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!(
                "{:?} holds a control character",
                name.chars().take(64).collect::<String>()
            ),
        ));
    }
    Ok(())
}

/// The raw text of an alert as submitted, refused when it could never be analysed:
/// not text or JSON object/array, empty, or larger than [`MAX_ALERT_BYTES`].
pub(crate) fn check_alert_input(alert: &Value) -> Result<String> {
    let raw = match alert {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => alert.to_string(),
        _ => {
            return Err(Error::invalid(
                "alert",
                "must be the alert text or its JSON object",
            ));
        }
    };
    if raw.trim().is_empty() {
        return Err(Error::invalid("alert", "is empty"));
    }
    if raw.len() > MAX_ALERT_BYTES {
        return Err(Error::TooLarge(format!(
            "alert is {} bytes; the limit is {MAX_ALERT_BYTES}",
            raw.len()
        )));
    }
    Ok(raw)
}

/// A parse error of the alert, its field named under `alert.`.
pub(crate) fn in_alert_field(e: Error) -> Error {
    match e {
        Error::Invalid { field, message } => Error::Invalid {
            field: Some(field.map_or_else(|| "alert".to_owned(), |f| format!("alert.{f}"))),
            message,
        },
        other => other,
    }
}

/// Logs the one line an operator reads per finished analysis: id, alert, outcome
/// (root cause or error) and duration.
pub(crate) fn log_outcome(a: &Analysis) {
    if !a.status.is_final() {
        return;
    }
    let short = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let duration_ms = a
        .completed_at
        .map_or(-1, |c| (c - a.created_at).num_milliseconds());
    let outcome = match a.status {
        AnalysisStatus::Completed => a
            .result
            .as_ref()
            .and_then(|r| r.get("root_cause"))
            .and_then(Value::as_str)
            .map_or_else(String::new, |r| short(r, 160)),
        _ => a
            .error
            .as_deref()
            .map_or_else(String::new, |e| short(e, 160)),
    };
    tracing::info!(
        analysis = %a.id,
        alert = %short(&a.title, 120),
        status = a.status.as_str(),
        duration_ms,
        outcome = %outcome,
        "analysis finished"
    );
}

/// A one-line title for lists: the alert name of a JSON alert, else the first
/// non-empty line of the text.
pub fn alert_title(alert: &Value) -> String {
    let from_json = |v: &Value| -> Option<String> {
        let name = |o: &Value| {
            o.get("labels")
                .and_then(|l| l.get("alertname"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        v.get("alerts")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(name)
            .or_else(|| {
                v.get("commonLabels")
                    .and_then(|l| l.get("alertname"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .or_else(|| name(v))
            .or_else(|| v.get("title").and_then(Value::as_str).map(str::to_owned))
    };
    let title = match alert {
        Value::String(text) => text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_owned(),
        other => from_json(other).unwrap_or_else(|| "alert".to_owned()),
    };
    let mut t: String = title.chars().take(200).collect();
    if t.is_empty() {
        t = "alert".into();
    }
    t
}

impl OnCall {
    /// Accepts an alert for analysis (engineer): stored as `pending` and returned at
    /// once. `alert` is the text or the Alertmanager/Grafana JSON as received.
    pub async fn submit_analysis(
        &self,
        actor: &User,
        alert: Value,
        options: AnalysisOptions,
    ) -> Result<Analysis> {
        actor.require(Role::Engineer)?;
        options.validate()?;
        let raw = check_alert_input(&alert)?;
        // Refuse what can never be analysed now, rather than as a failed analysis later.
        // (Free text always parses; names are matched against the sources later.)
        let parsed = crate::alert::parse(
            &alert,
            &crate::alert::KnownNames::default(),
            chrono::Utc::now(),
        )
        .map_err(in_alert_field)?;
        let title = if alert.is_string() {
            alert_title(&alert)
        } else {
            parsed.name.chars().take(200).collect()
        };
        let options = serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))?;
        let analysis = Analysis::pending(title, raw, options, actor.email.clone());
        self.store.insert_analysis(&analysis).await?;
        self.wake.notify_one();
        Ok(analysis)
    }

    /// How many analyses are in each status, every status listed (for metrics).
    pub async fn analysis_counts(&self) -> Result<Vec<(crate::analysis::AnalysisStatus, u64)>> {
        let found = self.store.count_analyses_by_status().await?;
        Ok(crate::analysis::AnalysisStatus::ALL
            .into_iter()
            .map(|s| {
                (
                    s,
                    found.iter().find(|(f, _)| *f == s).map_or(0, |(_, n)| *n),
                )
            })
            .collect())
    }

    /// The analysis' progress events after `after` (any role).
    pub async fn analysis_events(
        &self,
        actor: &User,
        id: Uuid,
        after: i64,
    ) -> Result<Vec<crate::analysis::AnalysisEvent>> {
        actor.require(Role::Viewer)?;
        self.store.events(id, after).await
    }

    /// One analysis (any role).
    pub async fn analysis(&self, actor: &User, id: Uuid) -> Result<AnalysisView> {
        actor.require(Role::Viewer)?;
        self.store.analysis(id).await.map(AnalysisView::from)
    }

    /// Puts the webhook analyses whose incident window has filled since they ran
    /// (their `refresh_at` is at or before `now`) back to pending as a new
    /// revision, the run before kept; returns their ids. The workers call it
    /// before each claim; with several processes each refresh happens once.
    pub async fn requeue_due_refreshes(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
        let ids = self.store.requeue_due_refreshes(now, REFRESH_BATCH).await?;
        if !ids.is_empty() {
            self.wake.notify_one();
        }
        Ok(ids)
    }

    /// The earlier runs of an analysis, oldest first, each as the analysis stood
    /// when that run ended (any role); empty when it ran once.
    pub async fn analysis_revisions(&self, actor: &User, id: Uuid) -> Result<Vec<AnalysisView>> {
        actor.require(Role::Viewer)?;
        let current = self.store.analysis(id).await?;
        let revisions = self.store.analysis_revisions(id).await?;
        Ok(revisions
            .into_iter()
            .map(|r| {
                AnalysisView::from(Analysis {
                    status: crate::analysis::AnalysisStatus::Completed,
                    window: r.window,
                    sources: r.sources,
                    evidence: r.evidence,
                    result: r.result,
                    error: r.error,
                    analyzer: r.analyzer,
                    usage: r.usage,
                    started_at: r.started_at,
                    completed_at: r.completed_at,
                    revision: r.revision,
                    refresh_at: None,
                    ..current.clone()
                })
            })
            .collect())
    }

    /// Analyses, newest first (any role).
    pub async fn list_analyses(
        &self,
        actor: &User,
        filter: &AnalysisFilter,
        page: PageRequest,
    ) -> Result<Page<AnalysisView>> {
        actor.require(Role::Viewer)?;
        Ok(self
            .store
            .list_analyses(filter, page)
            .await?
            .map(AnalysisView::from))
    }

    /// Analyses, newest first, as list rows without evidence, source reports and
    /// result (any role): what a history page shows.
    pub async fn list_analysis_summaries(
        &self,
        actor: &User,
        filter: &AnalysisFilter,
        page: PageRequest,
    ) -> Result<Page<AnalysisSummary>> {
        actor.require(Role::Viewer)?;
        self.store.list_analysis_summaries(filter, page).await
    }
}

/// Due refreshes put back to pending per call of
/// [`OnCall::requeue_due_refreshes`].
const REFRESH_BATCH: u32 = 8;

/// One analysis as readers see it: the stored [`Analysis`] with its window, source
/// reports, evidence and result typed. A part whose stored JSON does not read as its
/// type (an older or newer document) is left out rather than failing the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AnalysisView {
    /// Generated in the application (UUID v7).
    pub id: Uuid,
    /// Life-cycle state.
    pub status: AnalysisStatus,
    /// A one-line description for lists and search (alert name or first line).
    pub title: String,
    /// The alert exactly as submitted.
    pub raw_alert: String,
    /// Submission options (`llm`, `language`, window sizes).
    pub options: Value,
    /// The parsed alert (`null` until a worker parsed it).
    pub alert: Value,
    /// The windows compared, once planned.
    pub window: Option<WindowPlan>,
    /// Per data source: queries sent, rows seen, time taken, notes, error.
    pub sources: Vec<SourceReport>,
    /// Log templates, metric shifts, error origins and suspects, once reduced.
    pub evidence: Option<EvidenceView>,
    /// The root-cause result (SPEC §5 shape), once there is one.
    pub result: Option<AnalysisResult>,
    /// Why it failed, or what went wrong on the way (partial results).
    pub error: Option<String>,
    /// `statistical` or the LLM model name.
    pub analyzer: Option<String>,
    /// Token counts and timings (`seconds`, ...).
    pub usage: Option<Value>,
    /// Email of the submitter (or `webhook:<name>`).
    pub created_by: String,
    /// When it was accepted (UTC).
    pub created_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    pub completed_at: Option<DateTime<Utc>>,
    /// What was not understood of the alert and how to fix it, in the result's
    /// language, most important first (no scope recognised, no time found); shown
    /// before the result.
    #[serde(default)]
    pub notices: Vec<String>,
    /// How long it took, once a worker started it.
    pub timing: Option<AnalysisTiming>,
    /// 1 for the first run, one more for each time it was run again; the earlier
    /// runs are at `GET /api/analysis/{id}/revisions`.
    #[serde(default = "one")]
    pub revision: i64,
    /// When it runs again (a webhook's analysis that completed while its incident
    /// window was still open), if it will.
    pub refresh_at: Option<DateTime<Utc>>,
}

fn one() -> i64 {
    1
}

/// How long an analysis took, in parts: the one duration every front end shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct AnalysisTiming {
    /// Waiting for a worker: submission to start.
    pub queued_ms: u64,
    /// Querying the data sources (the slowest source; they run at once).
    pub collect_ms: u64,
    /// Everything else the worker did: parsing, reducing, analysing, storing.
    pub analyse_ms: u64,
    /// Submission to the final state (or to now, while it runs): the sum of the above.
    pub total_ms: u64,
    /// Still running: `total_ms` counts to now.
    pub running: bool,
}

impl AnalysisTiming {
    /// The timing of an analysis from its times and its sources' reports; `None`
    /// before a worker started it.
    pub fn of(
        created_at: DateTime<Utc>,
        started_at: Option<DateTime<Utc>>,
        completed_at: Option<DateTime<Utc>>,
        sources: &[SourceReport],
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let started = started_at?;
        let ms = |d: chrono::Duration| u64::try_from(d.num_milliseconds()).unwrap_or(0);
        let end = completed_at.unwrap_or(now);
        let total_ms = ms(end - created_at);
        let queued_ms = ms(started - created_at).min(total_ms);
        let worked = total_ms - queued_ms;
        let collect_ms = sources.iter().map(|s| s.ms).max().unwrap_or(0).min(worked);
        Some(AnalysisTiming {
            queued_ms,
            collect_ms,
            analyse_ms: worked - collect_ms,
            total_ms,
            running: completed_at.is_none(),
        })
    }
}

/// Reads a stored JSON part as `T`; `None` when it is absent or does not fit.
fn typed<T: DeserializeOwned>(id: Uuid, part: &str, v: Value) -> Option<T> {
    if v.is_null() {
        return None;
    }
    match serde_json::from_value(v) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(analysis = %id, part, error = %e, "stored part does not read as its type; left out");
            None
        }
    }
}

impl From<Analysis> for AnalysisView {
    fn from(a: Analysis) -> Self {
        let id = a.id;
        let mut sources: Vec<SourceReport> = match a.sources {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|s| typed(id, "sources", s))
                .collect(),
            other => typed(id, "sources", other).unwrap_or_default(),
        };
        // Reports stored before they carried a status.
        for s in &mut sources {
            if s.error.is_some() {
                s.status = SourceStatus::Failed;
            }
        }
        let options: AnalysisOptions =
            serde_json::from_value(a.options.clone()).unwrap_or_default();
        let notices = if a.alert.is_null() {
            Vec::new()
        } else {
            serde_json::from_value::<crate::alert::Alert>(a.alert.clone())
                .map(|alert| notices(&alert, result_language(&alert, &options)))
                .unwrap_or_default()
        };
        let timing = AnalysisTiming::of(
            a.created_at,
            a.started_at,
            a.completed_at,
            &sources,
            Utc::now(),
        );
        AnalysisView {
            id,
            status: a.status,
            title: a.title,
            raw_alert: a.raw_alert,
            options: a.options,
            alert: a.alert,
            window: typed(id, "window", a.window),
            sources,
            evidence: typed(id, "evidence", a.evidence),
            result: a.result.and_then(|r| typed(id, "result", r)),
            error: a.error,
            analyzer: a.analyzer,
            usage: a.usage,
            created_by: a.created_by,
            created_at: a.created_at,
            started_at: a.started_at,
            completed_at: a.completed_at,
            notices,
            timing,
            revision: a.revision,
            refresh_at: a.refresh_at,
        }
    }
}

/// A list field read item by item: items that do not fit are skipped, and anything
/// but a list reads as empty.
fn lenient_vec<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|x| serde_json::from_value(x).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// `T` if the stored value reads as one, else `None` (an unknown kind in a newer or
/// older record leaves the field out instead of the whole item).
fn lenient_opt<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

/// The evidence of an analysis (what the reduce stage found), as readers see it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct EvidenceView {
    /// The windows compared.
    #[serde(default)]
    pub window: Option<EvidenceWindow>,
    /// The alert's own expression (without its threshold) evaluated over the
    /// windows: what paged, drawn first.
    #[serde(default, deserialize_with = "lenient_opt")]
    pub alert_query: Option<AlertQueryView>,
    /// Log templates worth a look (new, bursting or error-level), strongest first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub log_templates: Vec<LogTemplateView>,
    /// Series that moved, strongest first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub metric_shifts: Vec<MetricShiftView>,
    /// Where failing requests' first errors appeared, most first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub error_origins: Vec<ErrorOriginView>,
    /// Where requests of the incident window first left the paths the baseline's
    /// requests took (from trace ids), most blame first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub path_divergences: Vec<PathDivergenceView>,
    /// Steps that stopped following the steps they used to follow (from trace
    /// ids): one per service, most surprising first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub missing_steps: Vec<MissingStepView>,
    /// Services whose request steps slowed (from trace ids), best first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub latency: Vec<LatencySuspectView>,
    /// For an alert about one host, pod or instance: which of its resources moved.
    #[serde(default, deserialize_with = "lenient_opt")]
    pub subject: Option<SubjectView>,
    /// The call graph that service-graph metrics (Tempo, Istio, Linkerd) described
    /// and its edges that went wrong; absent when the data had no such metrics.
    #[serde(default, deserialize_with = "lenient_opt")]
    pub service_graph: Option<ServiceGraphView>,
    /// Ranked suspects.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub suspects: Vec<SuspectView>,
    /// Log lines looked at.
    #[serde(default)]
    pub log_lines: u64,
    /// Metric series looked at.
    #[serde(default)]
    pub series: u64,
    /// Distinct log templates mined.
    #[serde(default)]
    pub templates_total: u64,
    /// How much of the windows the collected data covered (absent in analyses
    /// stored before it was recorded).
    #[serde(default, deserialize_with = "lenient_opt")]
    pub coverage: Option<CoverageView>,
    /// Similar past incidents as they were when this analysis ran, and what the
    /// memory prior did (see `GET /api/analysis/{id}/similar` for their tickets now).
    #[serde(default, deserialize_with = "lenient_opt")]
    pub memory: Option<crate::memory::MemoryDigest>,
}

/// The baseline and incident windows the evidence compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct EvidenceWindow {
    /// Start of the baseline.
    pub baseline_start: DateTime<Utc>,
    /// Start of the incident window (end of the baseline).
    pub incident_start: DateTime<Utc>,
    /// End of the incident window.
    pub incident_end: DateTime<Utc>,
}

/// Severity of a log line, least to most severe (`unknown`: no level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum LogLevelName {
    /// Trace / verbose.
    Trace,
    /// Debug.
    Debug,
    /// Info / notice.
    Info,
    /// Warning.
    Warn,
    /// Error.
    Error,
    /// Fatal / critical.
    Fatal,
    /// No level, or one not recognised.
    #[default]
    #[serde(other)]
    Unknown,
}

/// How often one service logged a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct TemplateServiceCount {
    /// The service (pod, host); `""` when unknown.
    pub service: String,
    /// Lines in the baseline window.
    pub baseline: u64,
    /// Lines in the incident window.
    pub incident: u64,
}

/// One mined log template with its counts and flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct LogTemplateView {
    /// Id within the analysis.
    pub id: u32,
    /// Ids of templates merged into this one.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub merged_ids: Vec<u32>,
    /// The template text, variables shown as `<*>`.
    pub template: String,
    /// Lines in the baseline window.
    pub baseline_count: u64,
    /// Lines in the incident window.
    pub incident_count: u64,
    /// Counts per service, most incident lines first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub services: Vec<TemplateServiceCount>,
    /// A few lines as logged.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub examples: Vec<String>,
    /// Earliest line time.
    #[serde(default)]
    pub first_seen: Option<DateTime<Utc>>,
    /// The highest level any of its lines had.
    #[serde(default)]
    pub max_level: LogLevelName,
    /// Seen in the incident window and never in a non-empty baseline.
    #[serde(default)]
    pub is_new: bool,
    /// Its incident rate is significantly above its baseline rate.
    #[serde(default)]
    pub is_bursting: bool,
    /// Logged at error level or worse (or its text says error, exception, ...).
    #[serde(default)]
    pub is_error_level: bool,
    /// Smoothed incident/baseline rate ratio.
    pub rate_ratio: f64,
    /// p-value of the burst test (1 when not above expectation).
    #[serde(default)]
    pub burst_p_value: Option<f64>,
}

/// Which way a series moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum ShiftDirection {
    /// Above its baseline.
    Up,
    /// Below its baseline.
    Down,
}

/// The alert's own expression evaluated over both windows: what paged, drawn
/// first (see [`crate::analysis::alert_query`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AlertQueryView {
    /// The rule's expression as the alert carried it.
    pub expr: String,
    /// What was evaluated: the expression without its threshold.
    pub query: String,
    /// The rule's threshold, when it compares with a number.
    #[serde(default)]
    pub threshold: Option<crate::analysis::alert_query::Threshold>,
    /// The metric source it was evaluated on.
    #[serde(default)]
    pub source: String,
    /// Its series, those past the threshold first (at most 10).
    #[serde(default, deserialize_with = "lenient_vec")]
    pub series: Vec<AlertSeriesView>,
}

/// One series of the alert's expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AlertSeriesView {
    /// Its labels (an aggregate has only its `by` labels, or none).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Median over the baseline.
    #[serde(default)]
    pub baseline: Option<f64>,
    /// The extreme of the incident window in the rule's direction.
    #[serde(default)]
    pub peak: Option<f64>,
    /// Since when the rule's condition held without a break.
    #[serde(default)]
    pub breached_at: Option<DateTime<Utc>>,
    /// The samples over both windows, time order.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub points: Vec<MetricPoint>,
}

/// One sample of a series. Stored as `[time, value]`; shown as an object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "PointRepr")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct MetricPoint {
    /// When.
    pub at: DateTime<Utc>,
    /// The value.
    pub value: f64,
}

/// The shapes a [`MetricPoint`] is read from.
#[derive(Deserialize)]
#[serde(untagged)]
enum PointRepr {
    Pair(DateTime<Utc>, f64),
    Object { at: DateTime<Utc>, value: f64 },
}

impl From<PointRepr> for MetricPoint {
    fn from(p: PointRepr) -> Self {
        match p {
            PointRepr::Pair(at, value) | PointRepr::Object { at, value } => {
                MetricPoint { at, value }
            }
        }
    }
}

/// One metric series that moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct MetricShiftView {
    /// Metric name (`__name__`).
    pub metric: String,
    /// The series' other labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Median of the baseline.
    pub baseline_median: f64,
    /// Robust spread of the baseline.
    #[serde(default)]
    pub baseline_spread: f64,
    /// The incident value furthest from the baseline median.
    pub peak: f64,
    /// How many robust deviations it moved.
    pub score: f64,
    /// Which way.
    pub direction: ShiftDirection,
    /// Relative change of the peak against the median (`0.5` = 50 % up).
    #[serde(default)]
    pub relative_change: f64,
    /// First incident sample past the threshold.
    pub started_at: DateTime<Utc>,
    /// Incident samples past the threshold.
    #[serde(default)]
    pub anomalous_points: u64,
    /// The series' samples over both windows, time order; kept for the strongest
    /// shifts only (empty for the others).
    #[serde(default, deserialize_with = "lenient_vec")]
    pub points: Vec<MetricPoint>,
    /// The baseline was flat at zero: the series appeared rather than moved.
    #[serde(default)]
    pub appeared: bool,
    /// The values are a per-second rate of a counter.
    #[serde(default)]
    pub rate: bool,
}

/// How often a service was where a failing request's first error appeared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ErrorOriginView {
    /// The service.
    pub service: String,
    /// Failing requests (traces) of the incident window whose first error it logged.
    pub incident: u64,
    /// The same in the baseline window.
    pub baseline: u64,
    /// Incident over baseline rate, smoothed (1.0 = unchanged).
    #[serde(default)]
    pub rate_ratio: f64,
    /// Distinct services seen in those incident traces.
    #[serde(default)]
    pub spread: u64,
}

/// How often requests left their usual path at a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct PathDivergenceView {
    /// The service.
    pub service: String,
    /// Blame summed over the diverging requests (1 for the last usual step, ½ for
    /// the unexpected step, ½ shared by the missing next steps).
    pub weight: f64,
    /// Diverging requests it had a part in.
    pub requests: u64,
    /// Requests of the incident window compared with the baseline's paths.
    pub compared: u64,
    /// The commonest such divergence.
    #[serde(default)]
    pub example: Option<PathExampleView>,
}

/// A step of a service that used to follow another step and stopped: where a
/// callee failed before it logged anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct MissingStepView {
    /// The service whose step went missing.
    pub service: String,
    /// How surprising the shortfall is: `(expected − seen) / √(expected + 1)`.
    pub surprise: f64,
    /// How often the step would have followed in the incident window, at the
    /// baseline's rate.
    pub expected: f64,
    /// How often it did.
    pub seen: u64,
    /// The service of the step it used to follow.
    pub after_service: String,
    /// The step it used to follow, as its log template.
    pub after: String,
    /// The missing step, as its log template.
    pub step: String,
}

/// One divergence, as log templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct PathExampleView {
    /// The last step that went as usual (absent: the first step was already new).
    #[serde(default)]
    pub last_usual: Option<String>,
    /// The step taken instead (absent: the request ended there).
    #[serde(default)]
    pub unexpected: Option<String>,
    /// A step the baseline took next instead (absent: it used to end there).
    #[serde(default)]
    pub expected: Option<String>,
}

/// What kind of component a suspect is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum SuspectKind {
    /// A service / app / deployment.
    Service,
    /// A pod.
    Pod,
    /// A host / node / instance.
    Host,
}

/// One ranked suspect of the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct SuspectView {
    /// Name of the component.
    pub component: String,
    /// What kind of component.
    pub kind: SuspectKind,
    /// 0..1, relative to the other suspects.
    pub score: f64,
    /// Why, strongest first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub reasons: Vec<String>,
    /// When its earliest anomaly began, if known.
    #[serde(default)]
    pub first_anomaly_at: Option<DateTime<Utc>>,
    /// Pods of the service that showed anomalies.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub pods: Vec<String>,
    /// The kind of evidence behind its strongest reason.
    #[serde(default, deserialize_with = "lenient_opt")]
    pub lead: Option<EvidenceKindName>,
}

/// The kinds of evidence a suspect's reasons come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum EvidenceKindName {
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
}

/// One step of requests (an edge of the request graph) whose time changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct EdgeShiftView {
    /// The service whose line starts the step.
    pub caller: String,
    /// The service whose line ends it (equal to `caller` within one service).
    pub callee: String,
    /// Median milliseconds per request on the step in the baseline.
    pub baseline_ms: f64,
    /// The same in the incident window.
    pub incident_ms: f64,
    /// Robust deviations of the incident median above the baseline's.
    #[serde(default)]
    pub z: f64,
    /// Requests of the incident window that took the step.
    #[serde(default)]
    pub requests: u64,
}

/// A service that the slowed steps of requests point at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct LatencySuspectView {
    /// The service.
    pub service: String,
    /// Ochiai coefficient, 0..1: 1 when every slowed step is one of its own and
    /// all of its steps slowed.
    #[serde(default)]
    pub ochiai: f64,
    /// Its steps that slowed, most deviations first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub slowed: Vec<EdgeShiftView>,
    /// Its steps judged (slowed or not).
    #[serde(default)]
    pub edges: u64,
}

/// A resource of a host, pod or instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum ResourceName {
    /// CPU time, load, run queue.
    Cpu,
    /// Memory, swap, page faults, OOM kills.
    Memory,
    /// Disk I/O and filesystem space.
    Disk,
    /// Network traffic, sockets, connections.
    Network,
    /// Processes, threads, file descriptors, forks.
    Processes,
    /// Restarts and boots.
    Restarts,
    /// The monitoring agent's own figures.
    Monitoring,
    /// Anything else (and kinds this reader does not know).
    #[default]
    #[serde(other)]
    Other,
}

/// One resource of the alert's subject that changed, with its strongest series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ResourceFindingView {
    /// Which resource.
    #[serde(default)]
    pub resource: ResourceName,
    /// The strongest series' metric.
    pub metric: String,
    /// Its other labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its values are a per-second rate of a counter.
    #[serde(default)]
    pub rate: bool,
    /// Its baseline median.
    pub baseline: f64,
    /// The incident value furthest from it.
    pub peak: f64,
    /// Which way it moved.
    pub direction: ShiftDirection,
    /// The move relative to the series' level (1.0 = by as much as its level).
    #[serde(default)]
    pub effect: f64,
    /// When it began.
    pub started_at: DateTime<Utc>,
    /// Series of this resource that moved.
    #[serde(default)]
    pub series: u64,
}

/// What changed on the component (host, pod or instance) an alert is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct SubjectView {
    /// The component.
    pub component: String,
    /// Its resources that moved, largest effect first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub findings: Vec<ResourceFindingView>,
}

/// How much of the windows the collected data covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct CoverageView {
    /// Earliest sample or log line at or after the baseline's start.
    #[serde(default)]
    pub first_data_at: Option<DateTime<Utc>>,
    /// Latest sample or log line.
    #[serde(default)]
    pub last_data_at: Option<DateTime<Utc>>,
    /// Series judged (after de-duplication; counters as rates).
    #[serde(default)]
    pub series_judged: u64,
    /// Series with too few baseline samples to be judged.
    #[serde(default)]
    pub series_without_baseline: u64,
    /// Series that were counters and were judged as per-second rates.
    #[serde(default)]
    pub counters_as_rates: u64,
    /// Identical series returned more than once, dropped.
    #[serde(default)]
    pub duplicate_series: u64,
    /// Log lines that carried a trace id (the request graph is built from them);
    /// absent in analyses stored before it was recorded.
    #[serde(default)]
    pub trace_lines: Option<u64>,
    /// Where the baseline was planned to start, when the data began later and the
    /// baseline had to start with it (the evidence window's `baseline_start`).
    #[serde(default)]
    pub planned_baseline_start: Option<DateTime<Utc>>,
}

/// What moved on an edge of the service graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum GraphEdgeWhat {
    /// The server's mean latency (seconds).
    Latency,
    /// The server's failed share of requests (0..1).
    Errors,
    /// The client's latency minus the server's: time on the wire (seconds).
    Network,
    /// A kind this reader does not know.
    #[default]
    #[serde(other)]
    Other,
}

/// An edge of the service graph (client → server) that went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct GraphEdgeView {
    /// The calling service.
    pub client: String,
    /// The called service.
    pub server: String,
    /// What moved: latency or errors at the server, or time on the wire.
    #[serde(default)]
    pub what: GraphEdgeWhat,
    /// Baseline median: seconds (latency, network) or failed share 0..1 (errors).
    pub baseline: f64,
    /// Incident median, in the same unit.
    pub incident: f64,
    /// Robust deviations of the move.
    #[serde(default)]
    pub z: f64,
}

/// A service the service graph's anomalous edges lead to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct GraphSuspectView {
    /// The service.
    pub service: String,
    /// 0..1: calls into it went wrong while its own calls did not (or its edges
    /// got slower on the wire).
    #[serde(default)]
    pub score: f64,
    /// Its edges that went wrong, most deviations first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub incoming: Vec<GraphEdgeView>,
    /// Reached from the alert's service down edges that went wrong.
    #[serde(default)]
    pub reached_from_alert: bool,
}

/// The call graph that service-graph metrics described, and what went wrong on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct ServiceGraphView {
    /// Which exporter's metrics described it (`tempo`, `istio`, `linkerd`).
    #[serde(default)]
    pub source: Option<String>,
    /// Edges with enough data to judge.
    #[serde(default)]
    pub edges: u64,
    /// Edges that went wrong, most deviations first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub anomalous: Vec<GraphEdgeView>,
    /// Services the edges lead to, best first.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub suspects: Vec<GraphSuspectView>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn titles_come_from_the_alert() {
        let am = json!({"version": "4", "alerts": [{"labels": {"alertname": "HighErrorRate"}}]});
        assert_eq!(alert_title(&am), "HighErrorRate");
        assert_eq!(
            alert_title(&json!({"commonLabels": {"alertname": "X"}, "alerts": []})),
            "X"
        );
        assert_eq!(
            alert_title(&json!({"title": "[FIRING:1] Disk"})),
            "[FIRING:1] Disk"
        );
        assert_eq!(
            alert_title(&json!("\n\n  订单服务 错误率 升高\nmore")),
            "订单服务 错误率 升高"
        );
        assert_eq!(alert_title(&json!({})), "alert");
        assert_eq!(alert_title(&json!("x".repeat(500))).len(), 200);
    }
}

#[cfg(test)]
mod view_tests {
    use super::*;
    use crate::analysis::reduce::{Coverage, Evidence};
    use crate::evidence::latency::{EdgeShift, LatencySuspect};
    use crate::evidence::metrics::{Direction, MetricShift, TimeWindow};
    use crate::evidence::resources::{Resource, ResourceFinding, SubjectFindings};
    use crate::evidence::service_graph::{GraphEdgeShift, GraphSuspect, ServiceGraph};
    use crate::evidence::suspects::{ComponentKind, EvidenceKind, Suspect};
    use crate::evidence::templates::{LogLevel, LogTemplate, ServiceCount, TemplateId};
    use crate::evidence::traces::ErrorOrigin;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn stored() -> Analysis {
        let mut a = Analysis::pending(
            "EntrySLODegraded".into(),
            "{}".into(),
            json!({}),
            "a@b.c".into(),
        );
        let window = TimeWindow {
            baseline_start: at("2023-01-29T08:09:04Z"),
            incident_start: at("2023-01-29T08:39:04Z"),
            incident_end: at("2023-01-29T08:54:04Z"),
        };
        let evidence = Evidence {
            window: Some(window),
            log_window: None,
            alert_query: None,
            log_templates: vec![LogTemplate {
                id: TemplateId(139),
                merged_ids: vec![TemplateId(140)],
                template: "<*> ERROR c.s.ContactsServiceImpl <*>".into(),
                baseline_count: 0,
                incident_count: 19,
                services: vec![ServiceCount {
                    service: "ts-contacts-service".into(),
                    baseline: 0,
                    incident: 19,
                }],
                examples: vec!["2023-01-29 ERROR ...".into()],
                first_seen: Some(at("2023-01-29T08:43:17.121Z")),
                max_level: LogLevel::Error,
                is_new: false,
                is_bursting: true,
                is_error_level: true,
                rate_ratio: 78.0,
                burst_p_value: 8.6e-10,
            }],
            metric_shifts: vec![MetricShift {
                metric: "container_cpu_usage".into(),
                labels: BTreeMap::from([("pod".into(), "ts-contacts-1".into())]),
                baseline_median: 0.2,
                baseline_spread: 0.01,
                peak: 0.9,
                score: 70.0,
                direction: Direction::Up,
                relative_change: 3.5,
                started_at: at("2023-01-29T08:43:00Z"),
                held: 0.9,
                anomalous_points: 7,
                points: vec![
                    (at("2023-01-29T08:40:00Z"), 0.2),
                    (at("2023-01-29T08:43:00Z"), 0.9),
                ],
                appeared: false,
                rate: false,
            }],
            error_origins: vec![ErrorOrigin {
                service: "ts-contacts-service".into(),
                incident: 19,
                baseline: 0,
                rate_ratio: 78.0,
                spread: 17,
            }],
            path_divergences: vec![crate::evidence::paths::PathDivergence {
                service: "ts-contacts-service".into(),
                weight: 12.5,
                requests: 11,
                compared: 40,
                example: Some(crate::evidence::paths::PathExample {
                    last_usual: Some("findContactsById <*>".into()),
                    unexpected: None,
                    expected: Some("reply <*>".into()),
                }),
            }],
            missing_steps: vec![crate::evidence::paths::MissingStep {
                service: "ts-price-service".into(),
                surprise: 5.3,
                expected: 34.2,
                seen: 0,
                after_service: "ts-travel-service".into(),
                after: "query price <*>".into(),
                step: "price found <*>".into(),
            }],
            latency: vec![LatencySuspect {
                service: "ts-travel-service".into(),
                ochiai: 0.82,
                slowed: vec![EdgeShift {
                    caller: "ts-travel-service".into(),
                    callee: "ts-route-service".into(),
                    baseline_ms: 12.0,
                    incident_ms: 840.5,
                    z: 31.0,
                    requests: 57,
                }],
                edges: 4,
            }],
            subject: Some(SubjectFindings {
                component: "node-3".into(),
                findings: vec![ResourceFinding {
                    resource: Resource::Disk,
                    metric: "node_disk_written_bytes_total".into(),
                    labels: BTreeMap::from([("device".into(), "vda".into())]),
                    rate: true,
                    baseline: 1.5e6,
                    peak: 9.8e7,
                    direction: Direction::Up,
                    effect: 64.0,
                    started_at: at("2023-01-29T08:41:00Z"),
                    series: 3,
                }],
            }),
            service_graph: Some(ServiceGraph {
                source: Some("tempo".into()),
                edges: 6,
                anomalous: vec![GraphEdgeShift {
                    client: "ts-travel-service".into(),
                    server: "ts-route-service".into(),
                    what: "latency".into(),
                    baseline: 0.012,
                    incident: 0.84,
                    z: 31.0,
                }],
                suspects: vec![GraphSuspect {
                    service: "ts-route-service".into(),
                    score: 1.0,
                    incoming: vec![],
                    reached_from_alert: true,
                }],
            }),
            suspects: vec![Suspect {
                component: "ts-contacts-service".into(),
                kind: ComponentKind::Service,
                score: 0.75,
                reasons: vec!["first error of 19 failing requests".into()],
                first_anomaly_at: None,
                pods: vec![],
                lead: Some(EvidenceKind::Origins),
            }],
            log_lines: 10230,
            series: 879,
            templates_total: 176,
            coverage: Coverage {
                first_data_at: Some(at("2023-01-29T08:20:00Z")),
                last_data_at: Some(at("2023-01-29T08:54:00Z")),
                series_judged: 850,
                series_without_baseline: 29,
                counters_as_rates: 120,
                duplicate_series: 4,
                trace_lines: 2400,
                planned_baseline_start: Some(at("2023-01-29T08:00:00Z")),
            },
            memory: None,
        };
        a.evidence = serde_json::to_value(&evidence).unwrap();
        a.window = json!({
            "baseline_start": "2023-01-29T08:09:04Z",
            "incident_start": "2023-01-29T08:39:04Z",
            "incident_end": "2023-01-29T08:54:04Z",
            "alert_start": "2023-01-29T08:44:04Z",
        });
        a.sources = json!([{
            "name": "logs", "type": "elk", "queries": ["logs-* _search"], "rows": 10230,
            "ms": 224, "truncated": false, "notes": [], "error": null,
        }]);
        a
    }

    #[test]
    fn the_engine_evidence_reads_as_the_view() {
        let v = AnalysisView::from(stored());
        let out = serde_json::to_value(&v).unwrap();
        let again: AnalysisView = serde_json::from_value(out.clone()).unwrap();
        assert_eq!(again, v);
        let e = v.evidence.expect("evidence");
        assert_eq!(
            (e.log_lines, e.series, e.templates_total),
            (10230, 879, 176)
        );
        let t = &e.log_templates[0];
        assert_eq!((t.id, t.incident_count, t.baseline_count), (139, 19, 0));
        assert_eq!(t.merged_ids, vec![140]);
        assert_eq!(t.max_level, LogLevelName::Error);
        assert!(t.is_bursting && t.is_error_level && !t.is_new);
        assert_eq!(t.services[0].service, "ts-contacts-service");
        assert_eq!(t.burst_p_value, Some(8.6e-10));
        let m = &e.metric_shifts[0];
        assert_eq!(m.direction, ShiftDirection::Up);
        assert_eq!(m.labels["pod"], "ts-contacts-1");
        assert_eq!(m.points.len(), 2);
        assert_eq!(m.points[1].value, 0.9);
        assert_eq!(m.points[1].at, at("2023-01-29T08:43:00Z"));
        assert_eq!(e.error_origins[0].incident, 19);
        let p = &e.path_divergences[0];
        assert_eq!((p.requests, p.compared), (11, 40));
        let ex = p.example.as_ref().unwrap();
        assert_eq!(ex.last_usual.as_deref(), Some("findContactsById <*>"));
        assert_eq!(ex.unexpected, None);
        let m = &e.missing_steps[0];
        assert_eq!(
            (
                m.service.as_str(),
                m.seen,
                m.after_service.as_str(),
                m.step.as_str()
            ),
            (
                "ts-price-service",
                0,
                "ts-travel-service",
                "price found <*>"
            )
        );
        assert_eq!(e.suspects[0].kind, SuspectKind::Service);
        assert_eq!(e.suspects[0].lead, Some(EvidenceKindName::Origins));
        let l = &e.latency[0];
        assert_eq!(
            (l.service.as_str(), l.ochiai, l.edges),
            ("ts-travel-service", 0.82, 4)
        );
        let step = &l.slowed[0];
        assert_eq!(
            (step.caller.as_str(), step.callee.as_str(), step.requests),
            ("ts-travel-service", "ts-route-service", 57)
        );
        assert_eq!(
            (step.baseline_ms, step.incident_ms, step.z),
            (12.0, 840.5, 31.0)
        );
        let s = e.subject.as_ref().expect("subject");
        assert_eq!(s.component, "node-3");
        let f = &s.findings[0];
        assert_eq!(
            (f.resource, f.rate, f.series),
            (ResourceName::Disk, true, 3)
        );
        assert_eq!((f.baseline, f.peak, f.effect), (1.5e6, 9.8e7, 64.0));
        assert_eq!(f.direction, ShiftDirection::Up);
        assert_eq!(f.labels["device"], "vda");
        assert_eq!(f.started_at, at("2023-01-29T08:41:00Z"));
        assert_eq!(
            e.coverage,
            Some(CoverageView {
                first_data_at: Some(at("2023-01-29T08:20:00Z")),
                last_data_at: Some(at("2023-01-29T08:54:00Z")),
                series_judged: 850,
                series_without_baseline: 29,
                counters_as_rates: 120,
                duplicate_series: 4,
                trace_lines: Some(2400),
                planned_baseline_start: Some(at("2023-01-29T08:00:00Z")),
            })
        );
        let g = e.service_graph.as_ref().expect("service graph");
        assert_eq!((g.source.as_deref(), g.edges), (Some("tempo"), 6));
        let edge = &g.anomalous[0];
        assert_eq!(
            (edge.client.as_str(), edge.server.as_str(), edge.what),
            (
                "ts-travel-service",
                "ts-route-service",
                GraphEdgeWhat::Latency
            )
        );
        assert_eq!((edge.baseline, edge.incident, edge.z), (0.012, 0.84, 31.0));
        assert_eq!(g.suspects[0].service, "ts-route-service");
        assert!(g.suspects[0].reached_from_alert);
        assert_eq!(
            out["evidence"]["service_graph"]["anomalous"][0]["what"],
            json!("latency")
        );
        assert_eq!(
            out["evidence"]["subject"]["findings"][0]["resource"],
            json!("disk")
        );
        assert_eq!(out["evidence"]["suspects"][0]["lead"], json!("origins"));
        assert_eq!(e.window.unwrap().incident_start, at("2023-01-29T08:39:04Z"));
        assert_eq!(v.window.unwrap().alert_start, at("2023-01-29T08:44:04Z"));
        assert_eq!(v.sources[0].kind, "elk");
        assert_eq!(v.sources[0].rows, 10230);
        // Points are shown as objects (and read back, above).
        assert_eq!(
            out["evidence"]["metric_shifts"][0]["points"][0],
            json!({"at": "2023-01-29T08:40:00Z", "value": 0.2})
        );
    }

    #[test]
    fn odd_stored_parts_are_left_out_not_fatal() {
        let mut a = stored();
        a.window = json!("tomorrow");
        a.result = Some(json!({"summary": 3}));
        a.sources = json!([{"name": "x"}, a.sources[0].clone()]);
        a.evidence["log_templates"][0]["max_level"] = json!("emergency");
        a.evidence["metric_shifts"] = json!([{"metric": "broken"}]);
        a.evidence["metric_shifts"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::to_value(&stored().evidence["metric_shifts"][0]).unwrap());
        a.evidence["metric_shifts"][1]["points"][0] = json!(["2023-01-29T08:40:00Z", null]);
        a.evidence["suspects"] = json!({"not": "a list"});
        a.evidence["subject"]["findings"][0]["resource"] = json!("gpu");
        a.evidence["subject"]["findings"]
            .as_array_mut()
            .unwrap()
            .push(json!({"resource": "cpu"}));
        a.evidence["latency"][0]["slowed"][0]["requests"] = json!("many");
        a.evidence["coverage"] = json!("full");
        a.evidence["service_graph"]["anomalous"][0]["what"] = json!("jitter");
        a.evidence["service_graph"]["anomalous"]
            .as_array_mut()
            .unwrap()
            .push(json!({"client": "a", "server": "b", "what": "errors"}));
        a.evidence["service_graph"]["suspects"] = json!("none");
        let v = AnalysisView::from(a);
        assert!(v.window.is_none());
        assert!(v.result.is_none());
        assert_eq!(v.sources.len(), 1);
        let e = v.evidence.unwrap();
        assert_eq!(e.log_templates[0].max_level, LogLevelName::Unknown);
        assert_eq!(e.metric_shifts.len(), 1);
        assert_eq!(e.metric_shifts[0].points.len(), 1);
        assert!(e.suspects.is_empty());
        // An unknown resource reads as "other"; a finding without its figures is left out.
        let s = e.subject.unwrap();
        assert_eq!(s.findings.len(), 1);
        assert_eq!(s.findings[0].resource, ResourceName::Other);
        assert!(e.latency[0].slowed.is_empty());
        assert_eq!(e.coverage, None);
        // An unknown edge kind reads as "other"; an edge without its figures is left out.
        let g = e.service_graph.unwrap();
        assert_eq!(g.anomalous.len(), 1);
        assert_eq!(g.anomalous[0].what, GraphEdgeWhat::Other);
        assert!(g.suspects.is_empty());

        // Analyses stored before these kinds existed: none of them, and an unknown
        // lead leaves the suspect in place without one.
        let mut old = stored();
        for k in ["latency", "subject", "coverage", "service_graph"] {
            old.evidence.as_object_mut().unwrap().remove(k);
        }
        old.evidence["suspects"][0]["lead"] = json!("astrology");
        let e = AnalysisView::from(old).evidence.unwrap();
        assert!(e.latency.is_empty() && e.subject.is_none() && e.coverage.is_none());
        assert!(e.service_graph.is_none());
        assert_eq!(e.suspects.len(), 1);
        assert_eq!(e.suspects[0].lead, None);
        // A coverage stored before trace lines were counted says nothing about them.
        let mut older = stored();
        for k in ["trace_lines", "planned_baseline_start"] {
            older.evidence["coverage"]
                .as_object_mut()
                .unwrap()
                .remove(k);
        }
        older.evidence["suspects"][0]["lead"] = json!("graph");
        let e = AnalysisView::from(older).evidence.unwrap();
        let c = e.coverage.unwrap();
        assert_eq!((c.trace_lines, c.planned_baseline_start), (None, None));
        assert_eq!(c.series_judged, 850);
        assert_eq!(e.suspects[0].lead, Some(EvidenceKindName::Graph));

        let mut empty = stored();
        empty.evidence = Value::Null;
        empty.window = Value::Null;
        let v = AnalysisView::from(empty);
        assert!(v.evidence.is_none() && v.window.is_none());
        let mut junk = stored();
        junk.evidence = json!([1, 2]);
        assert!(AnalysisView::from(junk).evidence.is_none());
    }
}
