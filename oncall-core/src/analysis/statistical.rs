//! The statistical analyzer: names the root cause from the evidence alone, with no
//! LLM. It is the embedded default and the fallback when an LLM fails.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::reduce::Evidence;
use crate::alert::{Alert, Language};
use crate::evidence::metrics::Direction;
use crate::evidence::resources::Resource;
use crate::evidence::suspects::{EvidenceKind, Suspect, errors_against_usual, surprise};
use crate::evidence::templates::{GIST_CHARS, gist};
use chrono::{DateTime, Utc};

use crate::evidence::human_number;
use crate::tickets::Severity;

/// One piece of evidence in a result (SPEC §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct EvidenceItem {
    /// Data source it came from.
    pub source: String,
    /// `log` or `metric`.
    pub kind: String,
    /// What it shows.
    pub detail: String,
    /// The query behind it, to run again.
    pub query: Option<String>,
}

/// A suspect as a result lists it (SPEC §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ResultSuspect {
    /// Service, pod or host.
    pub component: String,
    /// `service`, `pod` or `host`.
    pub kind: String,
    /// 0..1.
    pub score: f64,
    /// Why.
    pub reasons: Vec<String>,
}

/// The result of an analysis (SPEC §5); also the JSON an LLM must produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct AnalysisResult {
    /// One paragraph.
    pub summary: String,
    /// The most probable cause.
    pub root_cause: String,
    /// 0..1.
    pub confidence: f64,
    /// P0..P3.
    pub severity: Severity,
    /// What supports it.
    pub evidence: Vec<EvidenceItem>,
    /// Ranked suspects.
    pub suspects: Vec<ResultSuspect>,
    /// Ordered remediation steps.
    pub suggestions: Vec<String>,
}

/// Where each kind of evidence came from, for the `source`/`query` of items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceSources {
    /// Name and query of the log source(s).
    pub logs: Option<(String, String)>,
    /// Name and query of the metric source(s).
    pub metrics: Option<(String, String)>,
}

fn kind_name(s: &Suspect) -> &'static str {
    match s.kind {
        crate::evidence::suspects::ComponentKind::Service => "service",
        crate::evidence::suspects::ComponentKind::Pod => "pod",
        crate::evidence::suspects::ComponentKind::Host => "host",
    }
}

/// Builds the result from the evidence.
pub fn analyze(
    alert: &Alert,
    evidence: &Evidence,
    language: Language,
    sources: &EvidenceSources,
) -> AnalysisResult {
    let zh = language == Language::Zh;
    let suspects: Vec<ResultSuspect> = evidence
        .suspects
        .iter()
        .map(|s| ResultSuspect {
            component: s.component.clone(),
            kind: kind_name(s).into(),
            score: (s.score * 1000.0).round() / 1000.0,
            reasons: s.reasons.clone(),
        })
        .collect();

    let mut items = Vec::new();
    // What paged comes first.
    let paged = evidence.alert_query.as_ref().and_then(|q| {
        let sentence = q.sentence(zh)?;
        items.push(EvidenceItem {
            source: q.source.clone(),
            kind: "alert".into(),
            detail: sentence.clone(),
            query: Some(q.query.clone()),
        });
        Some(sentence + if zh { "。" } else { "." })
    });
    let paged = paged.unwrap_or_default();
    let (log_source, log_query) = sources.logs.clone().unwrap_or_default();
    for t in evidence
        .log_templates
        .iter()
        .filter(|t| t.is_new || t.is_bursting)
        .take(5)
    {
        let services: Vec<&str> = t
            .services
            .iter()
            .filter(|s| s.incident > 0)
            .map(|s| s.service.as_str())
            .take(3)
            .collect();
        let detail = if zh {
            format!(
                "{}日志模板 \"{}\"：告警窗口 {} 次，基线 {} 次（服务：{}）",
                if t.is_new {
                    "新出现的"
                } else {
                    "激增的"
                },
                t.template,
                t.incident_count,
                t.baseline_count,
                services.join(", ")
            )
        } else {
            format!(
                "{} log template \"{}\": {} in the incident window, {} in the baseline (services: {})",
                if t.is_new { "new" } else { "bursting" },
                t.template,
                t.incident_count,
                t.baseline_count,
                services.join(", ")
            )
        };
        items.push(EvidenceItem {
            source: log_source.clone(),
            kind: "log".into(),
            detail,
            query: Some(log_query.clone()).filter(|q| !q.is_empty()),
        });
    }
    let (metric_source, _) = sources.metrics.clone().unwrap_or_default();
    for m in evidence.metric_shifts.iter().take(5) {
        let (series, unit) = series_text(&m.metric, &m.labels, m.rate);
        let up = m.direction == Direction::Up;
        let (b, p) = (human_number(m.baseline_median), human_number(m.peak));
        let at = when(m.started_at, alert.starts_at, zh);
        let detail = match (zh, m.appeared) {
            (true, true) => format!("{series} 出现：基线为 0，升至 {p}{unit}，始于 {at}"),
            (true, false) => format!(
                "{series} 从 {b}{unit} {}至 {p}{unit}，始于 {at}",
                if up { "升" } else { "降" }
            ),
            (false, true) => format!("{series} appeared: 0 in the baseline, {p}{unit} from {at}"),
            (false, false) => format!(
                "{series} {} from {b}{unit} to {p}{unit} from {at}",
                if up { "rose" } else { "fell" }
            ),
        };
        items.push(EvidenceItem {
            source: metric_source.clone(),
            kind: "metric".into(),
            detail,
            query: Some(if m.rate {
                format!("rate({}[5m])", promql_selector(&m.metric, &m.labels))
            } else {
                series
            }),
        });
    }

    let top = evidence.suspects.first();
    let second = evidence.suspects.get(1).map_or(0.0, |s| s.score);
    let confidence = top.map_or(0.0, |t| {
        let margin = if t.score > 0.0 {
            (t.score - second) / t.score
        } else {
            0.0
        };
        (0.25 + 0.6 * margin * t.score.min(1.0)).clamp(0.05, 0.95)
    });
    let confidence = (confidence * 100.0).round() / 100.0;

    let (summary, root_cause) = match top {
        Some(t) => {
            let head = headline(t, evidence, alert, zh);
            let others: Vec<&str> = evidence
                .suspects
                .iter()
                .skip(1)
                .take(2)
                .map(|s| s.component.as_str())
                .collect();
            let looked = if zh {
                format!(
                    "共检查了 {} 行日志、{} 条指标序列。",
                    evidence.log_lines, evidence.series
                )
            } else {
                format!(
                    "Looked at {} log lines and {} metric series.",
                    evidence.log_lines, evidence.series
                )
            };
            let others = match (others.is_empty(), zh) {
                (true, _) => String::new(),
                (false, true) => format!("其次可疑：{}。", others.join("、")),
                (false, false) => format!("Next suspects: {}.", others.join(", ")),
            };
            let notes = coverage_notes(evidence, zh).join(" ");
            (
                [
                    head.clone() + if zh { "。" } else { "." },
                    paged,
                    others,
                    looked,
                    notes,
                ]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
                head,
            )
        }
        None => {
            let notes = std::iter::once(paged)
                .chain(coverage_notes(evidence, zh))
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if zh {
                (
                    format!(
                        "告警「{}」的时间窗口内未发现明显异常（{} 行日志、{} 条指标序列）。{notes}",
                        alert.name, evidence.log_lines, evidence.series
                    )
                    .trim_end()
                    .to_owned(),
                    "未能确定根因：证据不足".to_owned(),
                )
            } else {
                (
                    format!(
                        "Nothing stands out around \"{}\" ({} log lines, {} metric series looked at). {notes}",
                        alert.name, evidence.log_lines, evidence.series
                    )
                    .trim_end()
                    .to_owned(),
                    "Undetermined: not enough evidence".to_owned(),
                )
            }
        }
    };

    AnalysisResult {
        summary,
        root_cause,
        confidence,
        severity: alert.severity.unwrap_or(Severity::P2),
        evidence: items,
        suspects,
        suggestions: suggestions(top, evidence, zh),
    }
}

/// When `t` was, for people: the clock time (UTC) and how far from the alert.
pub fn when(t: DateTime<Utc>, alert: DateTime<Utc>, zh: bool) -> String {
    let minutes = (alert - t).num_seconds() as f64 / 60.0;
    let clock = t.format("%H:%M:%S");
    let m = minutes.abs().round();
    match (m == 0.0, minutes > 0.0, zh) {
        (true, _, false) => format!("{clock} UTC, as the alert fired"),
        (true, _, true) => format!("{clock} UTC（告警触发时）"),
        (false, true, false) => format!("{clock} UTC, {m} min before the alert"),
        (false, true, true) => format!("{clock} UTC（告警前 {m} 分钟）"),
        (false, false, false) => format!("{clock} UTC, {m} min after the alert"),
        (false, false, true) => format!("{clock} UTC（告警后 {m} 分钟）"),
    }
}

/// The root cause in plain words: who, what changed, since when, by how much,
/// from the structured evidence behind the top suspect's strongest reason.
pub fn headline(t: &Suspect, evidence: &Evidence, alert: &Alert, zh: bool) -> String {
    let c = &t.component;
    let since = |at: Option<DateTime<Utc>>| {
        at.map(|at| {
            if zh {
                format!("，始于 {}", when(at, alert.starts_at, true))
            } else {
                format!(" since {}", when(at, alert.starts_at, false))
            }
        })
        .unwrap_or_default()
    };
    let fallback = || {
        let first = t.reasons.first().cloned().unwrap_or_default();
        match (zh, t.lead) {
            (false, Some(EvidenceKind::Templates)) => {
                format!("{c} is logging more errors: {first}")
            }
            (true, Some(EvidenceKind::Templates)) => format!("{c} 报错增多：{first}"),
            (true, _) => format!("{c} 异常：{first}"),
            (false, _) => format!("{c} is behaving differently: {first}"),
        }
    };
    match t.lead {
        Some(EvidenceKind::Resources) => {
            let Some(f) = evidence.subject.as_ref().and_then(|s| s.findings.first()) else {
                return fallback();
            };
            let (series, unit) = series_text(
                &f.metric,
                &crate::evidence::resources::own_labels(&f.labels),
                f.rate,
            );
            let (b, p) = (human_number(f.baseline), human_number(f.peak));
            let up = f.direction == Direction::Up;
            if zh {
                format!(
                    "{c} 的{}{}：{series} 从 {b}{unit} {}到 {p}{unit}{}",
                    f.resource.label(),
                    if up { "升高" } else { "下降" },
                    if up { "升" } else { "降" },
                    since(Some(f.started_at))
                )
            } else {
                format!(
                    "{} on {c} {}: {series} went from {b}{unit} to {p}{unit}{}",
                    f.resource.label(),
                    if up { "rose" } else { "fell" },
                    since(Some(f.started_at))
                )
            }
        }
        Some(EvidenceKind::Latency) => {
            let Some(e) = evidence
                .latency
                .iter()
                .find(|l| &l.service == c)
                .and_then(|l| l.slowed.first())
            else {
                return fallback();
            };
            let step = if e.caller == e.callee {
                if zh {
                    "自身处理".to_owned()
                } else {
                    "its own work".to_owned()
                }
            } else if zh {
                format!("到 {} 的下一步", e.callee)
            } else {
                format!("the step from it to {}", e.callee)
            };
            if zh {
                format!(
                    "{c} 变慢了{}：{step}耗时 {:.0} ms，平时 {:.0} ms（{} 个请求的中位数）",
                    since(t.first_anomaly_at),
                    e.incident_ms,
                    e.baseline_ms,
                    e.requests
                )
            } else {
                format!(
                    "{c} got slower{}: {step} takes {:.0} ms instead of {:.0} ms (median of {} requests)",
                    since(t.first_anomaly_at),
                    e.incident_ms,
                    e.baseline_ms,
                    e.requests
                )
            }
        }
        Some(EvidenceKind::Graph) => {
            let Some(e) = evidence
                .service_graph
                .as_ref()
                .and_then(|g| g.suspects.iter().find(|s| &s.service == c))
                .and_then(|s| s.incoming.first())
            else {
                return fallback();
            };
            let (b, n) = e.readable();
            match (zh, e.what != "errors") {
                (true, true) => format!(
                    "{c} 变慢了{}：{} 调用它耗时 {n}，平时 {b}；它对下游的调用正常",
                    since(t.first_anomaly_at),
                    e.client
                ),
                (true, false) => format!(
                    "{c} 开始出错{}：{} 调用它的失败率 {n}，平时 {b}；它对下游的调用正常",
                    since(t.first_anomaly_at),
                    e.client
                ),
                (false, true) => format!(
                    "{c} got slower{}: {}'s calls to it take {n} instead of {b}, while its own calls are fine",
                    since(t.first_anomaly_at),
                    e.client
                ),
                (false, false) => format!(
                    "{c} started failing{}: {n} of {}'s calls to it fail instead of {b}, while its own calls are fine",
                    since(t.first_anomaly_at),
                    e.client
                ),
            }
        }
        Some(EvidenceKind::Origins) => {
            let Some(o) = evidence.error_origins.iter().find(|o| &o.service == c) else {
                return fallback();
            };
            if zh {
                format!(
                    "{c} 开始出错{}：告警窗口内 {} 个失败请求的第一个错误出在它这里（基线 {} 个）",
                    since(t.first_anomaly_at),
                    o.incident,
                    o.baseline
                )
            } else {
                format!(
                    "{c} started failing{}: the first error of {} failing requests came from it (baseline {})",
                    since(t.first_anomaly_at),
                    o.incident,
                    o.baseline
                )
            }
        }
        Some(EvidenceKind::Missing) => {
            let Some(m) = evidence.missing_steps.iter().find(|m| &m.service == c) else {
                return fallback();
            };
            if zh {
                format!(
                    "{c} 不再正常响应 {} 的调用：它平时随后记录的日志在告警窗口内只出现 {} 次，按基线应有约 {:.0} 次",
                    m.after_service, m.seen, m.expected
                )
            } else {
                format!(
                    "{c} stopped answering {}'s calls as usual: the line it logs after them appeared {} time(s) where {} are usual",
                    m.after_service,
                    m.seen,
                    crate::evidence::suspects::usual_count(m.expected)
                )
            }
        }
        Some(EvidenceKind::Paths) => {
            let Some(d) = evidence.path_divergences.iter().find(|d| &d.service == c) else {
                return fallback();
            };
            if zh {
                format!(
                    "{c} 之后请求改走了平时不走的路径：告警窗口内 {} 个请求中有 {} 个",
                    d.compared, d.requests
                )
            } else {
                format!(
                    "requests take an unusual path after {c}: {} of {} in the incident window",
                    d.requests, d.compared
                )
            }
        }
        Some(EvidenceKind::Templates) => {
            // The component's error template that stands out most against its
            // baseline (the same excess its reason was ranked by).
            let ratio = evidence
                .log_window
                .or(evidence.window)
                .map_or(1.0, |w| w.incident_over_baseline());
            let best = evidence
                .log_templates
                .iter()
                .filter(|l| l.is_error_level)
                .filter_map(|l| {
                    let sc = l
                        .services
                        .iter()
                        .find(|s| &s.service == c && s.incident > 0)?;
                    Some((l, sc, surprise(sc.incident, sc.baseline, ratio)))
                })
                .max_by(|a, b| a.2.total_cmp(&b.2));
            let Some((l, sc, _)) = best else {
                return fallback();
            };
            let example = l.examples.first().unwrap_or(&l.template);
            let said = gist(example, GIST_CHARS);
            let expected = sc.baseline as f64 * ratio;
            let since = since(l.first_seen.or(t.first_anomaly_at));
            let counts = errors_against_usual(sc.incident, expected, zh);
            match (zh, sc.baseline == 0) {
                (true, true) => format!("{c} 出现新错误{since}：{counts}，“{said}”"),
                (true, false) => format!("{c} 报错增多{since}：{counts}，“{said}”"),
                (false, true) => {
                    format!("{c} started logging a new error{since}: \"{said}\", {counts}")
                }
                (false, false) => {
                    format!("{c} is logging more errors{since}: \"{said}\", {counts}")
                }
            }
        }
        Some(EvidenceKind::Metrics) => {
            let Some(m) = evidence.metric_shifts.iter().find(|m| {
                crate::evidence::suspects::component_of(&m.labels).is_some_and(|(_, n, _)| &n == c)
            }) else {
                return fallback();
            };
            let (name, unit) = series_text(&m.metric, &BTreeMap::new(), m.rate);
            let (b, p) = (human_number(m.baseline_median), human_number(m.peak));
            let up = m.direction == Direction::Up;
            if zh {
                format!(
                    "{c} 的 {name} 从 {b}{unit} {}到 {p}{unit}{}",
                    if up { "升" } else { "降" },
                    since(Some(m.started_at))
                )
            } else {
                format!(
                    "{c}'s {name} {} from {b}{unit} to {p}{unit}{}",
                    if up { "rose" } else { "fell" },
                    since(Some(m.started_at))
                )
            }
        }
        // Memory alone never leads (see crate::memory::prior).
        Some(EvidenceKind::Memory) | None => fallback(),
    }
}

/// What the result rests on when the data covered less than asked: a short
/// baseline, series with none, an incident window not filled yet.
pub fn coverage_notes(evidence: &Evidence, zh: bool) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(window), c) = (evidence.window, &evidence.coverage) else {
        return out;
    };
    let baseline = (window.incident_start - window.baseline_start).num_minutes();
    if let Some(planned) = c.planned_baseline_start {
        let asked = (window.incident_start - planned).num_minutes();
        let had = (window.incident_start - window.baseline_start).num_seconds();
        out.push(if zh {
            format!(
                "历史数据很少：基线只有 {} 之前的 {had} 秒数据（原计划 {asked} 分钟）。",
                window.incident_start.format("%H:%M:%S")
            )
        } else {
            format!(
                "Little history: the baseline is the {had} s of data before {} UTC ({asked} min were asked for).",
                window.incident_start.format("%H:%M:%S")
            )
        });
    } else if let Some(first) = c.first_data_at {
        let missing = (first - window.baseline_start).num_minutes();
        if missing * 10 > baseline {
            let had = (window.incident_start - first).num_seconds().max(0);
            let had = if had < 120 {
                format!("{had} s")
            } else {
                format!("{} min", had / 60)
            };
            out.push(if zh {
                format!(
                    "数据从 {} 才开始：基线只有 {had}（要求 {baseline} 分钟）。",
                    first.format("%H:%M:%S")
                )
            } else {
                format!(
                    "Data begins at {} UTC: the baseline had {had} of the {baseline} min asked for.",
                    first.format("%H:%M:%S")
                )
            });
        }
    }
    if c.trace_lines == 0
        && evidence.service_graph.is_none()
        && evidence.suspects.len() > 1
        && evidence.subject.is_none()
    {
        out.push(if zh {
            "没有调用关系可用（日志无 trace id，也没有服务拓扑指标）：按各组件自身的变化排序。".to_owned()
        } else {
            "No call graph was available (no trace ids in the logs, no service-graph metrics): components are ranked by their own changes.".to_owned()
        });
    }
    if c.series_without_baseline > 0 {
        out.push(if zh {
            format!(
                "{} 条序列在基线内没有足够数据，未参与比较。",
                c.series_without_baseline
            )
        } else {
            format!(
                "{} of {} series had too little baseline to be judged.",
                c.series_without_baseline, c.series_judged
            )
        });
    }
    if let Some(last) = c.last_data_at
        && (window.incident_end - last).num_minutes() >= 2
    {
        out.push(if zh {
            format!("告警窗口尚未结束：数据截至 {}。", last.format("%H:%M:%S"))
        } else {
            format!(
                "The incident window has not filled yet: data up to {} UTC.",
                last.format("%H:%M:%S")
            )
        });
    }
    out
}

/// A series as people read it, with the unit of its values: `rate(name{…})` and
/// `/s` for a counter judged as a rate, `name{…}` and no unit otherwise.
pub fn series_text(
    metric: &str,
    labels: &BTreeMap<String, String>,
    rate: bool,
) -> (String, &'static str) {
    let selector = promql_selector(metric, labels);
    if rate {
        (format!("rate({selector})"), "/s")
    } else {
        (selector, "")
    }
}

/// `name{a="b",...}` for a series.
pub fn promql_selector(
    metric: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    if inner.is_empty() {
        return metric.to_owned();
    }
    format!("{metric}{{{}}}", inner.join(","))
}

/// Surprise of a missing step from which it earns its own suggestion.
const MISSING_STEP_SUGGESTS: f64 = 3.0;

fn suggestions(top: Option<&Suspect>, evidence: &Evidence, zh: bool) -> Vec<String> {
    let Some(top) = top else {
        return vec![if zh {
            "确认告警的服务/命名空间能在数据源中查到，并扩大时间窗口后重试。".into()
        } else {
            "Check that the alert's service/namespace exists in the data sources, widen the window and retry.".into()
        }];
    };
    let c = &top.component;
    let mut out = Vec::new();
    // An alert about one host or pod, answered by what on it moved: where to look
    // on that machine, not in request traces.
    if top.lead == Some(EvidenceKind::Resources) {
        if let Some(f) = evidence.subject.as_ref().and_then(|s| s.findings.first()) {
            out.push(resource_suggestion(f.resource, c, zh));
        }
    }
    let has_new_errors = evidence
        .log_templates
        .iter()
        .any(|t| t.is_new && t.is_error_level && t.services.iter().any(|s| &s.service == c));
    let metric_names: Vec<&str> = evidence
        .metric_shifts
        .iter()
        .filter(|m| {
            crate::evidence::suspects::component_of(&m.labels).is_some_and(|(_, n, _)| &n == c)
        })
        .map(|m| m.metric.as_str())
        .collect();
    let has = |needle: &str| metric_names.iter().any(|m| m.contains(needle));
    if has_new_errors {
        out.push(if zh { format!("查看 {c} 最近的发布或配置变更；新出现的异常多由变更引入，必要时回滚。") } else { format!("Check recent deploys or config changes of {c}; new exceptions usually come with a change — roll back if one lines up.") });
    }
    // A step of the service that stopped following its caller's: the service
    // failed before it logged (its callers' errors need not name it).
    if let Some(m) = evidence
        .missing_steps
        .iter()
        .find(|m| &m.service == c && m.surprise >= MISSING_STEP_SUGGESTS)
    {
        let caller = &m.after_service;
        out.push(if zh { format!("{caller} 调用之后，{c} 平时的日志不再出现：检查 {c} 是否在记录日志之前就抛出了异常或拒绝了请求（调用方的报错不一定指向它），以及它最近的变更。") } else { format!("{c}'s usual log line no longer follows the call from {caller}: look for {c} failing before it logs (an exception on entry, a rejected call; its callers' errors need not name it) and for its recent changes.") });
    }
    let diverged = evidence
        .path_divergences
        .iter()
        .any(|d| &d.service == c && d.requests > 0);
    if diverged && !has_new_errors {
        out.push(if zh { format!("请求在 {c} 之后改走了平时不走的路径：检查 {c} 的返回值与最近的代码变更（没有报错也可能返回了错误的结果）。") } else { format!("Requests leave their usual path right after {c}: check what {c} returns and its recent code changes — a wrong answer logs no error.") });
    }
    if has("cpu") {
        out.push(if zh { format!("{c} CPU 异常：检查 CPU limit 与节点上的争抢，必要时扩容或迁移 Pod。") } else { format!("{c} shows CPU pressure: check its CPU limits and noisy neighbours on the node; scale out or reschedule.") });
    }
    if has("memory") || has("mem") {
        out.push(if zh {
            format!("{c} 内存异常：检查内存泄漏与 OOM 事件。")
        } else {
            format!("{c} shows memory pressure: look for leaks and OOM kills.")
        });
    }
    if has("latency") || has("duration") {
        out.push(if zh { format!("{c} 延迟升高：检查其下游依赖（数据库、缓存、被调用服务）的响应时间。") } else { format!("{c} got slower: check the latency of its dependencies (databases, caches, callees).") });
    }
    if has("success") || has("error") {
        out.push(if zh { format!("{c} 成功率下降：按错误码查看失败请求，定位首个失败的调用。") } else { format!("{c} is failing requests: break failures down by error code and find the first failing call.") });
    }
    // Only where the logs carry trace ids to follow.
    if evidence.coverage.trace_lines > 0 {
        out.push(if zh { format!("在 {c} 的日志中按 trace_id 追踪失败请求，确认错误首次出现的位置。") } else { format!("Follow failing requests by trace id through {c}'s logs to confirm where the first error appears.") });
    }
    out.push(if zh {
        "修复后观察告警指标恢复，并把结论记录到工单。".into()
    } else {
        "After the fix, watch the alerting metric recover and record the finding in the ticket."
            .into()
    });
    out
}

/// What to look at on a host or pod whose `resource` moved.
fn resource_suggestion(resource: Resource, c: &str, zh: bool) -> String {
    match (resource, zh) {
        (Resource::Cpu, false) => format!(
            "On {c}, find what burns the CPU (`top -o %CPU`, `pidstat 5`): a new deploy, a cron job, a runaway loop; then cap it, scale out or move it."
        ),
        (Resource::Cpu, true) => format!(
            "在 {c} 上找出占用 CPU 的进程（`top -o %CPU`、`pidstat 5`）：新发布、定时任务或死循环；然后限制、扩容或迁移。"
        ),
        (Resource::Memory, false) => format!(
            "On {c}, find the processes holding memory (`ps aux --sort=-rss | head`) and any OOM kills (`journalctl -k | grep -i oom`); a steady climb is a leak."
        ),
        (Resource::Memory, true) => format!(
            "在 {c} 上找出占用内存的进程（`ps aux --sort=-rss | head`）并查看 OOM 记录（`journalctl -k | grep -i oom`）；持续上涨多为内存泄漏。"
        ),
        (Resource::Disk, false) => format!(
            "On {c}, see who reads and writes (`iotop -o`, `pidstat -d 5`) and what fills the filesystems (`df -h`, `du -xh / | sort -h | tail`): logs without rotation, dumps, backups."
        ),
        (Resource::Disk, true) => format!(
            "在 {c} 上查看读写来源（`iotop -o`、`pidstat -d 5`）与占满磁盘的内容（`df -h`、`du -xh / | sort -h | tail`）：未轮转的日志、转储、备份。"
        ),
        (Resource::Network, false) => format!(
            "On {c}, look at connections and traffic (`ss -s`, `ss -tnp`, `iftop`): a traffic surge, retransmits, a full conntrack table."
        ),
        (Resource::Network, true) => format!(
            "在 {c} 上查看连接与流量（`ss -s`、`ss -tnp`、`iftop`）：流量突增、重传、conntrack 表满。"
        ),
        (Resource::Processes, false) => format!(
            "On {c}, look for a fork storm or leaking threads and file descriptors (`ps -eLf | wc -l`, `ls /proc/<pid>/fd | wc -l`)."
        ),
        (Resource::Processes, true) => format!(
            "在 {c} 上检查进程/线程暴增或文件句柄泄漏（`ps -eLf | wc -l`、`ls /proc/<pid>/fd | wc -l`）。"
        ),
        (Resource::Restarts, false) => format!(
            "{c} restarted: read why in the previous boot's or container's log (`journalctl -b -1`, `kubectl logs --previous`, `kubectl describe pod`)."
        ),
        (Resource::Restarts, true) => format!(
            "{c} 发生了重启：查看上次启动或上个容器的日志（`journalctl -b -1`、`kubectl logs --previous`、`kubectl describe pod`）。"
        ),
        (_, false) => {
            format!("On {c}, compare what changed around the alert's start: deploys, config, jobs.")
        }
        (_, true) => format!("在 {c} 上对照告警开始前后的变更：发布、配置、任务。"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::paths::{MissingStep, PathDivergence};
    use crate::evidence::suspects::ComponentKind;

    #[test]
    fn a_host_alert_suggests_where_to_look_on_the_host_not_in_traces() {
        use crate::evidence::resources::{ResourceFinding, SubjectFindings};
        let top = Suspect {
            component: "node-3:9100".into(),
            kind: ComponentKind::Host,
            score: 0.9,
            reasons: vec![],
            first_anomaly_at: None,
            pods: vec![],
            lead: Some(EvidenceKind::Resources),
        };
        let mut evidence = Evidence {
            subject: Some(SubjectFindings {
                component: "node-3:9100".into(),
                findings: vec![ResourceFinding {
                    resource: Resource::Cpu,
                    metric: "node_cpu_seconds_total".into(),
                    labels: Default::default(),
                    rate: true,
                    baseline: 0.1,
                    peak: 0.97,
                    direction: Direction::Up,
                    effect: 40.0,
                    started_at: chrono::Utc::now(),
                    series: 4,
                }],
            }),
            ..Evidence::default()
        };
        let en = suggestions(Some(&top), &evidence, false);
        assert!(
            en[0].contains("top -o %CPU") && en[0].contains("node-3:9100"),
            "{en:?}"
        );
        assert!(
            !en.iter().any(|s| s.contains("trace id")),
            "no trace ids to follow: {en:?}"
        );
        let zh = suggestions(Some(&top), &evidence, true);
        assert!(zh[0].contains("CPU") && zh[0].contains("进程"), "{zh:?}");
        // With trace-bearing logs the trace suggestion is back.
        evidence.coverage.trace_lines = 10;
        assert!(
            suggestions(Some(&top), &evidence, false)
                .iter()
                .any(|s| s.contains("trace id"))
        );
    }

    #[test]
    fn requests_leaving_their_path_suggest_checking_what_the_service_returns() {
        let top = Suspect {
            component: "pricing".into(),
            kind: ComponentKind::Service,
            score: 0.8,
            reasons: vec![],
            first_anomaly_at: None,
            pods: vec![],
            lead: None,
        };
        let mut evidence = Evidence::default();
        assert!(
            !suggestions(Some(&top), &evidence, false)
                .iter()
                .any(|s| s.contains("usual path"))
        );
        evidence.path_divergences.push(PathDivergence {
            service: "pricing".into(),
            weight: 12.0,
            requests: 12,
            compared: 40,
            example: None,
        });
        let en = suggestions(Some(&top), &evidence, false);
        assert!(en[0].contains("pricing returns"), "{en:?}");
        let zh = suggestions(Some(&top), &evidence, true);
        assert!(zh[0].contains("返回值"), "{zh:?}");
    }

    #[test]
    fn a_missing_step_suggests_looking_for_failures_before_the_service_logs() {
        let top = Suspect {
            component: "stock".into(),
            kind: ComponentKind::Service,
            score: 0.8,
            reasons: vec![],
            first_anomaly_at: None,
            pods: vec![],
            lead: None,
        };
        let mut evidence = Evidence::default();
        let step = |surprise: f64| MissingStep {
            service: "stock".into(),
            surprise,
            expected: 30.0,
            seen: 0,
            after_service: "orders".into(),
            after: "reserve <*>".into(),
            step: "reserved <*>".into(),
        };
        evidence.missing_steps.push(step(1.5));
        assert!(
            !suggestions(Some(&top), &evidence, false)
                .iter()
                .any(|s| s.contains("before it logs")),
            "a faint shortfall is no reason"
        );
        evidence.missing_steps[0] = step(5.3);
        let en = suggestions(Some(&top), &evidence, false);
        assert!(en[0].contains("the call from orders"), "{en:?}");
        let zh = suggestions(Some(&top), &evidence, true);
        assert!(zh[0].contains("抛出了异常"), "{zh:?}");
    }
}
