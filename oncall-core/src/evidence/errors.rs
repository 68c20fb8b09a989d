//! Error shifts: when the share of error lines changed, and which components'
//! own error share rose at that moment.
//!
//! Counting error lines against a time-scaled baseline misleads when log coverage
//! is uneven (sampled or partial capture) or when a component errs all the time.
//! Two ideas make the comparison robust, with no knowledge of the system:
//!
//! 1. **Onset**: the moment the share of error lines among *all* lines rose most
//!    (a one-split binomial change point over the incident window). Lines before it,
//!    baseline included, are "before"; lines from it on are "after".
//! 2. **Per-component error share**: each component's errors after the onset are
//!    compared with what its *own* line volume after the onset and its error share
//!    before would give, shrunk towards the share of all components (so a
//!    component with few lines before does not look infinitely surprising). A
//!    component that errs in proportion to its traffic, as before, scores zero.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::metrics::TimeWindow;

/// One log line as the error analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorLine<'a> {
    /// Component that logged it.
    pub component: &'a str,
    /// When.
    pub time: DateTime<Utc>,
    /// Error-level (or an exception) line.
    pub is_error: bool,
}

/// How a component's error share changed at the onset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorShift {
    /// The component.
    pub component: String,
    /// Error lines from the onset on.
    pub errors_after: u64,
    /// All lines from the onset on.
    pub lines_after: u64,
    /// Error lines before the onset (baseline included).
    pub errors_before: u64,
    /// All lines before the onset.
    pub lines_before: u64,
    /// Excess errors after the onset in units of their Poisson spread.
    pub surprise: f64,
}

/// Lines on each side of a split, at the least, for a change point to count.
const MIN_SIDE: usize = 20;
/// Lines a component's own share before the onset is worth against the share of
/// all components (shrinkage weight).
const PRIOR_LINES: f64 = 20.0;

/// The time at which the share of error lines among the lines of the incident
/// window rose most (maximum binomial log-likelihood ratio of one split), or `None`
/// when there are too few lines or the share never rose.
/// `lines` may be in any order; only those in the incident window count.
pub fn error_onset(lines: &[ErrorLine<'_>], window: &TimeWindow) -> Option<DateTime<Utc>> {
    let mut seq: Vec<(DateTime<Utc>, bool)> = lines
        .iter()
        .filter(|l| window.in_incident(l.time))
        .map(|l| (l.time, l.is_error))
        .collect();
    seq.sort_by_key(|&(t, _)| t);
    let n = seq.len();
    if n < 2 * MIN_SIDE {
        return None;
    }
    let total_errors = seq.iter().filter(|(_, e)| *e).count();
    let mut errors_before = 0usize;
    let mut best: Option<(f64, DateTime<Utc>)> = None;
    for (i, &(t, is_error)) in seq.iter().enumerate() {
        // Split before line i: lines [0, i) before, [i, n) after. Ties in time
        // stay on one side.
        if i >= MIN_SIDE && n - i >= MIN_SIDE && seq.get(i.wrapping_sub(1)).is_some_and(|p| p.0 < t)
        {
            let llr = rise_llr(errors_before, i, total_errors - errors_before, n - i);
            if llr > 0.0 && best.is_none_or(|(b, _)| llr > b) {
                best = Some((llr, t));
            }
        }
        if is_error {
            errors_before += 1;
        }
    }
    best.map(|(_, t)| t)
}

/// Log-likelihood ratio of "the error share differs before and after" against
/// "one share throughout", when it rose; 0 when it did not.
fn rise_llr(k1: usize, n1: usize, k2: usize, n2: usize) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 0.0;
    }
    let (k1, n1, k2, n2) = (k1 as f64, n1 as f64, k2 as f64, n2 as f64);
    if k2 / n2 <= k1 / n1 {
        return 0.0;
    }
    let ll = |k: f64, n: f64| {
        let p = k / n;
        let a = if k > 0.0 { k * p.ln() } else { 0.0 };
        let b = if n - k > 0.0 && p < 1.0 {
            (n - k) * (1.0 - p).ln()
        } else {
            0.0
        };
        a + b
    };
    (ll(k1, n1) + ll(k2, n2) - ll(k1 + k2, n1 + n2)).max(0.0)
}

/// Per component, how surprising its errors from `onset` on are given its own
/// error share before (see the module documentation). Lines outside the baseline
/// and incident windows are ignored. Strongest first.
pub fn error_shifts(
    lines: &[ErrorLine<'_>],
    window: &TimeWindow,
    onset: DateTime<Utc>,
) -> Vec<ErrorShift> {
    // (errors after, lines after, errors before, lines before)
    let mut per: HashMap<&str, [u64; 4]> = HashMap::new();
    for l in lines.iter().filter(|l| !l.component.is_empty()) {
        let in_scope = window.in_baseline(l.time) || window.in_incident(l.time);
        if !in_scope {
            continue;
        }
        let c = per.entry(l.component).or_default();
        let base = if l.time >= onset { 0 } else { 2 };
        c[base + 1] += 1;
        if l.is_error {
            c[base] += 1;
        }
    }
    let (errors_before, lines_before) = per
        .values()
        .fold((0u64, 0u64), |(e, n), c| (e + c[2], n + c[3]));
    let global_share = (errors_before as f64 + 1.0) / (lines_before as f64 + PRIOR_LINES);
    let mut out: Vec<ErrorShift> = per
        .into_iter()
        .map(|(component, [ea, na, eb, nb])| {
            let share = (eb as f64 + PRIOR_LINES * global_share) / (nb as f64 + PRIOR_LINES);
            let expected = na as f64 * share;
            ErrorShift {
                component: component.to_owned(),
                errors_after: ea,
                lines_after: na,
                errors_before: eb,
                lines_before: nb,
                surprise: (ea as f64 - expected) / (expected + 1.0).sqrt(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.surprise
            .total_cmp(&a.surprise)
            .then_with(|| a.component.cmp(&b.component))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::seconds(secs)
    }

    fn window() -> TimeWindow {
        TimeWindow {
            baseline_start: at(0),
            incident_start: at(1800),
            incident_end: at(2400),
        }
    }

    #[test]
    fn the_component_whose_own_error_share_rose_leads() {
        let mut lines = Vec::new();
        for s in 0..600 {
            let t = 1800 + s;
            // "noisy" errs one line in four throughout, before and after.
            lines.push(ErrorLine {
                component: "noisy",
                time: at(t),
                is_error: s % 4 == 0,
            });
            // "db" starts erring at 1800 + 300.
            lines.push(ErrorLine {
                component: "db",
                time: at(t),
                is_error: s >= 300 && s % 3 == 0,
            });
        }
        for s in (0..1800).step_by(10) {
            lines.push(ErrorLine {
                component: "noisy",
                time: at(s),
                is_error: s % 40 == 0,
            });
        }
        let onset = error_onset(&lines, &window()).unwrap();
        assert!((onset - at(2100)).num_seconds().abs() <= 5, "{onset}");
        let shifts = error_shifts(&lines, &window(), onset);
        assert_eq!(shifts[0].component, "db");
        assert!(shifts[0].surprise > 5.0, "{shifts:?}");
        let noisy = shifts.iter().find(|s| s.component == "noisy").unwrap();
        assert!(noisy.surprise < 2.0, "{noisy:?}");
    }

    #[test]
    fn no_onset_without_lines_or_without_a_rise() {
        assert_eq!(error_onset(&[], &window()), None);
        let flat: Vec<ErrorLine<'_>> = (0..200)
            .map(|s| ErrorLine {
                component: "a",
                time: at(1800 + s),
                is_error: false,
            })
            .collect();
        assert_eq!(error_onset(&flat, &window()), None);
    }

    proptest! {
        /// A step up in the error share is found close to where it happened, and
        /// the component that stepped ranks first.
        #[test]
        fn a_step_is_found_near_where_it_is(step in 60i64..540, every in 2usize..6) {
            let lines: Vec<ErrorLine<'_>> = (0..600i64)
                .flat_map(|s| {
                    [
                        ErrorLine { component: "quiet", time: at(1800 + s), is_error: false },
                        ErrorLine {
                            component: "culprit",
                            time: at(1800 + s),
                            is_error: s >= step && (s as usize) % every == 0,
                        },
                    ]
                })
                .collect();
            let onset = error_onset(&lines, &window()).unwrap();
            prop_assert!((onset - at(1800 + step)).num_seconds().abs() <= 2 * every as i64);
            let shifts = error_shifts(&lines, &window(), onset);
            prop_assert_eq!(shifts[0].component.as_str(), "culprit");
            prop_assert!(shifts.iter().all(|s| s.surprise.is_finite()));
        }
    }
}
