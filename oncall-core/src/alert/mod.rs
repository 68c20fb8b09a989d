//! Alerts: what an analysis starts from. Parses Alertmanager (webhook v4) and
//! Grafana unified-alerting notifications, a single Prometheus alert object, and
//! free text in Chinese or English into one [`Alert`], with a confidence for each
//! field it extracted.
//!
//! [`parse`] is the entry point. How each part is read, and the decisions taken
//! (naive times are UTC, `CST` is China Standard Time, which words mean which
//! severity), are documented on the modules: `structured` (webhooks), `text`
//! (free text), `time`, `severity`, `names` (matching [`KnownNames`]) and
//! [`labels_fingerprint`].

mod fingerprint;
mod input;
mod names;
mod scope;
mod severity;
mod structured;
mod text;
mod time;

pub use fingerprint::labels_fingerprint;
pub use input::parse;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::tickets::Severity;

/// The language an alert is written in (drives the result's language by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Chinese.
    Zh,
    /// English.
    En,
}

/// Where the alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertFormat {
    /// Alertmanager webhook (version 4).
    Alertmanager,
    /// Grafana unified alerting webhook.
    Grafana,
    /// One Prometheus/Alertmanager alert object (`labels`, `annotations`, `startsAt`).
    PrometheusAlert,
    /// Free text.
    Text,
}

/// What the alert is about: the components named in its labels or text.
/// Values are deduplicated, in order of appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// Prometheus job.
    pub job: Option<String>,
    /// Services (or apps).
    pub services: Vec<String>,
    /// Pods.
    pub pods: Vec<String>,
    /// Prometheus `instance` values (`host:port`).
    pub instances: Vec<String>,
    /// Host names.
    pub hosts: Vec<String>,
    /// IP addresses.
    pub ips: Vec<String>,
}

/// How sure the parser is of each field it filled, 0..1 (1 = read from a
/// structured field; lower = inferred from text). Keyed by field name
/// (`starts_at`, `severity`, `services`, ...).
pub type Confidence = BTreeMap<String, f64>;

/// One alert, whatever format it came in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Input format.
    pub format: AlertFormat,
    /// Alert name (`alertname` label, Grafana rule title, or the first words of the text).
    pub name: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Urgency, if the alert says.
    pub severity: Option<Severity>,
    /// When it started; "now" when the alert does not say.
    pub starts_at: DateTime<Utc>,
    /// When it ended, for resolved alerts.
    pub ends_at: Option<DateTime<Utc>>,
    /// Labels (for text alerts: `key=value` pairs found in the text).
    pub labels: BTreeMap<String, String>,
    /// Annotations (summary, description, runbook_url, ...).
    pub annotations: BTreeMap<String, String>,
    /// Components the alert names.
    pub scope: Scope,
    /// Summary line for people (annotation `summary`/`description`, or the text).
    pub summary: String,
    /// Alertmanager fingerprint, or a stable hash of the labels.
    pub fingerprint: String,
    /// Link to the rule that fired.
    pub generator_url: Option<String>,
    /// Language of the text (annotations for structured alerts).
    pub language: Language,
    /// How many alerts the notification carried (the first firing one is parsed).
    pub alert_count: usize,
    /// Confidence per extracted field.
    pub confidence: Confidence,
}

/// Names the configured data sources know (label values discovered from them),
/// so free text is matched against real services, pods and hosts, never guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownNames {
    /// Known service/app names.
    pub services: Vec<String>,
    /// Known pod names.
    pub pods: Vec<String>,
    /// Known hosts / nodes.
    pub hosts: Vec<String>,
    /// Known Prometheus instances.
    pub instances: Vec<String>,
    /// Known namespaces.
    pub namespaces: Vec<String>,
}
