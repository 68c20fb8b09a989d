//! What the product understands of a typed alert before it runs (issue #19), against
//! a real Prometheus holding one incident of 2023-01-29: names are discovered around
//! the alert's own time (not the last hour), the engineer's corrections win, and an
//! analysis says which sources were skipped for want of a scope and which failed and
//! why — also when read back later.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use oncall_core::analysis::AnalysisStatus;
use oncall_core::analysis::pipeline::SourceStatus;
use oncall_core::connectors::DataSourceKind;
use oncall_core::{AnalysisOptions, AuthInput, DataSourceInput, OnCall, Settings};
use serde_json::{Value, json};
use support::services;

fn source(name: &str, kind: DataSourceKind, url: &str) -> DataSourceInput {
    DataSourceInput {
        name: name.into(),
        kind,
        url: url.into(),
        auth: AuthInput::default(),
        config: Some(json!({})),
        enabled: Some(true),
        timeout_ms: Some(3_000),
    }
}

async fn engine(dir: &tempfile::TempDir) -> OnCall {
    let settings = Settings::with_database(support::sqlite_url(dir));
    OnCall::open(settings).await.unwrap()
}

fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_alert_with_date_zone_and_service_is_understood() {
    let Some(prometheus) = services::prometheus("typed_alert_understood").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let oncall = engine(&dir).await;
    let me = oncall.local_admin();
    oncall
        .create_datasource(
            &me,
            source("metrics", DataSourceKind::Prometheus, &prometheus.url),
        )
        .await
        .unwrap();

    let jan29 = |h, m| Utc.with_ymd_and_hms(2023, 1, 29, h, m, 0).unwrap();
    for (text, at, language) in [
        (
            "ts-ui-dashboard SLO degraded since 10:05 UTC on 2023-01-29",
            jan29(10, 5),
            "en",
        ),
        (
            "北京时间 2023-01-29 16:45 ts-ui-dashboard 入口 SLO 下降",
            jan29(8, 45),
            "zh",
        ),
    ] {
        let u = oncall
            .understand_alert(&me, Value::String(text.into()), AnalysisOptions::default())
            .await
            .unwrap();
        assert_eq!(u.starts_at, at, "{text}");
        assert!(u.time_found, "{text}");
        // The Prometheus knows ts-ui-dashboard in January 2023, not in the last hour.
        assert_eq!(u.services, vec!["ts-ui-dashboard"], "{text}");
        assert_eq!(u.namespace, None, "{text}");
        assert!(
            u.scope_found && u.notices.is_empty(),
            "{text}: {:?}",
            u.notices
        );
        assert_eq!(u.language, language);
        assert_eq!(u.window.alert_start, at);
        assert!(u.known_services.contains(&"ts-ui-dashboard".to_owned()));
    }

    // Nothing recognised: the first notice says so, in the alert's language.
    let u = oncall
        .understand_alert(
            &me,
            "checkout 5xx since 10:32".into(),
            AnalysisOptions::default(),
        )
        .await
        .unwrap();
    assert!(u.services.is_empty());
    assert!(!u.scope_found);
    assert!(u.notices[0].starts_with("No service"), "{:?}", u.notices);

    // The engineer's corrections win.
    let options = AnalysisOptions {
        starts_at: Some(jan29(10, 4)),
        services: Some(vec!["ts-travel-service".into()]),
        namespace: Some("train-ticket".into()),
        ..AnalysisOptions::default()
    };
    let u = oncall
        .understand_alert(&me, "checkout 5xx since 10:32".into(), options)
        .await
        .unwrap();
    assert_eq!(u.starts_at, jan29(10, 4));
    assert_eq!(u.starts_at_confidence, 1.0);
    assert_eq!(u.services, vec!["ts-travel-service"]);
    assert_eq!(u.namespace.as_deref(), Some("train-ticket"));

    // Bad corrections are refused with the field named.
    let bad = AnalysisOptions {
        starts_at: Some(Utc::now() + chrono::Duration::days(2)),
        ..AnalysisOptions::default()
    };
    let e = oncall
        .understand_alert(&me, "x".into(), bad)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("options.starts_at"), "{e}");
    let e = oncall
        .understand_alert(&me, Value::from(3), AnalysisOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), oncall_core::ErrorCode::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_and_failed_sources_say_so_after_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let oncall = engine(&dir).await;
    let me = oncall.local_admin();
    let dead = dead_url();
    oncall
        .create_datasource(&me, source("metrics", DataSourceKind::Prometheus, &dead))
        .await
        .unwrap();
    oncall
        .create_datasource(&me, source("logs", DataSourceKind::Loki, &dead))
        .await
        .unwrap();

    // No scope: the metric source is skipped (not "OK, 0 rows"), the log source fails.
    let submitted = oncall
        .submit_analysis(
            &me,
            "5xx everywhere 10 minutes ago".into(),
            AnalysisOptions::default(),
        )
        .await
        .unwrap();
    oncall
        .run_until_done(submitted.id, Duration::from_secs(60))
        .await
        .unwrap();
    // Read back as a reloading page would.
    let view = oncall.analysis(&me, submitted.id).await.unwrap();
    assert_eq!(view.status, AnalysisStatus::Completed, "{:?}", view.error);
    let by_name = |n: &str| view.sources.iter().find(|s| s.name == n).unwrap();
    assert_eq!(by_name("metrics").status, SourceStatus::Skipped);
    assert!(
        by_name("metrics").notes[0].starts_with("skipped: no scope"),
        "{:?}",
        by_name("metrics").notes
    );
    assert_eq!(by_name("logs").status, SourceStatus::Failed);
    assert!(
        by_name("logs")
            .error
            .as_deref()
            .is_some_and(|e| !e.is_empty()),
        "{:?}",
        by_name("logs")
    );
    // The first thing the result says: nothing was recognised, and how to fix it.
    assert!(
        view.notices[0].starts_with("No service"),
        "{:?}",
        view.notices
    );
    // One duration, in parts that add up.
    let t = view.timing.unwrap();
    assert!(!t.running);
    assert_eq!(t.total_ms, t.queued_ms + t.collect_ms + t.analyse_ms);
    let summaries = oncall
        .list_analysis_summaries(
            &me,
            &oncall_core::store::AnalysisFilter::default(),
            oncall_core::store::PageRequest::new(1, 10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(summaries.items[0].duration_ms, Some(t.total_ms));
    assert!(summaries.items[0].alert_start.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_source_test_is_shown_after_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let oncall = engine(&dir).await;
    let me = oncall.local_admin();
    let ds = oncall
        .create_datasource(
            &me,
            source("bad-url", DataSourceKind::Prometheus, &dead_url()),
        )
        .await
        .unwrap();
    assert!(ds.last_test.is_none());
    let before = Utc::now();
    let answer = oncall.test_datasource(&me, ds.id).await.unwrap();
    assert!(!answer.ok);
    // Read back as a reloading page would: the outcome, its reason and its time.
    let page = oncall
        .list_datasources(&me, oncall_core::store::PageRequest::new(1, 20).unwrap())
        .await
        .unwrap();
    let kept = page.items[0].last_test.clone().unwrap();
    assert_eq!(kept.result, answer);
    assert!(!kept.result.message.is_empty());
    assert!(kept.tested_at >= before - chrono::Duration::seconds(1));
    let one = oncall.datasource(&me, ds.id).await.unwrap();
    assert_eq!(one.last_test.unwrap().result, answer);
}
