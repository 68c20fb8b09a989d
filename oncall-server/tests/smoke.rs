//! The same smoke sequence against a real `oncall-server` process, on SQLite and on
//! MySQL/MariaDB: login → create data source → submit analysis → create ticket →
//! walk it open → processing → resolved → closed. Also checks that the server
//! refuses to start without secrets outside development mode.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{call, command, free_port, http_client, start};

async fn smoke(database_url: &str) {
    use reqwest::Method;
    let server = start(database_url).await;
    let http = http_client();
    let b = &server.base;

    let (s, login) = call(
        &http,
        Method::POST,
        format!("{b}/api/auth/login"),
        None,
        Some(json!({"email": "admin@oncall.example.com", "password": support::ADMIN_PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "{login}");
    let token = login["access_token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());

    let ds = json!({"name": "prom", "type": "prometheus", "url": "http://127.0.0.1:9090", "auth": {"type": "bearer", "token": "tok-123"}});
    let (s, ds) = call(
        &http,
        Method::POST,
        format!("{b}/api/datasources"),
        t,
        Some(ds),
    )
    .await;
    assert_eq!(s, 200, "{ds}");
    assert_eq!(ds["auth"]["has_token"], true);
    assert!(!ds.to_string().contains("tok-123"));

    let alert =
        json!({"alert": "【严重】支付服务 payment-svc 错误率超过 5%，开始于 2026-11-24 10:32:05"});
    let (s, acc) = call(
        &http,
        Method::POST,
        format!("{b}/api/analysis"),
        t,
        Some(alert),
    )
    .await;
    assert_eq!((s, acc["status"].as_str()), (200, Some("pending")), "{acc}");

    let (s, ticket) = call(
        &http,
        Method::POST,
        format!("{b}/api/tickets"),
        t,
        Some(json!({"analysis_id": acc["id"], "severity": "P0"})),
    )
    .await;
    assert_eq!(s, 200, "{ticket}");
    assert!(
        ticket["title"].as_str().unwrap().contains("支付服务"),
        "Chinese text survives: {ticket}"
    );
    let no = ticket["no"].as_str().unwrap().to_owned();
    for (version, to) in (1..).zip(["processing", "resolved", "closed"]) {
        let (s, body) = call(
            &http,
            Method::PATCH,
            format!("{b}/api/tickets/{no}"),
            t,
            Some(json!({"status": to, "version": version})),
        )
        .await;
        assert_eq!((s, body["status"].as_str()), (200, Some(to)), "{body}");
    }
    let (s, detail) = call(&http, Method::GET, format!("{b}/api/tickets/{no}"), t, None).await;
    assert_eq!(s, 200);
    assert_eq!(detail["history"].as_array().unwrap().len(), 4);

    // Concurrent changes of one ticket: exactly one wins, the other is told 409.
    let (_, t2) = call(
        &http,
        Method::POST,
        format!("{b}/api/tickets"),
        t,
        Some(json!({"title": "race"})),
    )
    .await;
    let no2 = t2["no"].as_str().unwrap().to_owned();
    let a = call(
        &http,
        Method::PATCH,
        format!("{b}/api/tickets/{no2}"),
        t,
        Some(json!({"status": "processing", "version": 1})),
    );
    let c = call(
        &http,
        Method::PATCH,
        format!("{b}/api/tickets/{no2}"),
        t,
        Some(json!({"title": "renamed", "version": 1})),
    );
    let ((sa, _), (sc, _)) = tokio::join!(a, c);
    let mut statuses = [sa, sc];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);

    // 50 concurrent creations get 50 distinct numbers.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let http = http.clone();
        let url = format!("{b}/api/tickets");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            call(
                &http,
                Method::POST,
                url,
                Some(&token),
                Some(json!({"title": format!("storm {i}")})),
            )
            .await
        }));
    }
    let mut numbers = std::collections::HashSet::new();
    for task in tasks {
        let (s, body) = task.await.unwrap();
        assert_eq!(s, 200, "{body}");
        numbers.insert(body["no"].as_str().unwrap().to_owned());
    }
    assert_eq!(numbers.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smoke_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    smoke(&format!(
        "sqlite://{}",
        dir.path().join("smoke.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smoke_on_mysql() {
    let Some((server_url, name, url)) = support::fresh_mysql().await else {
        return;
    };
    smoke(&url).await;
    support::drop_mysql(&server_url, &name).await;
}

#[test]
fn refuses_to_start_without_secrets_outside_development_mode() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = command(&dir, &url, free_port())
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("JWT_SECRET_KEY") && err.contains("development mode"),
        "{err}"
    );

    // Development mode starts, generating secrets it says where it keeps.
    let port = free_port();
    let mut child = command(&dir, &url, port)
        .env("ONCALL_DEV", "1")
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "dev server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(dir.path().join("data/dev-secrets.json").exists());
}
