//! Storage: repository traits, and one implementation per database
//! ([`SqliteStore`], [`MysqlStore`]) chosen by the `DATABASE_URL` scheme.
//!
//! Both implementations share their SQL (both drivers use `?` placeholders); what
//! differs between the dialects lives in `sqlite.rs` and `mysql.rs`. Migrations in
//! `migrations/sqlite` and `migrations/mysql` are embedded and run on open.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::analysis::{
    Analysis, AnalysisEvent, AnalysisRevision, AnalysisStatus, AnalysisSummary, ClaimedAnalysis,
};
use crate::connectors::DataSource;
use crate::error::{Error, Result};
use crate::notify::{Notice, NotificationChannel};
use crate::tickets::{AccuracyRow, Severity, Ticket, TicketHistoryEntry, TicketStatus};
use crate::users::{Role, User};
use crate::webhooks::{AlertBatch, AlertOutcome, Webhook};

mod intake_sql;
mod mysql;
mod sql;
mod sqlite;
mod sqlite_reads;

pub use mysql::MysqlStore;
pub use sqlite::SqliteStore;

/// Largest page a list call returns.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Which page of a list to return (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Items per page, 1..=[`MAX_PAGE_SIZE`].
    pub page_size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            page_size: 20,
        }
    }
}

impl PageRequest {
    /// A checked page request: `page >= 1`, `1 <= page_size <= 200`.
    pub fn new(page: u32, page_size: u32) -> Result<Self> {
        if page == 0 {
            return Err(Error::invalid("page", "pages start at 1"));
        }
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(Error::invalid(
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(PageRequest { page, page_size })
    }

    pub(crate) fn limit(self) -> i64 {
        i64::from(self.page_size.clamp(1, MAX_PAGE_SIZE))
    }

    pub(crate) fn offset(self) -> i64 {
        i64::from(self.page.max(1) - 1) * self.limit()
    }
}

/// One page of a list, with the total count of matching rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in all.
    pub total: u64,
    /// 1-based page number.
    pub page: u32,
    /// Requested page size.
    pub page_size: u32,
}

impl<T> Page<T> {
    /// Applies `f` to each item, keeping the paging fields.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            page_size: self.page_size,
        }
    }
}

/// Every item of a paged list: fetches pages of [`MAX_PAGE_SIZE`] until a short one.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    let mut out = Vec::new();
    for page in 1.. {
        let found = fetch(PageRequest {
            page,
            page_size: MAX_PAGE_SIZE,
        })
        .await?;
        let last = found.items.len() < MAX_PAGE_SIZE as usize;
        out.extend(found.items);
        if last {
            break;
        }
    }
    Ok(out)
}

/// Filters for listing analyses. Unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisFilter {
    /// Only this status.
    pub status: Option<AnalysisStatus>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
    /// Substring of the title or raw alert (case-insensitive for ASCII).
    pub text: Option<String>,
}

/// Filters for listing tickets. Unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketFilter {
    /// Only this status.
    pub status: Option<TicketStatus>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only tickets assigned to this email.
    pub assignee: Option<String>,
    /// Substring of the number, title or root cause.
    pub text: Option<String>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
}

/// A ticket about to be created; the store assigns its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicketRecord {
    /// One line.
    pub title: String,
    /// The probable root cause.
    pub root_cause: String,
    /// Urgency.
    pub severity: Severity,
    /// Email of the assignee.
    pub assignee: Option<String>,
    /// Analysis it comes from.
    pub analysis_id: Option<Uuid>,
    /// Free text.
    pub description: Option<String>,
    /// Email of the creator.
    pub created_by: String,
}

/// Accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; a taken email is [`Error::Conflict`].
    async fn insert_user(&self, user: &User, password_hash: &str) -> Result<()>;
    /// The user with this id, or [`Error::NotFound`].
    async fn user(&self, id: Uuid) -> Result<User>;
    /// The user with this (normalised) email and their password hash, if any.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>>;
    /// Users ordered by email.
    async fn list_users(&self, page: PageRequest) -> Result<Page<User>>;
    /// Saves name, role, disabled and `updated_at`; [`Error::NotFound`] if absent.
    async fn update_user(&self, user: &User) -> Result<()>;
    /// Replaces the password hash and the default-password flag.
    async fn set_password_hash(&self, id: Uuid, hash: &str, is_default: bool) -> Result<()>;
    /// How many accounts exist.
    async fn count_users(&self) -> Result<u64>;
    /// Bumps the account's token version, so every access token issued before
    /// stops working (see [`User::token_version`]); [`Error::NotFound`] if absent.
    async fn revoke_tokens(&self, id: Uuid) -> Result<()>;
}

/// A login throttle row: how many attempts were charged and when the next one
/// may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Attempts charged since the last successful login.
    pub failures: i64,
    /// No attempt is checked before this time.
    pub next_allowed_at: DateTime<Utc>,
}

/// Login throttling shared through the database, so every process agrees.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// The row for `key`, if any.
    async fn login_throttle(&self, key: &str) -> Result<Option<ThrottleState>>;
    /// Charges one attempt by compare-and-set: writes `next` if the row still is
    /// `seen` (`None`: there is no row yet). False when another attempt changed
    /// the row first (nothing is written then).
    async fn charge_login_attempt(
        &self,
        key: &str,
        seen: Option<ThrottleState>,
        next: ThrottleState,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Forgets `key` (after a successful login).
    async fn clear_login_throttle(&self, key: &str) -> Result<()>;
    /// Deletes rows untouched since `before`; returns how many.
    async fn prune_login_throttle(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// Data sources.
#[async_trait]
pub trait DataSourceStore: Send + Sync {
    /// Inserts a data source; a taken name is [`Error::Conflict`].
    async fn insert_datasource(&self, ds: &DataSource) -> Result<()>;
    /// The data source with this id, or [`Error::NotFound`].
    async fn datasource(&self, id: Uuid) -> Result<DataSource>;
    /// Data sources ordered by name.
    async fn list_datasources(&self, page: PageRequest) -> Result<Page<DataSource>>;
    /// Saves every field but `id` and `created_at`.
    async fn update_datasource(&self, ds: &DataSource) -> Result<()>;
    /// Deletes; [`Error::NotFound`] if absent.
    async fn delete_datasource(&self, id: Uuid) -> Result<()>;
    /// Keeps the outcome of a connectivity test of data source `id` (a JSON
    /// document), replacing the previous one; [`Error::NotFound`] if the data source
    /// is gone.
    async fn record_datasource_test(
        &self,
        id: Uuid,
        result: &serde_json::Value,
        tested_at: DateTime<Utc>,
    ) -> Result<()>;
    /// The last test of every data source that was tested: (id, result, when).
    async fn datasource_tests(&self) -> Result<Vec<(Uuid, serde_json::Value, DateTime<Utc>)>>;
}

/// Analyses.
#[async_trait]
pub trait AnalysisStore: Send + Sync {
    /// Inserts a new analysis.
    async fn insert_analysis(&self, analysis: &Analysis) -> Result<()>;
    /// The analysis with this id, or [`Error::NotFound`].
    async fn analysis(&self, id: Uuid) -> Result<Analysis>;
    /// Newest first.
    async fn list_analyses(
        &self,
        filter: &AnalysisFilter,
        page: PageRequest,
    ) -> Result<Page<Analysis>>;
    /// Newest first, as list rows: what [`AnalysisStore::list_analyses`] returns
    /// without the large documents.
    async fn list_analysis_summaries(
        &self,
        filter: &AnalysisFilter,
        page: PageRequest,
    ) -> Result<Page<AnalysisSummary>>;
    /// How many analyses are in each status (statuses with none are left out).
    async fn count_analyses_by_status(&self) -> Result<Vec<(AnalysisStatus, u64)>>;
    /// Saves every field but `id`, `raw_alert`, `created_by` and `created_at`.
    async fn update_analysis(&self, analysis: &Analysis) -> Result<()>;
    /// Takes the oldest analysis that is not final and has no live lease (pending,
    /// or its worker's lease ran out before `now`): sets `owner` and a lease until
    /// `lease_until` by compare-and-set, so exactly one of several competing
    /// workers (in any process) gets each analysis.
    async fn claim_analysis(
        &self,
        owner: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedAnalysis>>;
    /// Extends `owner`'s lease; false when the lease was lost to another worker.
    async fn renew_lease(&self, id: Uuid, owner: &str, until: DateTime<Utc>) -> Result<bool>;
    /// Hands back every unfinished analysis `owner` holds (a clean stop whose grace
    /// period ended): pending again, no lease, and the attempt not charged, so any
    /// worker claims it at once. Returns how many were released.
    async fn release_claims(&self, owner: &str) -> Result<u64>;
    /// Like [`AnalysisStore::update_analysis`], but only while `owner` holds the
    /// lease ([`Error::Conflict`] otherwise).
    async fn update_claimed_analysis(&self, analysis: &Analysis, owner: &str) -> Result<()>;
    /// Appends a progress event (its `seq` must be the next one).
    async fn append_event(&self, analysis_id: Uuid, event: &AnalysisEvent) -> Result<()>;
    /// Events with `seq > after`, in order.
    async fn events(&self, analysis_id: Uuid, after: i64) -> Result<Vec<AnalysisEvent>>;
    /// Puts completed analyses whose `refresh_at` has come (at most `limit`) back to
    /// `pending` for another run: each one's current run is copied into its
    /// revisions, its `revision` goes up by one, and `refresh_at`, run times,
    /// attempts and lease are cleared, in one transaction per analysis (a
    /// compare-and-set, so with several processes each refresh happens once).
    /// Returns the ids put back.
    async fn requeue_due_refreshes(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>>;
    /// The earlier runs of an analysis, oldest first (empty when it ran once;
    /// [`Error::NotFound`] when there is no such analysis).
    async fn analysis_revisions(&self, analysis_id: Uuid) -> Result<Vec<AnalysisRevision>>;
}

/// Tickets and their history.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Creates a ticket numbered `INC-<day>-NNNN` (unique even when many processes
    /// create at once) with its `created` history entry, in one transaction.
    async fn create_ticket(&self, new: &NewTicketRecord, day: NaiveDate) -> Result<Ticket>;
    /// The ticket with this number, or [`Error::NotFound`].
    async fn ticket(&self, no: &str) -> Result<Ticket>;
    /// Newest first.
    async fn list_tickets(&self, filter: &TicketFilter, page: PageRequest) -> Result<Page<Ticket>>;
    /// Saves `ticket` if the stored version is still `expected_version` (else
    /// [`Error::Conflict`]), and appends `entry` to its history, in one transaction.
    /// `ticket.version` must already be the new version.
    async fn update_ticket(
        &self,
        ticket: &Ticket,
        expected_version: i64,
        entry: &TicketHistoryEntry,
    ) -> Result<()>;
    /// The ticket's changes, oldest first.
    async fn ticket_history(&self, no: &str) -> Result<Vec<TicketHistoryEntry>>;
    /// One row per resolved or closed ticket created in `[since, until)` that has
    /// a confirmed root cause or an analysis, any order, for
    /// [`crate::tickets::accuracy_report`]: one statement that takes only the
    /// analysis' alert name and first three suspects out of its documents.
    async fn accuracy_rows(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<AccuracyRow>>;
}

/// One accepted alert as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct AlertOccurrence {
    /// Id (UUID v7, so ids sort by arrival).
    pub id: Uuid,
    /// The endpoint that received it.
    pub webhook_id: Uuid,
    /// The analysis it started or joined.
    pub analysis_id: Option<Uuid>,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Alert name.
    pub name: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// `started`, `duplicate`, `grouped`, `resolved` or `recorded`.
    pub outcome: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// The alerts an analysis gathered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct AnalysisAlerts {
    /// The analysis.
    pub analysis_id: Uuid,
    /// Firing occurrences (the first one included).
    pub firing: u64,
    /// Resolved notifications received.
    pub resolved: u64,
    /// Distinct alerts (fingerprints) among them.
    pub distinct_alerts: u64,
    /// The first occurrence.
    pub first_seen_at: Option<DateTime<Utc>>,
    /// The latest occurrence.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The latest resolved notification.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The latest occurrences, newest first (at most the limit asked for).
    pub recent: Vec<AlertOccurrence>,
}

/// Webhook endpoints and the alerts they accept.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Inserts an endpoint; a taken name is [`Error::Conflict`].
    async fn insert_webhook(&self, w: &Webhook) -> Result<()>;
    /// The endpoint with this id, or [`Error::NotFound`].
    async fn webhook(&self, id: Uuid) -> Result<Webhook>;
    /// Endpoints ordered by name.
    async fn list_webhooks(&self, page: PageRequest) -> Result<Page<Webhook>>;
    /// Saves name, options, enabled, token hash and `updated_at`.
    async fn update_webhook(&self, w: &Webhook) -> Result<()>;
    /// Deletes an endpoint and its open dedup keys (its occurrences stay).
    async fn delete_webhook(&self, id: Uuid) -> Result<()>;
    /// Stores notifications' alerts in one transaction (one batch per
    /// notification, in order), deduplicating them (see [`crate::webhooks`]): each
    /// firing alert joins the analysis of its fingerprint's open key, else of its
    /// group's open key, else starts its `analysis` (inserted once however many
    /// alerts carry it). Resolved alerts are recorded on their fingerprint's
    /// analysis and in its tickets' history. The endpoints' rows are locked first
    /// (in id order), so intake of one endpoint is serialised across processes.
    /// [`Error::NotFound`] when an endpoint is gone (nothing is stored then).
    ///
    /// A batch with a [`AlertBatch::backlog_limit`] is checked inside the
    /// transaction, under a lock every process takes first: when the pending
    /// analyses would exceed the limit after it, that batch alone is stored not at
    /// all and gets [`Error::RateLimited`]; the others go on. So the limit holds exactly
    /// however many notifications arrive at once.
    async fn ingest_alerts(&self, batches: &[AlertBatch])
    -> Result<Vec<Result<Vec<AlertOutcome>>>>;
    /// What an analysis gathered, with at most `limit` recent occurrences.
    async fn analysis_alerts(&self, analysis_id: Uuid, limit: u32) -> Result<AnalysisAlerts>;
    /// How many alerts were accepted in all (for tests and tools).
    async fn count_alert_occurrences(&self) -> Result<u64>;
    /// How many analyses wait for a worker (the intake backlog).
    async fn count_pending_analyses(&self) -> Result<u64>;
}

/// A delivery in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct Delivery {
    /// Id.
    pub id: Uuid,
    /// The channel.
    pub channel_id: Uuid,
    /// What it is about, unique per channel (`analysis:<id>:completed`, ...).
    pub event_key: String,
    /// `pending`, `sending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When the channel accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A delivery taken for sending, with its message.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    /// The outbox row (attempts counts this one).
    pub delivery: Delivery,
    /// The message.
    pub notice: Notice,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryResult {
    /// The channel accepted it.
    Delivered,
    /// Failed; try again at this time.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// Failed for good.
    Failed {
        /// Why.
        error: String,
    },
}

/// Notification channels and the durable outbox.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Inserts a channel; a taken name is [`Error::Conflict`].
    async fn insert_channel(&self, c: &NotificationChannel) -> Result<()>;
    /// The channel with this id, or [`Error::NotFound`].
    async fn channel(&self, id: Uuid) -> Result<NotificationChannel>;
    /// Channels ordered by name.
    async fn list_channels(&self, page: PageRequest) -> Result<Page<NotificationChannel>>;
    /// Saves every field but `id` and `created_at`.
    async fn update_channel(&self, c: &NotificationChannel) -> Result<()>;
    /// Deletes a channel and its deliveries.
    async fn delete_channel(&self, id: Uuid) -> Result<()>;
    /// Adds a delivery of `notice` to each channel under `event_key`, unless that
    /// channel already has one under that key; returns how many were added.
    async fn enqueue_deliveries(
        &self,
        channels: &[Uuid],
        event_key: &str,
        notice: &Notice,
        now: DateTime<Utc>,
    ) -> Result<u64>;
    /// Takes the oldest due delivery (pending and due, or sending with a lock that
    /// ran out before `now`) by compare-and-set, locking it until `lock_until` and
    /// counting the attempt.
    async fn claim_delivery(
        &self,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedDelivery>>;
    /// Records how the attempt ended.
    async fn finish_delivery(
        &self,
        id: Uuid,
        result: &DeliveryResult,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// A channel's deliveries, newest first.
    async fn deliveries(&self, channel_id: Uuid, page: PageRequest) -> Result<Page<Delivery>>;
    /// Deliveries per status (statuses with none left out).
    async fn count_deliveries_by_status(&self) -> Result<Vec<(String, u64)>>;
    /// Deletes the deliveries that ended (delivered or given up) and were enqueued
    /// before `before`; returns how many.
    async fn prune_deliveries(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// Everything the engine stores. One implementation per database.
#[async_trait]
pub trait Store:
    UserStore
    + ThrottleStore
    + DataSourceStore
    + AnalysisStore
    + TicketStore
    + WebhookStore
    + NotificationStore
    + std::fmt::Debug
{
    /// Answers when the database can be reached.
    async fn ping(&self) -> Result<()>;
    /// `sqlite` or `mysql`.
    fn dialect(&self) -> &'static str;
    /// Closes the connection pool.
    async fn close(&self);
}

/// Connects to `database_url` (`sqlite:` or `mysql:`) and applies the migrations.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>> {
    let scheme = database_url
        .split_once(':')
        .map(|(s, _)| s)
        .unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::open(database_url).await?)),
        "mysql" | "mariadb" => Ok(Arc::new(MysqlStore::open(database_url).await?)),
        _ => Err(Error::Config(format!(
            "DATABASE_URL must start with sqlite: or mysql:, not `{}`",
            crate::config::redact_url_password(database_url)
        ))),
    }
}

/// `role` as stored.
pub(crate) fn parse_role(s: &str) -> Result<Role> {
    s.parse().map_err(|_| corrupt("users.role", s))
}

/// An error for a stored value that does not parse: the database holds something
/// the code never writes.
pub(crate) fn corrupt(column: &str, value: &str) -> Error {
    Error::Internal(format!("unexpected stored value in {column}: `{value}`"))
}

/// Escapes `%`, `_` and the escape character itself for `LIKE ? ESCAPE '!'`.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Truncates to whole microseconds, the precision both databases keep.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off!"), "%50!%!_off!!%");
    }

    #[test]
    fn page_requests_are_bounded() {
        assert!(PageRequest::new(0, 20).is_err());
        assert!(PageRequest::new(1, 0).is_err());
        assert!(PageRequest::new(1, 201).is_err());
        let p = PageRequest::new(3, 20).unwrap();
        assert_eq!((p.limit(), p.offset()), (20, 40));
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused_without_leaking_passwords() {
        let e = open("postgres://u:pw@h/db").await.unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("sqlite: or mysql:") && !msg.contains("pw@"),
            "{msg}"
        );
    }
}
