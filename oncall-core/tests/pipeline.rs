//! The whole analysis pipeline on two real incidents, against a real Prometheus
//! (backfilled with promtool) and a real OpenSearch-API server (osmem) loaded with
//! the incidents' logs: the alert goes in exactly as Alertmanager sent it, and
//! the analysis must complete with evidence, suspects and a result. A third data
//! source on a dead port must make it partial, not failed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::path::PathBuf;
use std::time::Duration;

use oncall_core::analysis::{AnalysisStatus, Stage};
use oncall_core::connectors::DataSourceKind;
use oncall_core::secrets::SecretBox;
use oncall_core::{AnalysisOptions, AuthInput, DataSourceInput, OnCall, Settings};
use serde_json::{Value, json};
use support::services;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scenarios")
        .join(name)
}

fn source(name: &str, kind: DataSourceKind, url: &str, config: Value) -> DataSourceInput {
    DataSourceInput {
        name: name.into(),
        kind,
        url: url.into(),
        auth: AuthInput::default(),
        config: Some(config),
        enabled: Some(true),
        timeout_ms: Some(5_000),
    }
}

/// A fresh embedded engine in `dir` (SQLite) with `sources` configured.
async fn engine(dir: &std::path::Path, sources: Vec<DataSourceInput>) -> OnCall {
    let mut settings = Settings::with_database(format!("sqlite://{}", dir.join("t.db").display()));
    settings.encryption_key = Some(SecretBox::generate_key());
    let oncall = OnCall::open(settings).await.unwrap();
    let me = oncall.local_admin();
    for s in sources {
        oncall.create_datasource(&me, s).await.unwrap();
    }
    oncall
}

/// Submits `alert` as Alertmanager sent it and runs it to the end.
async fn analyse_alert(oncall: &OnCall, alert: Value) -> oncall_core::analysis::Analysis {
    let me = oncall.local_admin();
    let submitted = oncall
        .submit_analysis(&me, alert, AnalysisOptions::default())
        .await
        .unwrap();
    oncall
        .run_until_done(submitted.id, Duration::from_secs(120))
        .await
        .unwrap()
}

/// `metric_baseline`: whether the incident's metrics start early enough to have a
/// baseline (the day's first incident, 01, has only two minutes of metrics before it).
async fn analyse(name: &str, metric_baseline: bool) {
    if services::services_skipped(name) {
        return;
    }
    let dir = scenario(name);
    let prometheus = services::start_prometheus(&dir.join("metrics.om.gz")).await;
    let opensearch = services::start_opensearch();
    let logs = {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(dir.join("logs.jsonl.gz")).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    services::bulk_load(&opensearch.url, "logs-incident", &logs).await;

    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = tempfile::tempdir().unwrap();
    let oncall = engine(
        db.path(),
        vec![
            source(
                "metrics",
                DataSourceKind::Prometheus,
                &prometheus.url,
                json!({}),
            ),
            source(
                "logs",
                DataSourceKind::Elk,
                &opensearch.url,
                json!({"index": "logs-*"}),
            ),
            source(
                "dead",
                DataSourceKind::Loki,
                &format!("http://127.0.0.1:{dead}"),
                json!({}),
            ),
        ],
    )
    .await;
    let alert: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("alert.json")).unwrap()).unwrap();
    let done = analyse_alert(&oncall, alert).await;

    assert_eq!(done.status, AnalysisStatus::Completed, "{:?}", done.error);
    assert!(
        done.error.as_deref().is_some_and(|e| e.contains("dead")),
        "partial: {:?}",
        done.error
    );
    let sources = done.sources.as_array().unwrap();
    let by_name = |n: &str| sources.iter().find(|s| s["name"] == n).unwrap();
    assert!(
        by_name("metrics")["rows"].as_u64().unwrap() > 100,
        "series pulled: {}",
        by_name("metrics")
    );
    assert!(
        by_name("logs")["rows"].as_u64().unwrap() > 1000,
        "log lines pulled: {}",
        by_name("logs")
    );
    assert!(
        by_name("logs")["queries"][0]
            .as_str()
            .unwrap()
            .contains("range"),
        "the query sent is recorded"
    );
    assert!(
        by_name("dead")["error"].as_str().is_some(),
        "the dead source says why"
    );
    assert!(by_name("metrics").get("error").is_none_or(Value::is_null));

    let evidence = &done.evidence;
    assert!(!evidence["log_templates"].as_array().unwrap().is_empty());
    assert_eq!(
        !evidence["metric_shifts"].as_array().unwrap().is_empty(),
        metric_baseline
    );
    let result = done.result.as_ref().unwrap();
    assert_eq!(done.analyzer.as_deref(), Some("statistical"));
    assert!(!result["summary"].as_str().unwrap().is_empty());
    assert!(!result["suggestions"].as_array().unwrap().is_empty());
    assert!((0.0..=1.0).contains(&result["confidence"].as_f64().unwrap()));
    assert_eq!(result["severity"], "P1", "critical maps to P1");
    let suspects: Vec<&str> = result["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["component"].as_str().unwrap())
        .collect();
    // Only the assertion reads the ground truth; the engine never sees it.
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    let truth = truth["root_cause_service"].as_str().unwrap();
    assert!(
        suspects.iter().take(3).any(|s| *s == truth),
        "{truth} not in the top 3 of {suspects:?}"
    );

    let me = oncall.local_admin();
    let events = oncall.analysis_events(&me, done.id, 0).await.unwrap();
    let stages: Vec<Stage> = events.iter().map(|e| e.stage).collect();
    assert_eq!(stages.first(), Some(&Stage::Parsed));
    assert_eq!(stages.last(), Some(&Stage::Done));
    assert_eq!(stages.iter().filter(|s| **s == Stage::Collected).count(), 3);
    assert!(
        events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "numbered without gaps"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_01_return_fault() {
    analyse("ts-2023-01-29-01", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_13_exception_fault() {
    analyse("ts-2023-01-29-13", true).await;
}

/// Grafana Tempo's service-graph series carry `client`/`server` and no namespace
/// label, so no scope selector reaches them: the pipeline asks for them apart, or
/// the graph traversal never runs on a real Tempo setup. The incident is
/// **synthetic** (`oncall_core::synthetic`, generated): one service's outgoing
/// packets delayed, seen through metrics only, the services' own series with the
/// application's namespace and Tempo's without, served by a real Prometheus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tempo_service_graph_series_without_a_namespace_lead_to_the_slowed_service() {
    use support::synthetic_metrics::{graph_incident, openmetrics, prometheus_with};
    if services::services_skipped("tempo_service_graph") {
        return;
    }
    let (series, alert, truth) = graph_incident();
    assert!(
        series
            .iter()
            .filter(|(name, _, _)| name.starts_with("traces_service_graph"))
            .all(|(_, labels, _)| labels.iter().all(|(k, _)| k != "namespace")),
        "Tempo's series carry no namespace"
    );
    let tmp = tempfile::tempdir().unwrap();
    let prometheus = prometheus_with(&openmetrics(&series), tmp.path()).await;

    let oncall = engine(
        tmp.path(),
        vec![source(
            "tempo-metrics",
            DataSourceKind::Prometheus,
            &prometheus.url,
            json!({}),
        )],
    )
    .await;
    let done = analyse_alert(&oncall, alert).await;
    assert_eq!(done.status, AnalysisStatus::Completed, "{:?}", done.error);

    let graph = &done.evidence["service_graph"];
    assert!(
        graph["edges"].as_u64().unwrap_or(0) >= 5,
        "the call graph was read: {graph:#}"
    );
    assert!(
        !graph["anomalous"].as_array().unwrap().is_empty(),
        "{graph:#}"
    );
    let result = done.result.as_ref().unwrap();
    assert_eq!(
        result["suspects"][0]["component"], truth,
        "{:#}",
        result["suspects"]
    );
    let root = result["root_cause"].as_str().unwrap();
    assert!(
        root.starts_with(&format!("{truth} got slower")),
        "in plain words: {root}"
    );
}
