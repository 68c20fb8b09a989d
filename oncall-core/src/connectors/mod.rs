//! Data sources: where logs (Elasticsearch/ELK, Grafana Loki) and metrics
//! (Prometheus) come from, and how to reach them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Which kind of server a data source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum DataSourceKind {
    /// Elasticsearch or OpenSearch (logs).
    Elk,
    /// Grafana Loki (logs).
    Loki,
    /// Prometheus (metrics).
    Prometheus,
}

impl DataSourceKind {
    /// Every kind.
    pub const ALL: [DataSourceKind; 3] = [
        DataSourceKind::Elk,
        DataSourceKind::Loki,
        DataSourceKind::Prometheus,
    ];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            DataSourceKind::Elk => "elk",
            DataSourceKind::Loki => "loki",
            DataSourceKind::Prometheus => "prometheus",
        }
    }

    /// The port the server listens on by default.
    pub fn default_port(self) -> u16 {
        match self {
            DataSourceKind::Elk => 9200,
            DataSourceKind::Loki => 3100,
            DataSourceKind::Prometheus => 9090,
        }
    }
}

impl std::str::FromStr for DataSourceKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DataSourceKind::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "type",
                    format!("`{s}` is not a data source type (elk, loki, prometheus)"),
                )
            })
    }
}

/// How to authenticate to a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum AuthKind {
    /// No credentials.
    None,
    /// HTTP basic: username and password.
    Basic,
    /// `Authorization: Bearer <token>`.
    Bearer,
}

impl AuthKind {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::None => "none",
            AuthKind::Basic => "basic",
            AuthKind::Bearer => "bearer",
        }
    }
}

impl std::str::FromStr for AuthKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [AuthKind::None, AuthKind::Basic, AuthKind::Bearer]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::invalid("auth.type", format!("`{s}` is not none, basic or bearer"))
            })
    }
}

/// A configured data source. Secrets are held sealed (encrypted at rest) and are
/// never part of what the API returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// Generated in the application (UUID v7).
    pub id: Uuid,
    /// Unique display name; also how the LLM's tools name the source.
    pub name: String,
    /// Which kind of server.
    pub kind: DataSourceKind,
    /// Base URL (http/https).
    pub url: String,
    /// How to authenticate.
    pub auth_kind: AuthKind,
    /// Basic-auth user name.
    pub username: Option<String>,
    /// Sealed basic-auth password.
    #[serde(skip_serializing)]
    pub password_sealed: Option<String>,
    /// Sealed bearer token.
    #[serde(skip_serializing)]
    pub token_sealed: Option<String>,
    /// Type-specific settings (`index`, `labels`, field names, ...).
    pub config: serde_json::Value,
    /// Disabled sources are not queried.
    pub enabled: bool,
    /// Per-request timeout.
    pub timeout_ms: i64,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

pub mod elasticsearch;
mod http;
pub(crate) use http::{describe_body, tls_config};
pub mod loki;
pub mod outbound;
pub mod prometheus;
mod prometheus_api;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use elasticsearch::ElasticsearchConnector;
pub use loki::LokiConnector;
pub use prometheus::PrometheusConnector;

/// A data source's secrets in plain text, decrypted by the caller just before a
/// connector is built. `Debug` shows only whether each secret is present; no
/// connector puts them in an error message or a log line.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Basic-auth user name.
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mask = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &mask(&self.password))
            .field("token", &mask(&self.token))
            .finish()
    }
}

/// Why a call to a data source failed, in terms of what the user should fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum ConnectorErrorKind {
    /// The data source's settings are wrong (URL, CA certificate, missing config key).
    Config,
    /// Nothing answers at the URL (DNS, connection refused, network).
    Unreachable,
    /// The TLS handshake failed (certificate not trusted, wrong host name).
    Tls,
    /// The server did not answer within the data source's timeout.
    Timeout,
    /// The server refused the credentials (HTTP 401/403).
    AuthFailed,
    /// The server rejected the query (PromQL/LogQL syntax, unknown index, ...).
    BadQuery,
    /// The server failed (HTTP 5xx, rate limits).
    ServerError,
    /// The answer is not what this kind of server sends (wrong URL or type?).
    BadResponse,
    /// The answer is larger than the data source's `max_response_bytes`.
    TooLarge,
    /// This kind of data source cannot do that (e.g. log queries on Prometheus).
    Unsupported,
}

impl ConnectorErrorKind {
    /// The stable snake_case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorErrorKind::Config => "config",
            ConnectorErrorKind::Unreachable => "unreachable",
            ConnectorErrorKind::Tls => "tls",
            ConnectorErrorKind::Timeout => "timeout",
            ConnectorErrorKind::AuthFailed => "auth_failed",
            ConnectorErrorKind::BadQuery => "bad_query",
            ConnectorErrorKind::ServerError => "server_error",
            ConnectorErrorKind::BadResponse => "bad_response",
            ConnectorErrorKind::TooLarge => "too_large",
            ConnectorErrorKind::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for ConnectorErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call to a data source: what kind of failure, and a message a user can
/// act on. Never contains the data source's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorError {
    /// What went wrong, as a category the UI can show.
    pub kind: ConnectorErrorKind,
    /// Details, including the server's own message when it sent one.
    pub message: String,
}

impl ConnectorError {
    /// An error of the given kind.
    pub fn new(kind: ConnectorErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            message: message.into(),
        }
    }

    /// The operation is not offered by this kind of data source.
    pub fn unsupported(kind: DataSourceKind, what: &str) -> Self {
        ConnectorError::new(
            ConnectorErrorKind::Unsupported,
            format!("{} data sources do not support {what}", kind.as_str()),
        )
    }

    /// The query is malformed (detected before sending it).
    pub fn bad_query(message: impl Into<String>) -> Self {
        ConnectorError::new(ConnectorErrorKind::BadQuery, message)
    }

    /// The server's answer could not be understood.
    pub fn bad_response(message: impl Into<String>) -> Self {
        ConnectorError::new(ConnectorErrorKind::BadResponse, message)
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind)
    }
}

impl std::error::Error for ConnectorError {}

/// Queries that the data source cannot answer (bad query, unsupported operation,
/// bad settings) become [`Error::Invalid`]; everything else (down, slow, refused
/// credentials, broken answers) is [`Error::Unavailable`], so a front end never
/// mistakes a data source's 401 for its own user's session expiring.
impl From<ConnectorError> for Error {
    fn from(e: ConnectorError) -> Self {
        match e.kind {
            ConnectorErrorKind::Config
            | ConnectorErrorKind::BadQuery
            | ConnectorErrorKind::Unsupported => Error::Invalid {
                field: None,
                message: e.to_string(),
            },
            _ => Error::Unavailable(e.to_string()),
        }
    }
}

/// The result of a connector call.
pub type ConnectorResult<T> = std::result::Result<T, ConnectorError>;

/// The outcome of a connectivity test, as `POST /api/datasources/{id}/test` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct ConnectionTest {
    /// Reachable, authenticated and answering like the expected kind of server.
    pub ok: bool,
    /// Wall time of the test, in milliseconds.
    pub latency_ms: u64,
    /// Product and version as the server reports it, e.g. `"Prometheus 2.42.0"`,
    /// `"OpenSearch 3.8.0"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What was found, or why the test failed and what to fix.
    pub message: String,
    /// The failure category when `ok` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ConnectorErrorKind>,
}

impl ConnectionTest {
    pub(crate) fn failed(latency_ms: u64, e: ConnectorError) -> Self {
        ConnectionTest {
            ok: false,
            latency_ms,
            version: None,
            message: e.message,
            error: Some(e.kind),
        }
    }
}

/// A half-open time interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// First instant included.
    pub start: DateTime<Utc>,
    /// First instant excluded.
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// A range; `end` must be after `start`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> ConnectorResult<Self> {
        if end <= start {
            return Err(ConnectorError::bad_query(format!(
                "the time range ends ({end}) before it starts ({start})"
            )));
        }
        Ok(TimeRange { start, end })
    }

    /// The length of the range.
    pub fn duration(&self) -> Duration {
        (self.end - self.start).to_std().unwrap_or_default()
    }

    fn check(&self) -> ConnectorResult<()> {
        TimeRange::new(self.start, self.end).map(|_| ())
    }
}

/// One sample of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    /// When the value was taken (or evaluated).
    pub timestamp: DateTime<Utc>,
    /// The value (`NaN`/`±Inf` are kept; JSON shows them as `null`).
    pub value: f64,
}

/// A metric's samples for one label set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    /// The series' labels, including `__name__` when the server sends it.
    pub labels: BTreeMap<String, String>,
    /// Samples in time order.
    pub samples: Vec<MetricSample>,
}

/// The shape of a metric query's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricResultType {
    /// Several samples per series (range queries).
    Matrix,
    /// One sample per series (instant queries).
    Vector,
    /// A single number without labels: one series with no labels and one sample.
    Scalar,
}

/// The answer to a metric query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricData {
    /// What the server returned.
    pub result_type: MetricResultType,
    /// The series, as the server ordered them.
    pub series: Vec<MetricSeries>,
    /// The server's warnings (and infos), e.g. about partial data.
    pub warnings: Vec<String>,
    /// The query as sent, with its time parameters (recorded with an analysis).
    pub query: String,
}

/// Which log lines to fetch, beyond the time range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogFilter {
    /// Only these levels (`ERROR`, `WARN`, ...; matched case-insensitively). Empty: all.
    #[serde(default)]
    pub levels: Vec<String>,
    /// Only lines whose message contains this text (phrase).
    #[serde(default)]
    pub text: Option<String>,
    /// Only lines whose label (Loki) or field (Elasticsearch) has exactly this value.
    /// The key `service` means the data source's service field.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// A native filter appended as is: a Lucene `query_string` for Elasticsearch, a
    /// LogQL pipeline (e.g. `| json | status >= 500`) for Loki.
    #[serde(default)]
    pub query: Option<String>,
}

/// Which end of the range to read first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogOrder {
    /// Newest lines first (the usual choice with a row cap).
    #[default]
    NewestFirst,
    /// Oldest lines first.
    OldestFirst,
}

/// A log query: time range, filter, row cap and order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogQuery {
    /// The time range.
    pub range: TimeRange,
    /// What to keep.
    #[serde(default)]
    pub filter: LogFilter,
    /// At most this many lines (the connector pages until it has them).
    pub limit: usize,
    /// Which end of the range comes first.
    #[serde(default)]
    pub order: LogOrder,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// When it was logged.
    pub timestamp: DateTime<Utc>,
    /// The message text.
    pub message: String,
    /// Its level when the source has one (as the source spells it).
    pub level: Option<String>,
    /// The stream's labels (Loki) or the document's other fields, flattened with dots
    /// (Elasticsearch; non-string values as JSON text).
    pub labels: BTreeMap<String, String>,
}

/// The answer to a log query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogBatch {
    /// The lines, in the requested order.
    pub records: Vec<LogRecord>,
    /// More lines matched than the row cap allowed.
    pub truncated: bool,
    /// How many lines matched in all, when the source says (Elasticsearch).
    pub total: Option<u64>,
    /// The native query sent (recorded with an analysis).
    pub query: String,
}

/// One bucket of a log histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBucket {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Matching lines in `[start, start + interval)`.
    pub count: u64,
}

/// Counts of matching log lines over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogHistogram {
    /// Bucket width in seconds.
    pub interval_secs: u64,
    /// Buckets in time order, empty ones included with count 0. Elasticsearch aligns
    /// buckets to multiples of the interval (the first may start before the range);
    /// Loki's start at the range's start.
    pub buckets: Vec<LogBucket>,
    /// The native query sent.
    pub query: String,
}

impl LogHistogram {
    /// Sum of all buckets.
    pub fn total(&self) -> u64 {
        self.buckets.iter().map(|b| b.count).sum()
    }
}

/// The most points a range query asks for per series.
pub const MAX_POINTS_PER_SERIES: u64 = 11_000;

/// The step for a range query over `range`: the requested one (default 60 s), widened
/// to whole seconds so the query never returns more than [`MAX_POINTS_PER_SERIES`]
/// points per series.
pub fn range_step(range: &TimeRange, requested: Option<Duration>) -> Duration {
    let requested = requested.unwrap_or(Duration::from_secs(60));
    let span_ms = u64::try_from(range.duration().as_millis()).unwrap_or(u64::MAX);
    // points = span / step + 1 <= MAX  <=>  step >= span / (MAX - 1)
    let min_ms = span_ms.div_ceil(MAX_POINTS_PER_SERIES - 1);
    let min = Duration::from_secs(min_ms.div_ceil(1000).max(1));
    requested.max(min).max(Duration::from_millis(1))
}

/// A bucket width giving about `target` buckets over `range`, rounded up to a
/// readable interval (1 s, 5 s, 10 s, 30 s, 1 min, 5 min, ...).
pub fn histogram_interval(range: &TimeRange, target: u64) -> Duration {
    const NICE: [u64; 15] = [
        1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 10_800, 21_600, 86_400,
    ];
    let span = range.duration().as_secs().max(1);
    let raw = span.div_ceil(target.max(1));
    let secs = NICE
        .into_iter()
        .find(|n| *n >= raw)
        .unwrap_or_else(|| raw.div_ceil(86_400) * 86_400);
    Duration::from_secs(secs)
}

/// A client for one data source. Object-safe: the engine holds `Arc<dyn Connector>`,
/// and tests can drive the engine with a recorded double.
///
/// Every method is a read. Operations a kind of source does not offer return
/// [`ConnectorErrorKind::Unsupported`] (converted to [`Error::Invalid`]).
#[async_trait::async_trait]
pub trait Connector: Send + Sync + fmt::Debug {
    /// Which kind of server this talks to.
    fn kind(&self) -> DataSourceKind;

    /// The data source's name.
    fn name(&self) -> &str;

    /// Checks that the server is reachable, accepts the credentials and is the
    /// expected kind; never fails, the outcome says why not. Not retried.
    async fn test(&self) -> ConnectionTest;

    /// Evaluates a metric query (PromQL, or LogQL for Loki) at one instant.
    async fn metric_query(&self, query: &str, at: DateTime<Utc>) -> ConnectorResult<MetricData> {
        let _ = (query, at);
        Err(ConnectorError::unsupported(self.kind(), "metric queries"))
    }

    /// Evaluates a metric query over a range. The step is `step` (default 60 s),
    /// widened by [`range_step`] so no series has more than 11,000 points.
    async fn metric_range(
        &self,
        query: &str,
        range: &TimeRange,
        step: Option<Duration>,
    ) -> ConnectorResult<MetricData> {
        let _ = (query, range, step);
        Err(ConnectorError::unsupported(self.kind(), "metric queries"))
    }

    /// Metric name → type (`counter`, `gauge`, `histogram`, `summary`, `unknown`)
    /// as the server's metadata gives it (Prometheus `# TYPE`, from its scrape
    /// targets; backfilled data has none).
    async fn metric_types(&self) -> ConnectorResult<BTreeMap<String, String>> {
        Err(ConnectorError::unsupported(self.kind(), "metric metadata"))
    }

    /// The label sets of the series matching any of the `matchers` (e.g.
    /// `up{job="api"}`) in the range, at most `limit` of them.
    async fn series(
        &self,
        matchers: &[String],
        range: &TimeRange,
        limit: usize,
    ) -> ConnectorResult<Vec<BTreeMap<String, String>>> {
        let _ = (matchers, range, limit);
        Err(ConnectorError::unsupported(self.kind(), "series discovery"))
    }

    /// Label (Prometheus, Loki) or field (Elasticsearch) names present in the range,
    /// optionally only for series matching `matcher`.
    async fn label_names(
        &self,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        let _ = (matcher, range);
        Err(ConnectorError::unsupported(self.kind(), "label discovery"))
    }

    /// Values of one label (or field) present in the range, optionally only for
    /// series matching `matcher`.
    async fn label_values(
        &self,
        label: &str,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        let _ = (label, matcher, range);
        Err(ConnectorError::unsupported(self.kind(), "label discovery"))
    }

    /// Log lines matching the query, paging through the source until the row cap.
    async fn logs(&self, query: &LogQuery) -> ConnectorResult<LogBatch> {
        let _ = query;
        Err(ConnectorError::unsupported(self.kind(), "log queries"))
    }

    /// Counts of matching log lines per `interval` (default: about 60 buckets).
    async fn log_counts(
        &self,
        range: &TimeRange,
        filter: &LogFilter,
        interval: Option<Duration>,
    ) -> ConnectorResult<LogHistogram> {
        let _ = (range, filter, interval);
        Err(ConnectorError::unsupported(self.kind(), "log counts"))
    }
}

/// Builds the connector for a data source. `credentials` are the decrypted secrets
/// matching `ds.auth_kind`. Fails with [`Error::Invalid`] when the settings are
/// unusable (bad URL, unreadable `ca_cert`, missing credentials).
///
/// Settings read from `ds.config`, for every kind: `ca_cert` (PEM, trusted in
/// addition to the system's roots), `insecure_skip_verify` (bool), `max_response_bytes`
/// (default 64 MiB). Elasticsearch: `index`, `timestamp_field`, `message_field`,
/// `level_field`, `service_field`, `page_size`. Loki: `labels` (stream selector),
/// `tenant` (`X-Scope-OrgID`), `level_label`, `page_size`. The timeout is
/// `ds.timeout_ms` (10 s when not positive).
pub fn connector_for(ds: &DataSource, credentials: Credentials) -> Result<Arc<dyn Connector>> {
    Ok(match ds.kind {
        DataSourceKind::Prometheus => Arc::new(PrometheusConnector::new(ds, credentials)?),
        DataSourceKind::Elk => Arc::new(ElasticsearchConnector::new(ds, credentials)?),
        DataSourceKind::Loki => Arc::new(LokiConnector::new(ds, credentials)?),
    })
}

/// Makes rustls on *ring* the process-wide default crypto provider, if none is set
/// yet. Connectors do not need it (they pass their TLS settings explicitly), but any
/// other `reqwest::Client` built with default settings in the same process panics
/// without a default provider, because the tree carries rustls without
/// aws-lc-rs. Front ends call this once at start-up; calling it again is harmless.
pub fn install_default_tls_provider() {
    // An error means a default is already installed, which is all we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The connectivity test behind `POST /api/datasources/{id}/test`: builds the
/// connector and tests it. Never fails: unusable settings give `ok: false` with
/// error `config`; an unreachable server answers as fast as the network says so
/// (at most the data source's timeout).
pub async fn test_data_source(ds: &DataSource, credentials: Credentials) -> ConnectionTest {
    match connector_for(ds, credentials) {
        Ok(c) => c.test().await,
        Err(e) => ConnectionTest::failed(
            0,
            ConnectorError::new(ConnectorErrorKind::Config, e.to_string()),
        ),
    }
}
