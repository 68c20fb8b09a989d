//! Alerts: what an analysis starts from. Parses Alertmanager (webhook v4) and
//! Grafana unified-alerting notifications, a single Prometheus alert object, and
//! free text in Chinese or English into one [`Alert`], with a confidence for each
//! field it extracted.
//!
//! [`parse`] is the entry point. The decisions it takes:
//!
//! * **Which alert.** A notification's first *firing* alert is parsed (else its
//!   first); [`Alert::alert_count`] says how many it carried. `endsAt` is kept for
//!   resolved alerts only.
//! * **Times.** Structured alerts: RFC 3339, Go's zero time `0001-01-01T00:00:00Z`
//!   is "unset". Free text: a time with no zone is **UTC**; `Z`, `+08:00`, `+0800`,
//!   `UTC+8`, `GMT-5`, `(UTC+8)` are honoured; `CST` and `北京时间` are **China
//!   Standard Time (UTC+8)**. A bare clock time (`10:32`) is today, or yesterday
//!   when today's would be more than 5 minutes ahead of `now`. `5 分钟前`,
//!   `半小时前`, `刚刚`, `5 minutes ago`, `an hour ago`, `just now` count back from
//!   `now`. No time at all means `now`.
//! * **Severity.** `P0`–`P3`, `sevN` → `P{N}` (capped at P3); P0 = words of an
//!   outage (`emergency`, `fatal`, `disaster`, `blocker`, `page`, `紧急`, `致命`,
//!   `灾难`); P1 = `critical`, `high`, `major`, `error`, `严重`, `重要`; P2 =
//!   `warning`, `medium`, `minor`, `警告`, `一般`; P3 = `info`, `low`, `notice`,
//!   `提示`, `通知`, `信息`. In free text only unambiguous words count
//!   (`critical`, `warning`, `严重`, `警告`, ... — not `high` or `error`) and the
//!   most urgent one wins.
//! * **Names.** Services, pods, hosts, instances and namespaces come from labels
//!   (`namespace`, `job`, `service`/`app`/`app_kubernetes_io_name`/`container`/
//!   `deployment`, `pod`/`pod_name`, `instance`, `host`/`hostname`/`node`/
//!   `nodename`), from `key=value` pairs in text, and otherwise only from
//!   [`KnownNames`] (whole tokens, ignoring case, plus the service prefix of a known
//!   pod). IP addresses, `host:port` instances and dotted host names are read by
//!   their shape. At most 32 values per scope list, 64 labels from text.
//! * **Confidence.** 1.0 for fields read from structured JSON; 0.9 for a text
//!   time with a zone, 0.8 without (or with `CST`), 0.75 for a clock time, 0.7 for
//!   a relative time, 0.3 for "now" by default; 0.8 for label pairs, IPs and
//!   instances in text; 0.85 for `P1`/`sev2` codes, 0.6 for severity words; 0.6 for
//!   names matched from [`KnownNames`] and host names read by shape, 0.5 for
//!   derived matches. A list field's confidence is that of its surest value.
//! * **Fingerprint.** Alertmanager's when given, else [`labels_fingerprint`]
//!   (Prometheus' own label-set hash), or for text without labels a hash of its
//!   words.
//!
//! The details live in the private modules `structured`, `text`, `time`,
//! `severity`, `names` and `scope`.

mod fingerprint;
mod input;
pub(crate) mod names;
mod scope;
mod severity;
mod structured;
mod text;
mod time;

pub use fingerprint::labels_fingerprint;
pub use input::parse;
pub(crate) use scope::instance_host;

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
