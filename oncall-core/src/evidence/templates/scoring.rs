//! Per-window template counts and the burst test, the exact conditional test for two
//! Poisson rates (Przyborowski & Wilenski, Biometrika 1940), behind each template's
//! `new`, `bursting` and `error-level` flags.
//!
//! Each template's root keeps its baseline and incident counts, per service, with the
//! first-seen time, the highest level and a few example lines;
//! [`TemplateMiner::templates`] turns them into [`LogTemplate`]s. A template is new when
//! it appears in the incident window and never in a non-empty baseline, bursting when
//! its rate rose significantly and substantially (see [`BurstTest`]), and error-level
//! when a line was logged at error or worse (or, without levels, its text says so).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::mining::{MinerConfig, TemplateMiner, render};
use super::{LogLevel, LogRecord, TemplateId};

/// How long each window lasted, to compare rates rather than raw counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSpans {
    /// Length of the baseline window in seconds.
    pub baseline_seconds: f64,
    /// Length of the incident window in seconds.
    pub incident_seconds: f64,
}

/// When a template counts as bursting.
///
/// The statistic is the exact conditional test for two Poisson rates: given the
/// template's `n = baseline + incident` lines, if its rate did not change the incident
/// count is Binomial(`n`, `p0`) with `p0 = incident_seconds / (baseline_seconds +
/// incident_seconds)`; the p-value is the upper tail `P(X >= incident)`. It needs no
/// smoothing and stays valid when the baseline count is zero. On top of significance,
/// the effect must be large: the smoothed rate ratio
/// `((incident + s) / incident_seconds) / ((baseline + s) / baseline_seconds)` must
/// reach [`BurstTest::min_rate_ratio`], and the incident count
/// [`BurstTest::min_incident_count`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstTest {
    /// Largest p-value still called a burst. Default 0.001.
    pub max_p_value: f64,
    /// Smallest smoothed incident/baseline rate ratio. Default 2.
    pub min_rate_ratio: f64,
    /// Smallest incident count. Default 3.
    pub min_incident_count: u64,
    /// Pseudo-count `s` added to both counts in the rate ratio. Default 0.5.
    pub smoothing: f64,
}

impl Default for BurstTest {
    fn default() -> Self {
        BurstTest {
            max_p_value: 1e-3,
            min_rate_ratio: 2.0,
            min_incident_count: 3,
            smoothing: 0.5,
        }
    }
}

/// How often one service logged a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCount {
    /// The service (pod, host) as the caller named it; `""` when unknown.
    pub service: String,
    /// Lines in the baseline window.
    pub baseline: u64,
    /// Lines in the incident window.
    pub incident: u64,
}

/// One mined log template with its counts and flags: a piece of log evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogTemplate {
    /// Stable id.
    pub id: TemplateId,
    /// Ids of younger templates merged into this one.
    pub merged_ids: Vec<TemplateId>,
    /// The template text, variables shown as `<*>`.
    pub template: String,
    /// Lines in the baseline window.
    pub baseline_count: u64,
    /// Lines in the incident window.
    pub incident_count: u64,
    /// Counts per service, most incident lines first.
    pub services: Vec<ServiceCount>,
    /// A few lines as logged (each cut at [`MinerConfig::max_example_bytes`]).
    pub examples: Vec<String>,
    /// Earliest time among the lines that carried one.
    pub first_seen: Option<DateTime<Utc>>,
    /// The highest level any of its lines had.
    pub max_level: LogLevel,
    /// Seen in the incident window and never in a non-empty baseline.
    pub is_new: bool,
    /// Its incident rate is significantly and substantially above its baseline rate
    /// (see [`BurstTest`]).
    pub is_bursting: bool,
    /// Logged at error level or worse, or — when no line had a level — its text says
    /// error, exception, fatal, panic, fail, 错误, 异常 or 失败.
    pub is_error_level: bool,
    /// Smoothed incident/baseline rate ratio.
    pub rate_ratio: f64,
    /// p-value of the burst test (1 when the incident count is not above expectation).
    pub burst_p_value: f64,
}

/// Counts and examples of one template; kept up to date on group roots only.
#[derive(Debug, Default)]
pub(super) struct Stats {
    counts: [u64; 2],
    /// `(service index, [baseline, incident])`.
    services: Vec<(u32, [u64; 2])>,
    examples: Vec<String>,
    first_seen: Option<DateTime<Utc>>,
    max_level: LogLevel,
}

impl Stats {
    /// Adds the counts and examples of a template merged into this one.
    pub(super) fn absorb(&mut self, other: Stats, max_examples: usize) {
        self.counts[0] += other.counts[0];
        self.counts[1] += other.counts[1];
        for (service, counts) in other.services {
            match self.services.iter_mut().find(|(s, _)| *s == service) {
                Some((_, c)) => {
                    c[0] += counts[0];
                    c[1] += counts[1];
                }
                None => self.services.push((service, counts)),
            }
        }
        for example in other.examples {
            if self.examples.len() >= max_examples {
                break;
            }
            if !self.examples.contains(&example) {
                self.examples.push(example);
            }
        }
        self.first_seen = match (self.first_seen, other.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_level = self.max_level.max(other.max_level);
    }

    /// Counts one line of `record`'s window, logged by service number `service`: the
    /// window and service counts, the highest level, the earliest time and, while
    /// there is room, the line as an example.
    pub(super) fn count(&mut self, record: &LogRecord<'_>, service: u32, config: &MinerConfig) {
        let max_examples = config.max_examples;
        let max_example_bytes = config.max_example_bytes;
        let w = record.window.index();
        self.counts[w] += 1;
        match self.services.iter_mut().find(|(s, _)| *s == service) {
            Some((_, c)) => c[w] += 1,
            None => {
                let mut c = [0; 2];
                c[w] = 1;
                self.services.push((service, c));
            }
        }
        if record.level > self.max_level {
            self.max_level = record.level;
        }
        if let Some(time) = record.time {
            if self.first_seen.is_none_or(|seen| time < seen) {
                self.first_seen = Some(time);
            }
        }
        if self.examples.len() < max_examples {
            let example = truncate(record.text, max_example_bytes);
            if !self.examples.iter().any(|e| e == example) {
                self.examples.push(example.to_owned());
            }
        }
    }
}

impl TemplateMiner {
    /// Every template with its counts and flags, in id order.
    pub fn templates(&self, spans: &WindowSpans, test: &BurstTest) -> Vec<LogTemplate> {
        let mut merged: Vec<Vec<TemplateId>> = vec![Vec::new(); self.templates.len()];
        for i in 0..self.templates.len() {
            let root = self.root(i as u32);
            if root as usize != i {
                if let Some(m) = merged.get_mut(root as usize) {
                    m.push(TemplateId(i as u32));
                }
            }
        }
        let baseline_seen = self.lines[0] > 0;
        let mut out = Vec::new();
        for (i, t) in self.templates.iter().enumerate() {
            if t.parent as usize != i {
                continue;
            }
            let stats = &t.stats;
            let [baseline, incident] = stats.counts;
            let (rate_ratio, p_value) = burst(baseline, incident, spans, test);
            let mut services: Vec<ServiceCount> = stats
                .services
                .iter()
                .map(|&(s, [b, n])| ServiceCount {
                    service: self
                        .service_names
                        .get(s as usize)
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    baseline: b,
                    incident: n,
                })
                .collect();
            services.sort_by(|a, b| {
                b.incident
                    .cmp(&a.incident)
                    .then(b.baseline.cmp(&a.baseline))
                    .then(a.service.cmp(&b.service))
            });
            let text = render(&t.slots);
            let is_error_level = if stats.max_level == LogLevel::Unknown {
                mentions_error(&text)
            } else {
                stats.max_level.is_error()
            };
            out.push(LogTemplate {
                id: TemplateId(i as u32),
                merged_ids: merged.get(i).cloned().unwrap_or_default(),
                template: text,
                baseline_count: baseline,
                incident_count: incident,
                services,
                examples: stats.examples.clone(),
                first_seen: stats.first_seen,
                max_level: stats.max_level,
                is_new: baseline_seen && baseline == 0 && incident > 0,
                is_bursting: incident >= test.min_incident_count
                    && rate_ratio >= test.min_rate_ratio
                    && p_value <= test.max_p_value,
                is_error_level,
                rate_ratio,
                burst_p_value: p_value,
            });
        }
        out
    }
}

fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn mentions_error(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "error",
        "exception",
        "fatal",
        "panic",
        "fail",
        "错误",
        "异常",
        "失败",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// `(smoothed rate ratio, p-value)` of the burst test described on [`BurstTest`].
fn burst(baseline: u64, incident: u64, spans: &WindowSpans, test: &BurstTest) -> (f64, f64) {
    let positive = |x: f64| if x.is_finite() && x > 0.0 { x } else { 1.0 };
    let tb = positive(spans.baseline_seconds);
    let ti = positive(spans.incident_seconds);
    let s = if test.smoothing.is_finite() && test.smoothing > 0.0 {
        test.smoothing
    } else {
        0.5
    };
    let ratio = ((incident as f64 + s) / ti) / ((baseline as f64 + s) / tb);
    let p0 = ti / (ti + tb);
    (
        ratio,
        binomial_upper_tail(baseline + incident, incident, p0),
    )
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`; 1 when `k` is not above the mean.
fn binomial_upper_tail(n: u64, k: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 || (k as f64) <= n as f64 * p {
        return 1.0;
    }
    let (nf, kf) = (n as f64, k as f64);
    let ln_choose = ln_gamma(nf + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(nf - kf + 1.0);
    let mut term = (ln_choose + kf * p.ln() + (nf - kf) * (1.0 - p).ln()).exp();
    let odds = p / (1.0 - p);
    let mut sum = 0.0;
    let mut j = k;
    // Above the mean the terms shrink monotonically; stop once they no longer matter.
    while j <= n {
        sum += term;
        if term <= sum * 1e-17 || term == 0.0 {
            break;
        }
        term *= (n - j) as f64 / (j + 1) as f64 * odds;
        j += 1;
    }
    sum.clamp(0.0, 1.0)
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, nine terms; ~15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::Window;
    use super::super::test_util::{add, miner, report};
    use super::*;

    #[test]
    fn counts_per_window_and_service() {
        let mut m = miner();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).single();
        let t1 = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).single();
        let mut rec = LogRecord::new("GET /api/orders 200 in 12 ms", Window::Baseline)
            .service("orders")
            .level(LogLevel::Info);
        if let Some(t) = t0 {
            rec = rec.at(t);
        }
        let id = m.add(&rec);
        let mut rec =
            LogRecord::new("GET /api/orders 200 in 15 ms", Window::Incident).service("orders");
        if let Some(t) = t1 {
            rec = rec.at(t);
        }
        m.add(&rec);
        m.add(&LogRecord::new("GET /api/orders 200 in 9 ms", Window::Incident).service("gateway"));
        assert_eq!(m.lines(), [1, 2]);
        let t = report(&m);
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert_eq!(t.id, id);
        assert_eq!((t.baseline_count, t.incident_count), (1, 2));
        assert_eq!(
            t.services,
            vec![
                ServiceCount {
                    service: "orders".into(),
                    baseline: 1,
                    incident: 1
                },
                ServiceCount {
                    service: "gateway".into(),
                    baseline: 0,
                    incident: 1
                },
            ]
        );
        assert_eq!(t.first_seen, t1, "the earliest time, not the first added");
        assert_eq!(t.max_level, LogLevel::Info);
        assert_eq!(t.examples.len(), 3);
    }

    #[test]
    fn examples_are_capped() {
        let mut m = TemplateMiner::new(MinerConfig {
            max_examples: 2,
            max_example_bytes: 9,
            ..MinerConfig::default()
        });
        for i in 0..10 {
            add(&mut m, &format!("request {i} served from cache"));
        }
        let t = report(&m);
        assert_eq!(t[0].examples, vec!["request 0", "request 1"]);
    }

    #[test]
    fn flags_new_bursting_and_error_templates() {
        let mut m = miner();
        // Steady: 30 per baseline (30 min), 10 per incident (10 min): same rate.
        for i in 0..30 {
            m.add(&LogRecord::new(
                &format!("heartbeat {i} ok"),
                Window::Baseline,
            ));
        }
        for i in 0..10 {
            m.add(&LogRecord::new(
                &format!("heartbeat {i} ok"),
                Window::Incident,
            ));
        }
        // Bursting: 3 in baseline, 40 in incident.
        for i in 0..3 {
            m.add(&LogRecord::new(
                &format!("retry {i} of payment call"),
                Window::Baseline,
            ));
        }
        for i in 0..40 {
            m.add(&LogRecord::new(
                &format!("retry {i} of payment call"),
                Window::Incident,
            ));
        }
        // New and error level.
        for i in 0..5 {
            m.add(
                &LogRecord::new(
                    &format!("NullPointerException in OrderService line {i}"),
                    Window::Incident,
                )
                .level(LogLevel::parse("ERROR")),
            );
        }
        // New, no level, but the text says it failed.
        m.add(&LogRecord::new("connection to db failed", Window::Incident));
        let t = report(&m);
        let find = |prefix: &str| t.iter().find(|t| t.template.starts_with(prefix));
        let heartbeat = find("heartbeat");
        let retry = find("retry");
        let npe = find("NullPointerException");
        let db = find("connection to db");
        let (Some(heartbeat), Some(retry), Some(npe), Some(db)) = (heartbeat, retry, npe, db)
        else {
            panic!("templates missing: {t:#?}");
        };
        assert!(!heartbeat.is_new && !heartbeat.is_bursting && !heartbeat.is_error_level);
        assert!((heartbeat.rate_ratio - 1.0).abs() < 0.1);
        assert!(!retry.is_new && retry.is_bursting, "{retry:?}");
        assert!(retry.burst_p_value < 1e-6);
        assert!(npe.is_new && npe.is_bursting && npe.is_error_level);
        assert_eq!(npe.max_level, LogLevel::Error);
        assert!(db.is_new && !db.is_bursting && db.is_error_level);
    }

    #[test]
    fn nothing_is_new_without_a_baseline() {
        let mut m = miner();
        add(&mut m, "cache warmed in 3 s");
        assert!(!report(&m)[0].is_new);
    }

    #[test]
    fn burst_statistic_matches_the_binomial_tail() {
        // P(X >= 3 | n = 3, p = 0.5) = 1/8; P(X >= 9 | n = 10, p = 0.5) = 11/1024.
        assert!((binomial_upper_tail(3, 3, 0.5) - 0.125).abs() < 1e-12);
        assert!((binomial_upper_tail(10, 9, 0.5) - 11.0 / 1024.0).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(10, 2, 0.5), 1.0);
        assert_eq!(binomial_upper_tail(10, 0, 0.5), 1.0);
        // Large counts stay finite and tiny.
        let p = binomial_upper_tail(2_000_000, 1_000_000, 0.25);
        assert!((0.0..1e-100).contains(&p));
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        // Zero-length windows fall back to equal spans instead of dividing by zero.
        let (ratio, p) = burst(
            0,
            5,
            &WindowSpans {
                baseline_seconds: 0.0,
                incident_seconds: f64::NAN,
            },
            &BurstTest::default(),
        );
        assert!(ratio.is_finite() && p.is_finite());
    }

    #[test]
    fn templates_serialize_as_json() {
        let mut m = miner();
        m.add(&LogRecord::new("disk 3 full", Window::Incident).level(LogLevel::Warn));
        let json = serde_json::to_value(report(&m)).unwrap_or_default();
        assert_eq!(json[0]["template"], "disk <*> full");
        assert_eq!(json[0]["id"], 0);
        assert_eq!(json[0]["max_level"], "warn");
        assert_eq!(json[0]["incident_count"], 1);
    }
}
