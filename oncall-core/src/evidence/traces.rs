//! Error origins from traces: when log lines carry a trace id, the lines of one
//! request across services show where its first error appeared. A service that
//! originates errors in the incident window more often than in the baseline is a
//! strong suspect, whatever its callers report afterwards.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::metrics::TimeWindow;

/// One log line as the trace analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceEvent<'a> {
    /// Trace (request) id.
    pub trace: &'a str,
    /// Service that logged it.
    pub service: &'a str,
    /// When.
    pub time: DateTime<Utc>,
    /// Error-level (or an exception) line.
    pub is_error: bool,
}

/// How often a service was where a failing request's first error appeared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorOrigin {
    /// The service.
    pub service: String,
    /// Failing traces of the incident window whose first error it logged.
    pub incident: u64,
    /// The same in the baseline.
    pub baseline: u64,
    /// Incident rate over baseline rate per minute, smoothed (1.0 = unchanged).
    pub rate_ratio: f64,
    /// Distinct services seen in those incident traces (how far the errors spread).
    pub spread: u64,
}

/// Finds the origin service of every failing trace and counts them per window.
/// Traces are placed in a window by the time of their first error.
pub fn error_origins(events: &[TraceEvent<'_>], window: &TimeWindow) -> Vec<ErrorOrigin> {
    struct Trace<'a> {
        first_error: Option<(DateTime<Utc>, &'a str)>,
        services: Vec<&'a str>,
    }
    let mut traces: HashMap<&str, Trace<'_>> = HashMap::new();
    for e in events.iter().filter(|e| !e.trace.is_empty()) {
        let t = traces.entry(e.trace).or_insert(Trace {
            first_error: None,
            services: Vec::new(),
        });
        if !t.services.contains(&e.service) {
            t.services.push(e.service);
        }
        if e.is_error && t.first_error.is_none_or(|(at, _)| e.time < at) {
            t.first_error = Some((e.time, e.service));
        }
    }
    let mut per_service: HashMap<&str, (u64, u64, u64)> = HashMap::new();
    for t in traces.values() {
        let Some((at, service)) = t.first_error else {
            continue;
        };
        let entry = per_service.entry(service).or_default();
        if window.in_incident(at) {
            entry.0 += 1;
            entry.2 = entry.2.max(t.services.len() as u64);
        } else if window.in_baseline(at) {
            entry.1 += 1;
        }
    }
    let minutes =
        |a: DateTime<Utc>, b: DateTime<Utc>| ((b - a).num_seconds() as f64 / 60.0).max(1.0);
    let baseline_min = minutes(window.baseline_start, window.incident_start);
    let incident_min = minutes(window.incident_start, window.incident_end);
    let mut out: Vec<ErrorOrigin> = per_service
        .into_iter()
        .map(|(service, (incident, baseline, spread))| ErrorOrigin {
            service: service.to_owned(),
            incident,
            baseline,
            rate_ratio: ((incident as f64 + 0.5) / incident_min)
                / ((baseline as f64 + 0.5) / baseline_min),
            spread,
        })
        .collect();
    out.sort_by(|a, b| {
        b.incident
            .cmp(&a.incident)
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::test_support::at;
    use chrono::Duration;

    #[test]
    fn the_first_error_of_a_trace_names_its_origin() {
        let window = TimeWindow {
            baseline_start: at(0),
            incident_start: at(30),
            incident_end: at(40),
        };
        let ev = |trace, service, min, secs: i64, is_error| TraceEvent {
            trace,
            service,
            time: at(min) + Duration::seconds(secs),
            is_error,
        };
        let events = [
            // Incident: db fails first, then api and gateway report it.
            ev("t1", "gateway", 31, 0, false),
            ev("t1", "api", 31, 1, false),
            ev("t1", "db", 31, 2, true),
            ev("t1", "api", 31, 3, true),
            ev("t1", "gateway", 31, 4, true),
            ev("t2", "api", 32, 0, false),
            ev("t2", "db", 32, 1, true),
            ev("t2", "api", 32, 2, true),
            // A healthy trace and a baseline error elsewhere.
            ev("t3", "api", 33, 0, false),
            ev("t4", "cache", 5, 0, true),
            ev("", "db", 33, 0, true),
        ];
        let origins = error_origins(&events, &window);
        assert_eq!(origins[0].service, "db");
        assert_eq!(
            (origins[0].incident, origins[0].baseline, origins[0].spread),
            (2, 0, 3)
        );
        assert!(origins[0].rate_ratio > 5.0);
        let cache = origins.iter().find(|o| o.service == "cache").unwrap();
        assert_eq!((cache.incident, cache.baseline), (0, 1));
        assert!(
            origins
                .iter()
                .all(|o| o.service != "api" && o.service != "gateway")
        );
    }
}
