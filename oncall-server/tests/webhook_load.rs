//! Webhook intake under load against a real server process, on SQLite and MySQL:
//! 1,000 Alertmanager notifications on loopback, 32 at a time, while the analyses
//! they start run in the server's workers. Every alert the server accepted (202)
//! must be stored; notifications refused with 429 are retried, as Alertmanager
//! does. Prints the intake latency percentiles (`--nocapture`), and appends them
//! as a JSON line to `$ONCALL_LOAD_REPORT` when set (see `scripts/webhook-load.sh`).
//!
//! `ONCALL_LOAD_SERVER_BIN` runs another `oncall-server` binary (e.g. a release
//! build) instead of the one built with this test; `ONCALL_LOAD_NOTIFICATIONS`
//! changes the count.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::{Server, admin_token, call, free_port, http_client};

// Latencies are of accepted (202) answers: the intake latency. 429 answers are
// counted (and their slowest reported) separately.

const CONCURRENCY: usize = 32;

async fn start(database_url: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bin = std::env::var("ONCALL_LOAD_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_oncall-server").to_owned());
    let child = Command::new(bin)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("ONCALL_ADDR", format!("127.0.0.1:{port}"))
        .env("ONCALL_WEB_DIR", dir.path().join("no-ui"))
        .env("JWT_SECRET_KEY", support::JWT_SECRET)
        .env("ONCALL_ADMIN_PASSWORD", support::ADMIN_PASSWORD)
        .env(
            "ONCALL_ENCRYPTION_KEY",
            oncall_core::secrets::SecretBox::generate_key(),
        )
        .env("ONCALL_WEBHOOK_BACKLOG", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = http_client();
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base, dir }
}

/// Notification `i`: 100 groups, each alert its own pod; every tenth repeats an
/// earlier alert (a duplicate) and every fifth carries a second alert.
fn notification(i: usize) -> Value {
    let group = i % 100;
    let pod = if i % 10 == 9 { i - 9 } else { i };
    let alert = |pod: String| {
        json!({
            "status": "firing",
            "labels": {"alertname": format!("Load{group}"), "namespace": "shop", "pod": pod, "severity": "critical"},
            "annotations": {"summary": "load test"},
            "startsAt": "2026-11-24T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
        })
    };
    let mut alerts = vec![alert(format!("pod-{pod}"))];
    if i % 5 == 0 {
        alerts.push(alert(format!("pod-{pod}-b")));
    }
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"Load{group}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "oncall",
        "groupLabels": {"alertname": format!("Load{group}")},
        "commonLabels": {"alertname": format!("Load{group}"), "namespace": "shop"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn load(database_url: &str, dialect: &str) {
    let server = start(database_url).await;
    let base = server.base.clone();
    let http = http_client();
    let admin = admin_token(&http, &base).await;
    let (s, hook) = call(
        &http,
        Method::POST,
        format!("{base}/api/webhooks"),
        Some(&admin),
        Some(json!({"name": "load", "kind": "alertmanager"})),
    )
    .await;
    assert_eq!(s, 200, "{hook}");
    let url = format!("{base}{}", hook["path"].as_str().unwrap());
    let token = hook["token"].as_str().unwrap().to_owned();
    let total: usize = std::env::var("ONCALL_LOAD_NOTIFICATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);

    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (http, url, token, next) = (http.clone(), url.clone(), token.clone(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut refused_ms = Vec::new();
            let (mut accepted, mut refused, mut alerts) = (0u64, 0u64, 0u64);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let body = notification(i).to_string();
                loop {
                    let t = Instant::now();
                    let resp = http
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    let status = resp.status().as_u16();
                    let answer: Value = resp.json().await.unwrap_or(Value::Null);
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    match status {
                        202 => {
                            latencies.push(ms);
                            accepted += 1;
                            alerts += answer["accepted"].as_u64().unwrap();
                            break;
                        }
                        429 => {
                            refused_ms.push(ms);
                            refused += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        other => panic!("{other}: {answer}"),
                    }
                }
            }
            (latencies, refused_ms, accepted, refused, alerts)
        });
    }
    let mut latencies = Vec::new();
    let mut refused_ms: Vec<f64> = Vec::new();
    let (mut accepted, mut refused, mut alerts) = (0, 0, 0);
    while let Some(r) = tasks.join_next().await {
        let (l, rl, a, r, n) = r.unwrap();
        latencies.extend(l);
        refused_ms.extend(rl);
        accepted += a;
        refused += r;
        alerts += n;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(
        accepted, total as u64,
        "every notification accepted in the end"
    );

    // While intake ran, analyses ran: how far did they get?
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let gauge = |name: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stored = gauge("oncall_webhook_alerts_total");
    assert_eq!(stored, alerts, "the server counted what it answered");
    let finished = gauge("oncall_analyses{status=\"completed\"}")
        + gauge("oncall_analyses{status=\"failed\"}");
    let started_analyses = gauge("oncall_webhook_analyses_started_total");

    // Every accepted alert is in the database (read it directly).
    let store = oncall_core::store::open(database_url).await.unwrap();
    let in_db = store.count_alert_occurrences().await.unwrap();
    assert_eq!(in_db, alerts, "every accepted alert is stored");
    store.close().await;

    latencies.sort_by(f64::total_cmp);
    let report = json!({
        "dialect": dialect,
        "server": std::env::var("ONCALL_LOAD_SERVER_BIN").map_or("test build".to_owned(), |b| b),
        "notifications": total,
        "alerts_stored": in_db,
        "refused_429": refused,
        "refused_429_max_ms": (refused_ms.iter().copied().fold(0.0, f64::max) * 100.0).round() / 100.0,
        "concurrency": CONCURRENCY,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "notifications_per_s": (total as f64 / elapsed).round(),
        "p50_ms": (percentile(&latencies, 50.0) * 100.0).round() / 100.0,
        "p90_ms": (percentile(&latencies, 90.0) * 100.0).round() / 100.0,
        "p99_ms": (percentile(&latencies, 99.0) * 100.0).round() / 100.0,
        "max_ms": (latencies[latencies.len() - 1] * 100.0).round() / 100.0,
        "analyses_started": started_analyses,
        "analyses_final_when_intake_ended": finished,
    });
    println!("webhook intake load: {report}");
    if let Ok(path) = std::env::var("ONCALL_LOAD_REPORT") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(f, "{report}").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_intake_under_load_stores_every_accepted_alert() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    load(&url, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_intake_under_load_stores_every_accepted_alert() {
    let Some((server_url, name, url)) = support::fresh_mysql().await else {
        return;
    };
    load(&url, "mysql").await;
    support::drop_mysql(&server_url, &name).await;
}
