//! Elasticsearch 7/8 and OpenSearch 1–3 over their common REST API (no client crate:
//! the official one rejects OpenSearch). `GET /` for the flavour and version,
//! `_search` with a `bool` query, `sort` + `search_after` to page past 10,000 hits,
//! a `date_histogram` for counts, `_mapping` and a `terms` aggregation for discovery.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{Config, HttpClient, parse_json};
use super::{
    ConnectionTest, Connector, ConnectorError, ConnectorErrorKind, ConnectorResult, Credentials,
    DataSource, DataSourceKind, LogBatch, LogBucket, LogFilter, LogHistogram, LogOrder, LogQuery,
    LogRecord, TimeRange, histogram_interval,
};
use crate::error::{Error, Result};

/// The most hits one `_search` page asks for (Elasticsearch's `max_result_window`).
const MAX_PAGE: u64 = 10_000;
/// The most values a field lookup returns.
const MAX_VALUES: usize = 1_000;

/// An Elasticsearch or OpenSearch data source.
#[derive(Debug)]
pub struct ElasticsearchConnector {
    name: String,
    http: HttpClient,
    index: String,
    timestamp_field: String,
    message_field: String,
    level_fields: Vec<String>,
    service_fields: Vec<String>,
    page_size: u64,
}

impl ElasticsearchConnector {
    /// A connector for `ds`. Settings: `index` (pattern, default `*`),
    /// `timestamp_field` (`@timestamp`), `message_field` (`message`), `level_field`
    /// (`level`, else `log.level`), `service_field` (`service`, else
    /// `kubernetes.labels.app`), `page_size` (hits per `_search`, at most 10,000).
    pub fn new(ds: &DataSource, credentials: Credentials) -> Result<Self> {
        let config = Config(&ds.config);
        let index = config.str("index")?.unwrap_or("*").to_owned();
        if index
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '\\' | '?' | '#' | '"'))
        {
            return Err(Error::invalid(
                "config.index",
                "an index pattern cannot contain spaces, /, \\, ?, # or \"",
            ));
        }
        let field = |key: &str, default: &str| -> Result<String> {
            Ok(config.str(key)?.unwrap_or(default).to_owned())
        };
        let candidates = |key: &str, defaults: [&str; 2]| -> Result<Vec<String>> {
            Ok(match config.str(key)? {
                Some(f) => vec![f.to_owned()],
                None => defaults.iter().map(|s| (*s).to_owned()).collect(),
            })
        };
        Ok(ElasticsearchConnector {
            name: ds.name.clone(),
            http: HttpClient::new(ds, credentials, HeaderMap::new())?,
            index,
            timestamp_field: field("timestamp_field", "@timestamp")?,
            message_field: field("message_field", "message")?,
            level_fields: candidates("level_field", ["level", "log.level"])?,
            service_fields: candidates("service_field", ["service", "kubernetes.labels.app"])?,
            page_size: config
                .positive("page_size")?
                .unwrap_or(MAX_PAGE)
                .min(MAX_PAGE),
        })
    }

    fn path(&self, endpoint: &str) -> String {
        // `./` keeps a cross-cluster `remote:index` from reading as a URL scheme.
        format!("./{}/{endpoint}", self.index)
    }

    /// The fields a logical filter key stands for.
    fn fields_for<'a>(&'a self, key: &'a str) -> Vec<&'a str> {
        match key {
            "service" => self.service_fields.iter().map(String::as_str).collect(),
            "level" => self.level_fields.iter().map(String::as_str).collect(),
            other => vec![other],
        }
    }

    /// `bool` query: time range, levels, labels and text as filters, the native
    /// query string as `must`.
    fn bool_query(&self, range: &TimeRange, filter: &LogFilter) -> Value {
        let mut filters = vec![json!({"range": {&self.timestamp_field: {
            "gte": rfc3339(range.start),
            "lt": rfc3339(range.end),
            "format": "strict_date_optional_time",
        }}})];
        if !filter.levels.is_empty() {
            let mut variants: Vec<String> = filter
                .levels
                .iter()
                .flat_map(|l| [l.clone(), l.to_uppercase(), l.to_lowercase()])
                .collect();
            variants.sort();
            variants.dedup();
            let should: Vec<Value> = self
                .level_fields
                .iter()
                .flat_map(|f| {
                    [
                        json!({"terms": {f: &variants}}),
                        json!({"terms": {format!("{f}.keyword"): &variants}}),
                    ]
                })
                .collect();
            filters.push(json!({"bool": {"should": should, "minimum_should_match": 1}}));
        }
        for (key, value) in &filter.labels {
            let should: Vec<Value> = self
                .fields_for(key)
                .into_iter()
                .flat_map(|f| {
                    [
                        json!({"term": {f: value}}),
                        json!({"term": {format!("{f}.keyword"): value}}),
                    ]
                })
                .collect();
            filters.push(json!({"bool": {"should": should, "minimum_should_match": 1}}));
        }
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            filters.push(json!({"match_phrase": {&self.message_field: text}}));
        }
        let mut must = Vec::new();
        if let Some(q) = filter.query.as_deref().filter(|q| !q.trim().is_empty()) {
            must.push(json!({"query_string": {"query": q, "default_field": &self.message_field}}));
        }
        json!({"bool": {"filter": filters, "must": must}})
    }

    async fn search(&self, body: &Value) -> ConnectorResult<SearchResponse> {
        let bytes = self.http.post_read(&self.path("_search"), body).await?;
        parse_json(&bytes, "an Elasticsearch search answer")
    }

    fn record(&self, hit: Hit) -> ConnectorResult<LogRecord> {
        let mut source = hit.source;
        let timestamp = take_path(&mut source, &self.timestamp_field)
            .and_then(|v| parse_timestamp(&v))
            .or_else(|| {
                hit.sort
                    .as_ref()
                    .and_then(|s| s.first())
                    .and_then(Value::as_i64)
                    .and_then(DateTime::from_timestamp_millis)
            })
            .ok_or_else(|| {
                ConnectorError::bad_response(format!(
                    "a hit has no usable `{}`; set `timestamp_field`",
                    self.timestamp_field
                ))
            })?;
        let message = match take_path(&mut source, &self.message_field) {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let level = self
            .level_fields
            .iter()
            .find_map(|f| match get_path(&source, f) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            });
        let mut labels = BTreeMap::new();
        flatten("", Value::Object(source), &mut labels);
        if let Some(index) = hit.index {
            labels.insert("_index".to_owned(), index);
        }
        Ok(LogRecord {
            timestamp,
            message,
            level,
            labels,
        })
    }

    async fn mapping_fields(&self) -> ConnectorResult<BTreeMap<String, Value>> {
        let bytes = self.http.get(&self.path("_mapping"), &[]).await?;
        let mapping: BTreeMap<String, Value> = parse_json(&bytes, "an Elasticsearch mapping")?;
        let mut fields = BTreeMap::new();
        for index in mapping.values() {
            let Some(mappings) = index.get("mappings") else {
                continue;
            };
            // Elasticsearch 6 nests a type name between `mappings` and `properties`.
            let props = mappings.get("properties").or_else(|| {
                mappings
                    .as_object()
                    .and_then(|m| m.values().find_map(|t| t.get("properties")))
            });
            if let Some(Value::Object(props)) = props {
                collect_fields("", props, &mut fields);
            }
        }
        Ok(fields)
    }
}

#[async_trait::async_trait]
impl Connector for ElasticsearchConnector {
    fn kind(&self) -> DataSourceKind {
        DataSourceKind::Elk
    }

    fn name(&self) -> &str {
        &self.name
    }

    async fn test(&self) -> ConnectionTest {
        let started = Instant::now();
        let elapsed = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let root = self
            .http
            .get_once("", &[])
            .await
            .and_then(|b| parse_json::<Root>(&b, "an Elasticsearch/OpenSearch answer"));
        let version = match root {
            Ok(root) => {
                let product = root.product();
                let major = root
                    .version
                    .number
                    .split('.')
                    .next()
                    .and_then(|m| m.parse::<u32>().ok());
                if product == "Elasticsearch" && major.is_some_and(|m| m < 7) {
                    return ConnectionTest {
                        ok: false,
                        latency_ms: elapsed(),
                        version: Some(format!("{product} {}", root.version.number)),
                        message: "Elasticsearch before 7 is not supported".into(),
                        error: Some(ConnectorErrorKind::Unsupported),
                    };
                }
                Some(format!("{product} {}", root.version.number))
            }
            // A user with index privileges only may not read `GET /`: go on to the index.
            Err(e)
                if e.kind == ConnectorErrorKind::AuthFailed && e.message.contains("HTTP 403") =>
            {
                None
            }
            Err(e) => return ConnectionTest::failed(elapsed(), e),
        };
        let count = self
            .http
            .get_once(&self.path("_count"), &[])
            .await
            .and_then(|b| parse_json::<Count>(&b, "an Elasticsearch count"));
        match count {
            Ok(count) => ConnectionTest {
                ok: true,
                latency_ms: elapsed(),
                message: format!(
                    "{} at {} answers; {} documents match index `{}`",
                    version.as_deref().unwrap_or("the search API"),
                    self.http.base_display(),
                    count.count,
                    self.index
                ),
                version,
                error: None,
            },
            Err(e) => ConnectionTest {
                version,
                message: format!("index `{}`: {}", self.index, e.message),
                ..ConnectionTest::failed(elapsed(), e)
            },
        }
    }

    /// The index pattern's mapped fields (from `_mapping`: neither `matcher` nor the
    /// range narrows them).
    async fn label_names(
        &self,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        let _ = matcher;
        range.check()?;
        Ok(self.mapping_fields().await?.into_keys().collect())
    }

    /// The 1,000 most frequent values of a field in the range (a `terms` aggregation,
    /// on `field.keyword` for text fields); `matcher` is a `query_string`.
    async fn label_values(
        &self,
        label: &str,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        range.check()?;
        let fields = self.mapping_fields().await?;
        let candidates = self.fields_for(label);
        let field = candidates
            .iter()
            .find_map(|f| {
                let def = fields.get(*f)?;
                let ty = def.get("type").and_then(Value::as_str).unwrap_or("object");
                if ty == "text" {
                    def.get("fields")
                        .and_then(|m| m.get("keyword"))
                        .map(|_| format!("{f}.keyword"))
                } else {
                    Some((*f).to_owned())
                }
            })
            .ok_or_else(|| {
                ConnectorError::bad_query(format!(
                    "no aggregatable field `{label}` in index `{}`",
                    self.index
                ))
            })?;
        let filter = LogFilter {
            query: matcher.map(str::to_owned),
            ..LogFilter::default()
        };
        let body = json!({
            "size": 0,
            "track_total_hits": false,
            "query": self.bool_query(range, &filter),
            "aggs": {"values": {"terms": {"field": field, "size": MAX_VALUES}}},
        });
        let resp = self.search(&body).await?;
        let buckets = resp
            .aggregations
            .as_ref()
            .and_then(|a| a.get("values"))
            .and_then(|v| v.get("buckets"))
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::bad_response("a terms aggregation without buckets"))?;
        Ok(buckets
            .iter()
            .filter_map(|b| match (b.get("key_as_string"), b.get("key")) {
                (Some(Value::String(s)), _) | (_, Some(Value::String(s))) => Some(s.clone()),
                (_, Some(other)) => Some(other.to_string()),
                _ => None,
            })
            .collect())
    }

    async fn logs(&self, query: &LogQuery) -> ConnectorResult<LogBatch> {
        query.range.check()?;
        let order = match query.order {
            LogOrder::NewestFirst => "desc",
            LogOrder::OldestFirst => "asc",
        };
        let q = self.bool_query(&query.range, &query.filter);
        let limit = query.limit as u64;
        let mut records = Vec::with_capacity(query.limit.min(100_000));
        let mut total = None;
        let mut search_after: Option<Vec<Value>> = None;
        let mut page_size = self.page_size;
        while (records.len() as u64) < limit {
            let size = page_size.min(limit - records.len() as u64);
            let mut body = json!({
                "size": size,
                "query": &q,
                "sort": [
                    {&self.timestamp_field: {"order": order, "unmapped_type": "date"}},
                    {"_doc": {"order": order}},
                ],
                "track_total_hits": search_after.is_none(),
            });
            if let Some(after) = &search_after {
                body["search_after"] = Value::Array(after.clone());
            }
            let resp = match self.search(&body).await {
                // Big documents: a smaller page fits under max_response_bytes.
                Err(e) if e.kind == ConnectorErrorKind::TooLarge && size > 100 => {
                    page_size = size / 4;
                    tracing::debug!(page_size, "search page too large, asking for fewer hits");
                    continue;
                }
                other => other?,
            };
            if search_after.is_none() {
                total = resp.hits.total.as_ref().map(Total::value);
            }
            if resp.timed_out == Some(true) {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Timeout,
                    "the search timed out on the server; narrow the time range or filter",
                ));
            }
            let got = resp.hits.hits.len() as u64;
            search_after = resp.hits.hits.last().and_then(|h| h.sort.clone());
            for hit in resp.hits.hits {
                records.push(self.record(hit)?);
            }
            if got < size || search_after.is_none() {
                break;
            }
        }
        let truncated = match total {
            Some(t) => t > records.len() as u64,
            None => records.len() as u64 >= limit,
        };
        Ok(LogBatch {
            records,
            truncated,
            total,
            query: format!("{} _search {}", self.index, q),
        })
    }

    async fn log_counts(
        &self,
        range: &TimeRange,
        filter: &LogFilter,
        interval: Option<Duration>,
    ) -> ConnectorResult<LogHistogram> {
        range.check()?;
        let secs = interval
            .unwrap_or_else(|| histogram_interval(range, 60))
            .as_secs()
            .max(1);
        let q = self.bool_query(range, filter);
        let body = json!({
            "size": 0,
            "track_total_hits": false,
            "query": &q,
            "aggs": {"counts": {"date_histogram": {
                "field": &self.timestamp_field,
                "fixed_interval": format!("{secs}s"),
                "min_doc_count": 0,
                "extended_bounds": {
                    "min": range.start.timestamp_millis(),
                    "max": range.end.timestamp_millis() - 1,
                },
            }}},
        });
        let resp = self.search(&body).await?;
        let buckets = resp
            .aggregations
            .as_ref()
            .and_then(|a| a.get("counts"))
            .and_then(|v| v.get("buckets"))
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::bad_response("a date_histogram without buckets"))?;
        let buckets = buckets
            .iter()
            .map(|b| {
                let start = b
                    .get("key")
                    .and_then(Value::as_i64)
                    .and_then(DateTime::from_timestamp_millis);
                let count = b.get("doc_count").and_then(Value::as_u64);
                match (start, count) {
                    (Some(start), Some(count)) => Ok(LogBucket { start, count }),
                    _ => Err(ConnectorError::bad_response(format!(
                        "a histogram bucket without key or doc_count: {b}"
                    ))),
                }
            })
            .collect::<ConnectorResult<Vec<_>>>()?;
        Ok(LogHistogram {
            interval_secs: secs,
            buckets,
            query: format!("{} date_histogram {secs}s {}", self.index, q),
        })
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Deserialize)]
struct Root {
    version: RootVersion,
    #[serde(default)]
    tagline: Option<String>,
}

#[derive(Deserialize)]
struct RootVersion {
    number: String,
    #[serde(default)]
    distribution: Option<String>,
}

impl Root {
    fn product(&self) -> &'static str {
        let opensearch = self.version.distribution.as_deref() == Some("opensearch")
            || self
                .tagline
                .as_deref()
                .is_some_and(|t| t.contains("OpenSearch"));
        if opensearch {
            "OpenSearch"
        } else {
            "Elasticsearch"
        }
    }
}

#[derive(Deserialize)]
struct Count {
    count: u64,
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    timed_out: Option<bool>,
    hits: Hits,
    #[serde(default)]
    aggregations: Option<Value>,
}

#[derive(Deserialize)]
struct Hits {
    #[serde(default)]
    total: Option<Total>,
    #[serde(default)]
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Total {
    Object { value: u64 },
    Number(u64),
}

impl Total {
    fn value(&self) -> u64 {
        match self {
            Total::Object { value } | Total::Number(value) => *value,
        }
    }
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "_index", default)]
    index: Option<String>,
    #[serde(rename = "_source", default)]
    source: Map<String, Value>,
    #[serde(default)]
    sort: Option<Vec<Value>>,
}

/// A field by dotted path: the flat key `a.b` first, then nested objects.
fn get_path<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    match map.get(head)? {
        Value::Object(inner) => get_path(inner, rest),
        _ => None,
    }
}

/// Removes and returns a field by dotted path.
fn take_path(map: &mut Map<String, Value>, path: &str) -> Option<Value> {
    if let Some(v) = map.remove(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    match map.get_mut(head)? {
        Value::Object(inner) => take_path(inner, rest),
        _ => None,
    }
}

/// RFC 3339, a zone-less `2023-01-29T08:42:09.487` (taken as UTC), or epoch millis.
fn parse_timestamp(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                    .map(|n| n.and_utc())
            })
            .or_else(|| {
                s.parse::<i64>()
                    .ok()
                    .and_then(DateTime::from_timestamp_millis)
            }),
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    }
}

/// Nested objects become dotted keys; strings stay, other values become JSON text.
fn flatten(prefix: &str, value: Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            out.insert(prefix.to_owned(), s);
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// Leaf fields of a mapping's `properties`, by dotted name.
fn collect_fields(prefix: &str, props: &Map<String, Value>, out: &mut BTreeMap<String, Value>) {
    for (name, def) in props {
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match def.get("properties") {
            Some(Value::Object(inner)) => collect_fields(&full, inner, out),
            _ => {
                out.insert(full, def.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_common_shapes() {
        let want = DateTime::from_timestamp_millis(1_674_981_729_487).unwrap();
        for v in [
            json!("2023-01-29T08:42:09.487Z"),
            json!("2023-01-29T16:42:09.487+08:00"),
            json!("2023-01-29T08:42:09.487"),
            json!(1_674_981_729_487_i64),
        ] {
            assert_eq!(parse_timestamp(&v), Some(want), "{v}");
        }
    }

    #[test]
    fn nested_fields_flatten() {
        let mut src =
            json!({"log": {"level": "warn"}, "kubernetes": {"labels": {"app": "api"}}, "n": 3})
                .as_object()
                .cloned()
                .unwrap();
        assert_eq!(get_path(&src, "log.level"), Some(&json!("warn")));
        assert_eq!(take_path(&mut src, "n"), Some(json!(3)));
        let mut out = BTreeMap::new();
        flatten("", Value::Object(src), &mut out);
        assert_eq!(out["kubernetes.labels.app"], "api");
        assert_eq!(out["log.level"], "warn");
    }
}
