//! The connectivity test behind `POST /api/datasources/{id}/test`, through the engine
//! exactly as the API calls it, for each kind of source: a live server (real
//! Prometheus and OpenSearch-API servers; Loki is an in-test server replaying
//! Loki's documented answers), a dead port, and wrong credentials.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::time::{Duration, Instant};

use oncall_core::connectors::{ConnectorErrorKind, DataSourceKind};
use oncall_core::secrets::SecretBox;
use oncall_core::{DataSourceInput, OnCall, Settings};
use serde_json::json;
use support::replay::{Recorded, ReplayServer, Reply};
use support::services;

async fn engine() -> (OnCall, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        Settings::with_database(format!("sqlite://{}", dir.path().join("t.db").display()));
    settings.encryption_key = Some(SecretBox::generate_key());
    (OnCall::open(settings).await.unwrap(), dir)
}

async fn test(oncall: &OnCall, input: DataSourceInput) -> oncall_core::connectors::ConnectionTest {
    let me = oncall.local_admin();
    let ds = oncall.create_datasource(&me, input).await.unwrap();
    oncall.test_datasource(&me, ds.id).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_servers_answer_ok_with_their_version() {
    let Some(prometheus) = services::prometheus("live_servers_answer_ok_with_their_version").await
    else {
        return;
    };
    let Some(opensearch) = services::opensearch("live_servers_answer_ok_with_their_version").await
    else {
        return;
    };
    let loki = ReplayServer::start(|r: &Recorded| match r.path.as_str() {
        "/ready" => Reply::text(200, "ready"),
        "/loki/api/v1/status/buildinfo" => Reply::json(
            200,
            r#"{"version":"2.9.4","revision":"f599ebc","branch":"HEAD"}"#,
        ),
        "/loki/api/v1/labels" => {
            Reply::json(200, r#"{"status":"success","data":["app","namespace"]}"#)
        }
        _ => Reply::json(404, r#"{"message":"not found"}"#),
    })
    .await;
    let (oncall, _dir) = engine().await;

    let t = test(
        &oncall,
        DataSourceInput::new("prom", DataSourceKind::Prometheus, &prometheus.url),
    )
    .await;
    assert!(t.ok, "{t:?}");
    assert!(
        t.version
            .as_deref()
            .is_some_and(|v| v.contains("Prometheus")),
        "{t:?}"
    );

    let elk = DataSourceInput::new("es", DataSourceKind::Elk, &opensearch.url).with_config(
        None,
        Some("logs-*".into()),
        None,
    );
    let t = test(&oncall, elk).await;
    assert!(t.ok, "{t:?}");
    assert!(t.version.is_some(), "{t:?}");

    let t = test(
        &oncall,
        DataSourceInput::new("loki", DataSourceKind::Loki, &loki.url),
    )
    .await;
    assert!(t.ok, "{t:?}");
    assert!(
        t.version.as_deref().is_some_and(|v| v.contains("2.9.4")),
        "{t:?}"
    );
}

#[tokio::test]
async fn a_dead_port_answers_quickly_with_the_reason() {
    let (oncall, _dir) = engine().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    for (i, kind) in DataSourceKind::ALL.into_iter().enumerate() {
        let input = DataSourceInput::new(format!("dead-{i}"), kind, &url).with_config(
            None,
            Some("logs-*".into()),
            None,
        );
        let started = Instant::now();
        let t = test(&oncall, input).await;
        assert!(
            !t.ok && t.error == Some(ConnectorErrorKind::Unreachable),
            "{kind:?}: {t:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{kind:?} took {:?}",
            started.elapsed()
        );
        assert!(!t.message.is_empty());
    }
}

#[tokio::test]
async fn wrong_credentials_are_named_and_never_echoed() {
    let server = ReplayServer::start(|_: &Recorded| {
        Reply::json(401, r#"{"error":{"type":"security_exception","reason":"unable to authenticate user [ops]"},"status":401}"#)
    })
    .await;
    let (oncall, _dir) = engine().await;
    for (i, kind) in DataSourceKind::ALL.into_iter().enumerate() {
        let input = DataSourceInput::new(format!("locked-{i}"), kind, &server.url)
            .with_credentials(Some("ops".into()), Some("hunter2-secret".into()), None)
            .with_config(Some(json!({})), Some("logs-*".into()), None);
        let t = test(&oncall, input).await;
        assert!(
            !t.ok && t.error == Some(ConnectorErrorKind::AuthFailed),
            "{kind:?}: {t:?}"
        );
        assert!(!format!("{t:?}").contains("hunter2-secret"), "{t:?}");
    }
    // The password really was sent (sealed at rest, opened for the connector).
    let auth = server
        .requests()
        .iter()
        .find_map(|r| r.header("authorization").map(str::to_owned))
        .unwrap();
    assert!(auth.starts_with("Basic "), "{auth}");
}
