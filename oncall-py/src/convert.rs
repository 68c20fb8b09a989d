//! Conversions between Python values and what the engine takes: JSON documents,
//! ids, times.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::Value;
use uuid::Uuid;

use crate::errors::invalid;

/// A JSON document as plain Python values (dict, list, str, int, float, bool, None).
pub fn json_to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Ok(match value {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_py_any(py)?,
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.into_py_any(py)?,
            (None, Some(u), _) => u.into_py_any(py)?,
            (None, None, Some(f)) => f.into_py_any(py)?,
            (None, None, None) => n.to_string().into_py_any(py)?,
        },
        Value::String(s) => s.into_py_any(py)?,
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// A JSON-serialisable Python value (through the standard `json` module, so its
/// rules and its `TypeError` apply).
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let text: String = obj
        .py()
        .import("json")?
        .call_method1("dumps", (obj,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| invalid("value", format!("not JSON: {e}")))
}

/// An alert as the engine takes it: text, or the JSON of an Alertmanager/Grafana
/// webhook. A string that holds a JSON object or array counts as that JSON (as the
/// CLI reads a file).
pub fn alert(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(text) = obj.cast::<PyString>() {
        let text = text.to_cow()?.into_owned();
        return Ok(match serde_json::from_str::<Value>(&text) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
            _ => Value::String(text),
        });
    }
    py_to_json(obj)
}

/// An id given as a `str` or `uuid.UUID`.
pub fn id(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Uuid> {
    let text = obj.str()?.to_cow()?.trim().to_owned();
    text.parse()
        .map_err(|_| invalid(field, format!("`{text}` is not an id (a UUID)")))
}

/// A time given as a `datetime` (naive means UTC) or an ISO 8601 string.
pub fn time(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let text: String = if obj.is_instance_of::<PyString>() {
        obj.extract()?
    } else if obj.hasattr("isoformat")? {
        obj.call_method0("isoformat")?.extract()?
    } else {
        return Err(invalid(field, "must be a datetime or an ISO 8601 string"));
    };
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(t.and_utc());
    }
    if let Some(t) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t.and_utc());
    }
    Err(invalid(
        field,
        format!("`{text}` is not a time (use a datetime or ISO 8601)"),
    ))
}

/// A stored RFC 3339 time as an aware `datetime`, anything else unchanged.
pub fn time_to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    match value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    {
        Some(t) => t.with_timezone(&Utc).into_py_any(py),
        None => json_to_py(py, value),
    }
}
