//! The alert's own expression, evaluated over both windows and shown first: what
//! paged, as a curve, before any evidence of why.
//!
//! Prometheus (and Alertmanager after it) carries the rule's expression in the
//! alert's `generatorURL` (`…/graph?g0.expr=…`). A rule is a value and a
//! comparison (`100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[1m]))) > 70`);
//! querying it whole returns only the samples past the threshold, so the trailing
//! comparison with a number is split off ([`split_threshold`]): the value itself
//! is drawn over the baseline and the incident window, and the threshold is a line
//! and a sentence ("97 at its peak, threshold > 70, baseline 3, past it since
//! 14:02").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::analysis::reduce::CollectedSeries;
use crate::evidence::human_number;
use crate::evidence::metrics::{TimeWindow, median};

/// Series of the alert's expression kept (a rule `by (instance)` over a fleet
/// returns one per instance; the ones past the threshold come first).
pub const MAX_ALERT_SERIES: usize = 10;

/// The rule's expression from the alert's `generatorURL` (`g0.expr`), if any.
pub fn expression(alert: &Alert) -> Option<String> {
    alert
        .generator_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k.ends_with(".expr"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .filter(|e| !e.is_empty())
}

/// A rule's comparison with a number: `> 70`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct Threshold {
    /// `>`, `>=`, `<`, `<=`, `==` or `!=`.
    pub op: String,
    /// The number compared with.
    pub value: f64,
}

impl Threshold {
    /// Whether `v` is past the threshold (the rule's condition holds).
    pub fn holds(&self, v: f64) -> bool {
        match self.op.as_str() {
            ">" => v > self.value,
            ">=" => v >= self.value,
            "<" => v < self.value,
            "<=" => v <= self.value,
            "==" => v == self.value,
            _ => v != self.value,
        }
    }

    /// True when the rule fires on low values (`<`, `<=`): the peak is the lowest.
    fn low(&self) -> bool {
        self.op.starts_with('<')
    }
}

/// Splits a trailing top-level comparison with a number off `expr`: `(value
/// expression, threshold)`. Comparisons inside parentheses, braces (label
/// matchers such as `!=` and `=~`), brackets and strings are not top level; a
/// comparison with another expression (`a > b`) is kept whole.
pub fn split_threshold(expr: &str) -> (String, Option<Threshold>) {
    let bytes = expr.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut last: Option<(usize, usize)> = None; // (start, len) of the last top-level comparison
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            b'>' | b'<' | b'=' | b'!' if depth == 0 => {
                let two = bytes.get(i + 1) == Some(&b'=');
                let op_len = match (c, two) {
                    (b'>' | b'<' | b'=' | b'!', true) => 2,
                    (b'>' | b'<', false) => 1,
                    _ => 0, // `=` or `!` alone (`=~`, `!~` are matchers, inside braces)
                };
                if op_len > 0 {
                    last = Some((i, op_len));
                    i += op_len;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let Some((at, len)) = last else {
        return (expr.trim().to_owned(), None);
    };
    let rhs = expr[at + len..].trim();
    let rhs = rhs.strip_prefix("bool").map_or(rhs, str::trim_start);
    match rhs.parse::<f64>() {
        Ok(value) if value.is_finite() => (
            expr[..at].trim().to_owned(),
            Some(Threshold {
                op: expr[at..at + len].to_owned(),
                value,
            }),
        ),
        _ => (expr.trim().to_owned(), None),
    }
}

/// One series of the alert's expression with what a reader needs of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSeries {
    /// Its labels (an aggregate has only the `by` labels, or none).
    pub labels: BTreeMap<String, String>,
    /// Median over the baseline, when the baseline has samples.
    pub baseline: Option<f64>,
    /// The extreme of the incident window in the rule's direction (the highest for
    /// `>`, the lowest for `<`; the highest without a threshold).
    pub peak: Option<f64>,
    /// Since when the condition held without a break, when it held in the
    /// incident window.
    pub breached_at: Option<DateTime<Utc>>,
    /// The samples over both windows (`[time, value]`), to be drawn.
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// The alert's expression evaluated over the windows, as stored with the evidence
/// (readers get [`crate::engine::AlertQueryView`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertQuery {
    /// The rule's expression as the alert carried it.
    pub expr: String,
    /// What was evaluated: the expression without its threshold.
    pub query: String,
    /// The rule's threshold, when it compares with a number.
    pub threshold: Option<Threshold>,
    /// The metric source it was evaluated on.
    pub source: String,
    /// The series, those past the threshold first.
    pub series: Vec<AlertSeries>,
}

impl AlertQuery {
    /// Describes the series of `expr`'s value (queried without its threshold, see
    /// [`split_threshold`]) over `window`; `None` without series.
    pub fn new(expr: String, series: Vec<CollectedSeries>, window: &TimeWindow) -> Option<Self> {
        let source = series.first()?.source.clone();
        let (query, threshold) = split_threshold(&expr);
        let mut out: Vec<AlertSeries> = series
            .into_iter()
            .map(|s| describe(s.labels, s.points, threshold.as_ref(), window))
            .collect();
        // Past the threshold first (earliest breach first), then by peak.
        let low = threshold.as_ref().is_some_and(Threshold::low);
        out.sort_by(|a, b| {
            let key = |s: &AlertSeries| (s.breached_at.is_none(), s.breached_at);
            key(a).cmp(&key(b)).then_with(|| {
                let (pa, pb) = (a.peak.unwrap_or(f64::NAN), b.peak.unwrap_or(f64::NAN));
                if low {
                    pa.total_cmp(&pb)
                } else {
                    pb.total_cmp(&pa)
                }
            })
        });
        out.truncate(MAX_ALERT_SERIES);
        Some(AlertQuery {
            expr,
            query,
            threshold,
            source,
            series: out,
        })
    }

    /// One sentence on what paged, from the first series: its peak, the threshold,
    /// the baseline and since when it was past the threshold. `None` without
    /// samples in the incident window.
    pub fn sentence(&self, zh: bool) -> Option<String> {
        let s = self.series.first()?;
        let peak = human_number(s.peak?);
        let who = s
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let who = if who.is_empty() {
            String::new()
        } else {
            format!(" ({who})")
        };
        let threshold = self
            .threshold
            .as_ref()
            .map(|t| format!("{} {}", t.op, human_number(t.value)));
        let baseline = s.baseline.map(human_number);
        let since = s.breached_at.map(|t| t.format("%H:%M:%S UTC").to_string());
        Some(if zh {
            let mut parts = vec![format!("告警表达式{who}峰值 {peak}")];
            if let Some(t) = threshold {
                parts.push(format!("阈值 {t}"));
            }
            if let Some(b) = baseline {
                parts.push(format!("基线 {b}"));
            }
            if let Some(at) = since {
                parts.push(format!("自 {at} 起越过阈值"));
            }
            parts.join("，")
        } else {
            let mut parts = vec![format!("The alert's expression{who} peaked at {peak}")];
            if let Some(t) = threshold {
                parts.push(format!("threshold {t}"));
            }
            if let Some(b) = baseline {
                parts.push(format!("baseline {b}"));
            }
            if let Some(at) = since {
                parts.push(format!("past the threshold since {at}"));
            }
            parts.join("; ")
        })
    }
}

fn describe(
    labels: BTreeMap<String, String>,
    points: Vec<(DateTime<Utc>, f64)>,
    threshold: Option<&Threshold>,
    window: &TimeWindow,
) -> AlertSeries {
    let mut base: Vec<f64> = points
        .iter()
        .filter(|(t, v)| *t < window.incident_start && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    let incident: Vec<(DateTime<Utc>, f64)> = points
        .iter()
        .copied()
        .filter(|(t, v)| *t >= window.incident_start && v.is_finite())
        .collect();
    let low = threshold.is_some_and(Threshold::low);
    let peak = incident
        .iter()
        .map(|(_, v)| *v)
        .reduce(|a, b| if low { a.min(b) } else { a.max(b) });
    // The first incident sample past the threshold, then back over the samples
    // before it while the condition held: when this breach began.
    let breached_at = threshold.and_then(|th| {
        let first = points
            .iter()
            .position(|(t, v)| *t >= window.incident_start && th.holds(*v))?;
        let mut start = first;
        while start > 0 && th.holds(points[start - 1].1) {
            start -= 1;
        }
        Some(points[start].0)
    });
    AlertSeries {
        labels,
        baseline: median(&mut base),
        peak,
        breached_at,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn splits_the_trailing_comparison_with_a_number() {
        let (q, t) = split_threshold(
            r#"100*(1-avg by(instance)(rate(node_cpu_seconds_total{mode="idle"}[1m]))) > 70"#,
        );
        assert_eq!(
            q,
            r#"100*(1-avg by(instance)(rate(node_cpu_seconds_total{mode="idle"}[1m])))"#
        );
        assert_eq!(
            t,
            Some(Threshold {
                op: ">".into(),
                value: 70.0
            })
        );
        let (q, t) = split_threshold("up == bool 0");
        assert_eq!(
            (q.as_str(), t.map(|t| (t.op, t.value))),
            ("up", Some(("==".into(), 0.0)))
        );
        let (q, t) =
            split_threshold("node_filesystem_avail_bytes / node_filesystem_size_bytes <= 0.1");
        assert_eq!(
            q,
            "node_filesystem_avail_bytes / node_filesystem_size_bytes"
        );
        assert_eq!(t.unwrap().op, "<=");
    }

    #[test]
    fn keeps_matchers_nested_comparisons_and_expression_comparisons() {
        for e in [
            r#"rate(http_requests_total{code!="200",path=~"/a>b"}[5m])"#,
            "sum(rate(x[5m]) > 3) by (job)",
            "a > b",
            r#"x{msg="> 5"}"#,
        ] {
            assert_eq!(split_threshold(e), (e.to_owned(), None), "{e}");
        }
    }

    #[test]
    fn describes_peak_baseline_and_breach_start() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap();
        let at = |m: i64| t0 + chrono::Duration::minutes(m);
        let window = TimeWindow {
            baseline_start: t0,
            incident_start: at(10),
            incident_end: at(20),
        };
        let values = [
            5.0, 6.0, 5.0, 5.0, 6.0, 5.0, 5.0, 6.0, 80.0, 90.0, 95.0, 97.0, 96.0,
        ];
        let points: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (at(i as i64), *v))
            .collect();
        let series = |instance: &str, points: Vec<(DateTime<Utc>, f64)>| CollectedSeries {
            source: "prom".into(),
            labels: BTreeMap::from([("instance".into(), instance.into())]),
            points,
        };
        let q = AlertQuery::new(
            "cpu > 70".into(),
            vec![
                series("idle:9100", points.iter().map(|(t, _)| (*t, 3.0)).collect()),
                series("busy:9100", points.clone()),
            ],
            &window,
        )
        .unwrap();
        assert_eq!((q.query.as_str(), q.source.as_str()), ("cpu", "prom"));
        let s = &q.series[0];
        assert_eq!(
            s.labels["instance"], "busy:9100",
            "the breaching series comes first"
        );
        assert_eq!(s.peak, Some(97.0));
        assert_eq!(
            s.baseline,
            Some(5.5),
            "the breach began before the incident window"
        );
        // Past 70 from minute 8 (before the incident window) without a break.
        assert_eq!(s.breached_at, Some(at(8)));
        assert_eq!(q.series[1].breached_at, None);
        let text = q.sentence(false).unwrap();
        assert!(
            text.contains("peaked at 97") && text.contains("> 70") && text.contains("baseline 5"),
            "{text}"
        );
        assert!(text.contains("10:08:00"), "{text}");
    }
}
