//! The MySQL store (MySQL 8, MariaDB 10.6+), for production and for several
//! server processes sharing one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};

use async_trait::async_trait;

use super::Store;
use crate::config::redact_url_password;
use crate::error::{Error, Result};

/// Storage in a MySQL or MariaDB database.
#[derive(Debug, Clone)]
pub struct MysqlStore {
    pool: MySqlPool,
}

/// How long one `GET_LOCK` call waits before the loop says so and asks again.
const MIGRATION_LOCK_WAIT_SECONDS: i64 = 5;
/// How long opening waits in all for another process's migrations.
const MIGRATION_LOCK_LIMIT: Duration = Duration::from_secs(300);

impl MysqlStore {
    /// Connects to and migrates the database at `url` (`mysql://user:pass@host:3306/db`).
    pub async fn open(url: &str) -> Result<Self> {
        let shown = redact_url_password(url);
        let url = url
            .strip_prefix("mariadb:")
            .map_or_else(|| url.to_owned(), |r| format!("mysql:{r}"));
        let options = MySqlConnectOptions::from_str(&url)
            .map_err(|e| Error::Config(format!("DATABASE_URL `{shown}`: {e}")))?
            .charset("utf8mb4")
            .timezone(Some("+00:00".to_owned()));
        let pool = MySqlPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .idle_timeout(Some(Duration::from_secs(600)))
            .connect_with(options)
            .await
            .map_err(|e| {
                Error::Unavailable(format!("cannot connect to MySQL at `{shown}`: {e}"))
            })?;
        migrate(&pool, &shown).await?;
        Ok(MysqlStore { pool })
    }

    /// The connection pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }
}

/// Applies the migrations under our own lock, so any number of processes opening an
/// empty database at once apply each migration exactly once. sqlx's own lock takes
/// `GET_LOCK(name, -1)` and ignores the answer; MariaDB answers a negative timeout
/// with NULL at once when another session holds the lock, so there it locks
/// nothing. Here the lock is taken with a positive timeout, its answer checked, in
/// a loop, on one connection held until the migrations (run on another connection
/// of the pool, with sqlx's locking off) are done, and released after.
async fn migrate(pool: &MySqlPool, shown: &str) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut *conn)
        .await?;
    let Some(database) = database else {
        return Err(Error::Config(format!(
            "DATABASE_URL `{shown}` names no database (mysql://user:pass@host:3306/<database>)"
        )));
    };
    // Lock names are server-wide and at most 64 characters.
    let name: String = format!("oncall-migrate:{database}")
        .chars()
        .take(64)
        .collect();
    let started = std::time::Instant::now();
    loop {
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
            .bind(&name)
            .bind(MIGRATION_LOCK_WAIT_SECONDS)
            .fetch_one(&mut *conn)
            .await?;
        match got {
            Some(1) => break,
            Some(_) if started.elapsed() < MIGRATION_LOCK_LIMIT => {
                tracing::info!(lock = %name, "waiting for another process to finish migrating the database");
            }
            Some(_) => {
                return Err(Error::Unavailable(format!(
                    "another process has held the migration lock `{name}` for over {} s",
                    MIGRATION_LOCK_LIMIT.as_secs()
                )));
            }
            None => {
                return Err(Error::Unavailable(format!(
                    "the database refused the migration lock `{name}` (GET_LOCK answered NULL)"
                )));
            }
        }
    }
    let mut migrator = sqlx::migrate!("../migrations/mysql");
    migrator.set_locking(false);
    let outcome = migrator.run(pool).await;
    let released = sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(&name)
        .execute(&mut *conn)
        .await;
    if released.is_err() {
        // A connection that may still hold the lock must not go back to the pool;
        // closing it releases the lock.
        drop(conn.detach());
    }
    outcome?;
    released?;
    Ok(())
}

super::sql::sql_store!(
    MysqlStore,
    sqlx::MySql,
    insert_ignore = "INSERT IGNORE INTO",
    limit = ("LIMIT ", ""),
    // CAST: a text in the connection's character set whichever type the server
    // gives JSON_UNQUOTE (MySQL and MariaDB differ).
    json_text = ("CAST(JSON_UNQUOTE(JSON_EXTRACT(", ")) AS CHAR)"),
    json_values = ("CAST(JSON_EXTRACT(", ") AS CHAR)")
);

super::intake_sql::intake_sql_store!(
    MysqlStore,
    sqlx::MySql,
    insert_ignore = "INSERT IGNORE INTO",
    limit = ("LIMIT ", "")
);

#[async_trait]
impl Store for MysqlStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn dialect(&self) -> &'static str {
        "mysql"
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
