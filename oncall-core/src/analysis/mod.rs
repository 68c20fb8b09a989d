//! Analyses: the stored record of one alert's investigation and its life cycle
//! (SPEC §5: `pending → collecting → analyzing → completed | failed`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};

pub mod alert_query;
pub mod pipeline;
pub mod reduce;
pub mod statistical;
pub mod window;
mod worker;

pub use worker::{MAX_ATTEMPTS, Workers};

/// Where an analysis is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum AnalysisStatus {
    /// Accepted, waiting for a worker.
    Pending,
    /// Pulling logs and metrics from the data sources.
    Collecting,
    /// Reducing evidence and naming the root cause.
    Analyzing,
    /// Done, with a result.
    Completed,
    /// Ended without a result; `error` says why.
    Failed,
}

impl AnalysisStatus {
    /// Every status, in life order.
    pub const ALL: [AnalysisStatus; 5] = [
        AnalysisStatus::Pending,
        AnalysisStatus::Collecting,
        AnalysisStatus::Analyzing,
        AnalysisStatus::Completed,
        AnalysisStatus::Failed,
    ];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisStatus::Pending => "pending",
            AnalysisStatus::Collecting => "collecting",
            AnalysisStatus::Analyzing => "analyzing",
            AnalysisStatus::Completed => "completed",
            AnalysisStatus::Failed => "failed",
        }
    }

    /// True for `completed` and `failed`.
    pub fn is_final(self) -> bool {
        matches!(self, AnalysisStatus::Completed | AnalysisStatus::Failed)
    }
}

impl std::str::FromStr for AnalysisStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        AnalysisStatus::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
            Error::invalid(
                "status",
                format!("`{s}` is not an analysis status (pending, collecting, analyzing, completed, failed)"),
            )
        })
    }
}

/// A step of an analysis, as reported to whoever watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum Stage {
    /// A worker took the analysis and parsed the alert.
    Parsed,
    /// Querying one data source (the message names it).
    Collecting,
    /// One data source answered (or failed; the message says).
    Collected,
    /// Mining log templates and metric shifts.
    Reducing,
    /// Naming the root cause.
    Analyzing,
    /// Finished with a result.
    Done,
    /// Finished without a result; the message says why.
    Failed,
}

impl Stage {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Parsed => "parsed",
            Stage::Collecting => "collecting",
            Stage::Collected => "collected",
            Stage::Reducing => "reducing",
            Stage::Analyzing => "analyzing",
            Stage::Done => "done",
            Stage::Failed => "failed",
        }
    }

    /// True for `done` and `failed`: nothing follows.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Done | Stage::Failed)
    }
}

impl std::str::FromStr for Stage {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [
            Stage::Parsed,
            Stage::Collecting,
            Stage::Collected,
            Stage::Reducing,
            Stage::Analyzing,
            Stage::Done,
            Stage::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| Error::invalid("stage", format!("`{s}` is not an analysis stage")))
    }
}

/// One progress event of an analysis, numbered from 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AnalysisEvent {
    /// 1, 2, 3, ... within the analysis.
    pub seq: i64,
    /// Which step.
    pub stage: Stage,
    /// What happened, for people.
    pub message: String,
    /// Details (source name, rows, milliseconds, ...).
    pub data: Option<Value>,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// An analysis a worker holds the lease of.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedAnalysis {
    /// The analysis as stored when claimed.
    pub analysis: Analysis,
    /// How many times a worker has claimed it, this time included.
    pub attempts: i64,
}

/// One analysis as stored. The structured parts (parsed alert, window, per-source
/// collection results, evidence, result, usage) are JSON documents whose shapes are
/// owned by the pipeline stages that write them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct Analysis {
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
    /// The parsed alert.
    pub alert: Value,
    /// The time window looked at.
    pub window: Value,
    /// Per data source: query sent, rows seen, time taken, error.
    pub sources: Value,
    /// Log templates, metric shifts and suspects.
    pub evidence: Value,
    /// The root-cause result (SPEC §5 shape), once there is one.
    pub result: Option<Value>,
    /// Why it failed, or what went wrong on the way (partial results).
    pub error: Option<String>,
    /// `statistical` or the LLM model name.
    pub analyzer: Option<String>,
    /// Token counts and timings.
    pub usage: Option<Value>,
    /// Email of the submitter (or `webhook:<name>`).
    pub created_by: String,
    /// When it was accepted (UTC).
    pub created_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    pub completed_at: Option<DateTime<Utc>>,
    /// 1 for the first run, one more for each time it was run again; earlier runs
    /// are kept as [`AnalysisRevision`]s.
    #[serde(default = "first_revision")]
    pub revision: i64,
    /// When a worker runs it again: set on a webhook's analysis that completed
    /// before its incident window had filled ([`refresh_time`]); `None`: never.
    #[serde(default)]
    pub refresh_at: Option<DateTime<Utc>>,
}

fn first_revision() -> i64 {
    1
}

/// An earlier run of an analysis, kept when the analysis was run again: what the
/// analysis held when the new run began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AnalysisRevision {
    /// Which run (1 = the first).
    pub revision: i64,
    /// The time window looked at.
    pub window: Value,
    /// Per data source: query sent, rows seen, time taken, error.
    pub sources: Value,
    /// Log templates, metric shifts and suspects.
    pub evidence: Value,
    /// The root-cause result of that run.
    pub result: Option<Value>,
    /// Notes or the failure of that run.
    pub error: Option<String>,
    /// `statistical` or the LLM model name.
    pub analyzer: Option<String>,
    /// Token counts and timings.
    pub usage: Option<Value>,
    /// When that run started.
    pub started_at: Option<DateTime<Utc>>,
    /// When that run ended.
    pub completed_at: Option<DateTime<Utc>>,
}

/// Slack after the incident window's end before an analysis is run again: the
/// last scrape interval and the log pipeline's delay (shippers batch for seconds to
/// tens of seconds; a minute covers the usual Prometheus scrape and Promtail/Filebeat
/// flush intervals).
pub const REFRESH_LAG: chrono::Duration = chrono::Duration::seconds(60);

/// When a completed analysis should be run again, if at all: a webhook's analysis
/// (the alert arrives as it fires, so the incident window is still filling) whose
/// first run completed before its incident window ended is run again once the
/// window has filled, plus [`REFRESH_LAG`]. A person's submission is not (they
/// chose the moment), nor is a refresh (its window has filled).
pub fn refresh_time(
    analysis: &Analysis,
    incident_end: DateTime<Utc>,
    completed_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    (analysis.revision == 1
        && analysis.created_by.starts_with("webhook:")
        && completed_at < incident_end)
        .then_some(incident_end + REFRESH_LAG)
}

impl Analysis {
    /// A new `pending` analysis of `raw_alert`, with empty evidence.
    pub fn pending(title: String, raw_alert: String, options: Value, created_by: String) -> Self {
        Analysis {
            id: Uuid::now_v7(),
            status: AnalysisStatus::Pending,
            title,
            raw_alert,
            options,
            alert: Value::Null,
            window: Value::Null,
            sources: Value::Array(vec![]),
            evidence: Value::Null,
            result: None,
            error: None,
            analyzer: None,
            usage: None,
            created_by,
            created_at: Utc::now(),
            started_at: None,
            completed_at: None,
            revision: 1,
            refresh_at: None,
        }
    }
}

/// Characters of the raw alert an [`AnalysisSummary`] carries.
pub const ALERT_PREVIEW_CHARS: usize = 300;

/// One row of the analysis history: what a list shows, without the evidence,
/// per-source reports and result documents of the full analysis (tens of kB each),
/// and with only the start of the raw alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AnalysisSummary {
    /// Generated in the application (UUID v7).
    pub id: Uuid,
    /// Life-cycle state.
    pub status: AnalysisStatus,
    /// A one-line description for lists and search (alert name or first line).
    pub title: String,
    /// The first 300 characters of the alert as submitted.
    pub raw_alert_preview: String,
    /// Why it failed, or what went wrong on the way (partial results).
    pub error: Option<String>,
    /// `statistical` or the LLM model name.
    pub analyzer: Option<String>,
    /// Email of the submitter (or `webhook:<name>`).
    pub created_by: String,
    /// When it was accepted (UTC).
    pub created_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    pub completed_at: Option<DateTime<Utc>>,
    /// When the alert started, once a worker parsed it.
    pub alert_start: Option<DateTime<Utc>>,
    /// The services the alert names, once parsed.
    pub services: Vec<String>,
    /// The pods, instances and hosts the alert names, once parsed.
    pub instances: Vec<String>,
    /// Submission to the final state, in milliseconds, once final.
    pub duration_ms: Option<u64>,
}

impl AnalysisSummary {
    /// Fills the alert's start, services and instances from the stored parsed alert
    /// (`null` until a worker parsed it) and the duration from the times.
    pub fn with_alert(mut self, alert: &Value) -> Self {
        if let Ok(a) = serde_json::from_value::<crate::alert::Alert>(alert.clone()) {
            self.alert_start = Some(a.starts_at);
            let s = a.scope;
            self.services = s.services;
            self.instances = s.pods;
            for more in [s.instances, s.hosts, s.ips] {
                for v in more {
                    if !self.instances.contains(&v) {
                        self.instances.push(v);
                    }
                }
            }
        }
        self.duration_ms = self
            .completed_at
            .and_then(|c| u64::try_from((c - self.created_at).num_milliseconds()).ok());
        self
    }
}
