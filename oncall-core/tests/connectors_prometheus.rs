//! The Prometheus connector against a REAL Prometheus (started by the test over a
//! TSDB backfilled by `promtool` from `tests/data/prometheus-ts-2023-01-29-01.om.gz`;
//! see `tests/support/services.rs` for how the binaries are found). The values
//! asserted are the fixture's own samples.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use oncall_core::connectors::{
    Connector, ConnectorErrorKind, Credentials, DataSourceKind, LogFilter, LogOrder, LogQuery,
    MetricResultType, TimeRange, connector_for,
};
use serde_json::json;
use support::services::prometheus;

const POD: &str = "ts-contacts-service-866bd68c97-xcqfx";

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("timestamp")
}

async fn connector(test: &str) -> Option<std::sync::Arc<dyn Connector>> {
    let server = prometheus(test).await?;
    let ds = support::data_source(DataSourceKind::Prometheus, &server.url, json!({}));
    Some(connector_for(&ds, Credentials::default()).expect("connector"))
}

#[tokio::test]
async fn test_reports_version() {
    let Some(c) = connector("test_reports_version").await else {
        return;
    };
    let t = c.test().await;
    assert!(t.ok, "{t:?}");
    assert!(
        t.version
            .as_deref()
            .is_some_and(|v| v.starts_with("Prometheus 2.")),
        "{t:?}"
    );
    assert_eq!(t.error, None);
}

#[tokio::test]
async fn instant_query_returns_the_backfilled_sample() {
    let Some(c) = connector("instant_query_returns_the_backfilled_sample").await else {
        return;
    };
    let q = format!("pod_memory_usage_mib{{pod=\"{POD}\"}}");
    let data = c.metric_query(&q, at(1_674_981_729)).await.expect("query");
    assert_eq!(data.result_type, MetricResultType::Vector);
    assert_eq!(data.series.len(), 1);
    let s = &data.series[0];
    assert_eq!(s.labels["service"], "ts-contacts-service");
    assert_eq!(s.labels["__name__"], "pod_memory_usage_mib");
    assert_eq!(s.samples[0].value, 424.83203125);
    assert_eq!(s.samples[0].timestamp, at(1_674_981_729));

    // 46 pods report CPU.
    let count = c
        .metric_query("count(pod_cpu_usage_millicores)", at(1_674_981_729))
        .await
        .expect("count");
    assert_eq!(count.series[0].samples[0].value, 46.0);

    let scalar = c
        .metric_query("1 + 1", at(1_674_981_729))
        .await
        .expect("scalar");
    assert_eq!(scalar.result_type, MetricResultType::Scalar);
    assert_eq!(scalar.series[0].samples[0].value, 2.0);
}

#[tokio::test]
async fn range_query_returns_each_step() {
    let Some(c) = connector("range_query_returns_each_step").await else {
        return;
    };
    let q = format!("pod_memory_usage_mib{{pod=\"{POD}\"}}");
    let range = TimeRange::new(at(1_674_981_669), at(1_674_981_789)).expect("range");
    let data = c
        .metric_range(&q, &range, Some(Duration::from_secs(60)))
        .await
        .expect("range query");
    assert_eq!(data.result_type, MetricResultType::Matrix);
    let values: Vec<(i64, f64)> = data.series[0]
        .samples
        .iter()
        .map(|s| (s.timestamp.timestamp(), s.value))
        .collect();
    // At 1674981789 the newest sample is still the one from ...729 (the next is at ...790).
    assert_eq!(
        values,
        vec![
            (1_674_981_669, 424.10546875),
            (1_674_981_729, 424.83203125),
            (1_674_981_789, 424.83203125),
        ]
    );
    assert!(data.query.contains("step 60s"), "{}", data.query);

    // A step of 1 s over a year is widened to stay under 11,000 points.
    let year = TimeRange::new(at(1_674_981_669 - 365 * 86_400), at(1_674_981_669)).expect("range");
    let data = c
        .metric_range(&q, &year, Some(Duration::from_secs(1)))
        .await
        .expect("long range");
    assert!(data.query.contains("step 2868s"), "{}", data.query);
}

#[tokio::test]
async fn discovery_lists_series_labels_and_values() {
    let Some(c) = connector("discovery_lists_series_labels_and_values").await else {
        return;
    };
    let range = TimeRange::new(at(1_674_981_600), at(1_674_983_000)).expect("range");
    let series = c
        .series(
            &["pod_memory_usage_mib{service=\"ts-contacts-service\"}".into()],
            &range,
            100,
        )
        .await
        .expect("series");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["pod"], POD);
    assert_eq!(series[0]["node"], "33.33.33.79");

    let names = c.label_names(None, &range).await.expect("labels");
    for want in ["__name__", "namespace", "node", "pod", "service"] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let metrics = c
        .label_values("__name__", None, &range)
        .await
        .expect("names");
    assert_eq!(
        metrics,
        vec![
            "entry_latency_p50_seconds",
            "entry_success_rate_percent",
            "pod_cpu_usage_millicores",
            "pod_memory_usage_mib"
        ]
    );
    let services = c
        .label_values("service", Some("entry_success_rate_percent"), &range)
        .await
        .expect("values");
    assert_eq!(services, vec!["ts-ui-dashboard"]);
}

#[tokio::test]
async fn promql_errors_carry_prometheus_message() {
    let Some(c) = connector("promql_errors_carry_prometheus_message").await else {
        return;
    };
    let e = c
        .metric_query("sum(rate(x[5m]", at(1_674_981_729))
        .await
        .expect_err("bad PromQL");
    assert_eq!(e.kind, ConnectorErrorKind::BadQuery);
    assert!(e.message.contains("parse error"), "{e}");

    let logs = c
        .logs(&LogQuery {
            range: TimeRange::new(at(0), at(1)).expect("range"),
            filter: LogFilter::default(),
            limit: 1,
            order: LogOrder::NewestFirst,
        })
        .await
        .expect_err("no logs on Prometheus");
    assert_eq!(logs.kind, ConnectorErrorKind::Unsupported);
    let as_error: oncall_core::Error = logs.into();
    assert_eq!(as_error.code(), oncall_core::ErrorCode::Invalid);
}
