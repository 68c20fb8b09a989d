//! The SQLite store: the embedded default (`sqlite://./data/oncall.db`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use async_trait::async_trait;

use super::Store;
use crate::error::{Error, Result};

/// Storage in one SQLite file (WAL mode), for a single process.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

impl SqliteStore {
    /// Opens (creating file and folder if needed) and migrates the database at `url`
    /// (`sqlite://path/to/file.db`, `sqlite::memory:`).
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("DATABASE_URL `{url}`: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = options.get_filename() == Path::new(":memory:");
        if !in_memory
            && let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Config(format!(
                    "cannot create database folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        // An in-memory database lives in one connection; keep exactly one. A file in
        // WAL mode reads on many connections at once; with fewer connections than
        // concurrent requests the pool's hand-off dominates (measured: 8 → 32
        // connections took a small-page list from ~600 to ~6,800 req/s under wrk).
        let max = if in_memory { 1 } else { 32 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            // sqlx pings a connection each time it leaves the pool; for SQLite that is
            // one more trip to the connection's worker thread per query, and a local
            // file cannot hang up like a server can (errors still surface on use).
            .test_before_acquire(false)
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::Unavailable(format!("cannot open SQLite database `{url}`: {e}")))?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// The connection pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

// `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: SQLite (3.47+) reads a bare
// `LIMIT ?`'s bound value while planning, so binding a value expires the prepared
// statement and every execution parsed and planned the query again
// (`sqlite3Reprepare` under `sqlite3_step`: a sixth of a ticket list's CPU under
// wrk, most of it in malloc). Behind a `CAST` the limit is evaluated at run time:
// one plan, kept in the connection's statement cache. MySQL takes `LIMIT ?`.
super::sql::sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    insert_ignore = "INSERT OR IGNORE INTO",
    limit = ("LIMIT CAST(", " AS INTEGER)")
);

super::intake_sql::intake_sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    insert_ignore = "INSERT OR IGNORE INTO",
    // As above.
    limit = ("LIMIT CAST(", " AS INTEGER)")
);

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn dialect(&self) -> &'static str {
        "sqlite"
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
