//! Latency localization by spectrum-based fault localization (SBFL) over the
//! request graph: which service's calls got slower, from the timestamps of log
//! lines that share a trace id.
//!
//! Method. The lines of one request, in logged order, are a walk over the
//! services it passed through. The time from one line to the next is spent by
//! the service that logged the first: finishing its work and sending the next
//! message (a call to a callee, or its answer to the caller), so the step from a
//! line of `a` to the next line, of `b`, is an *edge* `a → b` that belongs to `a`
//! (to the service itself when `b` is `a`). This holds whether `b` is a callee, a
//! caller or a sibling, which logs alone cannot tell apart. Per request and edge
//! the times are summed. An edge is *slowed* when three things hold:
//! - its incident-window median exceeds its baseline median by more than
//!   [`Z_OUTLIER`] robust deviations (the modified z-score outlier cut of
//!   Iglewicz and Hoaglin, 1993);
//! - its incident times are larger than its baseline times by a one-sided
//!   Mann–Whitney U test at [`ALPHA`], Bonferroni-corrected over the edges judged
//!   (a few requests that happen to be slow are not a slowdown);
//! - the requests that use it got slower end to end by the same outlier cut (a
//!   few milliseconds more on one hop of a request that takes hundreds is not
//!   what an alert is about).
//!
//! A slowed service (its work, or the network it sends on) makes the edges that
//! belong to it slower; other services' edges stay as they were. So each service
//! is scored by the Ochiai coefficient of spectrum-based fault localization
//! (Abreu, Zoeteweij and van Gemund, 2007): `ef / sqrt((ef + nf) · (ef + ep))`,
//! with `ef` its slowed edges, `ep` its other edges and `nf` the slowed edges of
//! other services. MicroRank (Yu et al., WWW 2021) and TraceRCA (Li et al.,
//! IWQoS 2021) apply the same spectrum to whole traces and spans; on edges it
//! also singles out the entry service, whose own edges slow down when it is the
//! slow one.
//!
//! Pure code, no I/O.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::metrics::{TimeWindow, median, scaled_mad};
use super::traces::TraceEvent;

/// Modified z-score past which an edge counts as slower (Iglewicz & Hoaglin).
pub const Z_OUTLIER: f64 = 3.5;

/// Family-wise error rate of the Mann–Whitney tests over all edges judged.
pub const ALPHA: f64 = 0.05;

/// Fewest requests on an edge, in each window, for it to be judged.
pub const MIN_REQUESTS: usize = 3;

/// Timestamps of log lines are in milliseconds: no spread is finer than that.
const RESOLUTION_MS: f64 = 1.0;

/// Relative floor of an edge's spread, as for metric shifts: a flat edge needs
/// a move of 5 % of its usual time per robust deviation.
const MIN_RELATIVE_SPREAD: f64 = 0.05;

/// One edge of the request graph whose time changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeShift {
    /// The service whose line starts the step (the edge belongs to it).
    pub caller: String,
    /// The service whose line ends it (equal to `caller` within one service).
    pub callee: String,
    /// Median milliseconds per request on the edge in the baseline.
    pub baseline_ms: f64,
    /// The same in the incident window.
    pub incident_ms: f64,
    /// Robust deviations of the incident median above the baseline's.
    pub z: f64,
    /// Requests of the incident window that used the edge.
    pub requests: usize,
}

/// A service that the slowed edges point at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySuspect {
    /// The service.
    pub service: String,
    /// Ochiai coefficient, 0..1: 1 when every slowed edge is one of its own and
    /// all of its edges slowed.
    pub ochiai: f64,
    /// Its edges that slowed, most deviations first.
    pub slowed: Vec<EdgeShift>,
    /// Its edges judged (slowed or not).
    pub edges: usize,
}

/// Per-request time on each edge, and the end-to-end time of those requests,
/// split by window.
#[derive(Default)]
struct EdgeTimes {
    baseline: Vec<f64>,
    incident: Vec<f64>,
    baseline_e2e: Vec<f64>,
    incident_e2e: Vec<f64>,
}

/// Median and robust spread (1.4826 × MAD, floored at [`RESOLUTION_MS`] and at
/// [`MIN_RELATIVE_SPREAD`] of the median).
fn centre_and_spread(values: &[f64]) -> Option<(f64, f64)> {
    let mut v = values.to_vec();
    let m = median(&mut v)?;
    Some((
        m,
        scaled_mad(values, m)
            .max(MIN_RELATIVE_SPREAD * m.abs())
            .max(RESOLUTION_MS),
    ))
}

/// Modified z-score of `incident`'s median against `baseline`.
fn outlier_z(baseline: &[f64], incident: &[f64]) -> Option<(f64, f64, f64)> {
    let (base, spread) = centre_and_spread(baseline)?;
    let mut v = incident.to_vec();
    let now = median(&mut v)?;
    Some(((now - base) / spread, base, now))
}

/// One-sided p-value that `incident` is not stochastically larger than
/// `baseline` (Mann–Whitney U, normal approximation with continuity correction;
/// ties get mid-ranks and the variance is left uncorrected, which errs on the
/// side of "not slower").
pub fn mann_whitney_greater(baseline: &[f64], incident: &[f64]) -> f64 {
    let (n1, n2) = (incident.len() as f64, baseline.len() as f64);
    if n1 == 0.0 || n2 == 0.0 {
        return 1.0;
    }
    let mut all: Vec<(f64, bool)> = incident
        .iter()
        .map(|v| (*v, true))
        .chain(baseline.iter().map(|v| (*v, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += all[i..=j].iter().filter(|x| x.1).count() as f64 * mid_rank;
        i = j + 1;
    }
    let u = rank_sum - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let sd = (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    normal_sf((u - mean - 0.5) / sd)
}

/// P(Z > z) for a standard normal Z (Abramowitz & Stegun 7.1.26, error < 1.5e-7).
fn normal_sf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        erfc / 2.0
    } else {
        1.0 - erfc / 2.0
    }
}

/// Services ranked by how well the slowed edges of the request graph point at
/// them (see the module documentation); empty when no edge slowed.
pub fn latency_suspects(events: &[TraceEvent<'_>], window: &TimeWindow) -> Vec<LatencySuspect> {
    // Lines of each trace, in logged order.
    let mut traces: HashMap<&str, Vec<&TraceEvent<'_>>> = HashMap::new();
    for e in events
        .iter()
        .filter(|e| !e.trace.is_empty() && !e.service.is_empty())
    {
        traces.entry(e.trace).or_default().push(e);
    }
    let mut edges: HashMap<(&str, &str), EdgeTimes> = HashMap::new();
    for lines in traces.values() {
        let Some(first) = lines.first() else {
            continue;
        };
        let incident = if window.in_incident(first.time) {
            true
        } else if window.in_baseline(first.time) {
            false
        } else {
            continue;
        };
        let e2e = lines.last().map_or(0.0, |l| {
            (l.time - first.time).num_milliseconds().max(0) as f64
        });
        let mut per_edge: HashMap<(&str, &str), f64> = HashMap::new();
        for pair in lines.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let ms = (b.time - a.time).num_milliseconds().max(0) as f64;
            *per_edge.entry((a.service, b.service)).or_default() += ms;
        }
        for (edge, ms) in per_edge {
            let times = edges.entry(edge).or_default();
            if incident {
                times.incident.push(ms);
                times.incident_e2e.push(e2e);
            } else {
                times.baseline.push(ms);
                times.baseline_e2e.push(e2e);
            }
        }
    }

    // Judge each edge with enough requests on both sides.
    let candidates: Vec<((&str, &str), EdgeTimes)> = edges
        .into_iter()
        .filter(|(_, t)| t.baseline.len() >= MIN_REQUESTS && t.incident.len() >= MIN_REQUESTS)
        .collect();
    let alpha = ALPHA / candidates.len().max(1) as f64;
    let mut judged: Vec<((&str, &str), Option<EdgeShift>)> = Vec::new();
    for (edge, times) in candidates {
        let Some((z, base, now)) = outlier_z(&times.baseline, &times.incident) else {
            continue;
        };
        let slowed = z > Z_OUTLIER
            && mann_whitney_greater(&times.baseline, &times.incident) < alpha
            && outlier_z(&times.baseline_e2e, &times.incident_e2e)
                .is_some_and(|(z, _, _)| z > Z_OUTLIER);
        let shift = slowed.then(|| EdgeShift {
            caller: edge.0.to_owned(),
            callee: edge.1.to_owned(),
            baseline_ms: base,
            incident_ms: now,
            z,
            requests: times.incident.len(),
        });
        judged.push((edge, shift));
    }
    let slowed_total = judged.iter().filter(|(_, s)| s.is_some()).count();
    if slowed_total == 0 {
        return Vec::new();
    }

    let mut by_service: HashMap<&str, (Vec<EdgeShift>, usize)> = HashMap::new();
    for (edge, shift) in &judged {
        {
            let entry = by_service.entry(edge.0).or_default();
            entry.1 += 1;
            if let Some(shift) = shift {
                entry.0.push(shift.clone());
            }
        }
    }
    let mut out: Vec<LatencySuspect> = by_service
        .into_iter()
        .filter(|(_, (slowed, _))| !slowed.is_empty())
        .map(|(service, (mut slowed, edges))| {
            let ef = slowed.len() as f64;
            let ochiai = ef / (slowed_total as f64 * edges as f64).sqrt();
            slowed.sort_by(|a, b| b.z.total_cmp(&a.z));
            LatencySuspect {
                service: service.to_owned(),
                ochiai,
                slowed,
                edges,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.ochiai
            .total_cmp(&a.ochiai)
            .then_with(|| b.slowed.len().cmp(&a.slowed.len()))
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::test_support::{t0, window};
    use chrono::Duration;

    /// `front` calls `api`, which calls `db` and `cache`; `slow` adds `delay` ms
    /// to every hop in or out of that service.
    fn requests(
        slow: &str,
        delay: i64,
        names: &mut Vec<String>,
    ) -> Vec<(usize, &'static str, i64)> {
        let mut out = Vec::new();
        for i in 0..40 {
            let incident = i >= 30;
            let d = |s: &str| if incident && s == slow { delay } else { 0 };
            names.push(format!("t{i}"));
            let start = i64::from(i) * 60_000 + 5_000;
            let jitter = i64::from(i % 3);
            let mut t = start;
            let mut line =
                |svc: &'static str, step: i64, out: &mut Vec<(usize, &'static str, i64)>| {
                    t += step;
                    out.push((names.len() - 1, svc, t));
                };
            line("front", 0, &mut out);
            line("api", 2 + d("front") + d("api") + jitter, &mut out);
            line("db", 2 + d("api") + d("db"), &mut out);
            line("db", 5 + d("db"), &mut out);
            line("api", 2 + d("db") + d("api"), &mut out);
            line("cache", 1 + d("api") + d("cache"), &mut out);
            line("api", 1 + d("cache") + d("api"), &mut out);
            line("front", 3 + d("api") + d("front"), &mut out);
            line("front", 4 + d("front"), &mut out);
        }
        out
    }

    fn rank(slow: &str) -> Vec<LatencySuspect> {
        let mut names = Vec::new();
        let lines = requests(slow, 200, &mut names);
        let events: Vec<TraceEvent<'_>> = lines
            .iter()
            .map(|(trace, svc, ms)| TraceEvent {
                trace: &names[*trace],
                service: svc,
                time: t0() + Duration::milliseconds(*ms),
                is_error: false,
            })
            .collect();
        latency_suspects(&events, &window())
    }

    #[test]
    fn the_slowed_service_ranks_first_wherever_it_sits() {
        for slow in ["db", "api", "front", "cache"] {
            let ranked = rank(slow);
            assert_eq!(ranked[0].service, slow, "{ranked:#?}");
            assert!(ranked[0].ochiai > 0.7, "{ranked:#?}");
        }
    }

    #[test]
    fn mann_whitney_tells_a_shift_from_noise() {
        let base: Vec<f64> = (0..30).map(|i| 10.0 + f64::from(i % 5)).collect();
        let slower: Vec<f64> = (0..10).map(|i| 40.0 + f64::from(i % 3)).collect();
        let same: Vec<f64> = (0..10).map(|i| 10.0 + f64::from(i % 5)).collect();
        assert!(mann_whitney_greater(&base, &slower) < 1e-4);
        assert!(mann_whitney_greater(&base, &same) > 0.3);
        assert!(mann_whitney_greater(&slower, &base) > 0.99);
    }

    #[test]
    fn nothing_slowed_nothing_ranked() {
        assert!(rank("nobody").is_empty());
    }
}
