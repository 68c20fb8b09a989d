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

/// One log line of a request as the call analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceLine<'a> {
    /// Trace (request) id.
    pub trace: &'a str,
    /// Service that logged it.
    pub service: &'a str,
    /// Log template the line belongs to (what the service was doing).
    pub template: u32,
    /// When.
    pub time: DateTime<Utc>,
}

/// A service that stopped appearing where its callers' requests used to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingCallee {
    /// The service.
    pub service: String,
    /// Lines of it expected right after its callers' lines in the incident window,
    /// from how often they followed those lines in the baseline.
    pub expected: f64,
    /// Lines of it seen there.
    pub observed: u64,
    /// Deficit in units of its Poisson spread, summed over the callers' lines.
    pub score: f64,
}

/// A service whose own steps (the gap between two consecutive lines it logs for
/// one request) became slower.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slowdown {
    /// The service.
    pub service: String,
    /// Steps compared in the incident window.
    pub steps: u64,
    /// Largest ratio of upper-quartile step time, incident over baseline.
    pub worst_ratio: f64,
    /// Sum over its kinds of step of the log ratio times √(incident steps).
    pub score: f64,
}

/// Traces ending this close to the last line seen may still be going on.
const TRACE_TAIL_SECONDS: i64 = 10;
/// A next service counts as "expected" after a line when it followed that line in
/// at least this share of baseline requests.
const EXPECTED_SHARE: f64 = 0.5;
/// Baseline steps a kind of step needs before it is compared.
const MIN_BASELINE_STEPS: usize = 3;

fn group_traces<'a>(lines: &[TraceLine<'a>]) -> Vec<Vec<TraceLine<'a>>> {
    let mut traces: HashMap<&str, Vec<TraceLine<'a>>> = HashMap::new();
    for l in lines.iter().filter(|l| !l.trace.is_empty()) {
        traces.entry(l.trace).or_default().push(*l);
    }
    let mut out: Vec<Vec<TraceLine<'a>>> = traces.into_values().collect();
    for t in &mut out {
        t.sort_by_key(|l| l.time);
    }
    out
}

/// Which service logs next after each line of a request, learnt from the
/// baseline: where a service used to follow a caller's line (the call went to it)
/// and in the incident window it no longer does, the service stopped serving —
/// even when it logs no error, as when it fails before its first line. Only
/// requests wholly inside one window and finished (ended at least
/// `TRACE_TAIL_SECONDS` before the last line seen) are compared. Strongest first.
pub fn missing_callees(lines: &[TraceLine<'_>], window: &TimeWindow) -> Vec<MissingCallee> {
    let Some(last_seen) = lines.iter().map(|l| l.time).max() else {
        return Vec::new();
    };
    let finished_by = last_seen - chrono::Duration::seconds(TRACE_TAIL_SECONDS);
    // (service, template) → next service ("" = same service or end) → [baseline, incident]
    type Next<'a> = HashMap<&'a str, [u64; 2]>;
    let mut follows: HashMap<(&str, u32), Next<'_>> = HashMap::new();
    for trace in group_traces(lines) {
        let (Some(first), Some(last)) = (trace.first(), trace.last()) else {
            continue;
        };
        if last.time > finished_by {
            continue;
        }
        let w = if window.in_incident(first.time) {
            1
        } else if window.in_baseline(first.time) && last.time < window.incident_start {
            0
        } else {
            continue;
        };
        for (i, l) in trace.iter().enumerate() {
            let next = trace.get(i + 1).map_or("", |n| {
                if n.service == l.service {
                    ""
                } else {
                    n.service
                }
            });
            follows
                .entry((l.service, l.template))
                .or_default()
                .entry(next)
                .or_default()[w] += 1;
        }
    }
    let mut per: HashMap<&str, (f64, u64, f64)> = HashMap::new();
    for nexts in follows.values() {
        let (base_total, inc_total) = nexts
            .values()
            .fold((0u64, 0u64), |(b, i), c| (b + c[0], i + c[1]));
        if base_total == 0 || inc_total == 0 {
            continue;
        }
        for (&service, &[base, inc]) in nexts.iter().filter(|(s, _)| !s.is_empty()) {
            let share = base as f64 / base_total as f64;
            if share < EXPECTED_SHARE {
                continue;
            }
            let expected = inc_total as f64 * share;
            let deficit = (expected - inc as f64) / (expected + 1.0).sqrt();
            if deficit > 0.0 {
                let e = per.entry(service).or_default();
                e.0 += expected;
                e.1 += inc;
                e.2 += deficit;
            }
        }
    }
    let mut out: Vec<MissingCallee> = per
        .into_iter()
        .map(|(service, (expected, observed, score))| MissingCallee {
            service: service.to_owned(),
            expected,
            observed,
            score,
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

/// For each service, how much slower its own steps became: the time between two
/// consecutive lines it logs for one request (nothing else logged in between),
/// per kind of step (template pair), upper quartile in the incident window against
/// the baseline's. A service starved of CPU, or waiting on something local, slows
/// in its own steps; its callers only in the steps that span a call. Strongest first.
pub fn slowdowns(lines: &[TraceLine<'_>], window: &TimeWindow) -> Vec<Slowdown> {
    type Steps = [Vec<f64>; 2];
    let mut steps: HashMap<(&str, u32, u32), Steps> = HashMap::new();
    for trace in group_traces(lines) {
        for pair in trace.windows(2) {
            let [a, b] = pair else { continue };
            if a.service != b.service {
                continue;
            }
            let w = if window.in_incident(a.time) {
                1
            } else if window.in_baseline(a.time) {
                0
            } else {
                continue;
            };
            let secs = (b.time - a.time).num_microseconds().unwrap_or(0) as f64 / 1e6;
            steps
                .entry((a.service, a.template, b.template))
                .or_default()[w]
                .push(secs);
        }
    }
    let upper_quartile = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 * 0.75) as usize).min(v.len().saturating_sub(1));
        v.get(i).copied().unwrap_or(0.0)
    };
    let mut per: HashMap<&str, (u64, f64, f64)> = HashMap::new();
    for ((service, _, _), [mut base, mut inc]) in steps {
        if base.len() < MIN_BASELINE_STEPS || inc.is_empty() {
            continue;
        }
        // 2 ms keeps sub-millisecond steps from making huge ratios out of noise.
        let ratio = (upper_quartile(&mut inc) + 0.002) / (upper_quartile(&mut base) + 0.002);
        let e = per.entry(service).or_default();
        e.0 += inc.len() as u64;
        e.1 = e.1.max(ratio);
        e.2 += ratio.ln().max(0.0) * (inc.len() as f64).sqrt();
    }
    let mut out: Vec<Slowdown> = per
        .into_iter()
        .filter(|(_, (_, _, score))| *score > 0.0)
        .map(|(service, (steps, worst_ratio, score))| Slowdown {
            service: service.to_owned(),
            steps,
            worst_ratio,
            score,
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(min)
    }

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

    fn line<'a>(trace: &'a str, service: &'a str, template: u32, secs: i64) -> TraceLine<'a> {
        TraceLine {
            trace,
            service,
            template,
            time: at(0) + Duration::milliseconds(secs),
        }
    }

    fn windows() -> TimeWindow {
        TimeWindow {
            baseline_start: at(0),
            incident_start: at(30),
            incident_end: at(40),
        }
    }

    #[test]
    fn a_callee_that_stops_appearing_is_missing() {
        let ids: Vec<String> = (0..80).map(|i| format!("t{i}")).collect();
        let mut lines = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            // 40 baseline requests (minutes 1..20), 40 incident ones (minutes 31..38).
            let base_ms = if i < 40 {
                60_000 + i as i64 * 20_000
            } else {
                31 * 60_000 + (i as i64 - 40) * 10_000
            };
            lines.push(line(id, "api", 1, base_ms));
            // In the incident, "db" no longer logs: api goes on to its next line.
            if i < 40 {
                lines.push(line(id, "db", 7, base_ms + 5));
            }
            lines.push(line(id, "api", 2, base_ms + 10));
            lines.push(line(id, "cache", 3, base_ms + 15));
        }
        // The last line seen, so every request above counts as finished.
        lines.push(line("late", "api", 1, 39 * 60_000 + 59_000));
        let missing = missing_callees(&lines, &windows());
        assert_eq!(missing[0].service, "db", "{missing:?}");
        assert_eq!(missing[0].observed, 0);
        assert!(missing[0].score > 4.0, "{missing:?}");
        assert!(missing.iter().all(|m| m.service != "cache"), "{missing:?}");
    }

    #[test]
    fn a_service_whose_own_steps_slow_down_is_found() {
        let ids: Vec<String> = (0..60).map(|i| format!("t{i}")).collect();
        let mut lines = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let incident = i >= 30;
            let start = if incident {
                31 * 60_000 + (i as i64 - 30) * 1_000
            } else {
                60_000 + i as i64 * 1_000
            };
            lines.push(line(id, "api", 1, start));
            lines.push(line(id, "api", 2, start + 3));
            lines.push(line(id, "worker", 5, start + 5));
            let step = if incident { 400 } else { 4 };
            lines.push(line(id, "worker", 6, start + 5 + step));
        }
        let slow = slowdowns(&lines, &windows());
        assert_eq!(slow[0].service, "worker", "{slow:?}");
        assert!(slow[0].worst_ratio > 10.0);
        assert!(slow.iter().all(|s| s.service != "api"), "{slow:?}");
        assert!(slowdowns(&[], &windows()).is_empty());
        assert!(missing_callees(&[], &windows()).is_empty());
    }
}
