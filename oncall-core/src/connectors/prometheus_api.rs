//! The HTTP API shape Prometheus defined and Loki speaks too: the
//! `{"status", "data", "errorType", "error", "warnings", "infos"}` envelope, query
//! results (`matrix`, `vector`, `scalar`, `string`, and Loki's `streams`), label
//! names as they may appear in URL paths, and times as the API takes them. Both
//! connectors decode answers with these, straight into our types.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::http::parse_json;
use super::{
    ConnectorError, ConnectorResult, MetricData, MetricResultType, MetricSample, MetricSeries,
};

/// Label names go into URL paths: only `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn check_label_name(label: &str) -> ConnectorResult<()> {
    let mut chars = label.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ConnectorError::bad_query(format!(
            "`{label}` is not a label name"
        )))
    }
}

/// Seconds since the epoch with millisecond precision, as the API takes them.
pub(crate) fn unix_seconds(t: DateTime<Utc>) -> String {
    let ms = t.timestamp_millis();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// `{"status": "success"|"error", "data", "errorType", "error", "warnings", "infos"}`
#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    infos: Vec<String>,
}

/// Decodes a Prometheus-style envelope; `status: error` becomes a bad query with the
/// server's own message.
pub(crate) fn decode_envelope<T: for<'de> Deserialize<'de>>(
    body: &[u8],
    what: &str,
) -> ConnectorResult<(T, Vec<String>)> {
    let env: Envelope<T> = parse_json(body, what)?;
    if env.status != "success" {
        let kind = env.error_type.unwrap_or_else(|| "error".into());
        return Err(ConnectorError::bad_query(format!(
            "{kind}: {}",
            env.error.unwrap_or_default()
        )));
    }
    let mut warnings = env.warnings;
    warnings.extend(env.infos);
    let data = env
        .data
        .ok_or_else(|| ConnectorError::bad_response(format!("{what} without `data`")))?;
    Ok((data, warnings))
}

/// `data` of a query: `{"resultType": ..., "result": ...}` (Loki adds `streams` and
/// `stats`).
#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub(crate) enum QueryData {
    Matrix(Vec<RawSeries>),
    Vector(Vec<RawInstant>),
    Scalar(Sample),
    String(serde::de::IgnoredAny),
    Streams(Vec<RawStream>),
}

#[derive(Deserialize)]
pub(crate) struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Sample>,
}

#[derive(Deserialize)]
pub(crate) struct RawInstant {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Option<Sample>,
}

/// `[<unix seconds>, "<value>"]`
pub(crate) struct Sample(pub(crate) MetricSample);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sample;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [timestamp, \"value\"] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Sample, A::Error> {
                let t: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let v: NumberText = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                // Tolerate extra elements.
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                let ms = (t * 1000.0).round();
                let timestamp = DateTime::from_timestamp_millis(ms as i64)
                    .ok_or_else(|| de::Error::custom(format!("timestamp {t} out of range")))?;
                Ok(Sample(MetricSample {
                    timestamp,
                    value: v.0,
                }))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A float sent as a string (`"1.5"`, `"NaN"`, `"+Inf"`), parsed without allocating.
struct NumberText(f64);

impl<'de> Deserialize<'de> for NumberText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumberText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number as a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<NumberText, E> {
                s.parse()
                    .map(NumberText)
                    .map_err(|_| E::custom(format!("`{s}` is not a number")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<NumberText, E> {
                Ok(NumberText(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<NumberText, E> {
                Ok(NumberText(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<NumberText, E> {
                Ok(NumberText(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// Our shape of a query answer.
pub(crate) fn metric_data(
    data: QueryData,
    warnings: Vec<String>,
    query: String,
) -> ConnectorResult<MetricData> {
    let (result_type, series) = match data {
        QueryData::Matrix(raw) => (
            MetricResultType::Matrix,
            raw.into_iter()
                .map(|s| MetricSeries {
                    labels: s.metric,
                    samples: s.values.into_iter().map(|v| v.0).collect(),
                })
                .collect(),
        ),
        QueryData::Vector(raw) => (
            MetricResultType::Vector,
            raw.into_iter()
                .map(|s| MetricSeries {
                    labels: s.metric,
                    samples: s.value.into_iter().map(|v| v.0).collect(),
                })
                .collect(),
        ),
        QueryData::Scalar(v) => (
            MetricResultType::Scalar,
            vec![MetricSeries {
                labels: BTreeMap::new(),
                samples: vec![v.0],
            }],
        ),
        QueryData::String(_) => {
            return Err(ConnectorError::bad_query(
                "the query returns a string; only numeric results are supported",
            ));
        }
        QueryData::Streams(_) => {
            return Err(ConnectorError::bad_query(
                "the query returns log lines, not numbers; use a metric query \
                 (e.g. count_over_time)",
            ));
        }
    };
    Ok(MetricData {
        result_type,
        series,
        warnings,
        query,
    })
}

/// One stream of a `streams` result.
#[derive(Deserialize)]
pub(crate) struct RawStream {
    #[serde(default)]
    pub(crate) stream: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) values: Vec<Entry>,
}

/// `["<unix ns>", "<line>"]`, optionally followed by structured metadata.
pub(crate) struct Entry(pub(crate) i64, pub(crate) String);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [\"<ns timestamp>\", \"<line>\"] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Entry, A::Error> {
                let ts: std::borrow::Cow<'de, str> = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let ts: i64 = ts
                    .parse()
                    .map_err(|_| de::Error::custom(format!("`{ts}` is not a ns timestamp")))?;
                let line: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Entry(ts, line))
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_result_type() {
        let matrix = br#"{"status":"success","warnings":["w"],"data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[1700000000,"1"],[1700000060.5,"NaN"],[1700000120,"+Inf"]]}]}}"#;
        let (d, w) = decode_envelope::<QueryData>(matrix, "x").unwrap();
        let m = metric_data(d, w, String::new()).unwrap();
        assert_eq!(m.result_type, MetricResultType::Matrix);
        assert_eq!(m.warnings, vec!["w"]);
        let s = &m.series[0].samples;
        assert_eq!(s[0].value, 1.0);
        assert!(s[1].value.is_nan());
        assert_eq!(s[1].timestamp.timestamp_millis(), 1_700_000_060_500);
        assert_eq!(s[2].value, f64::INFINITY);

        let scalar =
            br#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"42"]}}"#;
        let (d, w) = decode_envelope::<QueryData>(scalar, "x").unwrap();
        let m = metric_data(d, w, String::new()).unwrap();
        assert_eq!(m.result_type, MetricResultType::Scalar);
        assert_eq!(m.series[0].samples[0].value, 42.0);

        let err = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}"#;
        let e = decode_envelope::<QueryData>(err, "x").err().unwrap();
        assert_eq!(e.kind, crate::connectors::ConnectorErrorKind::BadQuery);
        assert!(e.message.contains("1:5: parse error"), "{e}");
    }

    #[test]
    fn label_names_are_checked() {
        assert!(check_label_name("job").is_ok());
        assert!(check_label_name("__name__").is_ok());
        assert!(check_label_name("../x").is_err());
        assert!(check_label_name("").is_err());
    }
}
