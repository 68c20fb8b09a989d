//! Regenerates the web UI's e2e fixtures (`frontend/e2e/fixtures/*.json`) with the
//! current analyzer, so the result pages the browser test shows and shoots say what
//! the analyzer says today. Each fixture is an analysis run through the whole
//! pipeline — the engine, a real Prometheus backfilled with `promtool`, a real
//! OpenSearch-API server (osmem) — and read back as the API shows it
//! (`GET /api/analysis/{id}`), with a fixed id:
//!
//! - `analysis-completed.json`: the recorded train-ticket incident
//!   `tests/data/scenarios/ts-2023-01-29-13` (Nezha data set; Prometheus and
//!   OpenSearch), plus a third source that accepts connections and never answers,
//!   so the analysis is partial with a real timeout.
//! - `analysis-short-history.json`: the recorded incident `ts-2023-01-29-01`,
//!   whose metrics begin two minutes before the alert: the baseline is shorter
//!   than asked.
//! - `analysis-host.json`: an alert about one host (`node-3:9100`) over node_exporter
//!   series **generated here** (below): its disk writes, I/O time, iowait and load
//!   rise three minutes before the alert; its memory, network and a neighbour host
//!   stay as they were. Metrics only.
//! - `analysis-graph.json`: a **synthetic** incident (`oncall_core::synthetic`:
//!   one service's outgoing packets delayed) seen through metrics only, with the
//!   service-graph metrics Grafana Tempo derives from traces. The services' own
//!   series get the application's `namespace` label; Tempo's
//!   `traces_service_graph_*` series carry none, as Tempo writes them (the
//!   pipeline asks for them apart from the scope).
//!
//! Needs `prometheus`, `promtool` and `osmem-server` as the connector tests do
//! (`scripts/test` installs them; see `tests/support/services.rs`).
//!
//! `cargo run -p oncall-core --example e2e_fixtures -- frontend/e2e/fixtures [completed|short-history|host|graph]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a tool, not the engine

#[path = "../tests/support/services.rs"]
#[allow(dead_code)]
mod services;
#[path = "../tests/support/synthetic_metrics.rs"]
mod synthetic_metrics;

use synthetic_metrics::{Series, graph_incident, openmetrics, prometheus_with};

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Duration as Minutes, Utc};
use oncall_core::connectors::DataSourceKind;
use oncall_core::secrets::SecretBox;
use oncall_core::{AnalysisOptions, AuthInput, DataSourceInput, OnCall, Settings};
use serde_json::{Value, json};

/// One source of an analysis.
struct Source {
    name: &'static str,
    kind: DataSourceKind,
    url: String,
    config: Value,
    timeout_ms: i64,
}

/// Runs `alert` through the pipeline over `sources` and returns the analysis as
/// the API shows it, with `id` in place of the generated one.
async fn analyse(id: &str, alert: Value, sources: Vec<Source>) -> Value {
    let db = tempfile::tempdir().unwrap();
    let mut settings =
        Settings::with_database(format!("sqlite://{}", db.path().join("f.db").display()));
    settings.encryption_key = Some(SecretBox::generate_key());
    let oncall = OnCall::open(settings).await.unwrap();
    let me = oncall.local_admin();
    for s in sources {
        oncall
            .create_datasource(
                &me,
                DataSourceInput {
                    name: s.name.into(),
                    kind: s.kind,
                    url: s.url,
                    auth: AuthInput::default(),
                    config: Some(s.config),
                    enabled: Some(true),
                    timeout_ms: Some(s.timeout_ms),
                },
            )
            .await
            .unwrap();
    }
    let submitted = oncall
        .submit_analysis(&me, alert, AnalysisOptions::default())
        .await
        .unwrap();
    oncall
        .run_until_done(submitted.id, Duration::from_secs(180))
        .await
        .unwrap();
    let view = oncall.analysis(&me, submitted.id).await.unwrap();
    let mut out = serde_json::to_value(&view).unwrap();
    out["id"] = json!(id);
    out
}

fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A small deterministic noise source (xorshift), so the generated host data is
/// the same on every run.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// `x` give or take `spread` (a fraction of it).
    fn around(&mut self, x: f64, spread: f64) -> f64 {
        x * (1.0 + spread * (2.0 * self.next() - 1.0))
    }
}

/// How a host series moves: name, labels, level (per second for a counter) before
/// and during the fault, and whether it is a counter.
type Shape = (&'static str, Vec<(String, String)>, f64, f64, bool);

/// node_exporter series of two hosts every 15 s from 45 minutes before `alert` to
/// 10 after; on `node-3:9100` the disk gets busy from 3 minutes before it.
fn host_series(alert: DateTime<Utc>) -> Vec<Series> {
    let start = alert - Minutes::minutes(45);
    let fault = alert - Minutes::minutes(3);
    let steps = (55 * 60) / 15;
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    for host in ["node-3", "node-4"] {
        let faulty = host == "node-3";
        let base = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
            let mut l: Vec<(String, String)> = vec![
                ("instance".into(), format!("{host}:9100")),
                ("job".into(), "node".into()),
            ];
            l.extend(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            l.sort();
            l
        };
        let shapes: Vec<Shape> = vec![
            (
                "node_disk_written_bytes_total",
                base(&[("device", "vda")]),
                1.5e6,
                9.8e7,
                true,
            ),
            (
                "node_disk_read_bytes_total",
                base(&[("device", "vda")]),
                4.0e5,
                4.2e5,
                true,
            ),
            (
                "node_disk_io_time_seconds_total",
                base(&[("device", "vda")]),
                0.04,
                0.97,
                true,
            ),
            (
                "node_cpu_seconds_total",
                base(&[("cpu", "0"), ("mode", "iowait")]),
                0.01,
                0.62,
                true,
            ),
            (
                "node_cpu_seconds_total",
                base(&[("cpu", "0"), ("mode", "user")]),
                0.18,
                0.2,
                true,
            ),
            (
                "node_network_receive_bytes_total",
                base(&[("device", "eth0")]),
                2.0e5,
                2.1e5,
                true,
            ),
            ("node_load1", base(&[]), 0.4, 6.2, false),
            (
                "node_memory_MemAvailable_bytes",
                base(&[]),
                8.0e9,
                7.9e9,
                false,
            ),
            (
                "node_filesystem_avail_bytes",
                base(&[("device", "vda1"), ("mountpoint", "/")]),
                4.1e10,
                4.0e10,
                false,
            ),
        ];
        for (name, labels, before, during, counter) in shapes {
            let mut total = 1.0e6;
            let mut points = Vec::with_capacity(steps);
            for i in 0..=steps {
                let t = start + Minutes::seconds(15 * i as i64);
                let level = if faulty && t >= fault { during } else { before };
                let v = noise.around(level, 0.08);
                if counter {
                    total += v * 15.0;
                    points.push((t, total.round()));
                } else {
                    points.push((t, v));
                }
            }
            out.push((name.to_owned(), labels, points));
        }
    }
    out
}

/// A host alert as Alertmanager posts it (the rule's expression in `generatorURL`).
fn host_alert(alert: DateTime<Utc>) -> Value {
    let labels = json!({
        "alertname": "HostDiskBusy",
        "instance": "node-3:9100",
        "job": "node",
        "severity": "warning",
    });
    let annotations = json!({
        "summary": "Disk busy on node-3:9100",
        "description": "node-3:9100 spent more than 90 % of the last 5 minutes doing disk I/O.",
    });
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"HostDiskBusy\"}",
        "status": "firing",
        "receiver": "oncall-assistant",
        "groupLabels": {"alertname": "HostDiskBusy"},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": annotations,
            "startsAt": alert.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=rate%28node_disk_io_time_seconds_total%5B5m%5D%29+%3E+0.9&g0.tab=1",
            "fingerprint": "5d1c0a7e3b9f2c41",
        }],
    })
}

fn write(dir: &Path, name: &str, v: &Value) {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
    let r = &v["result"];
    println!(
        "{}: {} — {} (suspects: {})",
        path.display(),
        v["status"],
        r["root_cause"],
        r["suspects"]
            .as_array()
            .map(|s| s
                .iter()
                .take(3)
                .map(|x| x["component"].as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "frontend/e2e/fixtures".into()),
    );
    std::fs::create_dir_all(&out).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let only = std::env::args().nth(2);
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);

    // A recorded incident with a third source that times out (partial), and the
    // day's first incident, whose metrics begin two minutes before the alert.
    for (name, scenario, id, silent_source) in [
        (
            "completed",
            "ts-2023-01-29-13",
            "0190e5a0-0000-7000-8000-00000000c0de",
            true,
        ),
        (
            "short-history",
            "ts-2023-01-29-01",
            "00000000-0000-7000-8000-00000000e2e7",
            false,
        ),
    ] {
        if !wanted(name) {
            continue;
        }
        let dir = services::data_dir().join("scenarios").join(scenario);
        let prometheus = services::start_prometheus(&dir.join("metrics.om.gz")).await;
        let opensearch = services::start_opensearch();
        services::bulk_load(
            &opensearch.url,
            "logs-incident",
            &gunzip(&dir.join("logs.jsonl.gz")),
        )
        .await;
        // Accepts connections and never answers: the source times out.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut sources = vec![
            Source {
                name: "metrics",
                kind: DataSourceKind::Prometheus,
                url: prometheus.url.clone(),
                config: json!({}),
                timeout_ms: 10_000,
            },
            Source {
                name: "logs",
                kind: DataSourceKind::Elk,
                url: opensearch.url.clone(),
                config: json!({"index": "logs-*"}),
                timeout_ms: 10_000,
            },
        ];
        if silent_source {
            sources.push(Source {
                name: "loki-traces",
                kind: DataSourceKind::Loki,
                url: format!("http://{}", silent.local_addr().unwrap()),
                config: json!({}),
                timeout_ms: 3_000,
            });
        }
        let alert: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("alert.json")).unwrap())
                .unwrap();
        let v = analyse(id, alert, sources).await;
        drop(silent);
        write(&out, &format!("analysis-{name}.json"), &v);
    }

    if wanted("host") {
        let alert_at: DateTime<Utc> = "2026-01-29T08:44:00Z".parse().unwrap();
        let prometheus = prometheus_with(&openmetrics(&host_series(alert_at)), tmp.path()).await;
        let v = analyse(
            "00000000-0000-7000-8000-00000000e2e5",
            host_alert(alert_at),
            vec![Source {
                name: "node-metrics",
                kind: DataSourceKind::Prometheus,
                url: prometheus.url.clone(),
                config: json!({}),
                timeout_ms: 10_000,
            }],
        )
        .await;
        write(&out, "analysis-host.json", &v);
    }

    if wanted("graph") {
        let (series, alert, truth) = graph_incident();
        let prometheus = prometheus_with(&openmetrics(&series), tmp.path()).await;
        let v = analyse(
            "00000000-0000-7000-8000-00000000e2e6",
            alert,
            vec![Source {
                name: "tempo-metrics",
                kind: DataSourceKind::Prometheus,
                url: prometheus.url.clone(),
                config: json!({}),
                timeout_ms: 10_000,
            }],
        )
        .await;
        println!("synthetic truth: {truth}");
        write(&out, "analysis-graph.json", &v);
    }
}
