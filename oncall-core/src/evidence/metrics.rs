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
    /// `(peak - median) / spread`: how many robust deviations it moved.
    pub score: f64,
    /// Which way.
    pub direction: Direction,
    /// Relative change of the peak against the median (`+0.5` = 50 % up).
    pub relative_change: f64,
    /// First incident sample past the threshold.
    pub started_at: DateTime<Utc>,
    /// How many incident samples were past the threshold.
    pub anomalous_points: usize,
    /// The series' samples over both windows (`[time, value]`), kept for the
    /// strongest shifts so a person can see the spike; empty for the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// Tuning of [`metric_shifts`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShiftConfig {
    /// A sample is anomalous past this many robust deviations.
    pub threshold: f64,
    /// Floor of the spread, relative to |median|, so flat series need a real move.
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
            min_baseline_points: 5,
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
    let scales = metric_scales(series, window);
    let mut out: Vec<MetricShift> = series
        .iter()
        .filter_map(|s| shift_of(s, window, cfg, metric_scale(&scales, s)))
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Per metric name, the median over its series of |baseline median|: the
/// metric's typical magnitude, so a series that sat at zero is not measured in
/// millionths.
fn metric_scales<'a>(series: &[SeriesInput<'a>], window: &TimeWindow) -> BTreeMap<&'a str, f64> {
    let mut per: BTreeMap<&'a str, Vec<f64>> = BTreeMap::new();
    for s in series {
        let mut baseline: Vec<f64> = s
            .points
            .iter()
            .filter(|(t, v)| window.in_baseline(*t) && v.is_finite())
            .map(|(_, v)| *v)
            .collect();
        if let (Some(name), Some(m)) = (s.labels.get("__name__"), median(&mut baseline)) {
            per.entry(name.as_str()).or_default().push(m.abs());
        }
    }
    per.into_iter()
        .filter_map(|(k, mut v)| median(&mut v).map(|m| (k, m)))
        .collect()
}

fn metric_scale(scales: &BTreeMap<&str, f64>, s: &SeriesInput<'_>) -> f64 {
    s.labels
        .get("__name__")
        .and_then(|n| scales.get(n.as_str()))
        .copied()
        .unwrap_or(0.0)
}

/// Median and robust spread of the baseline samples of `s`. The spread is the
/// largest of 1.4826 × MAD, 1.2533 × the mean absolute deviation (MAD is 0 for a
/// series that is mostly flat with rare spikes; the mean deviation is not) and the
/// relative floors of [`ShiftConfig`] against the series' own median and the
/// metric's typical magnitude `scale`.
fn baseline_of(
    s: &SeriesInput<'_>,
    window: &TimeWindow,
    cfg: &ShiftConfig,
    scale: f64,
) -> Option<(f64, f64)> {
    let mut baseline: Vec<f64> = s
        .points
        .iter()
        .filter(|(t, v)| window.in_baseline(*t) && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    if baseline.len() < cfg.min_baseline_points {
        return None;
    }
    let med = median(&mut baseline)?;
    let mut deviations: Vec<f64> = baseline.iter().map(|v| (v - med).abs()).collect();
    let mean_dev = deviations.iter().sum::<f64>() / deviations.len() as f64;
    let mad = median(&mut deviations)?;
    let spread = (1.4826 * mad)
        .max(1.2533 * mean_dev)
        .max(cfg.min_relative_spread * med.abs())
        .max(cfg.min_relative_spread * scale)
        .max(cfg.min_spread);
    Some((med, spread))
}

fn shift_of(
    s: &SeriesInput<'_>,
    window: &TimeWindow,
    cfg: &ShiftConfig,
    scale: f64,
) -> Option<MetricShift> {
    let (med, spread) = baseline_of(s, window, cfg, scale)?;

    let mut peak: Option<(f64, f64)> = None; // (z, value)
    let mut started_at = None;
    let mut anomalous = 0;
    for (t, v) in s
        .points
        .iter()
        .filter(|(t, v)| window.in_incident(*t) && v.is_finite())
    {
        let z = (v - med) / spread;
        if z.abs() >= cfg.threshold {
            anomalous += 1;
            started_at.get_or_insert(*t);
        }
        if peak.is_none_or(|(pz, _)| z.abs() > pz.abs()) {
            peak = Some((z, *v));
        }
    }
    let (z, value) = peak?;
    let started_at = started_at?;
    let mut labels = s.labels.clone();
    let metric = labels.remove("__name__").unwrap_or_default();
    Some(MetricShift {
        metric,
        labels,
        baseline_median: med,
        baseline_spread: spread,
        peak: value,
        score: z.abs(),
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
        anomalous_points: anomalous,
        points: Vec::new(),
    })
}

/// How far one component stood out from the others on one metric near the onset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricStandout {
    /// Metric name.
    pub metric: String,
    /// Labels of the component's strongest series.
    pub labels: BTreeMap<String, String>,
    /// Its sustained shift: the second largest |robust z| of its samples in the
    /// horizon (one sample alone is a blip), capped at [`Z_CAP`].
    pub z: f64,
    /// `ln(1 + z)` minus the same for the next component on this metric.
    pub margin: f64,
    /// Time of its largest sample deviation.
    pub at: DateTime<Utc>,
}

/// Past this many robust deviations a shift is certain; more says nothing more
/// (and a sparse series' artefacts reach millions).
pub const Z_CAP: f64 = 100.0;

/// For every metric that at least `min_components` components report, the
/// component whose sustained shift in `[window.incident_start, horizon_end]` stands
/// out most from every other component's, with its margin over the next one. A
/// metric on which every component moved says little; one on which a single
/// component moved far says a lot. `component` names the component of a series
/// (`None` skips it). Largest margin first.
pub fn metric_standouts(
    series: &[SeriesInput<'_>],
    window: &TimeWindow,
    horizon_end: DateTime<Utc>,
    cfg: &ShiftConfig,
    min_components: usize,
    component: impl Fn(&BTreeMap<String, String>) -> Option<String>,
) -> Vec<(String, MetricStandout)> {
    let scales = metric_scales(series, window);
    // metric → component → its strongest series
    // ln(1 + z), index of the series, time of its largest deviation.
    type Best = (f64, usize, DateTime<Utc>);
    let mut per: BTreeMap<&str, BTreeMap<String, Best>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        let (Some(name), Some(comp)) = (s.labels.get("__name__"), component(s.labels)) else {
            continue;
        };
        let Some((med, spread)) = baseline_of(s, window, cfg, metric_scale(&scales, s)) else {
            continue;
        };
        let mut zs: Vec<(f64, DateTime<Utc>)> = s
            .points
            .iter()
            .filter(|(t, v)| *t >= window.incident_start && *t <= horizon_end && v.is_finite())
            .map(|(t, v)| (((v - med) / spread).abs().min(Z_CAP), *t))
            .collect();
        zs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (Some(top), Some(second)) = (zs.first(), zs.get(1)) else {
            continue;
        };
        let v = second.0.ln_1p();
        let slot = per
            .entry(name.as_str())
            .or_default()
            .entry(comp)
            .or_insert((v, i, top.1));
        if v > slot.0 {
            *slot = (v, i, top.1);
        }
    }
    let mut out = Vec::new();
    for (metric, comps) in per {
        if comps.len() < min_components.max(2) {
            continue;
        }
        let mut ranked: Vec<(&String, &Best)> = comps.iter().collect();
        ranked.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then_with(|| a.0.cmp(b.0)));
        let (Some(&(comp, &(v, i, at))), Some((_, next))) = (ranked.first(), ranked.get(1)) else {
            continue;
        };
        let margin = v - next.0;
        if margin <= 0.0 {
            continue;
        }
        let mut labels = series.get(i).map(|s| s.labels.clone()).unwrap_or_default();
        labels.remove("__name__");
        out.push((
            comp.clone(),
            MetricStandout {
                metric: metric.to_owned(),
                labels,
                z: v.exp_m1(),
                margin,
                at,
            },
        ));
    }
    out.sort_by(|a, b| b.1.margin.total_cmp(&a.1.margin));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn window() -> TimeWindow {
        TimeWindow {
            baseline_start: t0(),
            incident_start: t0() + Duration::minutes(30),
            incident_end: t0() + Duration::minutes(40),
        }
    }

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
    fn a_step_up_is_found_with_its_start() {
        let l = labels("cpu");
        let pts = series(|m| if m >= 33 { 90.0 } else { 20.0 + (m % 3) as f64 });
        let shifts = metric_shifts(
            &[SeriesInput {
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
    fn short_baselines_and_nans_are_skipped() {
        let l = labels("x");
        let pts: Vec<_> = series(|m| if m < 27 { f64::NAN } else { 5.0 });
        assert!(
            metric_shifts(
                &[SeriesInput {
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
    fn median_handles_even_and_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn one_component_standing_out_on_a_metric_is_found() {
        let names = ["a", "b", "c", "d"];
        let labels: Vec<BTreeMap<String, String>> = names
            .iter()
            .map(|n| {
                [("__name__", "cpu"), ("pod", *n)]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect();
        let pts: Vec<Vec<(DateTime<Utc>, f64)>> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                series(|m| {
                    let noise = 2.0 + ((m * 7 + i as i64) % 3) as f64;
                    match *n {
                        // c saturates right at the incident start.
                        "c" if m >= 30 => 99.0,
                        // d has one blip only.
                        "d" if m == 31 => 60.0,
                        _ => noise,
                    }
                })
            })
            .collect();
        let inputs: Vec<SeriesInput<'_>> = labels
            .iter()
            .zip(&pts)
            .map(|(l, p)| SeriesInput {
                labels: l,
                points: p,
            })
            .collect();
        let out = metric_standouts(
            &inputs,
            &window(),
            t0() + Duration::minutes(35),
            &ShiftConfig::default(),
            3,
            |l| l.get("pod").cloned(),
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].0, "c");
        assert!(out[0].1.margin > 2.0, "{out:?}");
        assert!(out[0].1.z <= Z_CAP);
        // Too few components: nothing.
        assert!(
            metric_standouts(
                &inputs[..2],
                &window(),
                t0() + Duration::minutes(35),
                &ShiftConfig::default(),
                3,
                |l| l.get("pod").cloned(),
            )
            .is_empty()
        );
    }

    #[test]
    fn a_flat_series_with_rare_spikes_is_not_measured_in_millionths() {
        let l = labels("latency");
        // Flat 0 with two spikes in the baseline, then a spike of the same size.
        let pts = series(|m| {
            if m == 5 || m == 20 || m == 33 {
                10.0
            } else {
                0.0
            }
        });
        let shifts = metric_shifts(
            &[SeriesInput {
                labels: &l,
                points: &pts,
            }],
            &window(),
            &ShiftConfig::default(),
        );
        assert!(shifts.iter().all(|s| s.score < 20.0), "{shifts:?}");
    }
}
