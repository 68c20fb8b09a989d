//! Metric shifts: how far each series moved in the incident window against its
//! own baseline, measured robustly (median and MAD, so earlier spikes in the
//! baseline do not hide a new one), in which direction, and when it began.
//!
//! Pure code: the series come from whatever the connectors discovered; no metric
//! name is special.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A series to examine: its labels (with `__name__`) and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInput<'a> {
    /// Labels of the series; `__name__` is the metric name.
    pub labels: &'a BTreeMap<String, String>,
    /// Samples in time order.
    pub points: &'a [(DateTime<Utc>, f64)],
    /// The samples are per-second rates of *events* counted between consecutive
    /// samples (requests, errors, packets; not seconds or bytes): their spread is
    /// then at least the Poisson one (see [`poisson_spread`]).
    pub events: bool,
}

/// The two windows an analysis compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// Start of the baseline.
    pub baseline_start: DateTime<Utc>,
    /// End of the baseline = start of the incident window.
    pub incident_start: DateTime<Utc>,
    /// End of the incident window.
    pub incident_end: DateTime<Utc>,
}

impl TimeWindow {
    /// True when `t` lies in the baseline.
    pub fn in_baseline(&self, t: DateTime<Utc>) -> bool {
        t >= self.baseline_start && t < self.incident_start
    }

    /// True when `t` lies in the incident window.
    pub fn in_incident(&self, t: DateTime<Utc>) -> bool {
        t >= self.incident_start && t <= self.incident_end
    }

    /// The incident window's length over the baseline's: what a baseline count
    /// is multiplied by to give the incident window's expectation.
    pub fn incident_over_baseline(&self) -> f64 {
        let seconds = |d: chrono::TimeDelta| d.num_seconds().max(1) as f64;
        seconds(self.incident_end - self.incident_start)
            / seconds(self.incident_start - self.baseline_start)
    }
}

/// Which way a series moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Above its baseline.
    Up,
    /// Below its baseline.
    Down,
}

/// One series that moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricShift {
    /// Metric name (`__name__`).
    pub metric: String,
    /// The series' other labels.
    pub labels: BTreeMap<String, String>,
    /// Median of the baseline.
    pub baseline_median: f64,
    /// Robust spread of the baseline (1.4826 × MAD, floored; see [`ShiftConfig`]).
    pub baseline_spread: f64,
    /// The incident value furthest from the baseline median.
    pub peak: f64,
    /// How many robust deviations (`(value - median) / spread`) it moved and held
    /// for two samples in a row (the weaker of the pair, at its best); with a
    /// single incident sample, that sample's.
    pub score: f64,
    /// Which way.
    pub direction: Direction,
    /// Relative change of the peak against the median (`+0.5` = 50 % up).
    pub relative_change: f64,
    /// First incident sample past the threshold.
    pub started_at: DateTime<Utc>,
    /// Median of the incident samples from `started_at` on: the level the series
    /// held once it moved (a peak says how far one sample strayed; this, where the
    /// series stayed).
    #[serde(default)]
    pub held: f64,
    /// How many incident samples were past the threshold.
    pub anomalous_points: usize,
    /// The series' samples over both windows (`[time, value]`), kept for the
    /// strongest shifts so a person can see the spike; empty for the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<(DateTime<Utc>, f64)>,
    /// The baseline was flat at zero: the series *appeared* in the incident
    /// window rather than moved (its score is then measured against the level it
    /// reached, see [`ShiftConfig::min_relative_spread`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub appeared: bool,
    /// The values are a per-second rate of a counter (see [`counter_rates`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rate: bool,
}

/// Highest score a shift is given. Past a thousand robust deviations a move is
/// certain, and more digits only say how flat the baseline happened to be (a
/// baseline without any spread gives 10¹² for the smallest move): the ranking
/// compares components by how far the leader stands out, which this leaves intact.
pub const MAX_SCORE: f64 = 1000.0;

/// Tuning of [`metric_shifts`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShiftConfig {
    /// A sample is anomalous past this many robust deviations.
    pub threshold: f64,
    /// Floor of the spread, relative to |median|, so flat series need a real move;
    /// also relative to the metric's typical level across all its series (the
    /// median of the non-zero baseline medians' magnitudes), so a series that idles at 0
    /// does not count a crumb of activity as thousands of deviations. When no series
    /// of the metric has a non-zero baseline (it only appears in the incident
    /// window), the typical level is that of the values it reached, so an
    /// appearing series scores at most `1 / min_relative_spread` (20).
    pub min_relative_spread: f64,
    /// Absolute floor of the spread.
    pub min_spread: f64,
    /// Fewer baseline samples than this: the series is skipped.
    pub min_baseline_points: usize,
}

impl Default for ShiftConfig {
    fn default() -> Self {
        ShiftConfig {
            threshold: 4.0,
            min_relative_spread: 0.05,
            min_spread: 1e-6,
            min_baseline_points: 3,
        }
    }
}

/// Median of `v` (sorts it). `None` when empty.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Examines every series and returns those that moved, strongest first.
pub fn metric_shifts(
    series: &[SeriesInput<'_>],
    window: &TimeWindow,
    cfg: &ShiftConfig,
) -> Vec<MetricShift> {
    // Each series' baseline samples (sorted by `median`) and median, computed once:
    // the metric's typical level and each series' shift both need them.
    let baselines: Vec<(Vec<f64>, Option<f64>)> = series
        .iter()
        .map(|s| {
            let mut values: Vec<f64> = s
                .points
                .iter()
                .filter(|(t, v)| window.in_baseline(*t) && v.is_finite())
                .map(|(_, v)| *v)
                .collect();
            let med = median(&mut values);
            (values, med)
        })
        .collect();
    let typical = typical_levels(series, &baselines);
    let mut found: Vec<(usize, MetricShift)> = series
        .iter()
        .zip(&baselines)
        .enumerate()
        .filter_map(|(i, (s, (baseline, med)))| {
            let level = s
                .labels
                .get("__name__")
                .and_then(|n| typical.get(n.as_str()))
                .copied()
                .unwrap_or(0.0);
            shift_of(s, baseline, (*med)?, window, cfg, level).map(|m| (i, m))
        })
        .collect();
    found.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    // The strongest shifts keep their samples over both windows, to be drawn.
    for (i, m) in found.iter_mut().take(CHARTED_SHIFTS) {
        m.points = series[*i]
            .points
            .iter()
            .filter(|(t, v)| {
                *t >= window.baseline_start && *t < window.incident_end && v.is_finite()
            })
            .copied()
            .collect();
    }
    found.into_iter().map(|(_, m)| m).collect()
}

/// How many of the strongest shifts keep their samples ([`MetricShift::points`]).
pub const CHARTED_SHIFTS: usize = 8;

/// Per metric name, the median over its non-idle series of |baseline median|.
fn typical_levels<'a>(
    series: &[SeriesInput<'a>],
    baselines: &[(Vec<f64>, Option<f64>)],
) -> std::collections::HashMap<&'a str, f64> {
    let mut levels: std::collections::HashMap<&'a str, Vec<f64>> = std::collections::HashMap::new();
    for (s, (_, med)) in series.iter().zip(baselines) {
        let Some(name) = s.labels.get("__name__") else {
            continue;
        };
        // Idle series (median 0) say nothing about the level the metric reads at.
        if let Some(m) = med.filter(|m| *m != 0.0) {
            levels.entry(name.as_str()).or_default().push(m.abs());
        }
    }
    // Metrics with no non-zero baseline anywhere (they appear in the incident
    // window only): their level is that of the non-zero values they reached.
    let mut reached: std::collections::HashMap<&'a str, Vec<f64>> =
        std::collections::HashMap::new();
    for s in series {
        let Some(name) = s.labels.get("__name__") else {
            continue;
        };
        if levels.contains_key(name.as_str()) {
            continue;
        }
        reached.entry(name.as_str()).or_default().extend(
            s.points
                .iter()
                .map(|(_, v)| v.abs())
                .filter(|v| v.is_finite() && *v > 0.0),
        );
    }
    levels
        .into_iter()
        .chain(reached)
        .filter_map(|(name, mut v)| median(&mut v).map(|m| (name, m)))
        .collect()
}

fn shift_of(
    s: &SeriesInput<'_>,
    baseline: &[f64],
    med: f64,
    window: &TimeWindow,
    cfg: &ShiftConfig,
    typical_level: f64,
) -> Option<MetricShift> {
    if baseline.len() < cfg.min_baseline_points {
        return None;
    }
    let mad = median_absolute_deviation(baseline, med);
    let counted = if s.events {
        poisson_spread(s, med, window)
    } else {
        0.0
    };
    let spread = (MAD_TO_SD * mad)
        .max(cfg.min_relative_spread * med.abs().max(typical_level))
        .max(counted)
        .max(cfg.min_spread);

    let mut peak: Option<(f64, f64)> = None; // (z, value)
    let mut started_at = None;
    let mut anomalous = 0;
    // The move held for two samples in a row: the weaker of each neighbouring pair
    // (same direction), at its best. One-sample blips are everyday noise.
    let mut sustained: f64 = 0.0;
    let mut previous: Option<f64> = None;
    let mut samples = 0;
    for (t, v) in s
        .points
        .iter()
        .filter(|(t, v)| window.in_incident(*t) && v.is_finite())
    {
        let z = (v - med) / spread;
        samples += 1;
        if z.abs() >= cfg.threshold {
            anomalous += 1;
            started_at.get_or_insert(*t);
        }
        if peak.is_none_or(|(pz, _)| z.abs() > pz.abs()) {
            peak = Some((z, *v));
        }
        if let Some(p) = previous.filter(|p| p.signum() == z.signum()) {
            sustained = sustained.max(p.abs().min(z.abs()));
        }
        previous = Some(z);
    }
    let (z, value) = peak?;
    let started_at = started_at?;
    let mut after: Vec<f64> = s
        .points
        .iter()
        .filter(|(t, v)| *t >= started_at && window.in_incident(*t) && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    let held = median(&mut after).unwrap_or(value);
    let score = if samples == 1 { z.abs() } else { sustained }.min(MAX_SCORE);
    let mut labels = s.labels.clone();
    let metric = labels.remove("__name__").unwrap_or_default();
    Some(MetricShift {
        metric,
        labels,
        baseline_median: med,
        baseline_spread: spread,
        peak: value,
        score,
        direction: if z >= 0.0 {
            Direction::Up
        } else {
            Direction::Down
        },
        relative_change: if med.abs() > f64::EPSILON {
            (value - med) / med.abs()
        } else {
            0.0
        },
        started_at,
        held,
        anomalous_points: anomalous,
        points: Vec::new(),
        appeared: med == 0.0 && mad == 0.0,
        rate: false,
    })
}

/// The spread that counting alone gives a rate of events: `n` events counted in
/// an interval of `dt` seconds vary by `√n` (Poisson), so a rate `r` read over
/// `dt` varies by `√(r·dt)/dt`; at least one event's worth is assumed, as the log
/// evidence's surprise does (`√(expected + 1)`), so a series that idles at zero
/// needs more than a stray event or two to count as moved. `dt` is the series'
/// usual spacing in the baseline. Without it, 0.
///
/// This is what keeps a quiet series (a few requests a minute) from scoring as
/// if its silence were precise: four requests per 15 s, then two intervals with
/// none, is two Poisson deviations, not twenty.
pub fn poisson_spread(s: &SeriesInput<'_>, rate: f64, window: &TimeWindow) -> f64 {
    let mut gaps: Vec<f64> = s
        .points
        .windows(2)
        .filter(|p| window.in_baseline(p[1].0))
        .map(|p| (p[1].0 - p[0].0).num_milliseconds() as f64 / 1000.0)
        .filter(|g| *g > 0.0)
        .collect();
    match median(&mut gaps) {
        Some(dt) => (rate.abs() * dt).max(1.0).sqrt() / dt,
        None => 0.0,
    }
}

/// Prometheus metric names of counters of events, by the naming conventions'
/// unit suffixes: `http_requests_total`, `…_errors_total`, a histogram's
/// `_count`; not `…_seconds_total`, `…_bytes_total` or a `_sum` (amounts in a
/// unit, whose variation counting does not bound).
pub fn counts_events(name: &str) -> bool {
    if name.ends_with("_count") {
        return true;
    }
    let Some(stem) = name.strip_suffix("_total") else {
        return false;
    };
    const UNITS: [&str; 12] = [
        "_seconds", "_bytes", "_joules", "_grams", "_meters", "_metres", "_volts", "_amperes",
        "_celsius", "_ratio", "_percent", "_sum",
    ];
    !UNITS.iter().any(|u| stem.ends_with(u))
}

/// Median absolute deviation of `values` from `centre` (0 for no values).
pub fn median_absolute_deviation(values: &[f64], centre: f64) -> f64 {
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    median(&mut deviations).unwrap_or(0.0)
}

/// The factor that turns a median absolute deviation into an estimate of the
/// standard deviation of normal data (Rousseeuw & Croux, 1993).
pub const MAD_TO_SD: f64 = 1.4826;

/// The robust spread of `values` around `centre`: [`MAD_TO_SD`] × their median
/// absolute deviation, which ignores outliers. Callers floor it to their own
/// resolution.
pub fn scaled_mad(values: &[f64], centre: f64) -> f64 {
    MAD_TO_SD * median_absolute_deviation(values, centre)
}

/// Metric names that are counters by the Prometheus naming conventions
/// (`_total`, `_count`, `_sum`; histogram `_bucket`s are counters too).
pub fn is_counter(name: &str) -> bool {
    ["_total", "_count", "_sum", "_bucket"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// A counter's samples as a per-second rate between consecutive samples, the way
/// PromQL's `rate()` reads them: a drop is a reset (the counter restarted from 0,
/// so the new value is all increase). The first sample has no rate and is
/// dropped; so are pairs with no time between them.
pub fn counter_rates(points: &[(DateTime<Utc>, f64)]) -> Vec<(DateTime<Utc>, f64)> {
    points
        .windows(2)
        .filter_map(|pair| {
            let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
            let seconds = (t1 - t0).num_milliseconds() as f64 / 1000.0;
            if seconds <= 0.0 || !v0.is_finite() || !v1.is_finite() {
                return None;
            }
            let increase = if v1 >= v0 { v1 - v0 } else { v1 };
            Some((t1, increase / seconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::test_support::{t0, window};
    use chrono::Duration;

    fn series(values: impl Fn(i64) -> f64) -> Vec<(DateTime<Utc>, f64)> {
        (0..=40)
            .map(|m| (t0() + Duration::minutes(m), values(m)))
            .collect()
    }

    fn labels(name: &str) -> BTreeMap<String, String> {
        [("__name__", name), ("pod", "api-1")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_quiet_count_going_silent_is_counting_noise_not_a_shift() {
        // Four requests a minute (one sample a minute), then two silent minutes:
        // two Poisson deviations, while a flat baseline's floor would make it 20.
        let pts = series(|m| {
            if (31..33).contains(&m) {
                0.0
            } else {
                4.0 / 60.0
            }
        });
        let l = labels("http_requests_total");
        let input = |events| SeriesInput {
            labels: &l,
            points: &pts,
            events,
        };
        let w = window();
        let cfg = ShiftConfig::default();
        assert!(metric_shifts(&[input(true)], &w, &cfg).is_empty());
        assert!(!metric_shifts(&[input(false)], &w, &cfg).is_empty());
        // A real move of the same series still counts: 4 → 60 a minute.
        let busy = series(|m| if m >= 31 { 1.0 } else { 4.0 / 60.0 });
        let moved = metric_shifts(
            &[SeriesInput {
                labels: &l,
                points: &busy,
                events: true,
            }],
            &w,
            &cfg,
        );
        assert_eq!(moved.len(), 1, "{moved:?}");
        assert!((moved[0].held - 1.0).abs() < 1e-9, "{moved:?}");
        assert!(
            counts_events("http_requests_total") && counts_events("rpc_duration_seconds_count")
        );
        assert!(!counts_events("node_cpu_seconds_total") && !counts_events("rx_bytes_total"));
        assert!(!counts_events("http_request_duration_seconds_sum"));
    }

    #[test]
    fn the_strongest_shifts_keep_their_samples_to_be_drawn() {
        let w = window();
        let all: Vec<_> = (0..CHARTED_SHIFTS + 2)
            .map(|k| {
                let pts = series(|m| {
                    if m < 30 {
                        10.0 + (m % 3) as f64
                    } else {
                        100.0 * (k + 2) as f64
                    }
                });
                (labels(&format!("metric_{k}")), pts)
            })
            .collect();
        let inputs: Vec<SeriesInput<'_>> = all
            .iter()
            .map(|(l, p)| SeriesInput {
                events: false,
                labels: l,
                points: p,
            })
            .collect();
        let shifts = metric_shifts(&inputs, &w, &ShiftConfig::default());
        assert_eq!(shifts.len(), CHARTED_SHIFTS + 2);
        for (rank, m) in shifts.iter().enumerate() {
            if rank < CHARTED_SHIFTS {
                assert!(!m.points.is_empty(), "shift #{rank} has no samples");
                assert!(
                    m.points
                        .iter()
                        .all(|(t, _)| *t >= w.baseline_start && *t < w.incident_end)
                );
            } else {
                assert!(m.points.is_empty(), "shift #{rank} keeps samples");
            }
        }
    }

    #[test]
    fn a_step_up_is_found_with_its_start() {
        let l = labels("cpu");
        let pts = series(|m| if m >= 33 { 90.0 } else { 20.0 + (m % 3) as f64 });
        let shifts = metric_shifts(
            &[SeriesInput {
                events: false,
                labels: &l,
                points: &pts,
            }],
            &window(),
            &ShiftConfig::default(),
        );
        assert_eq!(shifts.len(), 1);
        let s = &shifts[0];
        assert_eq!((s.metric.as_str(), s.direction), ("cpu", Direction::Up));
        assert_eq!(s.started_at, t0() + Duration::minutes(33));
        assert_eq!(s.anomalous_points, 8);
        assert!(s.relative_change > 3.0, "{s:?}");
        assert_eq!(s.labels.get("pod").map(String::as_str), Some("api-1"));
    }

    #[test]
    fn noise_and_old_spikes_do_not_count() {
        let l = labels("latency");
        // A spike in the baseline and ordinary noise later: nothing new.
        let pts = series(|m| {
            if m == 10 {
                50.0
            } else {
                1.0 + 0.02 * ((m * 7) % 5) as f64
            }
        });
        let shifts = metric_shifts(
            &[SeriesInput {
                events: false,
                labels: &l,
                points: &pts,
            }],
            &window(),
            &ShiftConfig::default(),
        );
        assert!(shifts.is_empty(), "{shifts:?}");
    }

    #[test]
    fn drops_are_shifts_too_and_flat_series_need_a_real_move() {
        let l = labels("success_rate");
        let pts = series(|m| if m >= 31 { 60.0 } else { 100.0 });
        let s = metric_shifts(
            &[SeriesInput {
                events: false,
                labels: &l,
                points: &pts,
            }],
            &window(),
            &ShiftConfig::default(),
        );
        assert_eq!(s[0].direction, Direction::Down);
        // 100 → 99.5 on a flat series is within the 5 % floor.
        let pts = series(|m| if m >= 31 { 99.5 } else { 100.0 });
        assert!(
            metric_shifts(
                &[SeriesInput {
                    events: false,
                    labels: &l,
                    points: &pts
                }],
                &window(),
                &ShiftConfig::default()
            )
            .is_empty()
        );
    }

    fn pod_labels(name: &str, pod: &str) -> BTreeMap<String, String> {
        [("__name__", name), ("pod", pod)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_held_move_outscores_a_one_sample_blip() {
        let (held, blip) = (pod_labels("cpu", "a-1"), pod_labels("cpu", "b-1"));
        let held_pts = series(|m| {
            if (33..=36).contains(&m) {
                60.0
            } else {
                20.0 + (m % 3) as f64
            }
        });
        let blip_pts = series(|m| {
            if m == 34 {
                400.0
            } else {
                20.0 + (m % 3) as f64
            }
        });
        let s = metric_shifts(
            &[
                SeriesInput {
                    events: false,
                    labels: &held,
                    points: &held_pts,
                },
                SeriesInput {
                    events: false,
                    labels: &blip,
                    points: &blip_pts,
                },
            ],
            &window(),
            &ShiftConfig::default(),
        );
        let score = |pod: &str| s.iter().find(|x| x.labels["pod"] == pod).map(|x| x.score);
        assert!(score("a-1").unwrap() > 20.0, "{s:?}");
        assert!(
            score("b-1").unwrap_or(0.0) < 1.0,
            "a blip is not held: {s:?}"
        );
        let blip_shift = s.iter().find(|x| x.labels["pod"] == "b-1").unwrap();
        assert_eq!(blip_shift.peak, 400.0, "the peak is still reported");
    }

    #[test]
    fn an_idle_series_is_judged_at_the_metric_s_usual_level() {
        // Ten pods serve ~50 ops; one idles at 0 and serves 0.3 ops for a while.
        let busy: Vec<_> = (0..10)
            .map(|i| pod_labels("ops", &format!("busy-{i}")))
            .collect();
        let idle = pod_labels("ops", "idle-1");
        let busy_pts = series(|m| 50.0 + (m % 4) as f64);
        let idle_pts = series(|m| if m >= 33 { 0.3 } else { 0.0 });
        let mut input: Vec<SeriesInput<'_>> = busy
            .iter()
            .map(|l| SeriesInput {
                events: false,
                labels: l,
                points: &busy_pts,
            })
            .collect();
        input.push(SeriesInput {
            events: false,
            labels: &idle,
            points: &idle_pts,
        });
        let s = metric_shifts(&input, &window(), &ShiftConfig::default());
        assert!(
            s.iter().all(|x| x.labels["pod"] != "idle-1"),
            "0 → 0.3 is 0.1 % of the usual level, not a shift: {s:?}"
        );
    }

    #[test]
    fn short_baselines_and_nans_are_skipped() {
        let l = labels("x");
        let pts: Vec<_> = series(|m| if m < 27 { f64::NAN } else { 5.0 });
        assert!(
            metric_shifts(
                &[SeriesInput {
                    events: false,
                    labels: &l,
                    points: &pts
                }],
                &window(),
                &ShiftConfig::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn a_series_that_appears_from_zero_is_marked_and_bounded() {
        // Hugepages-like: 0 all baseline, then 6 MiB. With the old 1e-6 floor
        // this scored 6.3e12 robust deviations.
        let l = labels("node_memory_HugePages_bytes");
        let pts = series(|m| if m >= 32 { 6_291_456.0 } else { 0.0 });
        let s = metric_shifts(
            &[SeriesInput {
                events: false,
                labels: &l,
                points: &pts,
            }],
            &window(),
            &ShiftConfig::default(),
        );
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(s[0].appeared, "{s:?}");
        assert!(s[0].score <= 20.0 + 1e-9, "{s:?}");
    }

    #[test]
    fn scores_never_exceed_the_cap() {
        let l = labels("x");
        let pts = series(|m| if m >= 32 { 1e9 } else { 1.0 });
        let s = metric_shifts(
            &[SeriesInput {
                events: false,
                labels: &l,
                points: &pts,
            }],
            &window(),
            &ShiftConfig::default(),
        );
        assert_eq!(s[0].score, MAX_SCORE, "{s:?}");
        assert!(!s[0].appeared);
    }

    #[test]
    fn counters_become_rates_across_resets() {
        assert!(is_counter("node_cpu_seconds_total") && is_counter("http_requests_count"));
        assert!(!is_counter("node_load1"));
        let at = |s: i64| t0() + Duration::seconds(s);
        let rates = counter_rates(&[
            (at(0), 100.0),
            (at(10), 110.0),
            (at(20), 5.0), // restarted
            (at(20), 6.0), // no time passed: dropped
            (at(30), 26.0),
        ]);
        assert_eq!(rates, vec![(at(10), 1.0), (at(20), 0.5), (at(30), 2.0)]);
    }

    #[test]
    fn median_handles_even_and_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
