//! Fresh databases for integration tests: a temporary SQLite file, or a new
//! database on the MySQL/MariaDB server named by `ONCALL_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/test`), dropped when the test ends.
//!
//! MySQL tests never skip silently: an unreachable server fails the test. Outside CI
//! a developer without MySQL may set `ONCALL_TEST_MYSQL=skip`, and each skipped
//! test says so on stderr.
#![allow(dead_code)]

use std::sync::Arc;

use oncall_core::store::{MysqlStore, SqliteStore, Store};
use sqlx::{Connection, Executor, MySqlConnection};

pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub store: Arc<dyn Store>,
    pub sqlite: Option<SqliteStore>,
    pub mysql: Option<MysqlStore>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    MysqlDatabase { server_url: String, name: String },
}

impl TestDb {
    /// Drops the MySQL database (the SQLite file goes with its temp dir).
    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::MysqlDatabase { server_url, name } = &self.cleanup {
            drop_mysql_database(server_url, name).await;
        }
    }
}

/// Drops a database made by [`fresh_mysql_url`].
pub async fn drop_mysql_database(server_url: &str, name: &str) {
    let mut conn = MySqlConnection::connect(server_url)
        .await
        .expect("reconnect to MySQL");
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS `{name}`"
    )))
    .await
    .expect("drop test database");
}

pub fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("oncall.db").display())
}

pub async fn fresh_sqlite() -> Option<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = sqlite_url(&dir);
    let store = SqliteStore::open(&url).await.expect("open SQLite");
    Some(TestDb {
        url,
        store: Arc::new(store.clone()),
        sqlite: Some(store),
        mysql: None,
        cleanup: Cleanup::Dir(dir),
    })
}

fn mysql_server_url() -> String {
    std::env::var("ONCALL_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_MYSQL_URL.to_owned())
}

/// `None` only when a developer explicitly opted out outside CI.
pub fn mysql_skipped(test: &str) -> bool {
    let opted_out = std::env::var("ONCALL_TEST_MYSQL").is_ok_and(|v| v == "skip");
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if opted_out && in_ci {
        panic!("ONCALL_TEST_MYSQL=skip is not allowed when CI=true: the MySQL half must run");
    }
    if opted_out {
        eprintln!("SKIPPED {test} on MySQL (ONCALL_TEST_MYSQL=skip)");
    }
    opted_out
}

/// Creates a new, empty database on the test server (utf8mb4).
pub async fn fresh_mysql_url() -> Option<(String, String, String)> {
    if mysql_skipped("this test") {
        return None;
    }
    let server_url = mysql_server_url();
    let mut conn = MySqlConnection::connect(&server_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "MySQL test server at {server_url} is unreachable ({e}). Start MariaDB \
             (`make test` does), point ONCALL_TEST_MYSQL_URL at one, or, outside CI only, \
             set ONCALL_TEST_MYSQL=skip"
            )
        });
    let name = format!("oncall_t_{}", uuid::Uuid::new_v4().simple());
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )))
    .await
    .expect("create test database");
    let base = server_url
        .rsplit_once('/')
        .map_or(server_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    Some((server_url, name, url))
}

pub async fn fresh_mysql() -> Option<TestDb> {
    let (server_url, name, url) = fresh_mysql_url().await?;
    let store = MysqlStore::open(&url).await.expect("open MySQL");
    Some(TestDb {
        url,
        store: Arc::new(store.clone()),
        sqlite: None,
        mysql: Some(store),
        cleanup: Cleanup::MysqlDatabase { server_url, name },
    })
}

pub mod replay;
pub mod services;
pub mod synthetic_metrics;

/// A data source record for connector tests (no auth, 2 s timeout).
pub fn data_source(
    kind: oncall_core::connectors::DataSourceKind,
    url: &str,
    config: serde_json::Value,
) -> oncall_core::connectors::DataSource {
    let now = chrono::Utc::now();
    oncall_core::connectors::DataSource {
        id: uuid::Uuid::now_v7(),
        name: format!("test-{}", kind.as_str()),
        kind,
        url: url.to_owned(),
        auth_kind: oncall_core::connectors::AuthKind::None,
        username: None,
        password_sealed: None,
        token_sealed: None,
        config,
        enabled: true,
        timeout_ms: 2_000,
        created_at: now,
        updated_at: now,
    }
}
