//! The result objects: frozen, one read-only attribute per field of the engine's
//! record, `to_dict()` (for `pandas.DataFrame([x.to_dict() for x in ...])`) and
//! `_repr_html_()` (a small table in Jupyter). Times are aware `datetime`s in
//! UTC; structured parts (alert, evidence, result, ...) are plain dicts and lists,
//! made afresh on every access so the object itself never changes.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::convert::{json_to_py, time_to_py};
use crate::errors::InternalError;

/// Top-level fields holding times (and the same inside a ticket's `history`).
const TIMES: &[&str] = &[
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "refresh_at",
    "at",
    "confirmed_at",
    "since",
    "until",
];

/// Longest cell shown by `_repr_html_`.
const CELL_CHARS: usize = 160;

/// The fields of one record, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields(Map<String, Value>);

impl Fields {
    fn of<T: Serialize>(record: &T) -> PyResult<Self> {
        match serde_json::to_value(record) {
            Ok(Value::Object(map)) => Ok(Fields(map)),
            Ok(other) => Err(InternalError::new_err(format!(
                "a record serialised to {other}, not an object"
            ))),
            Err(e) => Err(InternalError::new_err(format!("serialising a record: {e}"))),
        }
    }

    fn get(&self, py: Python<'_>, key: &str) -> PyResult<Py<PyAny>> {
        let value = self.0.get(key).unwrap_or(&Value::Null);
        field_to_py(py, key, value)
    }

    fn to_dict<'py>(&self, py: Python<'py>, keys: &[&str]) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for key in keys {
            dict.set_item(key, self.get(py, key)?)?;
        }
        Ok(dict)
    }

    fn html(&self, class: &str, keys: &[&str]) -> String {
        let mut out = format!(
            "<table class=\"oncall-{}\"><caption style=\"text-align:left\"><b>{class}</b></caption>",
            class.to_ascii_lowercase()
        );
        for key in keys {
            let cell = match self.0.get(*key).unwrap_or(&Value::Null) {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut shown: String = cell.chars().take(CELL_CHARS).collect();
            if cell.chars().count() > CELL_CHARS {
                shown.push('…');
            }
            out.push_str(&format!(
                "<tr><th style=\"text-align:left\">{key}</th><td style=\"text-align:left\">{}</td></tr>",
                escape(&shown)
            ));
        }
        out.push_str("</table>");
        out
    }

    fn repr(&self, class: &str, keys: &[&str]) -> String {
        let parts: Vec<String> = keys
            .iter()
            .map(|k| match self.0.get(*k).unwrap_or(&Value::Null) {
                Value::String(s) => format!("{k}={s:?}"),
                Value::Null => format!("{k}=None"),
                other => format!("{k}={other}"),
            })
            .collect();
        format!("{class}({})", parts.join(", "))
    }
}

fn field_to_py(py: Python<'_>, key: &str, value: &Value) -> PyResult<Py<PyAny>> {
    if TIMES.contains(&key) {
        return time_to_py(py, value);
    }
    if (key == "history" || key == "misses")
        && let Value::Array(entries) = value
    {
        let list = pyo3::types::PyList::empty(py);
        for entry in entries {
            let dict = PyDict::new(py);
            if let Value::Object(map) = entry {
                for (k, v) in map {
                    dict.set_item(k, field_to_py(py, k, v)?)?;
                }
            }
            list.append(dict)?;
        }
        return Ok(list.into_any().unbind());
    }
    json_to_py(py, value)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One record class: `$field`s are its attributes (and `to_dict()` keys, in this
/// order; `r#type` is the attribute `type`), `$repr` the fields `repr()` shows.
macro_rules! record {
    ($(#[$doc:meta])* $class:ident from $source:ty,
     repr: [$($repr:literal),*],
     fields: [$($(#[$fdoc:meta])* $field:ident),* $(,)?]
     $(extra: { $($extra:item)* })?) => {
        $(#[$doc])*
        #[pyclass(frozen, eq, module = "oncall")]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $class {
            fields: Fields,
        }

        impl $class {
            const KEYS: &[&str] = &[$(strip_raw(stringify!($field))),*];

            /// The Python object for an engine record.
            pub fn new(record: &$source) -> PyResult<Self> {
                Ok($class { fields: Fields::of(record)? })
            }
        }

        #[pymethods]
        impl $class {
            $(
                $(#[$fdoc])*
                #[getter]
                fn $field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                    self.fields.get(py, strip_raw(stringify!($field)))
                }
            )*

            /// The fields as a new dict (times as `datetime`, JSON parts as dicts/lists).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                self.fields.to_dict(py, Self::KEYS)
            }

            /// An HTML table of the fields, for Jupyter.
            fn _repr_html_(&self) -> String {
                self.fields.html(stringify!($class), Self::KEYS)
            }

            fn __repr__(&self) -> String {
                self.fields.repr(stringify!($class), &[$($repr),*])
            }

            $($($extra)*)?
        }
    };
}

/// `r#type` → `type`.
const fn strip_raw(name: &'static str) -> &'static str {
    match name.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(_) => name,
        },
        _ => name,
    }
}

record! {
    /// One analysis of an alert: its status, the evidence and the result.
    Analysis from oncall_core::AnalysisView,
    repr: ["id", "status", "title"],
    fields: [
        /// Id (UUID text).
        id,
        /// `pending`, `collecting`, `analyzing`, `completed` or `failed`.
        status,
        /// One line: the alert name or the first line of the text.
        title,
        /// The alert exactly as submitted.
        raw_alert,
        /// Submission options.
        options,
        /// The parsed alert.
        alert,
        /// The time window looked at.
        window,
        /// Per data source: query sent, rows seen, time taken, error.
        sources,
        /// Log templates, metric shifts and suspects.
        evidence,
        /// The root-cause result (summary, root_cause, confidence, severity, suspects, suggestions), or None.
        result,
        /// Why it failed, or what went wrong on the way.
        error,
        /// `statistical` or the LLM model.
        analyzer,
        /// Token counts and timings.
        usage,
        /// Who submitted it.
        created_by,
        /// When it was accepted.
        created_at,
        /// When a worker started it.
        started_at,
        /// When it reached a final state.
        completed_at,
        /// 1 for the first run, one more for each time it was run again.
        revision,
        /// When it runs again (a webhook's analysis whose incident window was still open), or None.
        refresh_at,
    ]
    extra: {
    /// The result's suspects, most likely first (empty without a result).
    #[getter]
    fn suspects(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let suspects = self
            .fields
            .0
            .get("result")
            .and_then(|r| r.get("suspects"))
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        json_to_py(py, &suspects)
    }
}
}

record! {
    /// A data source (credentials never shown, only whether they are set).
    DataSource from oncall_core::DataSourceView,
    repr: ["name", "type", "url"],
    fields: [
        /// Id (UUID text).
        id,
        /// Unique display name.
        name,
        /// `elk`, `loki` or `prometheus`.
        r#type,
        /// Base URL.
        url,
        /// Authentication, masked: `{"type", "username", "has_password", "has_token"}`.
        auth,
        /// Type-specific settings.
        config,
        /// Queried by analyses.
        enabled,
        /// Per-request timeout.
        timeout_ms,
        /// Creation time.
        created_at,
        /// Last change.
        updated_at,
    ]
}

record! {
    /// The outcome of testing a data source's connectivity.
    ConnectionTest from oncall_core::connectors::ConnectionTest,
    repr: ["ok", "version", "message"],
    fields: [
        /// Reachable, authenticated and answering like the expected server.
        ok,
        /// Wall time of the test.
        latency_ms,
        /// Product and version the server reports, if any.
        version,
        /// What was found, or why it failed and what to fix.
        message,
        /// The failure category when not ok.
        error,
    ]
}

record! {
    /// A ticket; `history` (oldest change first) is filled when read one at a time.
    Ticket from TicketRecord,
    repr: ["no", "status", "severity", "title"],
    fields: [
        /// `INC-YYYYMMDD-NNNN`.
        no,
        /// One line.
        title,
        /// The probable root cause.
        root_cause,
        /// `P0`..`P3`.
        severity,
        /// `open`, `processing`, `resolved` or `closed`.
        status,
        /// Email of the user working on it.
        assignee,
        /// The analysis it was created from.
        analysis_id,
        /// Free text.
        description,
        /// The component (service, pod or host) confirmed as the root cause.
        confirmed_root_cause,
        /// What fixed it.
        resolution,
        /// Email of who set the confirmation.
        confirmed_by,
        /// When the confirmation was set.
        confirmed_at,
        /// Bumped on every change.
        version,
        /// Email of the creator.
        created_by,
        /// Creation time.
        created_at,
        /// Last change.
        updated_at,
        /// Every change, oldest first (None in lists).
        history,
    ]
}

/// A ticket with or without its history, as [`Ticket`] shows it.
#[derive(Debug, Serialize)]
pub struct TicketRecord {
    #[serde(flatten)]
    ticket: oncall_core::tickets::Ticket,
    history: Option<Vec<oncall_core::tickets::TicketHistoryEntry>>,
}

impl Ticket {
    /// A ticket read one at a time, with its history.
    pub fn detailed(d: oncall_core::TicketDetail) -> PyResult<Self> {
        Ticket::new(&TicketRecord {
            ticket: d.ticket,
            history: Some(d.history),
        })
    }

    /// A ticket from a list, without history.
    pub fn listed(ticket: oncall_core::tickets::Ticket) -> PyResult<Self> {
        Ticket::new(&TicketRecord {
            ticket,
            history: None,
        })
    }
}

record! {
    /// The analyzer's accuracy on resolved tickets: how often the confirmed root
    /// cause was the analysis' #1 suspect / in its top 3 (`totals`, `by_month`,
    /// `by_alert`: dicts with `confirmed`, `hit_at_1`, `hit_at_3`, `share_at_1`,
    /// `share_at_3`, `unconfirmed`), and the misses.
    AccuracyReport from oncall_core::tickets::AccuracyReport,
    repr: ["totals"],
    fields: [
        /// Tickets opened at or after this time were counted (None: no bound).
        since,
        /// Tickets opened before this time were counted (None: no bound).
        until,
        /// Counts over every ticket.
        totals,
        /// Resolved tickets with a confirmed root cause but no analysis result.
        without_analysis,
        /// Per month (`month`: `YYYY-MM`), oldest first.
        by_month,
        /// Per alert name (`alert_name`), most tickets first.
        by_alert,
        /// Misses at #1 in all.
        misses_total,
        /// The misses, newest first (ticket_no, alert_name, analyzer_top,
        /// analyzer_top3, confirmed_root_cause, rank, created_at, title).
        misses,
    ]
}

record! {
    /// An account (never its password).
    User from oncall_core::users::User,
    repr: ["email", "role"],
    fields: [
        /// Id (UUID text).
        id,
        /// Login email, lower-case.
        email,
        /// Display name.
        name,
        /// `admin`, `engineer` or `viewer`.
        role,
        /// A disabled user cannot log in.
        disabled,
        /// The account still has the built-in default password.
        password_is_default,
        /// Creation time.
        created_at,
        /// Last change.
        updated_at,
    ]
}
