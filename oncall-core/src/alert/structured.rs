//! Structured alerts: the Alertmanager webhook (version 4), the Grafana
//! unified-alerting webhook, a single Prometheus/Alertmanager alert object and an
//! array of them.
//!
//! Shapes, as their projects document them (Alertmanager `docs/configuration.md`
//! `<webhook_config>` and `template.Data`; Grafana `receivers/webhook` and
//! `templates.ExtendedData`):
//!
//! * Alertmanager: `{version: "4", groupKey, truncatedAlerts, status, receiver,
//!   groupLabels, commonLabels, commonAnnotations, externalURL, alerts: [{status,
//!   labels, annotations, startsAt, endsAt, generatorURL, fingerprint}]}`.
//! * Grafana: the same plus `orgId`, `title`, `state` (`alerting`/`ok`), `message`
//!   at the top and `silenceURL`, `dashboardURL`, `panelURL`, `values`,
//!   `valueString` (older versions), `orgId` per alert. A notification is taken for
//!   Grafana's when it has any of those fields.
//!
//! The first *firing* alert of the notification is parsed (else the first);
//! `alert_count` is the number of alerts it carried. Each alert's labels and
//! annotations are completed with the common ones. `endsAt` is kept only for a
//! resolved alert (a firing alert's `endsAt` is Alertmanager's resolve timeout, not
//! an end). Grafana's `values`, `valueString`, `dashboardURL` and `panelURL` are
//! kept as the annotations `values` (`B=44.24, C=1`), `value_string`,
//! `dashboard_url` and `panel_url`, unless the alert has annotations of those names.
//!
//! Fields read from the JSON have confidence 1.0; known names found in the
//! annotations' text 0.6 (0.5 for derived matches, see [`super::names`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::fingerprint::labels_fingerprint;
use super::names::{NameIndex, tokens};
use super::scope::ScopeBuilder;
use super::severity;
use super::text::{NAME_CHARS, SUMMARY_CHARS, cut, language_of};
use super::time::{json_kind, structured_time};
use super::{Alert, AlertFormat, Confidence, KnownNames};
use crate::error::{Error, Result};

/// Top-level fields only Grafana's webhook has.
const GRAFANA_FIELDS: &[&str] = &["orgId", "state", "title", "message"];
/// Per-alert fields only Grafana's webhook has.
const GRAFANA_ALERT_FIELDS: &[&str] = &[
    "values",
    "valueString",
    "dashboardURL",
    "panelURL",
    "silenceURL",
    "orgId",
];

/// What the notification around an alert says.
#[derive(Debug, Default)]
struct Group<'a> {
    status: Option<&'a str>,
    common_labels: BTreeMap<String, String>,
    common_annotations: BTreeMap<String, String>,
    /// Grafana's `title` and `message`.
    title: Option<&'a str>,
    message: Option<&'a str>,
}

/// A webhook notification (an object with `alerts`).
pub(crate) fn parse_notification(
    o: &Map<String, Value>,
    known: &KnownNames,
    now: DateTime<Utc>,
) -> Result<Alert> {
    let alerts = match o.get("alerts") {
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(Error::invalid(
                "alerts",
                format!("must be an array of alerts, got {}", json_kind(other)),
            ));
        }
        None => return Err(Error::invalid("alerts", "is missing")),
    };
    if alerts.is_empty() {
        return Err(Error::invalid(
            "alerts",
            "is empty: the notification carries no alert to analyse",
        ));
    }
    let objects = objects(alerts, "alerts")?;
    let grafana = GRAFANA_FIELDS.iter().any(|k| o.contains_key(*k))
        || objects
            .iter()
            .any(|a| GRAFANA_ALERT_FIELDS.iter().any(|k| a.contains_key(*k)));
    let group = Group {
        status: o.get("status").and_then(Value::as_str),
        common_labels: kv(o.get("commonLabels"), "commonLabels")?,
        common_annotations: kv(o.get("commonAnnotations"), "commonAnnotations")?,
        title: o
            .get("title")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty()),
        message: o
            .get("message")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty()),
    };
    let format = if grafana {
        AlertFormat::Grafana
    } else {
        AlertFormat::Alertmanager
    };
    let i = first_firing(&objects);
    parse_one(
        objects[i],
        &format!("alerts[{i}]"),
        format,
        &group,
        objects.len(),
        known,
        now,
    )
}

/// A single alert object (an object with `labels`).
pub(crate) fn parse_single(
    o: &Map<String, Value>,
    known: &KnownNames,
    now: DateTime<Utc>,
) -> Result<Alert> {
    parse_one(
        o,
        "alert",
        AlertFormat::PrometheusAlert,
        &Group::default(),
        1,
        known,
        now,
    )
}

/// An array of alert objects.
pub(crate) fn parse_array(
    items: &[Value],
    known: &KnownNames,
    now: DateTime<Utc>,
) -> Result<Alert> {
    if items.is_empty() {
        return Err(Error::invalid("alert", "the array of alerts is empty"));
    }
    let objects = objects(items, "alert")?;
    let i = first_firing(&objects);
    parse_one(
        objects[i],
        &format!("alert[{i}]"),
        AlertFormat::PrometheusAlert,
        &Group::default(),
        objects.len(),
        known,
        now,
    )
}

fn objects<'a>(items: &'a [Value], path: &str) -> Result<Vec<&'a Map<String, Value>>> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_object().ok_or_else(|| {
                Error::invalid(
                    format!("{path}[{i}]"),
                    format!("must be an alert object, got {}", json_kind(v)),
                )
            })
        })
        .collect()
}

fn first_firing(alerts: &[&Map<String, Value>]) -> usize {
    alerts
        .iter()
        .position(|a| {
            a.get("status")
                .or_else(|| a.get("state"))
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("firing"))
        })
        .unwrap_or(0)
}

/// A label or annotation set: an object of strings (numbers and booleans are
/// written as text, `null` values dropped). Missing or `null` is empty.
fn kv(v: Option<&Value>, path: &str) -> Result<BTreeMap<String, String>> {
    let o = match v {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(Error::invalid(
                path,
                format!("must be an object of strings, got {}", json_kind(other)),
            ));
        }
    };
    let mut out = BTreeMap::new();
    for (k, v) in o {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            other => {
                return Err(Error::invalid(
                    format!("{path}.{k}"),
                    format!("must be a string, got {}", json_kind(other)),
                ));
            }
        };
        out.insert(k.clone(), s);
    }
    Ok(out)
}

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn parse_one(
    o: &Map<String, Value>,
    path: &str,
    format: AlertFormat,
    group: &Group<'_>,
    alert_count: usize,
    known: &KnownNames,
    now: DateTime<Utc>,
) -> Result<Alert> {
    let mut confidence = Confidence::new();
    let mut labels = kv(o.get("labels"), &format!("{path}.labels"))?;
    for (k, v) in &group.common_labels {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut annotations = kv(o.get("annotations"), &format!("{path}.annotations"))?;
    for (k, v) in &group.common_annotations {
        annotations.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if format == AlertFormat::Grafana {
        grafana_extras(o, &mut annotations);
    }

    // Times. Prometheus' own API calls the start `activeAt`.
    let starts = match structured_time(&format!("{path}.startsAt"), o.get("startsAt"))? {
        Some(t) => Some(t),
        None => structured_time(&format!("{path}.activeAt"), o.get("activeAt"))?,
    };
    let starts_at = match starts {
        Some(t) => {
            confidence.insert("starts_at".into(), 1.0);
            t
        }
        None => {
            confidence.insert("starts_at".into(), 0.3);
            now
        }
    };
    let ends = structured_time(&format!("{path}.endsAt"), o.get("endsAt"))?;

    let status = match str_field(o, "status").or(group.status) {
        Some(s) if s.eq_ignore_ascii_case("resolved") => "resolved",
        Some(_) => "firing",
        // No status: an alert whose end has passed is over (how Alertmanager reads it).
        None if ends.is_some_and(|e| e <= now) => "resolved",
        None => "firing",
    };
    confidence.insert("status".into(), 1.0);
    let ends_at = if status == "resolved" { ends } else { None };
    if ends_at.is_some() {
        confidence.insert("ends_at".into(), 1.0);
    }

    let severity = ["severity", "priority"]
        .iter()
        .find_map(|k| labels.get(*k).and_then(|v| severity::from_label_value(v)));
    if severity.is_some() {
        confidence.insert("severity".into(), 1.0);
    }

    let (name, c) = if let Some(n) = labels.get("alertname").filter(|n| !n.trim().is_empty()) {
        (n.clone(), 1.0)
    } else if let Some(t) = group.title {
        (cut(t.trim(), NAME_CHARS), 0.7)
    } else if let Some(s) = annotations.get("summary").filter(|s| !s.trim().is_empty()) {
        (cut(s.trim(), NAME_CHARS), 0.5)
    } else {
        ("alert".to_owned(), 0.0)
    };
    confidence.insert("name".into(), c);

    let summary = ["summary", "description", "message"]
        .iter()
        .find_map(|k| {
            annotations
                .get(*k)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        })
        .or(group.message.map(str::trim))
        .map_or_else(|| name.clone(), |s| cut(s, SUMMARY_CHARS));

    let mut scope = ScopeBuilder::default();
    scope.add_labels(&labels, 1.0);
    let index = NameIndex::new(known);
    if !index.is_empty() {
        for v in annotations.values() {
            tokens(v, |_, tok| {
                index.match_token(tok, &mut scope, 1.0);
            });
        }
    }

    let language = if annotations
        .values()
        .any(|v| language_of(v) == super::Language::Zh)
        || language_of(&name) == super::Language::Zh
    {
        super::Language::Zh
    } else {
        super::Language::En
    };

    let fingerprint =
        str_field(o, "fingerprint").map_or_else(|| labels_fingerprint(&labels), str::to_owned);
    if !labels.is_empty() {
        confidence.insert("labels".into(), 1.0);
    }
    if !annotations.is_empty() {
        confidence.insert("annotations".into(), 1.0);
    }
    confidence.extend(scope.confidence);
    Ok(Alert {
        format,
        name,
        status: status.to_owned(),
        severity,
        starts_at,
        ends_at,
        labels,
        annotations,
        scope: scope.scope,
        summary,
        fingerprint,
        generator_url: str_field(o, "generatorURL").map(str::to_owned),
        language,
        alert_count,
        confidence,
    })
}

/// Keeps Grafana's evaluated values and links as annotations.
fn grafana_extras(o: &Map<String, Value>, annotations: &mut BTreeMap<String, String>) {
    if let Some(Value::Object(values)) = o.get("values") {
        let text = values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        if !text.is_empty() {
            annotations.entry("values".into()).or_insert(text);
        }
    }
    for (field, key) in [
        ("valueString", "value_string"),
        ("dashboardURL", "dashboard_url"),
        ("panelURL", "panel_url"),
    ] {
        if let Some(v) = str_field(o, field) {
            annotations
                .entry(key.into())
                .or_insert_with(|| v.to_owned());
        }
    }
}
