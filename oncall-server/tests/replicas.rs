//! Replicas as an operator runs them, with real `oncall-server` processes on one
//! MariaDB/MySQL database: started together on an empty database they all come
//! up; SIGTERM stops one cleanly (exit 0 within the grace period) and hands its
//! running analyses to another at once; a killed one's analyses are taken over
//! within seconds (the heartbeat), not after a 30 s lease.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::{Server, admin_token, call, command, free_port, http_client, start_with};

/// A data source that hangs: accepts connections and never answers, until
/// closed; after that, connections are refused at once.
struct Hanging {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hanging {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((conn, _)) => held.push(conn),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        Hanging {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Drops the held connections and the listener.
    fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Hanging {
    fn drop(&mut self) {
        self.close();
    }
}

async fn analysis(http: &reqwest::Client, base: &str, token: &str, id: &str) -> Value {
    let (s, a) = call(
        http,
        Method::GET,
        format!("{base}/api/analysis/{id}"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{a}");
    a
}

async fn wait_status(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    want: &[&str],
    limit: Duration,
) -> Value {
    let started = Instant::now();
    loop {
        let a = analysis(http, base, token, id).await;
        if want.contains(&a["status"].as_str().unwrap_or_default()) {
            return a;
        }
        assert!(
            started.elapsed() < limit,
            "not {want:?} after {limit:?}: {a}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Adds the hanging source and submits an analysis on `base`; returns its id
/// once a worker there holds it (`collecting`, stuck on the source).
async fn submit_stuck(http: &reqwest::Client, base: &str, token: &str, hang: &Hanging) -> String {
    let ds =
        json!({"name": "hanging", "type": "prometheus", "url": hang.url(), "timeout_ms": 60000});
    let (s, body) = call(
        http,
        Method::POST,
        format!("{base}/api/datasources"),
        Some(token),
        Some(ds),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let alert = json!({"alert": {"labels": {"alertname": "Handover", "namespace": "shop"}, "startsAt": "2026-11-24T10:00:00Z"}});
    let (s, acc) = call(
        http,
        Method::POST,
        format!("{base}/api/analysis"),
        Some(token),
        Some(alert),
    )
    .await;
    assert_eq!(s, 200, "{acc}");
    let id = acc["id"].as_str().unwrap().to_owned();
    wait_status(
        http,
        base,
        token,
        &id,
        &["collecting"],
        Duration::from_secs(20),
    )
    .await;
    id
}

async fn attempts(url: &str, id: &str) -> (i64, Option<String>) {
    use sqlx::{Connection, MySqlConnection, Row};
    let mut conn = MySqlConnection::connect(url).await.unwrap();
    let row = sqlx::query("SELECT attempts, lease_owner FROM analyses WHERE id = ?")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (row.get("attempts"), row.get("lease_owner"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_started_at_once_on_an_empty_database_all_come_up() {
    let key = oncall_core::secrets::SecretBox::generate_key();
    for round in 0..3 {
        let Some((server_url, name, url)) = support::fresh_mysql().await else {
            return;
        };
        // Three processes spawned at the same moment on the empty database.
        let mut servers: Vec<Server> = (0..3)
            .map(|_| {
                let dir = tempfile::tempdir().unwrap();
                let port = free_port();
                let child = command(&dir, &url, port)
                    .env("JWT_SECRET_KEY", support::JWT_SECRET)
                    .env("ONCALL_ENCRYPTION_KEY", &key)
                    .spawn()
                    .unwrap();
                Server {
                    child,
                    base: format!("http://127.0.0.1:{port}"),
                    dir,
                }
            })
            .collect();
        let http = http_client();
        let started = Instant::now();
        for (i, server) in servers.iter_mut().enumerate() {
            loop {
                if let Some(status) = server.child.try_wait().unwrap() {
                    panic!("round {round}: server {i} exited with {status} while starting");
                }
                if let Ok(r) = http.get(format!("{}/readyz", server.base)).send().await
                    && r.status().is_success()
                {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "round {round}: server {i} did not become ready"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // One schema, one admin, usable from every replica.
        let token = admin_token(&http, &servers[0].base).await;
        for s in &servers {
            let (status, users) = call(
                &http,
                Method::GET,
                format!("{}/api/users", s.base),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(status, 200, "{users}");
            assert_eq!(users["total"], 1, "one admin: {users}");
        }
        drop(servers);
        support::drop_mysql(&server_url, &name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_stops_cleanly_and_hands_running_analyses_to_another_replica() {
    let Some((server_url, name, url)) = support::fresh_mysql().await else {
        return;
    };
    let key = oncall_core::secrets::SecretBox::generate_key();
    let mut hang = Hanging::start();
    let env = [
        ("ONCALL_ANALYSIS_WORKERS", "1"),
        ("ONCALL_STOP_GRACE_SECONDS", "2"),
    ];
    let mut stopping = start_with(&url, &key, &env).await;
    let http = http_client();
    let token = admin_token(&http, &stopping.base).await;
    let id = submit_stuck(&http, &stopping.base, &token, &hang).await;
    let other = start_with(&url, &key, &env).await;
    assert_eq!(attempts(&url, &id).await.0, 1);

    // SIGTERM, as docker, Kubernetes and systemd send it.
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &stopping.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = stopping.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(8),
            "still running 8 s after SIGTERM with a 2 s grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "a clean stop exits 0, not killed by the signal: {status}"
    );
    // Handed back: no owner, and the interrupted attempt not charged.
    let (tries, owner) = attempts(&url, &id).await;
    let now = analysis(&http, &other.base, &token, &id).await;
    assert!(
        owner.is_none() || now["status"] != "pending",
        "released or already taken: {owner:?} {now}"
    );
    assert!(
        tries <= 1,
        "the interrupted attempt is not charged: {tries}"
    );

    // The other replica takes it at once and finishes it (the source is gone now:
    // refused at once, named in the result).
    hang.close();
    let handed = Instant::now();
    let done = wait_status(
        &http,
        &other.base,
        &token,
        &id,
        &["completed", "failed"],
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(
        handed.elapsed() < Duration::from_secs(10),
        "finished {:?} after the hand-over",
        handed.elapsed()
    );
    assert_eq!(attempts(&url, &id).await.0, 1, "one charged attempt in all");
    drop(other);
    drop(stopping);
    support::drop_mysql(&server_url, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_replicas_analysis_is_taken_over_within_seconds() {
    let Some((server_url, name, url)) = support::fresh_mysql().await else {
        return;
    };
    let key = oncall_core::secrets::SecretBox::generate_key();
    let mut hang = Hanging::start();
    // The default heartbeat (2 s; a claim lasts three).
    let env = [("ONCALL_ANALYSIS_WORKERS", "1")];
    let mut dying = start_with(&url, &key, &env).await;
    let http = http_client();
    let token = admin_token(&http, &dying.base).await;
    let id = submit_stuck(&http, &dying.base, &token, &hang).await;
    let other = start_with(&url, &key, &env).await;
    // Let the dead one have renewed its claim at least once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    dying.kill();
    hang.close();
    let killed = Instant::now();
    let done = wait_status(
        &http,
        &other.base,
        &token,
        &id,
        &["completed", "failed"],
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    // A claim lasts 6 s; the other polls every second (it was 30 s before).
    assert!(
        killed.elapsed() < Duration::from_secs(12),
        "taken over and finished {:?} after the kill",
        killed.elapsed()
    );
    assert_eq!(attempts(&url, &id).await.0, 2, "the dead attempt counts");
    drop(other);
    support::drop_mysql(&server_url, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_and_sigint_both_stop_a_server_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let db = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", db.path().join("stop.db").display());
        let key = oncall_core::secrets::SecretBox::generate_key();
        let mut server = start_with(&url, &key, &[("ONCALL_STOP_GRACE_SECONDS", "5")]).await;
        let sent = Instant::now();
        let kill = std::process::Command::new("kill")
            .args([signal, &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(5),
                "{signal}: still running after the grace period"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "{signal}: exit {status}");
        // Idle, it stops at once rather than waiting out the grace period.
        assert!(
            sent.elapsed() < Duration::from_secs(3),
            "{signal}: {:?}",
            sent.elapsed()
        );
    }
}
