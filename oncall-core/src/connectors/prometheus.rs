//! Prometheus (and servers speaking its HTTP API): `/api/v1/query`,
//! `/api/v1/query_range`, `/api/v1/series`, `/api/v1/labels`,
//! `/api/v1/label/{name}/values`, `/api/v1/status/buildinfo`.
//!
//! Answers are decoded straight into [`MetricSeries`](super::MetricSeries) (no
//! intermediate JSON tree; the API's shape is in `prometheus_api.rs`, shared with Loki):
//! a 24 h × 1 min range over hundreds of series is a lot of `[t, "v"]` pairs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::http::HttpClient;
use super::prometheus_api::{
    QueryData, check_label_name, decode_envelope, metric_data, unix_seconds,
};
use super::{
    ConnectionTest, Connector, ConnectorError, ConnectorResult, Credentials, DataSource,
    DataSourceKind, MetricData, TimeRange, range_step,
};
use crate::error::Result;

/// A Prometheus data source.
#[derive(Debug)]
pub struct PrometheusConnector {
    name: String,
    http: HttpClient,
}

impl PrometheusConnector {
    /// A connector for `ds` (see [`super::connector_for`] for the settings).
    pub fn new(ds: &DataSource, credentials: Credentials) -> Result<Self> {
        Ok(PrometheusConnector {
            name: ds.name.clone(),
            http: HttpClient::new(ds, credentials, HeaderMap::new())?,
        })
    }

    async fn data<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> ConnectorResult<(T, Vec<String>)> {
        let body = self.http.get(path, query).await?;
        decode_envelope(&body, "a Prometheus API answer")
    }
}

#[async_trait::async_trait]
impl Connector for PrometheusConnector {
    fn kind(&self) -> DataSourceKind {
        DataSourceKind::Prometheus
    }

    fn name(&self) -> &str {
        &self.name
    }

    async fn test(&self) -> ConnectionTest {
        let started = Instant::now();
        let elapsed = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let answer = match self.http.get_once("api/v1/status/buildinfo", &[]).await {
            Ok(body) => decode_envelope::<BuildInfo>(&body, "a Prometheus API answer")
                .map(|(info, _)| Some(info.version)),
            // Prometheus-compatible servers without buildinfo (older Thanos, Cortex
            // setups): an instant query proves the API works.
            Err(e) if e.message.contains("HTTP 404") => self
                .http
                .get_once("api/v1/query", &[("query", "1")])
                .await
                .and_then(|body| decode_envelope::<QueryData>(&body, "a Prometheus API answer"))
                .map(|_| None),
            Err(e) => Err(e),
        };
        match answer {
            Ok(version) => ConnectionTest {
                ok: true,
                latency_ms: elapsed(),
                message: match &version {
                    Some(v) => format!("Prometheus {v} at {} answers", self.http.base_display()),
                    None => format!(
                        "the Prometheus API at {} answers (no version reported)",
                        self.http.base_display()
                    ),
                },
                version: version.map(|v| format!("Prometheus {v}")),
                error: None,
            },
            Err(e) => ConnectionTest::failed(elapsed(), e),
        }
    }

    async fn metric_query(&self, query: &str, at: DateTime<Utc>) -> ConnectorResult<MetricData> {
        let time = unix_seconds(at);
        let (data, warnings) = self
            .data::<QueryData>("api/v1/query", &[("query", query), ("time", &time)])
            .await?;
        metric_data(data, warnings, format!("{query} @ {time}"))
    }

    async fn metric_range(
        &self,
        query: &str,
        range: &TimeRange,
        step: Option<Duration>,
    ) -> ConnectorResult<MetricData> {
        range.check()?;
        let step = range_step(range, step);
        let (start, end, step) = (
            unix_seconds(range.start),
            unix_seconds(range.end),
            format!("{}", step.as_secs_f64()),
        );
        let (data, warnings) = self
            .data::<QueryData>(
                "api/v1/query_range",
                &[
                    ("query", query),
                    ("start", &start),
                    ("end", &end),
                    ("step", &step),
                ],
            )
            .await?;
        metric_data(
            data,
            warnings,
            format!("{query} [{start}, {end}] step {step}s"),
        )
    }

    async fn metric_types(&self) -> ConnectorResult<BTreeMap<String, String>> {
        // One entry per metric is enough for its type (`limit_per_metric`).
        let (metadata, _) = self
            .data::<BTreeMap<String, Vec<MetricMetadata>>>(
                "api/v1/metadata",
                &[("limit_per_metric", "1")],
            )
            .await?;
        Ok(metadata
            .into_iter()
            .filter_map(|(name, m)| Some((name, m.into_iter().next()?.kind)))
            .collect())
    }

    async fn series(
        &self,
        matchers: &[String],
        range: &TimeRange,
        limit: usize,
    ) -> ConnectorResult<Vec<BTreeMap<String, String>>> {
        range.check()?;
        if matchers.is_empty() {
            return Err(ConnectorError::bad_query(
                "series discovery needs at least one matcher, e.g. up{job=\"api\"}",
            ));
        }
        let (start, end, limit_s) = (
            unix_seconds(range.start),
            unix_seconds(range.end),
            limit.to_string(),
        );
        let mut query: Vec<(&str, &str)> =
            matchers.iter().map(|m| ("match[]", m.as_str())).collect();
        query.extend([
            ("start", start.as_str()),
            ("end", &end),
            ("limit", &limit_s),
        ]);
        let (mut series, _) = self
            .data::<Vec<BTreeMap<String, String>>>("api/v1/series", &query)
            .await?;
        series.truncate(limit);
        Ok(series)
    }

    async fn label_names(
        &self,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        range.check()?;
        let (start, end) = (unix_seconds(range.start), unix_seconds(range.end));
        let mut query = vec![("start", start.as_str()), ("end", &end)];
        if let Some(m) = matcher {
            query.push(("match[]", m));
        }
        Ok(self.data::<Vec<String>>("api/v1/labels", &query).await?.0)
    }

    async fn label_values(
        &self,
        label: &str,
        matcher: Option<&str>,
        range: &TimeRange,
    ) -> ConnectorResult<Vec<String>> {
        range.check()?;
        check_label_name(label)?;
        let (start, end) = (unix_seconds(range.start), unix_seconds(range.end));
        let mut query = vec![("start", start.as_str()), ("end", &end)];
        if let Some(m) = matcher {
            query.push(("match[]", m));
        }
        let path = format!("api/v1/label/{label}/values");
        Ok(self.data::<Vec<String>>(&path, &query).await?.0)
    }
}

/// One entry of `/api/v1/metadata`.
#[derive(Deserialize)]
struct MetricMetadata {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct BuildInfo {
    version: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::range_step;

    #[test]
    fn steps_cap_points_per_series() {
        let start = DateTime::from_timestamp(0, 0).unwrap();
        let day = TimeRange::new(start, start + chrono::Duration::days(1)).unwrap();
        assert_eq!(range_step(&day, None), Duration::from_secs(60));
        let step = range_step(&day, Some(Duration::from_secs(1)));
        assert!(86_400 / step.as_secs() < 11_000, "{step:?}");
        let year = TimeRange::new(start, start + chrono::Duration::days(365)).unwrap();
        let step = range_step(&year, Some(Duration::from_secs(60)));
        assert!(365 * 86_400 / step.as_secs() < 11_000, "{step:?}");
    }
}
