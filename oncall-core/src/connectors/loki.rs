//! Grafana Loki: `/loki/api/v1/query_range` for lines (paging by time when the limit
//! is hit) and for LogQL metric queries (`count_over_time` for counts),
//! `/loki/api/v1/query`, `/loki/api/v1/labels`, `/loki/api/v1/label/{name}/values`,
//! `/ready` and `/loki/api/v1/status/buildinfo` for the connectivity test. A `tenant`
//! is sent as `X-Scope-OrgID`.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use super::http::{Config, HttpClient, parse_json};
use super::prometheus_api::{
    QueryData, check_label_name, decode_envelope, metric_data, unix_seconds,
};
use super::{
    ConnectionTest, Connector, ConnectorError, ConnectorErrorKind, ConnectorResult, Credentials,
    DataSource, DataSourceKind, LogBatch, LogBucket, LogFilter, LogHistogram, LogOrder, LogQuery,
    LogRecord, MetricData, TimeRange, histogram_interval, range_step,
};
use crate::error::{Error, Result};

/// Loki's default `max_entries_limit_per_query`.
const DEFAULT_PAGE: u64 = 5_000;

/// A Grafana Loki data source.
#[derive(Debug)]
pub struct LokiConnector {
    name: String,
    http: HttpClient,
    /// Inside of the configured stream selector, without braces.
    selector: String,
    level_label: String,
    page_size: u64,
}

impl LokiConnector {
    /// A connector for `ds`. Settings: `labels` (stream selector such as
    /// `{app="api"}`; needed for log queries unless every query names labels),
    /// `tenant` (sent as `X-Scope-OrgID`), `level_label` (default `level`; level
    /// filters become `| level=~"(?i)(error|warn)"`), `page_size` (lines per request,
    /// default 5,000).
    pub fn new(ds: &DataSource, credentials: Credentials) -> Result<Self> {
        let config = Config(&ds.config);
        let selector = match config.str("labels")? {
            None => String::new(),
            Some(s) if s.starts_with('{') && s.ends_with('}') => {
                s[1..s.len() - 1].trim().to_owned()
            }
            Some(_) => {
                return Err(Error::invalid(
                    "config.labels",
                    "must be a stream selector such as {app=\"api\"}",
                ));
            }
        };
        let mut headers = HeaderMap::new();
        if let Some(tenant) = config.str("tenant")? {
            let value = HeaderValue::from_str(tenant)
                .map_err(|_| Error::invalid("config.tenant", "not a valid header value"))?;
            headers.insert(HeaderName::from_static("x-scope-orgid"), value);
        }
        let level_label = config.str("level_label")?.unwrap_or("level").to_owned();
        check_label_name(&level_label)
            .map_err(|e| Error::invalid("config.level_label", e.message))?;
        Ok(LokiConnector {
            name: ds.name.clone(),
            http: HttpClient::new(ds, credentials, headers)?,
            selector,
            level_label,
            page_size: config.positive("page_size")?.unwrap_or(DEFAULT_PAGE),
        })
    }

    /// The stream selector: the configured one plus the filter's label matchers.
    fn stream_selector(&self, filter: &LogFilter) -> ConnectorResult<String> {
        let mut parts = Vec::new();
        if !self.selector.is_empty() {
            parts.push(self.selector.clone());
        }
        for (k, v) in &filter.labels {
            check_label_name(k)?;
            parts.push(format!("{k}={}", quote(v)));
        }
        if parts.is_empty() {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Config,
                "Loki needs a stream selector: set `labels` on the data source (e.g. \
                 {app=\"api\"}) or filter by a label",
            ));
        }
        Ok(format!("{{{}}}", parts.join(", ")))
    }

    /// Selector and pipeline: text as a line filter, levels as a label filter, then
    /// the native pipeline.
    fn log_query(&self, filter: &LogFilter) -> ConnectorResult<String> {
        let mut q = self.stream_selector(filter)?;
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            q.push_str(&format!(" |= {}", quote(text)));
        }
        if !filter.levels.is_empty() {
            let alternatives: Vec<String> = filter
                .levels
                .iter()
                .map(|l| l.chars().filter(|c| c.is_ascii_alphanumeric()).collect())
                .filter(|l: &String| !l.is_empty())
                .collect();
            q.push_str(&format!(
                " | {}=~{}",
                self.level_label,
                quote(&format!("(?i)({})", alternatives.join("|")))
            ));
        }
        if let Some(pipeline) = filter.query.as_deref().filter(|p| !p.trim().is_empty()) {
            q.push(' ');
            q.push_str(pipeline.trim());
        }
        Ok(q)
    }

    async fn query_range(
        &self,
        query: &str,
        start_ns: i64,
        end_ns: i64,
        extra: &[(&str, &str)],
    ) -> ConnectorResult<QueryData> {
        let (start, end) = (start_ns.to_string(), end_ns.to_string());
        let mut params = vec![("query", query), ("start", start.as_str()), ("end", &end)];
        params.extend_from_slice(extra);
        let body = self.http.get("loki/api/v1/query_range", &params).await?;
        Ok(decode_envelope::<QueryData>(&body, "a Loki API answer")?.0)
    }
}

#[async_trait::async_trait]
impl Connector for LokiConnector {
    fn kind(&self) -> DataSourceKind {
        DataSourceKind::Loki
    }

    fn name(&self) -> &str {
        &self.name
    }

    async fn test(&self) -> ConnectionTest {
        let started = Instant::now();
        let elapsed = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let not_found = |e: &ConnectorError| e.message.contains("HTTP 404");
        // `/ready` is often not routed through gateways; a 404 is not a failure.
        match self.http.get_once("ready", &[]).await {
            Ok(_) => {}
            Err(e) if not_found(&e) => {}
            Err(e) => return ConnectionTest::failed(elapsed(), e),
        }
        let version = match self
            .http
            .get_once("loki/api/v1/status/buildinfo", &[])
            .await
        {
            Ok(body) => match parse_json::<BuildInfo>(&body, "Loki build information") {
                Ok(info) => Some(format!("Loki {}", info.version)),
                Err(e) => return ConnectionTest::failed(elapsed(), e),
            },
            Err(e) if not_found(&e) => None,
            Err(e) => return ConnectionTest::failed(elapsed(), e),
        };
        // The labels API proves the credentials and tenant are accepted.
        match self
            .http
            .get_once("loki/api/v1/labels", &[])
            .await
            .and_then(|body| {
                decode_envelope::<Vec<String>>(&body, "a Loki API answer").map(|(labels, _)| labels)
            }) {
            Ok(labels) => ConnectionTest {
                ok: true,
                latency_ms: elapsed(),
                message: format!(
                    "{} at {} answers; {} labels",
                    version.as_deref().unwrap_or("Loki"),
                    self.http.base_display(),
                    labels.len()
                ),
                version,
                error: None,
            },
            Err(e) => ConnectionTest {
                version,
                ..ConnectionTest::failed(elapsed(), e)
            },
        }
    }

    async fn metric_query(&self, query: &str, at: DateTime<Utc>) -> ConnectorResult<MetricData> {
        let time = nanos(at).to_string();
        let body = self
            .http
            .get("loki/api/v1/query", &[("query", query), ("time", &time)])
            .await?;
        let (data, warnings) = decode_envelope::<QueryData>(&body, "a Loki API answer")?;
        metric_data(data, warnings, format!("{query} @ {}", unix_seconds(at)))
    }

    async fn metric_range(
        &self,
        query: &str,
        range: &TimeRange,
        step: Option<Duration>,
    ) -> ConnectorResult<MetricData> {
        range.check()?;
        let step = range_step(range, step).as_secs_f64().to_string();
        let data = self
            .query_range(
                query,
                nanos(range.start),
                nanos(range.end),
                &[("step", &step)],
            )
            .await?;
        metric_data(
            data,
            Vec::new(),
            format!(
                "{query} [{}, {}] step {step}s",
                unix_seconds(range.start),
                unix_seconds(range.end)
            ),
        )
    }

    async fn label_names(
        &self,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        range.check()?;
        let (start, end) = (nanos(range.start).to_string(), nanos(range.end).to_string());
        let default = (!self.selector.is_empty()).then(|| format!("{{{}}}", self.selector));
        let mut params = vec![("start", start.as_str()), ("end", &end)];
        if let Some(m) = matcher.or(default.as_deref()) {
            params.push(("query", m));
        }
        let body = self.http.get("loki/api/v1/labels", &params).await?;
        Ok(decode_envelope::<Vec<String>>(&body, "a Loki API answer")?.0)
    }

    async fn label_values(
        &self,
        label: &str,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        range.check()?;
        check_label_name(label)?;
        let (start, end) = (nanos(range.start).to_string(), nanos(range.end).to_string());
        let default = (!self.selector.is_empty()).then(|| format!("{{{}}}", self.selector));
        let mut params = vec![("start", start.as_str()), ("end", &end)];
        if let Some(m) = matcher.or(default.as_deref()) {
            params.push(("query", m));
        }
        let path = format!("loki/api/v1/label/{label}/values");
        let body = self.http.get(&path, &params).await?;
        Ok(decode_envelope::<Vec<String>>(&body, "a Loki API answer")?.0)
    }

    async fn logs(&self, query: &LogQuery) -> ConnectorResult<LogBatch> {
        query.range.check()?;
        let q = self.log_query(&query.filter)?;
        let forward = query.order == LogOrder::OldestFirst;
        let direction = if forward { "forward" } else { "backward" };
        let (mut start, mut end) = (nanos(query.range.start), nanos(query.range.end));
        let mut records: Vec<LogRecord> = Vec::with_capacity(query.limit.min(100_000));
        // Lines already taken at the page boundary's timestamp: the next page starts
        // (or ends) at that timestamp again, so they would come back.
        let mut boundary: (i64, HashSet<(String, String)>) = (i64::MIN, HashSet::new());
        let mut truncated = false;
        while records.len() < query.limit {
            // Lines at the boundary come back once more: ask for that many extra.
            let size = self.page_size.min((query.limit - records.len()) as u64)
                + if records.is_empty() {
                    0
                } else {
                    boundary.1.len() as u64
                };
            let limit = size.to_string();
            let data = self
                .query_range(
                    &q,
                    start,
                    end,
                    &[("limit", &limit), ("direction", direction)],
                )
                .await?;
            let QueryData::Streams(streams) = data else {
                return Err(ConnectorError::bad_query(
                    "the query returns numbers, not log lines; use metric_query for \
                     metric LogQL",
                ));
            };
            let mut entries: Vec<(i64, String, &BTreeMap<String, String>)> = streams
                .iter()
                .flat_map(|s| s.values.iter().map(move |e| (e.0, e.1.clone(), &s.stream)))
                .collect();
            if forward {
                entries.sort_by_key(|e| e.0);
            } else {
                entries.sort_by_key(|e| std::cmp::Reverse(e.0));
            }
            let page_len = entries.len() as u64;
            let mut added = 0;
            for (ts, line, stream) in entries {
                let key = (stream_key(stream), line);
                if ts == boundary.0 {
                    if !boundary.1.insert(key.clone()) {
                        continue;
                    }
                } else {
                    boundary = (ts, HashSet::from([key.clone()]));
                }
                if records.len() >= query.limit {
                    truncated = true;
                    break;
                }
                records.push(LogRecord {
                    timestamp: DateTime::from_timestamp_nanos(ts),
                    level: stream
                        .get(&self.level_label)
                        .or_else(|| stream.get("detected_level"))
                        .cloned(),
                    message: key.1,
                    labels: stream.clone(),
                });
                added += 1;
            }
            if page_len < size {
                break;
            }
            if added == 0 {
                // More lines share one timestamp than a page holds.
                truncated = true;
                break;
            }
            if forward {
                start = boundary.0;
            } else {
                end = boundary.0.saturating_add(1);
            }
            if records.len() >= query.limit {
                truncated = true;
            }
        }
        Ok(LogBatch {
            records,
            truncated,
            total: None,
            query: q,
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
        let q = format!(
            "sum(count_over_time({} [{secs}s]))",
            self.log_query(filter)?
        );
        let step_ns = i64::try_from(secs).unwrap_or(i64::MAX / 2) * 1_000_000_000;
        let (first, last) = (nanos(range.start), nanos(range.end));
        // Evaluated at t, count_over_time counts (t - step, t]: the bucket starting at
        // `first` is evaluated at `first + step`.
        let step = secs.to_string();
        let data = self
            .query_range(&q, first + step_ns, last, &[("step", &step)])
            .await?;
        let series = metric_data(data, Vec::new(), q.clone())?.series;
        let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
        for s in series {
            for sample in s.samples {
                let start_ns = nanos(sample.timestamp) - step_ns;
                *counts.entry(start_ns).or_default() += sample.value.max(0.0).round() as u64;
            }
        }
        let mut buckets = Vec::new();
        let mut t = first;
        while t < last {
            buckets.push(LogBucket {
                start: DateTime::from_timestamp_nanos(t),
                count: counts.get(&t).copied().unwrap_or(0),
            });
            t += step_ns;
        }
        Ok(LogHistogram {
            interval_secs: secs,
            buckets,
            query: q,
        })
    }
}

fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt()
        .unwrap_or_else(|| t.timestamp().saturating_mul(1_000_000_000))
}

/// A LogQL string literal.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.replace(['"', '\\'], "")))
}

fn stream_key(stream: &BTreeMap<String, String>) -> String {
    let mut key = String::new();
    for (k, v) in stream {
        key.push_str(k);
        key.push('\u{1}');
        key.push_str(v);
        key.push('\u{2}');
    }
    key
}

#[derive(Deserialize)]
struct BuildInfo {
    version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_logql_strings() {
        assert_eq!(quote(r#"say "hi"\"#), r#""say \"hi\"\\""#);
    }
}
