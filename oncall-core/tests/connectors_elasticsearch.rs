//! The Elasticsearch/OpenSearch connector against a REAL OpenSearch-API server
//! (`osmem-server`, started by the test and loaded through `_bulk` with the 3,000
//! log lines of `tests/data/opensearch-ts-2023-01-29-01.logs.jsonl.gz`; see
//! `tests/support/services.rs`). The counts asserted are the fixture's own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use oncall_core::connectors::{
    Connector, ConnectorErrorKind, Credentials, DataSourceKind, LogFilter, LogOrder, LogQuery,
    TimeRange, connector_for,
};
use serde_json::{Value, json};
use support::services::{LOGS_INDEX, opensearch};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

/// Covers every fixture line: 08:42:09.487Z – 08:43:25.929Z.
fn whole() -> TimeRange {
    TimeRange::new(t("2023-01-29T08:42:00Z"), t("2023-01-29T08:43:30Z")).expect("range")
}

async fn connector(test: &str, config: Value) -> Option<Arc<dyn Connector>> {
    let server = opensearch(test).await?;
    let mut base = json!({"index": "logs-*", "page_size": 500});
    if let (Some(b), Some(extra)) = (base.as_object_mut(), config.as_object()) {
        b.extend(extra.clone());
    }
    let ds = support::data_source(DataSourceKind::Elk, &server.url, base);
    Some(connector_for(&ds, Credentials::default()).expect("connector"))
}

fn query(filter: LogFilter, limit: usize, order: LogOrder) -> LogQuery {
    LogQuery {
        range: whole(),
        filter,
        limit,
        order,
    }
}

#[tokio::test]
async fn test_detects_opensearch_and_counts_documents() {
    let Some(c) = connector("test_detects_opensearch_and_counts_documents", json!({})).await else {
        return;
    };
    let r = c.test().await;
    assert!(r.ok, "{r:?}");
    assert!(
        r.version
            .as_deref()
            .is_some_and(|v| v.starts_with("OpenSearch ")),
        "{r:?}"
    );
    assert!(r.message.contains("3000 documents"), "{r:?}");
}

#[tokio::test]
async fn pages_through_every_line_with_search_after() {
    let Some(c) = connector("pages_through_every_line_with_search_after", json!({})).await else {
        return;
    };
    // page_size 500: six _search pages.
    let oldest = c
        .logs(&query(LogFilter::default(), 10_000, LogOrder::OldestFirst))
        .await
        .expect("logs");
    assert_eq!(oldest.records.len(), 3000);
    assert_eq!(oldest.total, Some(3000));
    assert!(!oldest.truncated);
    let first = &oldest.records[0];
    assert_eq!(first.timestamp, t("2023-01-29T08:42:09.487Z"));
    assert!(
        first
            .message
            .starts_with("16:42:09.486 INFO  t.c.Travel2Controller#115"),
        "{}",
        first.message
    );
    assert_eq!(first.level.as_deref(), Some("INFO"));
    assert_eq!(first.labels["service"], "ts-travel2-service");
    assert_eq!(first.labels["pod"], "ts-travel2-service-5c66d57d58-6mp2b");
    assert_eq!(first.labels["_index"], LOGS_INDEX);
    assert!(!first.labels.contains_key("message"));
    assert!(
        oldest
            .records
            .windows(2)
            .all(|w| w[0].timestamp <= w[1].timestamp)
    );
    let distinct: HashSet<_> = oldest
        .records
        .iter()
        .map(|r| (r.timestamp, r.message.as_str()))
        .collect();
    assert_eq!(distinct.len(), 3000, "paging lost or repeated lines");

    // Newest first, capped past the first page: 1,200 of 3,000.
    let newest = c
        .logs(&query(LogFilter::default(), 1200, LogOrder::NewestFirst))
        .await
        .expect("logs");
    assert_eq!(newest.records.len(), 1200);
    assert!(newest.truncated);
    assert_eq!(newest.total, Some(3000));
    assert_eq!(newest.records[0].timestamp, t("2023-01-29T08:43:25.929Z"));
    let reversed: Vec<_> = oldest.records.iter().rev().take(1200).collect();
    assert!(
        newest.records.iter().zip(reversed).all(|(a, b)| a == b),
        "newest-first is not oldest-first reversed"
    );
}

#[tokio::test]
async fn filters_by_level_field_text_and_query_string() {
    let Some(c) = connector("filters_by_level_field_text_and_query_string", json!({})).await else {
        return;
    };
    let count = |filter: LogFilter| {
        let c = c.clone();
        async move {
            c.logs(&query(filter, 5000, LogOrder::NewestFirst))
                .await
                .expect("logs")
                .records
        }
    };
    let errors = count(LogFilter {
        levels: vec!["ERROR".into()],
        ..LogFilter::default()
    })
    .await;
    assert_eq!(errors.len(), 8);
    assert!(errors.iter().all(|r| r.level.as_deref() == Some("ERROR")));

    let warn = count(LogFilter {
        levels: vec!["warn".into()],
        ..LogFilter::default()
    })
    .await;
    assert_eq!(warn.len(), 139, "levels match case-insensitively");

    let food_errors = count(LogFilter {
        levels: vec!["ERROR".into()],
        labels: [("service".to_owned(), "ts-food-service".to_owned())].into(),
        ..LogFilter::default()
    })
    .await;
    assert_eq!(food_errors.len(), 3);

    let trips = count(LogFilter {
        text: Some("TripResponse".into()),
        ..LogFilter::default()
    })
    .await;
    assert_eq!(trips.len(), 39);

    let native = count(LogFilter {
        query: Some("service:\"ts-execute-service\" AND level:ERROR".into()),
        ..LogFilter::default()
    })
    .await;
    assert_eq!(native.len(), 3);
}

#[tokio::test]
async fn histogram_counts_per_bucket() {
    let Some(c) = connector("histogram_counts_per_bucket", json!({})).await else {
        return;
    };
    let h = c
        .log_counts(
            &whole(),
            &LogFilter::default(),
            Some(Duration::from_secs(10)),
        )
        .await
        .expect("histogram");
    assert_eq!(h.interval_secs, 10);
    let got: Vec<(i64, u64)> = h
        .buckets
        .iter()
        .map(|b| (b.start.timestamp(), b.count))
        .collect();
    assert_eq!(
        got,
        vec![
            (1_674_981_720, 96),
            (1_674_981_730, 261),
            (1_674_981_740, 375),
            (1_674_981_750, 335),
            (1_674_981_760, 321),
            (1_674_981_770, 651),
            (1_674_981_780, 396),
            (1_674_981_790, 238),
            (1_674_981_800, 327),
        ]
    );
    assert_eq!(h.total(), 3000);

    let errors = c
        .log_counts(
            &whole(),
            &LogFilter {
                levels: vec!["ERROR".into()],
                ..LogFilter::default()
            },
            Some(Duration::from_secs(60)),
        )
        .await
        .expect("histogram");
    let got: Vec<(i64, u64)> = errors
        .buckets
        .iter()
        .map(|b| (b.start.timestamp(), b.count))
        .collect();
    assert_eq!(got, vec![(1_674_981_720, 1), (1_674_981_780, 7)]);
}

#[tokio::test]
async fn discovers_fields_and_values() {
    let Some(c) = connector("discovers_fields_and_values", json!({})).await else {
        return;
    };
    let fields = c.label_names(None, &whole()).await.expect("fields");
    for want in [
        "@timestamp",
        "level",
        "message",
        "pod",
        "service",
        "trace_id",
    ] {
        assert!(
            fields.iter().any(|f| f == want),
            "{want} missing: {fields:?}"
        );
    }
    let services = c
        .label_values("service", None, &whole())
        .await
        .expect("values");
    assert_eq!(services.len(), 27);
    assert_eq!(services[0], "ts-seat-service", "most frequent first");
    let levels = c
        .label_values("level", None, &whole())
        .await
        .expect("levels");
    assert_eq!(levels, vec!["INFO", "WARN", "ERROR"]);
    let food_levels = c
        .label_values("level", Some("service:\"ts-food-service\""), &whole())
        .await
        .expect("levels");
    assert!(food_levels.contains(&"ERROR".to_owned()), "{food_levels:?}");
}

#[tokio::test]
async fn server_errors_are_bad_queries_with_the_servers_reason() {
    let Some(c) = connector(
        "server_errors_are_bad_queries_with_the_servers_reason",
        json!({}),
    )
    .await
    else {
        return;
    };
    let e = c
        .logs(&query(
            LogFilter {
                query: Some("level:(ERROR".into()),
                ..LogFilter::default()
            },
            10,
            LogOrder::NewestFirst,
        ))
        .await
        .expect_err("broken query_string");
    assert_eq!(e.kind, ConnectorErrorKind::BadQuery, "{e}");

    let Some(missing) = connector(
        "server_errors_are_bad_queries_with_the_servers_reason",
        json!({"index": "no-such-index"}),
    )
    .await
    else {
        return;
    };
    let e = missing
        .logs(&query(LogFilter::default(), 10, LogOrder::NewestFirst))
        .await
        .expect_err("missing index");
    assert_eq!(e.kind, ConnectorErrorKind::BadQuery, "{e}");
    assert!(e.message.contains("no-such-index"), "{e}");
    let r = missing.test().await;
    assert!(!r.ok, "{r:?}");
    assert!(r.version.is_some(), "the server itself answered: {r:?}");
}

#[tokio::test]
async fn pages_shrink_when_an_answer_would_be_too_large() {
    let Some(c) = connector(
        "pages_shrink_when_an_answer_would_be_too_large",
        json!({"page_size": 2000, "max_response_bytes": 200_000}),
    )
    .await
    else {
        return;
    };
    let all = c
        .logs(&query(LogFilter::default(), 10_000, LogOrder::OldestFirst))
        .await
        .expect("logs in smaller pages");
    assert_eq!(all.records.len(), 3000);
    assert!(!all.truncated);
}
