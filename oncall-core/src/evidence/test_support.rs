//! Fixtures shared by the evidence and analysis tests: one instant and the windows
//! after it (30 minutes of baseline, then 10 of incident).

use chrono::{DateTime, Duration, Utc};

use super::metrics::TimeWindow;

/// 2026-11-24 10:00 UTC, where every test window starts.
pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// `minutes` after [`t0`].
pub(crate) fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// Baseline `t0 .. t0+30m`, incident `t0+30m .. t0+40m`.
pub(crate) fn window() -> TimeWindow {
    TimeWindow {
        baseline_start: t0(),
        incident_start: t0() + Duration::minutes(30),
        incident_end: t0() + Duration::minutes(40),
    }
}
