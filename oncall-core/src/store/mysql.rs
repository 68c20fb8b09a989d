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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/mysql");

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
        MIGRATOR.run(&pool).await?;
        Ok(MysqlStore { pool })
    }

    /// The connection pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }
}

super::sql::sql_store!(
    MysqlStore,
    sqlx::MySql,
    insert_ignore = "INSERT IGNORE INTO",
    limit = ("LIMIT ", "")
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
