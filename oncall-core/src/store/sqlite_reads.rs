//! A direct read path for the hottest SQLite query, the ticket list, through
//! `rusqlite` instead of sqlx.
//!
//! Why: sqlx-sqlite runs every statement on a worker thread of its own per
//! connection and copies every column value of every row (`sqlite3_value_dup`)
//! before the caller sees it. For a 20-row page that is tens of microseconds of
//! SQLite work wrapped in two thread hand-offs and ~250 mallocs; under wrk the
//! hand-offs alone were a fifth of the server's CPU (BENCHMARKS.md, "API
//! handlers"). Here the statement runs on the calling thread on a connection from
//! a small free list, and the row's columns are decoded straight from SQLite's
//! memory into the [`Ticket`].
//!
//! The results are the same as the sqlx path's: the same SQL (filters, order,
//! `LIMIT CAST(? AS INTEGER)`, the total as a scalar subquery, a separate count
//! past the last page), the same values bound in the same encoding (times as
//! sqlx writes them: RFC 3339 with automatic sub-second digits), the same
//! decoding of times (sqlx's formats, in its order). Anything this path cannot
//! answer — the database busy, a value that does not decode, a connection that
//! does not open — is answered by the sqlx path instead, so errors and their
//! messages stay sqlx's. Both libraries link the one `libsqlite3-sys` (check with
//! `cargo tree -i libsqlite3-sys`): one SQLite, one set of compile options.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};

use super::sql::{parse_enum, parse_uuid};
use super::{Page, PageRequest, TicketFilter, like_pattern, micros};
use crate::tickets::Ticket;

/// How many idle connections are kept. Statements run on the calling thread, so
/// about as many run at once as there are runtime threads (plus blocking threads
/// for filtered lists, see [`runs_inline`]); more are opened when needed
/// and closed on return.
const MAX_IDLE: usize = 8;

/// Read-only `rusqlite` connections to one SQLite file.
pub(crate) struct ReadConnections {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Cleared when a connection cannot be opened: every read then takes the sqlx
    /// path rather than trying (and failing) to open one per request.
    usable: AtomicBool,
}

impl std::fmt::Debug for ReadConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadConnections")
            .field("path", &self.path)
            .field("usable", &self.usable.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Why a direct read did not produce a page; the caller then asks sqlx.
#[derive(Debug)]
pub(crate) enum Miss {
    /// SQLite refused or failed (busy, locked, I/O, ...).
    Sqlite(rusqlite::Error),
    /// A stored value did not decode.
    Value(String),
    /// No connection (the read path is off, or a lock was poisoned).
    Unavailable,
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Sqlite(e) => write!(f, "{e}"),
            Miss::Value(e) => f.write_str(e),
            Miss::Unavailable => f.write_str("no read connection"),
        }
    }
}

impl From<rusqlite::Error> for Miss {
    fn from(e: rusqlite::Error) -> Self {
        Miss::Sqlite(e)
    }
}

impl Miss {
    /// Busy or locked: a writer holds the database for a moment. Not worth a log
    /// line; the sqlx path waits for it (busy timeout) on its own thread.
    fn is_busy(&self) -> bool {
        matches!(
            self,
            Miss::Sqlite(e) if matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
        )
    }
}

impl ReadConnections {
    /// Read connections to the SQLite file at `path`. Nothing is opened yet.
    pub(crate) fn new(path: &Path) -> Self {
        ReadConnections {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            usable: AtomicBool::new(true),
        }
    }

    /// Opens one connection. Read-write at the file level so that SQLite can use
    /// (and, if the writers have all closed, recreate) the WAL index like any other
    /// connection, but `query_only`: it never writes. No busy timeout: a busy
    /// database is a [`Miss`], and the sqlx path waits for it off this thread.
    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection (or a new one) and puts it back.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Miss>) -> Result<T, Miss> {
        if !self.usable.load(Ordering::Relaxed) {
            return Err(Miss::Unavailable);
        }
        let idle = self.idle.lock().map_err(|_| Miss::Unavailable)?.pop();
        let conn = match idle {
            Some(c) => c,
            None => self.open().inspect_err(|e| {
                tracing::warn!(path = %self.path.display(), error = %e,
                    "cannot open a direct SQLite read connection; reads go through sqlx");
                self.usable.store(false, Ordering::Relaxed);
            })?,
        };
        let out = f(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
        out
    }

    /// A page of tickets, exactly as the sqlx path's `list_tickets` returns it, or
    /// `None` when the caller should ask sqlx (the reason is logged unless the
    /// database was merely busy).
    pub(crate) fn ticket_page(
        &self,
        filter: &TicketFilter,
        page: PageRequest,
    ) -> Option<Page<Ticket>> {
        match self.with(|conn| ticket_page(conn, filter, page)) {
            Ok(p) => Some(p),
            Err(Miss::Unavailable) => None,
            Err(e) if e.is_busy() => {
                tracing::debug!(error = %e, "direct ticket list busy; asking sqlx");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "direct ticket list failed; asking sqlx");
                None
            }
        }
    }
}

/// Whether a ticket list is cheap enough to run on an async runtime thread: the
/// unfiltered list (the default view, what a dashboard polls) on its first pages.
/// Its page comes from the `created_at` index and its total from SQLite's count
/// of b-tree cells (tens of microseconds at 10,000 tickets, less than a thread
/// hand-off). Any filter makes the total visit every matching index entry or row
/// (a quarter of a millisecond to several milliseconds at 10,000 tickets, growing
/// with the table), and a deep page walks past its offset: those run on a
/// blocking thread.
pub(crate) fn runs_inline(filter: &TicketFilter, page: PageRequest) -> bool {
    *filter == TicketFilter::default() && page.offset() + page.limit() <= 1_000
}

/// A list's filter as SQL and its bound values, built exactly as the sqlx path
/// builds it (`Where` in `sql.rs`): ` WHERE ` before the first condition, ` AND `
/// before the others, nothing without conditions.
fn ticket_where(filter: &TicketFilter) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let and = |sql: &mut String| {
        sql.push_str(if sql.is_empty() { " WHERE " } else { " AND " });
    };
    if let Some(s) = filter.status {
        and(&mut sql);
        sql.push_str("status = ?");
        binds.push(Value::Text(s.as_str().to_owned()));
    }
    if let Some(s) = filter.severity {
        and(&mut sql);
        sql.push_str("severity = ?");
        binds.push(Value::Text(s.as_str().to_owned()));
    }
    if let Some(a) = &filter.assignee {
        and(&mut sql);
        sql.push_str("assignee = ?");
        binds.push(Value::Text(a.clone()));
    }
    if let Some(t) = filter.since {
        and(&mut sql);
        sql.push_str("created_at >= ?");
        binds.push(Value::Text(encode_time(t)));
    }
    if let Some(t) = filter.until {
        and(&mut sql);
        sql.push_str("created_at < ?");
        binds.push(Value::Text(encode_time(t)));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let pattern = like_pattern(text);
        and(&mut sql);
        sql.push('(');
        for (i, col) in ["no", "title", "root_cause"].iter().enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(col);
            sql.push_str(" LIKE ? ESCAPE '!'");
            binds.push(Value::Text(pattern.clone()));
        }
        sql.push(')');
    }
    (sql, binds)
}

fn ticket_page(
    conn: &Connection,
    filter: &TicketFilter,
    page: PageRequest,
) -> Result<Page<Ticket>, Miss> {
    let (where_sql, binds) = ticket_where(filter);
    let sql = format!(
        concat!(
            "SELECT ",
            super::sql::ticket_columns!(),
            ", (SELECT COUNT(*) FROM tickets{w}) AS total_rows FROM tickets{w}",
            " ORDER BY created_at DESC, no DESC LIMIT CAST(? AS INTEGER) OFFSET ?"
        ),
        w = where_sql
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let paging = [Value::Integer(page.limit()), Value::Integer(page.offset())];
    let params = binds.iter().chain(&binds).chain(&paging);
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut items = Vec::with_capacity(usize::try_from(page.limit()).unwrap_or_default());
    let mut total = None;
    while let Some(row) = rows.next()? {
        if total.is_none() {
            total = Some(integer(row.get_ref(TICKET_COLUMNS)?, "total_rows")?);
        }
        items.push(ticket_from_row(row)?);
    }
    let total = match total {
        Some(t) => t,
        // An empty first page: nothing matches.
        None if page.offset() == 0 => 0,
        // Past the last page: count on its own.
        None => {
            let sql = format!("SELECT COUNT(*) FROM tickets{where_sql}");
            let mut count = conn.prepare_cached(&sql)?;
            let mut rows = count.query(rusqlite::params_from_iter(&binds))?;
            match rows.next()? {
                Some(row) => integer(row.get_ref(0)?, "COUNT(*)")?,
                None => return Err(Miss::Value("COUNT(*) returned no row".into())),
            }
        }
    };
    Ok(Page {
        items,
        total: u64::try_from(total).unwrap_or_default(),
        page: page.page,
        page_size: page.page_size,
    })
}

/// How many columns [`super::sql::ticket_columns!`] names (`total_rows` follows).
const TICKET_COLUMNS: usize = 16;

/// One row of [`super::sql::ticket_columns!`], decoded as sqlx decodes it: text
/// columns must be text (or NULL where optional), `version` an integer.
fn ticket_from_row(r: &rusqlite::Row<'_>) -> Result<Ticket, Miss> {
    let severity = text(r.get_ref(3)?, "tickets.severity")?;
    let status = text(r.get_ref(4)?, "tickets.status")?;
    let bad = |e: crate::Error| Miss::Value(e.to_string());
    Ok(Ticket {
        no: text(r.get_ref(0)?, "tickets.no")?.to_owned(),
        title: text(r.get_ref(1)?, "tickets.title")?.to_owned(),
        root_cause: text(r.get_ref(2)?, "tickets.root_cause")?.to_owned(),
        severity: parse_enum("tickets.severity", severity).map_err(bad)?,
        status: parse_enum("tickets.status", status).map_err(bad)?,
        assignee: opt_text(r.get_ref(5)?, "tickets.assignee")?.map(str::to_owned),
        analysis_id: opt_text(r.get_ref(6)?, "tickets.analysis_id")?
            .map(|s| parse_uuid("tickets.analysis_id", s))
            .transpose()
            .map_err(bad)?,
        description: opt_text(r.get_ref(7)?, "tickets.description")?.map(str::to_owned),
        version: integer(r.get_ref(8)?, "tickets.version")?,
        created_by: text(r.get_ref(9)?, "tickets.created_by")?.to_owned(),
        created_at: time(r.get_ref(10)?, "tickets.created_at")?,
        updated_at: time(r.get_ref(11)?, "tickets.updated_at")?,
        confirmed_root_cause: opt_text(r.get_ref(12)?, "tickets.confirmed_root_cause")?
            .map(str::to_owned),
        resolution: opt_text(r.get_ref(13)?, "tickets.resolution")?.map(str::to_owned),
        confirmed_by: opt_text(r.get_ref(14)?, "tickets.confirmed_by")?.map(str::to_owned),
        confirmed_at: match r.get_ref(TICKET_COLUMNS - 1)? {
            ValueRef::Null => None,
            v => Some(time(v, "tickets.confirmed_at")?),
        },
    })
}

fn text<'a>(v: ValueRef<'a>, column: &str) -> Result<&'a str, Miss> {
    opt_text(v, column)?.ok_or_else(|| Miss::Value(format!("{column} is NULL")))
}

fn opt_text<'a>(v: ValueRef<'a>, column: &str) -> Result<Option<&'a str>, Miss> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Text(b) => std::str::from_utf8(b)
            .map(Some)
            .map_err(|e| Miss::Value(format!("{column}: {e}"))),
        other => Err(Miss::Value(format!(
            "{column}: {:?} where text was expected",
            other.data_type()
        ))),
    }
}

fn integer(v: ValueRef<'_>, column: &str) -> Result<i64, Miss> {
    match v {
        ValueRef::Integer(i) => Ok(i),
        other => Err(Miss::Value(format!(
            "{column}: {:?} where an integer was expected",
            other.data_type()
        ))),
    }
}

/// A time as sqlx-sqlite binds a `DateTime<Utc>` (`to_rfc3339_opts(AutoSi,
/// false)`), after the stores' truncation to microseconds; stored times compare
/// as text, so the bound text must be the same.
pub(super) fn encode_time(t: DateTime<Utc>) -> String {
    micros(t).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn time(v: ValueRef<'_>, column: &str) -> Result<DateTime<Utc>, Miss> {
    let s = text(v, column)?;
    decode_time(s).ok_or_else(|| Miss::Value(format!("{column}: invalid datetime: {s}")))
}

/// sqlx-sqlite's reading of a text time (`decode_datetime_from_text`): RFC 3339
/// first, then SQLite's other date-time forms in the same order, naive ones as UTC.
pub(super) fn decode_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    for format in FORMATS {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(Utc.fix().from_utc_datetime(&t).with_timezone(&Utc));
        }
    }
    None
}
