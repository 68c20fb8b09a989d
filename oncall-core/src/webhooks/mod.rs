//! Alert intake: webhook endpoints that Alertmanager and Grafana post their
//! notifications to, their tokens, and how a notification is split into alerts and
//! deduplicated.
//!
//! The rules, applied per endpoint (see [`crate::store::WebhookStore::ingest_alerts`]):
//!
//! * **Dedup.** An alert is identified by its fingerprint (Alertmanager's
//!   `fingerprint`, else the stable hash of its labels). A firing alert whose
//!   fingerprint was seen within the endpoint's window (default 30 minutes, counted
//!   from the last time it was seen) joins that analysis as one more occurrence.
//! * **Groups.** With grouping on (the default), all firing alerts of one group
//!   (Alertmanager's / Grafana's `groupKey`, else the group labels) within the window
//!   share one analysis of the group: a storm of N alerts is one analysis, not N.
//! * **Resolved** alerts are recorded on the analysis their fingerprint belongs to
//!   (any age) and in the history of that analysis' tickets.
//! * Every alert accepted is stored as an occurrence, whether or not it started an
//!   analysis (auto-analysis off, severity filtered out).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::alert::{self, KnownNames};
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::tickets::Severity;

/// Default deduplication window, minutes.
pub const DEFAULT_DEDUP_WINDOW_MINUTES: u32 = 30;
/// Most alerts one notification may carry.
pub const MAX_ALERTS_PER_NOTIFICATION: usize = 1000;
/// Prefix of every webhook token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "owh_";

/// Which sender an endpoint receives from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum WebhookKind {
    /// Prometheus Alertmanager, `webhook_config` (payload version 4).
    Alertmanager,
    /// Grafana unified alerting, webhook contact point.
    Grafana,
}

impl WebhookKind {
    /// The stored name, also the receiver's path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Alertmanager => "alertmanager",
            WebhookKind::Grafana => "grafana",
        }
    }
}

impl std::str::FromStr for WebhookKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "alertmanager" => Ok(WebhookKind::Alertmanager),
            "grafana" => Ok(WebhookKind::Grafana),
            _ => Err(Error::invalid("kind", "must be alertmanager or grafana")),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_window() -> u32 {
    DEFAULT_DEDUP_WINDOW_MINUTES
}

/// What an endpoint does with the alerts it receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct WebhookOptions {
    /// Start analyses for firing alerts (default true); off, alerts are only recorded.
    #[serde(default = "default_true")]
    #[cfg_attr(feature = "openapi", oai(default = "default_true"))]
    pub auto_analyze: bool,
    /// Analyse only alerts of these severities (empty: all, including alerts
    /// without a severity).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", oai(default))]
    pub severities: Vec<Severity>,
    /// Use the LLM agent for these analyses (default: when one is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<bool>,
    /// Language of the results, `zh` or `en` (default: the alert's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Minutes within which the same alert (or group) joins the existing analysis,
    /// 1..=10080 (default 30).
    #[serde(default = "default_window")]
    #[cfg_attr(feature = "openapi", oai(default = "default_window"))]
    pub dedup_window_minutes: u32,
    /// One analysis per alert group rather than per alert (default true).
    #[serde(default = "default_true")]
    #[cfg_attr(feature = "openapi", oai(default = "default_true"))]
    pub group_alerts: bool,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            auto_analyze: true,
            severities: Vec::new(),
            llm: None,
            language: None,
            dedup_window_minutes: DEFAULT_DEDUP_WINDOW_MINUTES,
            group_alerts: true,
        }
    }
}

impl WebhookOptions {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if let Some(l) = &self.language
            && !matches!(l.as_str(), "zh" | "en")
        {
            return Err(Error::invalid("options.language", "must be zh or en"));
        }
        if !(1..=10_080).contains(&self.dedup_window_minutes) {
            return Err(Error::invalid(
                "options.dedup_window_minutes",
                "must be 1..=10080",
            ));
        }
        Ok(())
    }

    /// True when an alert of `severity` should start (or join) an analysis.
    pub fn analyses(&self, severity: Option<Severity>) -> bool {
        self.auto_analyze
            && (self.severities.is_empty()
                || severity.is_some_and(|s| self.severities.contains(&s)))
    }
}

/// A receiving endpoint as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Id (UUID v7); part of the receiver URL.
    pub id: Uuid,
    /// Unique display name; analyses it starts are created by `webhook:<name>`.
    pub name: String,
    /// Sender.
    pub kind: WebhookKind,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// What it does with alerts.
    pub options: WebhookOptions,
    /// Disabled endpoints refuse notifications (401).
    pub enabled: bool,
    /// Email of the admin who created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it last accepted a notification.
    pub last_received_at: Option<DateTime<Utc>>,
}

/// A new random token: [`TOKEN_PREFIX`] and 256 random bits, base64url.
pub fn new_token() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    // A v4 UUID carries 122 random bits; two of them, 244 — plenty for a bearer token.
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token: SHA-256, hex. Tokens are long random strings, so a
/// fast hash is enough (no dictionary to guess from).
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` hashes to `stored`, compared in constant time.
pub fn token_matches(token: &str, stored: &str) -> bool {
    let given = token_hash(token);
    let (a, b) = (given.as_bytes(), stored.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One alert of a notification, read enough to deduplicate it.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingAlert {
    /// Alertmanager's fingerprint, or the stable hash of the labels.
    pub fingerprint: String,
    /// Alert name.
    pub name: String,
    /// `firing` (true) or `resolved`.
    pub firing: bool,
    /// Severity, when the alert says.
    pub severity: Option<Severity>,
    /// The alert object as received.
    pub payload: String,
    /// The analysis to start if it joins none (`None`: record only).
    pub analysis: Option<Analysis>,
}

/// A notification ready to be stored: its alerts and the group they belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertBatch {
    /// The endpoint.
    pub webhook_id: Uuid,
    /// `webhook:<name>`, the actor of ticket history entries.
    pub actor: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Keys last seen before this are closed (received_at minus the window).
    pub window_start: DateTime<Utc>,
    /// The group's key (`group:<hash>`), when grouping is on.
    pub group_key: Option<String>,
    /// The alerts, in notification order.
    pub alerts: Vec<IncomingAlert>,
    /// Pending analyses the batch may leave at most: one that would start more
    /// than that is stored not at all ([`crate::Error::RateLimited`]). `None`: no limit.
    pub backlog_limit: Option<u64>,
}

/// What became of one alert of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "analysis_id", rename_all = "snake_case")]
pub enum AlertOutcome {
    /// Started this new analysis.
    Started(Uuid),
    /// The same alert was seen within the window: joined its analysis.
    Duplicate(Uuid),
    /// Another alert of its group was seen within the window: joined the group's.
    Grouped(Uuid),
    /// A resolved notification, recorded on the analysis of its alert if any.
    Resolved(Option<Uuid>),
    /// Stored without an analysis (auto-analysis off or severity filtered out).
    Recorded,
}

impl AlertOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertOutcome::Started(_) => "started",
            AlertOutcome::Duplicate(_) => "duplicate",
            AlertOutcome::Grouped(_) => "grouped",
            AlertOutcome::Resolved(_) => "resolved",
            AlertOutcome::Recorded => "recorded",
        }
    }

    /// The analysis the alert went to.
    pub fn analysis_id(self) -> Option<Uuid> {
        match self {
            AlertOutcome::Started(id) | AlertOutcome::Duplicate(id) | AlertOutcome::Grouped(id) => {
                Some(id)
            }
            AlertOutcome::Resolved(id) => id,
            AlertOutcome::Recorded => None,
        }
    }
}

/// A notification split into its alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitNotification {
    /// `group:<hash>` of `groupKey` (else of `groupLabels`), if the notification has one.
    pub group_key: Option<String>,
    /// Per alert: the alert parsed on its own, and the alert object as received.
    pub alerts: Vec<(alert::Alert, Value)>,
}

/// Splits a webhook notification into its alerts and reads each one (labels
/// completed with the common ones, fingerprint, status, severity).
///
/// # Errors
/// [`Error::Invalid`] when the body is not a notification object with a non-empty
/// `alerts` array, has more than [`MAX_ALERTS_PER_NOTIFICATION`] alerts, or an alert
/// does not parse.
pub fn split_notification(body: &Value, now: DateTime<Utc>) -> Result<SplitNotification> {
    let Value::Object(top) = body else {
        return Err(Error::invalid(
            "body",
            "must be the webhook notification JSON object",
        ));
    };
    let alerts = match top.get("alerts") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => {
            return Err(Error::invalid(
                "alerts",
                "must be a non-empty array of alerts",
            ));
        }
    };
    if alerts.len() > MAX_ALERTS_PER_NOTIFICATION {
        return Err(Error::TooLarge(format!(
            "{} alerts in one notification; the limit is {MAX_ALERTS_PER_NOTIFICATION}",
            alerts.len()
        )));
    }
    let envelope: Map<String, Value> = top
        .iter()
        .filter(|(k, _)| k.as_str() != "alerts")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let known = KnownNames::default();
    let mut out = Vec::with_capacity(alerts.len());
    for (i, a) in alerts.iter().enumerate() {
        let mut one = envelope.clone();
        one.insert("alerts".into(), Value::Array(vec![a.clone()]));
        let parsed = alert::parse(&Value::Object(one), &known, now).map_err(|e| match e {
            Error::Invalid { field, message } => Error::Invalid {
                field: Some(match field {
                    Some(f) => f.replacen("alerts[0]", &format!("alerts[{i}]"), 1),
                    None => format!("alerts[{i}]"),
                }),
                message,
            },
            other => other,
        })?;
        out.push((parsed, a.clone()));
    }
    let group_key = match top.get("groupKey").and_then(Value::as_str) {
        Some(k) if !k.is_empty() => Some(k.to_owned()),
        _ => top
            .get("groupLabels")
            .and_then(Value::as_object)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let labels: BTreeMap<String, String> = l
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect();
                format!("labels:{}", alert::labels_fingerprint(&labels))
            }),
    };
    let group_key = group_key.map(|k| {
        let key = BTreeMap::from([("groupKey".to_owned(), k)]);
        format!("group:{}", alert::labels_fingerprint(&key))
    });
    Ok(SplitNotification {
        group_key,
        alerts: out,
    })
}

/// The deduplication key of a fingerprint.
pub fn fingerprint_key(fingerprint: &str) -> String {
    let fp: String = fingerprint.chars().take(80).collect();
    format!("fp:{fp}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_checked_by_hash() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() > 40, "{a}");
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&a[4..]));
        assert!(token_matches(&a, &h));
        assert!(!token_matches(&b, &h));
        assert!(!token_matches("", &h));
    }

    #[test]
    fn options_default_and_filter() {
        let o: WebhookOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(o, WebhookOptions::default());
        assert!(o.auto_analyze && o.group_alerts);
        assert_eq!(o.dedup_window_minutes, 30);
        assert!(o.analyses(None));
        let only_p1 = WebhookOptions {
            severities: vec![Severity::P0, Severity::P1],
            ..WebhookOptions::default()
        };
        assert!(only_p1.analyses(Some(Severity::P1)));
        assert!(!only_p1.analyses(Some(Severity::P2)));
        assert!(!only_p1.analyses(None));
        let off = WebhookOptions {
            auto_analyze: false,
            ..WebhookOptions::default()
        };
        assert!(!off.analyses(Some(Severity::P0)));
        assert!(
            WebhookOptions {
                dedup_window_minutes: 0,
                ..WebhookOptions::default()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn notifications_split_into_alerts_with_a_group_key() {
        let now = Utc::now();
        let alert = |instance: &str, status: &str| {
            let labels = BTreeMap::from([
                ("alertname".to_owned(), "HighLatency".to_owned()),
                ("instance".to_owned(), instance.to_owned()),
            ]);
            serde_json::json!({
                "status": status, "labels": labels, "annotations": {},
                "startsAt": "2026-11-24T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": alert::labels_fingerprint(&labels),
            })
        };
        let n = serde_json::json!({
            "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "status": "firing",
            "receiver": "oncall", "groupLabels": {"alertname": "HighLatency"},
            "commonLabels": {"job": "api"}, "commonAnnotations": {},
            "alerts": [alert("web-1:9100", "firing"), alert("web-2:9100", "resolved")],
        });
        let s = split_notification(&n, now).unwrap();
        assert_eq!(s.alerts.len(), 2);
        assert!(s.group_key.as_deref().unwrap().starts_with("group:"));
        let (first, raw) = &s.alerts[0];
        assert_eq!(first.status, "firing");
        assert_eq!(first.labels["job"], "api");
        assert_eq!(first.fingerprint, raw["fingerprint"].as_str().unwrap());
        assert_eq!(s.alerts[1].0.status, "resolved");
        assert_ne!(first.fingerprint, s.alerts[1].0.fingerprint);

        let again = split_notification(&n, now).unwrap();
        assert_eq!(again.group_key, s.group_key, "stable");
        assert!(split_notification(&serde_json::json!({"alerts": []}), now).is_err());
        let bad = serde_json::json!({"alerts": [{"labels": "x"}]});
        let e = split_notification(&bad, now).unwrap_err();
        assert!(e.to_string().contains("alerts[0]"), "{e}");
    }
}
