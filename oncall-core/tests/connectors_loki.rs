//! The Loki connector against a REPLAY server, not a real Loki: no Loki package is
//! available to the test machines. The in-test HTTP server (`support::replay`)
//! answers in Loki's documented JSON format — `streams` results whose values are
//! `["<ns timestamp>", "<line>"]`, `matrix` results for metric queries, `{"status":
//! "success", "data": [...]}` for labels, build information, and plain-text error
//! bodies as Loki sends them for a LogQL parse error — and honours `start`
//! (inclusive), `end` (exclusive), `limit` and `direction` over a fixed set of lines
//! so the connector's paging is exercised.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use oncall_core::connectors::{
    Connector, ConnectorErrorKind, Credentials, DataSourceKind, LogFilter, LogOrder, LogQuery,
    MetricResultType, TimeRange, connector_for,
};
use serde_json::{Value, json};
use support::replay::{Recorded, ReplayServer, Reply};

/// 2023-11-14T22:13:20Z in ns.
const T0: i64 = 1_700_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;

/// `(ns, stream index, line)`: ten seconds of an `api` service, two pods; both pods
/// log at T0 + 5 s, so a page boundary falls on a shared timestamp.
fn lines() -> Vec<(i64, usize, String)> {
    let mut v = Vec::new();
    for i in 0..10 {
        v.push((T0 + i * SEC, 0, format!("api-1 line {i}: upstream timeout")));
    }
    for i in [1, 3, 5, 7] {
        v.push((T0 + i * SEC, 1, format!("api-2 line {i}: ok")));
    }
    v
}

fn streams() -> [Value; 2] {
    [
        json!({"app": "api", "level": "error", "pod": "api-1"}),
        json!({"app": "api", "level": "info", "pod": "api-2"}),
    ]
}

fn loki(req: &Recorded) -> Reply {
    match req.path.as_str() {
        "/ready" => Reply::text(200, "ready\n"),
        "/loki/api/v1/status/buildinfo" => Reply::json(
            200,
            r#"{"version":"2.9.4","revision":"f599ebc535","branch":"HEAD","buildUser":"root@","buildDate":"","goVersion":"go1.21.3"}"#,
        ),
        "/loki/api/v1/labels" => {
            Reply::json(200, r#"{"status":"success","data":["app","level","pod"]}"#)
        }
        "/loki/api/v1/label/pod/values" => {
            Reply::json(200, r#"{"status":"success","data":["api-1","api-2"]}"#)
        }
        "/loki/api/v1/query" => Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"api-1"},"value":[1700000010,"10"]},{"metric":{"pod":"api-2"},"value":[1700000010,"4"]}],"stats":{"summary":{"bytesProcessedPerSecond":1}}}}"#,
        ),
        "/loki/api/v1/query_range" => query_range(req),
        _ => Reply::text(404, "404 page not found\n"),
    }
}

fn query_range(req: &Recorded) -> Reply {
    let q = req.param("query").unwrap_or_default();
    if q.contains("|~ \"(\"") {
        return Reply::text(
            400,
            "parse error at line 1, col 17: error parsing regexp: missing closing ): `(`\n",
        );
    }
    if q.starts_with("sum(count_over_time(") {
        // Evaluated at T0+10s and T0+20s with a 10 s step: (T0, T0+10s] and (T0+10s, T0+20s].
        return Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1700000010,"13"],[1700000020,"1"]]}],"stats":{}}}"#,
        );
    }
    let num = |k: &str| req.param(k).and_then(|v| v.parse::<i64>().ok());
    let (start, end) = (num("start").unwrap_or(0), num("end").unwrap_or(i64::MAX));
    let limit = num("limit").unwrap_or(100) as usize;
    let forward = req.param("direction") == Some("forward");
    let only_api1 = q.contains("pod=\"api-1\"");
    let mut hits: Vec<_> = lines()
        .into_iter()
        .filter(|(t, s, _)| *t >= start && *t < end && (!only_api1 || *s == 0))
        .collect();
    hits.sort_by_key(|(t, s, _)| if forward { (*t, *s) } else { (-*t, *s) });
    hits.truncate(limit);
    let result: Vec<Value> = streams()
        .into_iter()
        .enumerate()
        .filter_map(|(i, labels)| {
            let values: Vec<Value> = hits
                .iter()
                .filter(|(_, s, _)| *s == i)
                .map(|(t, _, l)| json!([t.to_string(), l]))
                .collect();
            (!values.is_empty()).then(|| json!({"stream": labels, "values": values}))
        })
        .collect();
    Reply::json(
        200,
        json!({"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}})
            .to_string(),
    )
}

async fn connector(server: &ReplayServer, config: Value) -> Arc<dyn Connector> {
    let ds = support::data_source(DataSourceKind::Loki, &server.url, config);
    connector_for(&ds, Credentials::default()).expect("connector")
}

fn range() -> TimeRange {
    TimeRange::new(
        DateTime::from_timestamp_nanos(T0),
        DateTime::from_timestamp_nanos(T0 + 20 * SEC),
    )
    .expect("range")
}

#[tokio::test]
async fn test_reports_version_and_sends_the_tenant() {
    let server = ReplayServer::start(loki).await;
    let c = connector(
        &server,
        json!({"labels": "{app=\"api\"}", "tenant": "team-a"}),
    )
    .await;
    let t = c.test().await;
    assert!(t.ok, "{t:?}");
    assert_eq!(t.version.as_deref(), Some("Loki 2.9.4"));
    let reqs = server.requests();
    assert!(reqs.iter().any(|r| r.path == "/ready"));
    assert!(
        reqs.iter()
            .all(|r| r.header("x-scope-orgid") == Some("team-a")),
        "{reqs:?}"
    );
}

#[tokio::test]
async fn pages_by_time_without_losing_or_repeating_lines() {
    let server = ReplayServer::start(loki).await;
    // Three lines a request: the boundary at T0+5s is shared by both pods.
    let c = connector(&server, json!({"labels": "{app=\"api\"}", "page_size": 3})).await;
    for order in [LogOrder::NewestFirst, LogOrder::OldestFirst] {
        let batch = c
            .logs(&LogQuery {
                range: range(),
                filter: LogFilter::default(),
                limit: 100,
                order,
            })
            .await
            .expect("logs");
        assert_eq!(batch.records.len(), 14, "{order:?}");
        assert!(!batch.truncated);
        let mut seen: Vec<_> = batch
            .records
            .iter()
            .map(|r| {
                (
                    r.timestamp.timestamp_nanos_opt().unwrap_or(0),
                    r.message.clone(),
                )
            })
            .collect();
        let in_order = seen.windows(2).all(|w| match order {
            LogOrder::OldestFirst => w[0].0 <= w[1].0,
            LogOrder::NewestFirst => w[0].0 >= w[1].0,
        });
        assert!(in_order, "{order:?}: {seen:?}");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 14, "{order:?}: repeated lines");
    }
    let newest = c
        .logs(&LogQuery {
            range: range(),
            filter: LogFilter::default(),
            limit: 4,
            order: LogOrder::NewestFirst,
        })
        .await
        .expect("logs");
    assert_eq!(newest.records.len(), 4);
    assert!(newest.truncated);
    let first = &newest.records[0];
    assert_eq!(first.message, "api-1 line 9: upstream timeout");
    assert_eq!(first.level.as_deref(), Some("error"));
    assert_eq!(first.labels["pod"], "api-1");
    assert_eq!(first.timestamp.timestamp_nanos_opt(), Some(T0 + 9 * SEC));
    let directions: Vec<_> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/loki/api/v1/query_range")
        .filter_map(|r| r.param("direction").map(str::to_owned))
        .collect();
    assert!(
        directions.contains(&"forward".to_owned()) && directions.contains(&"backward".to_owned())
    );
}

#[tokio::test]
async fn filters_become_logql() {
    let server = ReplayServer::start(loki).await;
    let c = connector(&server, json!({"labels": "{app=\"api\"}"})).await;
    let batch = c
        .logs(&LogQuery {
            range: range(),
            filter: LogFilter {
                levels: vec!["ERROR".into(), "warn".into()],
                text: Some("upstream \"timeout\"".into()),
                labels: [("pod".to_owned(), "api-1".to_owned())].into(),
                query: Some("| logfmt".into()),
            },
            limit: 100,
            order: LogOrder::NewestFirst,
        })
        .await
        .expect("logs");
    assert_eq!(batch.records.len(), 10);
    assert_eq!(
        batch.query,
        r#"{app="api", pod="api-1"} |= "upstream \"timeout\"" | level=~"(?i)(ERROR|warn)" | logfmt"#
    );
    let sent = server.requests();
    let last = sent.last().expect("a request");
    assert_eq!(last.param("query"), Some(batch.query.as_str()));
    assert_eq!(last.param("start"), Some(T0.to_string().as_str()));

    // Without a configured selector and no label filter there is nothing to select.
    let bare = connector(&server, json!({})).await;
    let e = bare
        .logs(&LogQuery {
            range: range(),
            filter: LogFilter::default(),
            limit: 10,
            order: LogOrder::NewestFirst,
        })
        .await
        .expect_err("no selector");
    assert_eq!(e.kind, ConnectorErrorKind::Config);
}

#[tokio::test]
async fn counts_come_from_count_over_time() {
    let server = ReplayServer::start(loki).await;
    let c = connector(&server, json!({"labels": "{app=\"api\"}"})).await;
    let h = c
        .log_counts(
            &range(),
            &LogFilter::default(),
            Some(Duration::from_secs(10)),
        )
        .await
        .expect("counts");
    assert_eq!(h.interval_secs, 10);
    let got: Vec<(i64, u64)> = h
        .buckets
        .iter()
        .map(|b| (b.start.timestamp_nanos_opt().unwrap_or(0), b.count))
        .collect();
    assert_eq!(got, vec![(T0, 13), (T0 + 10 * SEC, 1)]);
    assert_eq!(h.query, r#"sum(count_over_time({app="api"} [10s]))"#);
    let req = server.requests().pop().expect("request");
    assert_eq!(req.param("step"), Some("10"));
    assert_eq!(
        req.param("start"),
        Some((T0 + 10 * SEC).to_string().as_str())
    );
}

#[tokio::test]
async fn metric_queries_labels_and_errors() {
    let server = ReplayServer::start(loki).await;
    let c = connector(&server, json!({"labels": "{app=\"api\"}"})).await;
    let v = c
        .metric_query(
            "sum by (pod) (count_over_time({app=\"api\"}[10s]))",
            DateTime::from_timestamp(1_700_000_010, 0).expect("t"),
        )
        .await
        .expect("instant");
    assert_eq!(v.result_type, MetricResultType::Vector);
    assert_eq!(v.series.len(), 2);
    assert_eq!(v.series[0].labels["pod"], "api-1");
    assert_eq!(v.series[0].samples[0].value, 10.0);

    assert_eq!(
        c.label_names(None, &range()).await.expect("labels"),
        vec!["app", "level", "pod"]
    );
    assert_eq!(
        c.label_values("pod", None, &range()).await.expect("values"),
        vec!["api-1", "api-2"]
    );
    let req = server.requests().pop().expect("request");
    assert_eq!(req.param("query"), Some("{app=\"api\"}"));

    let e = c
        .logs(&LogQuery {
            range: range(),
            filter: LogFilter {
                query: Some("|~ \"(\"".into()),
                ..LogFilter::default()
            },
            limit: 10,
            order: LogOrder::NewestFirst,
        })
        .await
        .expect_err("parse error");
    assert_eq!(e.kind, ConnectorErrorKind::BadQuery);
    assert!(e.message.contains("parse error at line 1, col 17"), "{e}");

    let e = c
        .series(&["{app=\"api\"}".into()], &range(), 10)
        .await
        .expect_err("no series API");
    assert_eq!(e.kind, ConnectorErrorKind::Unsupported);
}
