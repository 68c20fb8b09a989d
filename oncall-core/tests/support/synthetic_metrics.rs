//! Synthetic incidents as a Prometheus serves them: OpenMetrics text for
//! `promtool`, a Prometheus started on it, and the synthetic delay incident with
//! Grafana Tempo's service-graph series as Tempo writes them (no namespace label;
//! the services' own series carry the application's). Shared by the pipeline
//! test and `examples/e2e_fixtures.rs`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use oncall_core::synthetic::{FaultKind, SyntheticConfig, generate};
use serde_json::{Value, json};

/// A series to write: metric name, labels (sorted), samples.
pub type Series = (String, Vec<(String, String)>, Vec<(DateTime<Utc>, f64)>);

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: every
/// family typed `gauge` (the analyzer tells counters by their `_total` name).
pub fn openmetrics(series: &[Series]) -> String {
    let mut families: Vec<&str> = series.iter().map(|(n, _, _)| n.as_str()).collect();
    families.sort_unstable();
    families.dedup();
    let mut out = String::new();
    for family in families {
        writeln!(out, "# TYPE {family} gauge").unwrap();
        for (_, labels, points) in series.iter().filter(|(n, _, _)| n == family) {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            for (t, v) in points {
                writeln!(
                    out,
                    "{family}{{{}}} {v} {}",
                    labels.join(","),
                    t.timestamp()
                )
                .unwrap();
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Writes `text` gzipped to a temporary file and serves it from a fresh Prometheus.
pub async fn prometheus_with(text: &str, dir: &Path) -> super::services::Prometheus {
    let file = dir.join(format!("m-{}.om.gz", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, gzip(text.as_bytes())).unwrap();
    super::services::start_prometheus(&file).await
}

/// The synthetic incident with service-graph metrics, its series as OpenMetrics
/// series (with the namespace label added to the graph's), and its alert.
pub fn graph_incident() -> (Vec<Series>, Value, String) {
    let incident = generate(&SyntheticConfig {
        seed: 7,
        services: 8,
        fault: FaultKind::Delay,
        faulty: Some(3),
        logs: false,
        service_graph: true,
        ..SyntheticConfig::default()
    });
    let series: Vec<Series> = incident
        .collected
        .series
        .iter()
        .map(|s| {
            let mut labels: Vec<(String, String)> = s
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "__name__")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            // Tempo's graph series carry no namespace (the pipeline asks for them
            // apart); the services' own series do.
            if !s.labels["__name__"].starts_with("traces_service_graph")
                && !labels.iter().any(|(k, _)| k == "namespace")
            {
                labels.push(("namespace".into(), "synthetic".into()));
                labels.sort();
            }
            (s.labels["__name__"].clone(), labels, s.points.clone())
        })
        .collect();
    let labels = json!({
        "alertname": "EntryLatencyHigh",
        "namespace": "synthetic",
        "service": incident.entry,
        "severity": "critical",
    });
    let annotations = json!({
        "summary": format!("Requests to {} are slow", incident.entry),
    });
    let alert = json!({
        "version": "4",
        "status": "firing",
        "receiver": "oncall-assistant",
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": annotations,
            "startsAt": incident.alert_start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "endsAt": "0001-01-01T00:00:00Z",
        }],
    });
    (series, alert, incident.truth)
}
