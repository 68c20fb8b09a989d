//! Durable analysis jobs across real server processes: several servers on one
//! MySQL database run each analysis exactly once, and an analysis in flight when
//! its server is killed is taken over after a restart and ends with a reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::{admin_token, call, http_client, start_with};

async fn wait_all_final(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    ids: &[String],
    limit: Duration,
) -> HashMap<String, Value> {
    let started = Instant::now();
    loop {
        let mut done = HashMap::new();
        for id in ids {
            let (_, a) = call(
                http,
                Method::GET,
                format!("{base}/api/analysis/{id}"),
                Some(token),
                None,
            )
            .await;
            if matches!(a["status"].as_str(), Some("completed" | "failed")) {
                done.insert(id.clone(), a);
            }
        }
        if done.len() == ids.len() {
            return done;
        }
        assert!(
            started.elapsed() < limit,
            "{} of {} analyses final after {limit:?}",
            done.len(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_on_one_mysql_run_each_analysis_once() {
    let Some((server_url, name, url)) = support::fresh_mysql().await else {
        return;
    };
    let key = oncall_core::secrets::SecretBox::generate_key();
    // Start one first so the schema and the admin exist, then two more.
    let mut servers = vec![start_with(&url, &key, &[("ONCALL_ANALYSIS_WORKERS", "2")]).await];
    for _ in 0..2 {
        servers.push(start_with(&url, &key, &[("ONCALL_ANALYSIS_WORKERS", "2")]).await);
    }
    let http = http_client();
    let token = admin_token(&http, &servers[0].base).await;

    let mut ids = Vec::new();
    for i in 0..60 {
        let base = &servers[i % 3].base;
        let alert = json!({"alert": {"labels": {"alertname": format!("Job{i}"), "namespace": "none"}, "startsAt": "2026-11-24T10:00:00Z"}});
        let (s, acc) = call(
            &http,
            Method::POST,
            format!("{base}/api/analysis"),
            Some(&token),
            Some(alert),
        )
        .await;
        assert_eq!(s, 200, "{acc}");
        ids.push(acc["id"].as_str().unwrap().to_owned());
    }
    let finals = wait_all_final(
        &http,
        &servers[0].base,
        &token,
        &ids,
        Duration::from_secs(180),
    )
    .await;
    assert!(
        finals.values().all(|a| a["status"] == "completed"),
        "all completed"
    );
    for id in &ids {
        let (_, page) = call(
            &http,
            Method::GET,
            format!("{}/api/analysis/{id}", servers[1].base),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(page["status"], "completed");
    }
    // Exactly once: one `parsed` and one `done` event per analysis, whoever ran it.
    let conn_url = url.clone();
    use sqlx::{Connection, MySqlConnection, Row};
    let mut conn = MySqlConnection::connect(&conn_url).await.unwrap();
    let rows = sqlx::query("SELECT analysis_id, stage, COUNT(*) AS n FROM analysis_events WHERE stage IN ('parsed', 'done') GROUP BY analysis_id, stage")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        120,
        "a parsed and a done event for each of the 60"
    );
    assert!(
        rows.iter().all(|r| r.get::<i64, _>("n") == 1),
        "no analysis ran twice"
    );
    let attempts: Vec<i64> = sqlx::query_scalar("SELECT attempts FROM analyses")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(
        attempts.iter().all(|a| *a == 1),
        "each claimed once: {attempts:?}"
    );
    drop(servers);
    support::drop_mysql(&server_url, &name).await;
}

/// A server that accepts connections and never answers: a data source that hangs.
fn blackhole() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_analysis_in_flight_when_the_server_dies_finishes_after_a_restart() {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db.path().join("jobs.db").display());
    let key = oncall_core::secrets::SecretBox::generate_key();
    let (_hole, port) = blackhole();
    let mut first = start_with(&url, &key, &[]).await;
    let http = http_client();
    let token = admin_token(&http, &first.base).await;
    let ds = json!({"name": "hanging", "type": "prometheus", "url": format!("http://127.0.0.1:{port}"), "timeout_ms": 10000});
    let (s, body) = call(
        &http,
        Method::POST,
        format!("{}/api/datasources", first.base),
        Some(&token),
        Some(ds),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let alert = json!({"alert": {"labels": {"alertname": "Hang", "namespace": "shop"}, "startsAt": "2026-11-24T10:00:00Z"}});
    let (_, acc) = call(
        &http,
        Method::POST,
        format!("{}/api/analysis", first.base),
        Some(&token),
        Some(alert),
    )
    .await;
    let id = acc["id"].as_str().unwrap().to_owned();

    // Wait until it is collecting (stuck on the hanging source), then crash.
    let started = Instant::now();
    loop {
        let (_, a) = call(
            &http,
            Method::GET,
            format!("{}/api/analysis/{id}", first.base),
            Some(&token),
            None,
        )
        .await;
        if a["status"] == "collecting" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never started collecting: {a}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill();

    // A new process takes it over once the dead worker's lease runs out.
    let second = start_with(&url, &key, &[]).await;
    let finals = wait_all_final(
        &http,
        &second.base,
        &token,
        std::slice::from_ref(&id),
        Duration::from_secs(120),
    )
    .await;
    let a = &finals[&id];
    assert_eq!(a["status"], "completed", "{a}");
    assert!(
        a["error"].as_str().unwrap().contains("hanging"),
        "the hanging source is named: {a}"
    );
    let (_, events) = call(
        &http,
        Method::GET,
        format!("{}/api/analysis/{id}/events", second.base),
        Some(&token),
        None,
    )
    .await;
    let text = events.as_str().unwrap();
    assert_eq!(
        text.matches("\"stage\":\"parsed\"").count(),
        2,
        "ran twice: before the crash and after\n{text}"
    );
    assert_eq!(text.matches("\"stage\":\"done\"").count(), 1, "{text}");
}
