//! The SQLite store: the embedded default (`sqlite://./data/oncall.db`).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use async_trait::async_trait;

use super::sqlite_reads::{ReadConnections, runs_inline};
use super::{Page, PageRequest, Store, TicketFilter};
use crate::error::{Error, Result};
use crate::tickets::Ticket;

/// Storage in one SQLite file (WAL mode), for a single process.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Direct (rusqlite) connections for the ticket list, for file databases;
    /// see `sqlite_reads.rs`.
    reads: Option<Arc<ReadConnections>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// Tries at opening a file that other processes are opening at the same moment.
const OPEN_ATTEMPTS: u32 = 10;

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
        let in_memory = is_in_memory(url);
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
        if !in_memory {
            create_private(options.get_filename())?;
        }
        // An in-memory database lives in one connection; keep exactly one. A file in
        // WAL mode reads on many connections at once; with fewer connections than
        // concurrent requests the pool's hand-off dominates (measured: 8 → 32
        // connections took a small-page list from ~600 to ~6,800 req/s under wrk).
        let max = if in_memory { 1 } else { 32 };
        let pool_options = SqlitePoolOptions::new()
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
            });
        // Processes opening a new file at the same moment race to switch it to WAL;
        // SQLite answers the loser "database is locked" at once (no busy wait for a
        // journal-mode change), so the first connection is retried a few times.
        let mut attempt = 0u32;
        let pool = loop {
            match pool_options.clone().connect_with(options.clone()).await {
                Ok(pool) => break pool,
                Err(sqlx::Error::Database(e))
                    if attempt + 1 < OPEN_ATTEMPTS
                        && matches!(e.code().as_deref(), Some("5" | "6")) =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                }
                Err(e) => {
                    return Err(Error::Unavailable(format!(
                        "cannot open SQLite database `{url}`: {e}"
                    )));
                }
            }
        };
        migrate(&pool).await?;
        // The direct read path opens the file by its path, so only a plain file
        // qualifies: an in-memory database (`sqlite::memory:`, `mode=memory`) exists
        // only inside sqlx's connections (shared cache, no WAL: its readers would
        // take table locks beside the writers), and URL options (`mode=ro`,
        // `immutable`, `vfs`, `cache`) would have to be repeated exactly. Those keep
        // to the sqlx path, which answers the same.
        let reads = direct_read_file(url, options.get_filename())
            .map(|path| Arc::new(ReadConnections::new(&path)));
        Ok(SqliteStore { pool, reads })
    }

    /// The connection pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A ticket page through the direct read path, or `None` for the sqlx path
    /// (an in-memory database, or the direct read did not answer). The unfiltered
    /// list runs on the calling thread (tens of microseconds: cheaper than any
    /// hand-off); filtered and deep lists, which make SQLite visit many rows, on a
    /// blocking thread (see `runs_inline`).
    async fn direct_ticket_page(
        &self,
        filter: &TicketFilter,
        page: PageRequest,
    ) -> Option<Page<Ticket>> {
        let reads = self.reads.as_ref()?;
        if runs_inline(filter, page) {
            return reads.ticket_page(filter, page);
        }
        let reads = reads.clone();
        let filter = filter.clone();
        tokio::task::spawn_blocking(move || reads.ticket_page(&filter, page))
            .await
            .ok()
            .flatten()
    }
}

/// Applies the migrations. Processes opening one file at the same moment race to
/// apply the same migration (sqlx takes no lock on SQLite); each SQLite migration
/// runs in one transaction, so the loser's attempt leaves nothing behind and is
/// simply made again, by then finding the migration applied.
async fn migrate(pool: &SqlitePool) -> Result<()> {
    const ATTEMPTS: u32 = 20;
    let mut attempt = 0;
    loop {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(
                sqlx::migrate::MigrateError::Execute(_)
                | sqlx::migrate::MigrateError::ExecuteMigration(..),
            ) if attempt + 1 < ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt.min(10)))).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Creates the database file readable by its owner only (0600) when it does not
/// exist yet; SQLite gives its `-wal` and `-shm` files the same mode. An existing
/// file keeps its mode.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Config(format!(
            "cannot create the database file {}: {e}",
            path.display()
        ))),
    }
}

/// Whether `url` names an in-memory database (`sqlite::memory:`,
/// `sqlite://:memory:`, `…?mode=memory`). sqlx gives such a database a generated
/// shared-cache name (`file:sqlx-in-memory-N`), so the parsed options cannot tell.
fn is_in_memory(url: &str) -> bool {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.starts_with(":memory:")
        || rest
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|kv| kv == "mode=memory"))
}

/// The path of the database file when `url` names a plain file (no URL options,
/// not in memory); see [`SqliteStore::open`].
fn direct_read_file(url: &str, filename: &Path) -> Option<std::path::PathBuf> {
    let name = filename.to_str()?;
    if url.contains('?') || name == ":memory:" || name.starts_with("file:") {
        return None;
    }
    // Absolute, so that a later change of working directory cannot point the read
    // connections at another file; the file exists (migrations ran).
    std::fs::canonicalize(filename).ok()
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
    limit = ("LIMIT CAST(", " AS INTEGER)"),
    json_text = ("json_extract(", ")"),
    json_values = ("json_extract(", ")"),
    direct_ticket_page = direct_ticket_page
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

    use chrono::{Duration, NaiveDate, Utc};
    use uuid::Uuid;

    #[cfg(unix)]
    #[tokio::test]
    async fn database_files_are_private() {
        use super::SqliteStore;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/oncall.db");
        let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query("SELECT 1").execute(store.pool()).await.unwrap();
        for file in [path.clone(), dir.path().join("sub/oncall.db-wal")] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
        store.close().await;
    }

    use super::*;
    use crate::store::sqlite_reads::{decode_time, encode_time};
    use crate::store::{NewTicketRecord, PageRequest, TicketFilter, TicketStore};
    use crate::tickets::{Severity, TicketHistoryEntry, TicketStatus};

    async fn file_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("oncall.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        assert!(
            store.reads.is_some(),
            "a file database gets the direct read path"
        );
        (dir, store)
    }

    /// 60 tickets over three days: every severity and status, some assigned, some
    /// from an analysis, titles with LIKE wildcards, the escape character and CJK.
    async fn seed(store: &SqliteStore) {
        let titles = [
            "Redis down",
            "磁盘满 on db-1",
            "50% errors_5xx!",
            "Slow checkout",
        ];
        for i in 0..60u32 {
            let day = NaiveDate::from_ymd_opt(2026, 11, 20 + i % 3).unwrap();
            let t = store
                .create_ticket(
                    &NewTicketRecord {
                        title: format!("{} #{i}", titles[i as usize % titles.len()]),
                        root_cause: if i % 5 == 0 {
                            "pool exhausted".into()
                        } else {
                            "unknown".into()
                        },
                        severity: [Severity::P0, Severity::P1, Severity::P2, Severity::P3]
                            [i as usize % 4],
                        assignee: (i % 3 == 0).then(|| format!("eng{}@x.io", i % 2)),
                        analysis_id: (i % 7 == 0).then(Uuid::now_v7),
                        description: (i % 2 == 0).then(|| format!("描述 {i}")),
                        created_by: "admin@x.io".into(),
                    },
                    day,
                )
                .await
                .unwrap();
            if i % 4 == 1 {
                let mut next = t.clone();
                next.status = [TicketStatus::Processing, TicketStatus::Resolved][i as usize % 2];
                next.version = 2;
                next.updated_at = Utc::now();
                if i % 8 == 1 {
                    // A confirmation: both read paths decode its columns alike.
                    next.confirmed_root_cause = Some(format!("ts-order-service-5d9f7-{i:05}"));
                    next.resolution = (i % 16 == 1).then(|| "回滚 v2.3\nrolled back".into());
                    next.confirmed_by = Some("eng1@x.io".into());
                    next.confirmed_at = Some(next.updated_at);
                }
                let entry = TicketHistoryEntry {
                    id: Uuid::now_v7(),
                    ticket_no: t.no.clone(),
                    actor: "admin@x.io".into(),
                    action: "status".into(),
                    from_status: Some(t.status),
                    to_status: Some(next.status),
                    changes: serde_json::json!({}),
                    reason: None,
                    at: Utc::now(),
                };
                store.update_ticket(&next, 1, &entry).await.unwrap();
            }
        }
    }

    fn filters() -> Vec<TicketFilter> {
        let now = Utc::now();
        let mut out = vec![TicketFilter::default()];
        for status in TicketStatus::ALL {
            out.push(TicketFilter {
                status: Some(status),
                ..Default::default()
            });
        }
        for severity in [Severity::P0, Severity::P3] {
            out.push(TicketFilter {
                severity: Some(severity),
                ..Default::default()
            });
        }
        for text in [
            "磁盘",
            "50%",
            "errors_5",
            "!",
            "INC-20261121",
            "  redis  ",
            "   ",
            "nothing like it",
        ] {
            out.push(TicketFilter {
                text: Some(text.into()),
                ..Default::default()
            });
        }
        out.push(TicketFilter {
            assignee: Some("eng0@x.io".into()),
            ..Default::default()
        });
        out.push(TicketFilter {
            since: Some(now - Duration::hours(1)),
            ..Default::default()
        });
        out.push(TicketFilter {
            until: Some(now - Duration::hours(1)),
            ..Default::default()
        });
        out.push(TicketFilter {
            status: Some(TicketStatus::Open),
            severity: Some(Severity::P2),
            assignee: Some("eng1@x.io".into()),
            text: Some("#".into()),
            since: Some(now - Duration::days(1)),
            until: Some(now + Duration::days(1)),
        });
        out
    }

    #[tokio::test]
    async fn direct_reads_return_the_pages_sqlx_returns() {
        let (_dir, store) = file_store().await;
        seed(&store).await;
        let reads = store.reads.clone().unwrap();
        let mut with_rows = 0;
        for filter in filters() {
            for (page, size) in [
                (1, 20),
                (2, 20),
                (3, 20),
                (4, 20),
                (9, 20),
                (1, 1),
                (7, 7),
                (1, 200),
            ] {
                let page = PageRequest::new(page, size).unwrap();
                let direct = reads
                    .ticket_page(&filter, page)
                    .expect("direct read answers");
                let sqlx = store.list_tickets_sqlx(&filter, page).await.unwrap();
                assert_eq!(direct, sqlx, "{filter:?} {page:?}");
                // And what the store answers (inline or on a blocking thread).
                assert_eq!(store.list_tickets(&filter, page).await.unwrap(), sqlx);
                with_rows += usize::from(!direct.items.is_empty());
            }
        }
        assert!(with_rows > 40, "enough pages had rows: {with_rows}");
    }

    #[tokio::test]
    async fn a_value_the_direct_path_cannot_read_gets_sqlx_s_answer() {
        let (_dir, store) = file_store().await;
        seed(&store).await;
        sqlx::query(
            "UPDATE tickets SET created_at = 'not a time' WHERE no = (SELECT MIN(no) FROM tickets)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let all = PageRequest::new(1, 200).unwrap();
        let reads = store.reads.clone().unwrap();
        assert!(reads.ticket_page(&TicketFilter::default(), all).is_none());
        let sqlx = store
            .list_tickets_sqlx(&TicketFilter::default(), all)
            .await
            .unwrap_err();
        let got = store
            .list_tickets(&TicketFilter::default(), all)
            .await
            .unwrap_err();
        assert_eq!(got.to_string(), sqlx.to_string());
        assert_eq!(got.code(), sqlx.code());
    }

    #[tokio::test]
    async fn times_decode_as_sqlx_decodes_them() {
        for s in [
            "2026-11-20T08:00:00+00:00",
            "2026-11-20T08:00:00.123456+00:00",
            "2026-11-20T08:00:00.5+02:00",
            "2026-11-20 08:00:00",
            "2026-11-20 08:00:00.25",
            "2026-11-20 08:00",
            "2026-11-20T08:00Z",
            "2026-11-20T08:00:00.1-05:30",
        ] {
            let ours = decode_time(s).unwrap();
            let theirs: chrono::DateTime<Utc> = sqlx::query_scalar("SELECT ?")
                .bind(s)
                .fetch_one(
                    &mut <sqlx::SqliteConnection as sqlx::Connection>::connect("sqlite::memory:")
                        .await
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(ours, theirs, "{s}");
        }
        assert!(decode_time("yesterday").is_none());
        let t = Utc::now();
        assert_eq!(decode_time(&encode_time(t)), Some(crate::store::micros(t)));
    }

    #[test]
    fn in_memory_urls_are_recognised() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            ":memory:",
            "sqlite://shared?mode=memory&cache=shared",
        ] {
            assert!(is_in_memory(url), "{url}");
        }
        for url in [
            "sqlite://data/oncall.db",
            "sqlite:x.db?mode=rwc",
            "sqlite://memory.db",
        ] {
            assert!(!is_in_memory(url), "{url}");
        }
    }

    #[tokio::test]
    async fn in_memory_databases_keep_to_sqlx() {
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let store = SqliteStore::open(url).await.unwrap();
            assert!(store.reads.is_none(), "{url}");
            // the database lives only in its connections: one, never closed
            let options = store.pool().options();
            assert_eq!(options.get_max_connections(), 1, "{url}");
            assert_eq!(options.get_min_connections(), 1, "{url}");
            assert!(options.get_idle_timeout().is_none(), "{url}");
            assert!(options.get_max_lifetime().is_none(), "{url}");
            let p = store
                .list_tickets(&TicketFilter::default(), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(p.total, 0);
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
        assert!(
            SqliteStore::open(&url).await.unwrap().reads.is_none(),
            "URL options keep to sqlx"
        );
    }
}
