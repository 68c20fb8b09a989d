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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::super::{Language, parse};
    use super::*;
    use crate::ErrorCode;
    use crate::tickets::Severity;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn known() -> KnownNames {
        KnownNames {
            services: vec!["mysql".into()],
            ..Default::default()
        }
    }

    fn alertmanager() -> Value {
        json!({
            "version": "4",
            "groupKey": "{}:{alertname=\"InstanceDown\"}",
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "oncall",
            "groupLabels": {"alertname": "InstanceDown"},
            "commonLabels": {"alertname": "InstanceDown", "job": "node", "severity": "critical"},
            "commonAnnotations": {"runbook_url": "https://runbooks.example.com/InstanceDown"},
            "externalURL": "http://alertmanager:9093",
            "alerts": [
                {
                    "status": "resolved",
                    "labels": {"alertname": "InstanceDown", "job": "node", "severity": "critical",
                               "instance": "10.0.0.8:9100"},
                    "annotations": {"summary": "10.0.0.8:9100 down"},
                    "startsAt": "2026-11-24T10:00:00Z",
                    "endsAt": "2026-11-24T10:20:00Z",
                    "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
                    "fingerprint": "aaaaaaaaaaaaaaaa"
                },
                {
                    "status": "firing",
                    "labels": {"alertname": "InstanceDown", "job": "node", "severity": "critical",
                               "instance": "db-1.prod.internal:9100", "namespace": "prod",
                               "pod": "mysql-0"},
                    "annotations": {"summary": "db-1 主机宕机", "description": "mysql 不可达"},
                    "startsAt": "2026-11-24T11:30:00.123+08:00",
                    "endsAt": "2026-11-24T12:04:00Z",
                    "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
                    "fingerprint": "bbbbbbbbbbbbbbbb"
                }
            ]
        })
    }

    #[test]
    fn alertmanager_first_firing_alert() {
        let a = parse(&alertmanager(), &known(), now()).unwrap();
        assert_eq!(a.format, AlertFormat::Alertmanager);
        assert_eq!(a.alert_count, 2);
        assert_eq!(a.name, "InstanceDown");
        assert_eq!(a.status, "firing");
        assert_eq!(a.fingerprint, "bbbbbbbbbbbbbbbb");
        assert_eq!(a.severity, Some(Severity::P1));
        assert_eq!(
            a.starts_at,
            Utc.with_ymd_and_hms(2026, 11, 24, 3, 30, 0).unwrap()
                + chrono::Duration::milliseconds(123)
        );
        // A firing alert's endsAt is the resolve timeout, not an end.
        assert_eq!(a.ends_at, None);
        assert_eq!(a.summary, "db-1 主机宕机");
        assert_eq!(a.language, Language::Zh);
        assert_eq!(
            a.annotations.get("runbook_url").map(String::as_str),
            Some("https://runbooks.example.com/InstanceDown")
        );
        assert_eq!(a.scope.namespace.as_deref(), Some("prod"));
        assert_eq!(a.scope.job.as_deref(), Some("node"));
        assert_eq!(a.scope.pods, vec!["mysql-0"]);
        assert_eq!(a.scope.instances, vec!["db-1.prod.internal:9100"]);
        assert_eq!(a.scope.hosts, vec!["db-1.prod.internal"]);
        // `mysql` is known and named in the description.
        assert_eq!(a.scope.services, vec!["mysql"]);
        assert_eq!(a.confidence["services"], 0.6);
        assert_eq!(a.confidence["pods"], 1.0);
        assert_eq!(a.confidence["starts_at"], 1.0);
        assert_eq!(a.confidence["severity"], 1.0);
        assert!(a.generator_url.is_some());
    }

    #[test]
    fn alertmanager_all_resolved() {
        let mut v = alertmanager();
        v["alerts"][1]["status"] = json!("resolved");
        v["status"] = json!("resolved");
        let a = parse(&v, &known(), now()).unwrap();
        assert_eq!(a.status, "resolved");
        assert_eq!(a.fingerprint, "aaaaaaaaaaaaaaaa");
        assert_eq!(
            a.ends_at,
            Some(Utc.with_ymd_and_hms(2026, 11, 24, 10, 20, 0).unwrap())
        );
        assert_eq!(a.scope.ips, vec!["10.0.0.8"]);
        assert_eq!(a.language, Language::En);
    }

    #[test]
    fn grafana_notification() {
        let v = json!({
            "receiver": "oncall",
            "status": "firing",
            "orgId": 1,
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1",
                           "grafana_folder": "infra", "severity": "warning"},
                "annotations": {"summary": "memory above 90% in us-1"},
                "startsAt": "2026-11-24T09:51:03.157076+02:00",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://grafana.example.com/alerting/grafana/abc/view",
                "fingerprint": "c6eadffa33fcdf37",
                "silenceURL": "https://grafana.example.com/alerting/silence/new",
                "dashboardURL": "https://grafana.example.com/d/xyz",
                "panelURL": "",
                "values": {"B": 94.5, "C": 1}
            }],
            "groupLabels": {"alertname": "High memory usage"},
            "commonLabels": {"alertname": "High memory usage"},
            "commonAnnotations": {},
            "externalURL": "https://grafana.example.com/",
            "version": "1",
            "groupKey": "{}:{alertname=\"High memory usage\"}",
            "truncatedAlerts": 0,
            "title": "[FIRING:1] High memory usage",
            "state": "alerting",
            "message": "**Firing** ..."
        });
        let a = parse(&v, &known(), now()).unwrap();
        assert_eq!(a.format, AlertFormat::Grafana);
        assert_eq!(a.name, "High memory usage");
        assert_eq!(a.severity, Some(Severity::P2));
        assert_eq!(a.fingerprint, "c6eadffa33fcdf37");
        assert_eq!(
            a.starts_at,
            Utc.with_ymd_and_hms(2026, 11, 24, 7, 51, 3).unwrap()
                + chrono::Duration::microseconds(157_076)
        );
        assert_eq!(
            a.annotations.get("values").map(String::as_str),
            Some("B=94.5, C=1")
        );
        assert_eq!(
            a.annotations.get("dashboard_url").map(String::as_str),
            Some("https://grafana.example.com/d/xyz")
        );
        assert!(!a.annotations.contains_key("panel_url"));
        // Without labels naming one, the Grafana title names the alert.
        let mut v = v;
        v["alerts"][0]["labels"] = json!({"team": "blue"});
        v["commonLabels"] = json!({});
        let a = parse(&v, &known(), now()).unwrap();
        assert_eq!(a.name, "[FIRING:1] High memory usage");
        assert_eq!(a.confidence["name"], 0.7);
    }

    #[test]
    fn grafana_told_apart_by_alert_fields_alone() {
        let v = json!({
            "alerts": [{"labels": {"alertname": "x"}, "valueString": "[ var='B' value=3 ]"}]
        });
        let a = parse(&v, &known(), now()).unwrap();
        assert_eq!(a.format, AlertFormat::Grafana);
        assert_eq!(
            a.annotations.get("value_string").map(String::as_str),
            Some("[ var='B' value=3 ]")
        );
        // No startsAt: now, with low confidence.
        assert_eq!(a.starts_at, now());
        assert_eq!(a.confidence["starts_at"], 0.3);
    }

    #[test]
    fn single_alert_and_array() {
        let one = json!({
            "labels": {"alertname": "HighLatency", "service": "payment", "severity": "P0"},
            "annotations": {"summary": "p99 > 2s"},
            "startsAt": "2026-11-24T11:00:00Z",
            "endsAt": "2026-11-24T11:30:00Z",
            "generatorURL": "http://prometheus:9090/graph"
        });
        let a = parse(&one, &known(), now()).unwrap();
        assert_eq!(a.format, AlertFormat::PrometheusAlert);
        assert_eq!(a.alert_count, 1);
        assert_eq!(a.severity, Some(Severity::P0));
        assert_eq!(a.scope.services, vec!["payment"]);
        // No status and an end in the past: resolved.
        assert_eq!(a.status, "resolved");
        assert_eq!(
            a.ends_at,
            Some(Utc.with_ymd_and_hms(2026, 11, 24, 11, 30, 0).unwrap())
        );
        // No fingerprint: Prometheus' hash of the labels.
        assert_eq!(a.fingerprint, labels_fingerprint(&a.labels));

        let mut firing = one.clone();
        firing["labels"]["service"] = json!("order");
        firing["endsAt"] = json!("2026-11-24T12:10:00Z");
        let a = parse(&json!([one, firing]), &known(), now()).unwrap();
        assert_eq!(a.format, AlertFormat::PrometheusAlert);
        assert_eq!(a.alert_count, 2);
        // Neither says `firing`, so the first is taken.
        assert_eq!(a.scope.services, vec!["payment"]);
        let mut firing2 = firing.clone();
        firing2["status"] = json!("firing");
        let a = parse(&json!([one, firing2]), &known(), now()).unwrap();
        assert_eq!(a.scope.services, vec!["order"]);
        assert_eq!(a.status, "firing");
        assert_eq!(a.ends_at, None);
    }

    #[test]
    fn prometheus_api_active_at() {
        let v = json!({
            "labels": {"alertname": "X"},
            "state": "firing",
            "activeAt": "2026-11-24T11:59:00Z"
        });
        let a = parse(&v, &known(), now()).unwrap();
        assert_eq!(
            a.starts_at,
            Utc.with_ymd_and_hms(2026, 11, 24, 11, 59, 0).unwrap()
        );
    }

    fn invalid(v: Value) -> String {
        let e = parse(&v, &known(), now()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Invalid, "{e}");
        e.to_string()
    }

    #[test]
    fn bad_shapes_are_invalid() {
        assert!(invalid(json!(42)).contains("a number"));
        assert!(invalid(json!(true)).contains("a boolean"));
        assert!(invalid(json!(null)).contains("null"));
        assert!(invalid(json!("")).contains("empty"));
        assert!(invalid(json!({"foo": 1})).contains("neither"));
        assert!(invalid(json!({"alerts": {"a": 1}})).starts_with("alerts: must be an array"));
        assert!(invalid(json!({"alerts": []})).contains("empty"));
        assert!(invalid(json!({"alerts": [1]})).starts_with("alerts[0]: must be an alert object"));
        assert!(invalid(json!([])).contains("empty"));
        assert!(invalid(json!(["text"])).starts_with("alert[0]"));
        assert!(invalid(json!({"labels": []})).starts_with("alert.labels: must be an object"));
        assert!(invalid(json!({"labels": {"a": {"b": 1}}})).starts_with("alert.labels.a"));
        let e = invalid(json!({"alerts": [{"labels": {}, "startsAt": "yesterday"}]}));
        assert!(
            e.starts_with("alerts[0].startsAt: `yesterday` is not an RFC 3339 time"),
            "{e}"
        );
        assert!(invalid(json!({"labels": {}, "startsAt": 5})).contains("RFC 3339"));
        assert!(
            invalid(json!({"alerts": [{"labels": {}}], "commonLabels": "x"}))
                .starts_with("commonLabels")
        );
    }

    #[test]
    fn non_string_label_values_are_written_as_text() {
        let v = json!({"labels": {"alertname": "X", "port": 9100, "canary": true, "gone": null}});
        let a = parse(&v, &known(), now()).unwrap();
        assert_eq!(a.labels.get("port").map(String::as_str), Some("9100"));
        assert_eq!(a.labels.get("canary").map(String::as_str), Some("true"));
        assert!(!a.labels.contains_key("gone"));
    }
}
