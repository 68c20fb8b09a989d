//! The entry point: which parser an input goes to.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::structured::{parse_array, parse_notification, parse_single};
use super::text::parse_text;
use super::time::json_kind;
use super::{Alert, KnownNames};
use crate::error::{Error, Result};

/// Parses an alert as received: a JSON string is free text (Chinese or English); an
/// object with `alerts` is an Alertmanager (v4) or Grafana webhook notification; an
/// object with `labels` is one Prometheus/Alertmanager alert; an array is a list of
/// such alerts. Names in free text (and in annotations) are matched against `known`
/// only, never guessed. `now` is the time of an alert that does not say when it
/// started, and the reference for relative times (`5 分钟前`, `10:32`).
///
/// # Errors
/// [`Error::Invalid`] for empty text, JSON of another type (number, boolean, null),
/// an object that is none of the shapes above, `alerts` that is not a non-empty
/// array of objects, labels or annotations that are not objects of strings, and
/// times that are not RFC 3339.
///
/// ```
/// use chrono::Utc;
/// use oncall_core::alert::{parse, AlertFormat, KnownNames};
///
/// let known = KnownNames { services: vec!["payment".into()], ..Default::default() };
/// let alert = parse(&"P1 payment 超时, 5 分钟前".into(), &known, Utc::now())?;
/// assert_eq!(alert.format, AlertFormat::Text);
/// assert_eq!(alert.scope.services, vec!["payment"]);
/// # Ok::<(), oncall_core::Error>(())
/// ```
pub fn parse(input: &Value, known: &KnownNames, now: DateTime<Utc>) -> Result<Alert> {
    match input {
        Value::String(text) => parse_text(text, known, now),
        Value::Object(o) if o.contains_key("alerts") => parse_notification(o, known, now),
        Value::Object(o) if o.contains_key("labels") => parse_single(o, known, now),
        Value::Object(_) => Err(Error::invalid(
            "alert",
            "the object is neither a webhook notification (no `alerts`) nor an alert (no `labels`)",
        )),
        Value::Array(items) => parse_array(items, known, now),
        other => Err(Error::invalid(
            "alert",
            format!(
                "must be alert text (a JSON string) or an Alertmanager/Grafana JSON object, got {}",
                json_kind(other)
            ),
        )),
    }
}
