//! Helpers for tests that run real `oncall-server` processes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The signing key every test server uses, so servers sharing a database accept
/// each other's tokens.
pub const JWT_SECRET: &str = "process-test-secret-0123456789";

/// The first admin's password on every test server (`ONCALL_ADMIN_PASSWORD`): a
/// server outside development mode refuses to start with the default one.
pub const ADMIN_PASSWORD: &str = "process-test-admin-pw";

/// A running server process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP client (the tree carries rustls on ring only: install it first).
pub fn http_client() -> reqwest::Client {
    oncall_core::connectors::install_default_tls_provider();
    reqwest::Client::new()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server command with a clean environment.
pub fn command(dir: &tempfile::TempDir, database_url: &str, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oncall-server"));
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("ONCALL_ADDR", format!("127.0.0.1:{port}"))
        .env("ONCALL_WEB_DIR", dir.path().join("no-ui"))
        .env("ONCALL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Starts a server on `database_url` with `encryption_key` and waits until ready.
pub async fn start_with(database_url: &str, encryption_key: &str, env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = command(&dir, database_url, port);
    cmd.env("JWT_SECRET_KEY", JWT_SECRET)
        .env("ONCALL_ENCRYPTION_KEY", encryption_key);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let http = http_client();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base, dir }
}

/// Starts a server with a fresh encryption key.
pub async fn start(database_url: &str) -> Server {
    start_with(
        database_url,
        &oncall_core::secrets::SecretBox::generate_key(),
        &[],
    )
    .await
}

/// One JSON request; returns the status and the body (JSON, or the text as a string).
pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Logs in as the default admin.
pub async fn admin_token(http: &reqwest::Client, base: &str) -> String {
    let body = json!({"email": "admin@oncall.example.com", "password": ADMIN_PASSWORD});
    let (s, login) = call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/auth/login"),
        None,
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{login}");
    login["access_token"].as_str().unwrap().to_owned()
}

/// A fresh, empty MySQL database on the test server, or `None` when a developer
/// opted out outside CI. Returns (server URL, database name, database URL).
pub async fn fresh_mysql() -> Option<(String, String, String)> {
    use sqlx::{Connection, Executor, MySqlConnection};
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if !in_ci && std::env::var("ONCALL_TEST_MYSQL").is_ok_and(|v| v == "skip") {
        eprintln!("SKIPPED a MySQL test (ONCALL_TEST_MYSQL=skip)");
        return None;
    }
    let server_url = std::env::var("ONCALL_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let mut conn = MySqlConnection::connect(&server_url)
        .await
        .unwrap_or_else(|e| panic!("MySQL test server at {server_url} is unreachable: {e}"));
    let name = format!("oncall_srv_{}", uuid::Uuid::new_v4().simple());
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )))
    .await
    .unwrap();
    let base = server_url
        .rsplit_once('/')
        .map_or(server_url.as_str(), |(b, _)| b)
        .to_owned();
    let url = format!("{base}/{name}");
    Some((server_url, name, url))
}

/// Drops a database made by [`fresh_mysql`].
pub async fn drop_mysql(server_url: &str, name: &str) {
    use sqlx::{Connection, Executor, MySqlConnection};
    let mut conn = MySqlConnection::connect(server_url).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS `{name}`"
    )))
    .await
    .unwrap();
}
