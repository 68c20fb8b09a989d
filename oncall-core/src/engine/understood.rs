//! What the product understood of an alert, shown before an analysis runs and at the
//! top of its result: the parsed alert with the engineer's corrections applied
//! ([`AnalysisOptions`]' `starts_at` and scope lists), the names the data sources know
//! around the alert's time, and plain-words notices (no scope recognised, no time
//! found) that say what to fix.
//!
//! Names in free text are matched against label values the enabled sources report
//! **for the alert's own windows** (an incident replayed from last year finds last
//! year's services), from metric sources (`service`, `app`, `pod`, `namespace`,
//! `node`, `instance`) and log sources (`service`, `pod`, `namespace`), each lookup
//! bounded by [`DISCOVERY_TIMEOUT`]; a source that does not answer adds nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::OnCall;
use super::analyses::{AnalysisOptions, check_alert_input, in_alert_field};
use crate::alert::names::{NameLookups, SourceNames};
use crate::alert::{self, Alert, AlertFormat, KnownNames, Language, Scope};
use crate::analysis::pipeline::enabled_sources;
use crate::analysis::window::{WindowPlan, plan_window};
use crate::connectors::{Connector, DataSource, TimeRange};
use crate::error::Result;
use crate::users::{Role, User};

/// Longest one label lookup may take while names are discovered.
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Most known service names an [`UnderstoodAlert`] offers as suggestions.
pub const MAX_SUGGESTIONS: usize = 200;
/// Confidence below which a time is a guess (`now` when the alert gives none).
const GUESSED_TIME: f64 = 0.5;

/// What was understood of an alert: when it started, what it is about, and the
/// windows an analysis of it compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct UnderstoodAlert {
    /// `alertmanager`, `grafana`, `prometheus_alert` or `text`.
    pub format: String,
    /// The alert's name.
    pub name: String,
    /// When it started (UTC).
    pub starts_at: DateTime<Utc>,
    /// How sure that is, 0..1: 1 read from JSON or set by hand, 0.9 a date-time with a
    /// zone, 0.75 a clock time, 0.7 a relative time, 0.3 no time found (submission time).
    pub starts_at_confidence: f64,
    /// The alert gave a time (false: `starts_at` is when it was submitted).
    pub time_found: bool,
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// Services.
    pub services: Vec<String>,
    /// Pods.
    pub pods: Vec<String>,
    /// Prometheus instances (`host:port`).
    pub instances: Vec<String>,
    /// Hosts and IP addresses.
    pub hosts: Vec<String>,
    /// Some namespace, service, pod, instance, host or job was recognised.
    pub scope_found: bool,
    /// `zh` or `en`: the language of the result.
    pub language: String,
    /// The windows an analysis compares.
    pub window: WindowPlan,
    /// What to fix, in plain words, first the most important (no scope, no time).
    pub notices: Vec<String>,
    /// Services the data sources know around the alert's time (at most 200, sorted),
    /// to pick a scope from.
    pub known_services: Vec<String>,
}

impl UnderstoodAlert {
    /// The view of a parsed (and corrected) alert.
    pub fn new(alert: &Alert, options: &AnalysisOptions, known: &KnownNames) -> Self {
        let language = result_language(alert, options);
        let s = &alert.scope;
        let mut hosts = s.hosts.clone();
        for ip in &s.ips {
            if !hosts.contains(ip) {
                hosts.push(ip.clone());
            }
        }
        let mut known_services = known.services.clone();
        known_services.sort();
        known_services.dedup();
        known_services.truncate(MAX_SUGGESTIONS);
        UnderstoodAlert {
            format: format_name(alert.format).into(),
            name: alert.name.clone(),
            starts_at: alert.starts_at,
            starts_at_confidence: starts_at_confidence(alert),
            time_found: time_found(alert),
            namespace: s.namespace.clone(),
            services: s.services.clone(),
            pods: s.pods.clone(),
            instances: s.instances.clone(),
            hosts,
            scope_found: scope_found(s),
            language: match language {
                Language::Zh => "zh",
                Language::En => "en",
            }
            .into(),
            window: plan_window(alert, options),
            notices: notices(alert, language),
            known_services,
        }
    }
}

fn format_name(f: AlertFormat) -> &'static str {
    match f {
        AlertFormat::Alertmanager => "alertmanager",
        AlertFormat::Grafana => "grafana",
        AlertFormat::PrometheusAlert => "prometheus_alert",
        AlertFormat::Text => "text",
    }
}

fn starts_at_confidence(alert: &Alert) -> f64 {
    alert.confidence.get("starts_at").copied().unwrap_or(1.0)
}

fn time_found(alert: &Alert) -> bool {
    starts_at_confidence(alert) > GUESSED_TIME
}

/// True when the scope names anything at all.
pub fn scope_found(s: &Scope) -> bool {
    s.namespace.is_some()
        || s.job.is_some()
        || !s.services.is_empty()
        || !s.pods.is_empty()
        || !s.instances.is_empty()
        || !s.hosts.is_empty()
        || !s.ips.is_empty()
}

/// The language results are written in: the one asked for, else the alert's.
pub fn result_language(alert: &Alert, options: &AnalysisOptions) -> Language {
    match options.language.as_deref() {
        Some("zh") => Language::Zh,
        Some("en") => Language::En,
        _ => alert.language,
    }
}

/// Plain-words notices about what was not understood, most important first: no
/// scope (so metrics were not compared and logs were read unscoped), then no time.
pub fn notices(alert: &Alert, language: Language) -> Vec<String> {
    let mut out = Vec::new();
    if !scope_found(&alert.scope) {
        out.push(match language {
            Language::En => "No service, pod, instance or namespace was recognised in the alert, \
                 so no metrics were compared and logs were read without a scope. Name one in \
                 the alert (for example `service=checkout`, or a service the data sources \
                 know) or set the scope before starting."
                .to_owned(),
            Language::Zh => "告警中没有识别出服务、Pod、实例或命名空间，因此没有比较指标，日志也未按范围筛选。\
                 请在告警中写明（例如 `service=checkout`，或数据源中已有的服务名），或在开始前填写范围。"
                .to_owned(),
        });
    }
    if !time_found(alert) {
        out.push(match language {
            Language::En => format!(
                "No time was found in the alert: it was taken to start when it was submitted \
                 ({} UTC). Write the time with its date and zone (for example \
                 `2023-01-29 10:05 UTC`) or set it before starting.",
                alert.starts_at.format("%Y-%m-%d %H:%M")
            ),
            Language::Zh => format!(
                "告警中没有找到时间：按提交时间（UTC {}）处理。请写明日期、时间和时区（例如 \
                 `2023-01-29 18:05 北京时间`），或在开始前填写时间。",
                alert.starts_at.format("%Y-%m-%d %H:%M")
            ),
        });
    }
    out
}

/// Applies the engineer's corrections to a parsed alert: a start time and scope
/// lists given in the options replace what the alert said (confidence 1).
pub fn apply_corrections(options: &AnalysisOptions, alert: &mut Alert) {
    if let Some(t) = options.starts_at {
        alert.starts_at = t;
        alert.confidence.insert("starts_at".into(), 1.0);
    }
    let mut set = |key: &str, target: &mut Vec<String>, given: &Option<Vec<String>>| {
        if let Some(values) = given {
            *target = clean(values);
            if target.is_empty() {
                alert.confidence.remove(key);
            } else {
                alert.confidence.insert(key.into(), 1.0);
            }
        }
    };
    set("services", &mut alert.scope.services, &options.services);
    set("pods", &mut alert.scope.pods, &options.pods);
    set("instances", &mut alert.scope.instances, &options.instances);
    if let Some(ns) = &options.namespace {
        let ns = ns.trim();
        alert.scope.namespace = (!ns.is_empty()).then(|| ns.to_owned());
        if ns.is_empty() {
            alert.confidence.remove("namespace");
        } else {
            alert.confidence.insert("namespace".into(), 1.0);
        }
    }
}

fn clean(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

/// Parses an alert the way an analysis does: a first reading gives its time, the
/// names the sources know around that time are discovered (free text only: JSON
/// alerts name their scope in labels), a second reading matches them; then the
/// corrections in `options` are applied.
pub(crate) async fn understand(
    input: &Value,
    sources: &[(DataSource, Arc<dyn Connector>)],
    options: &AnalysisOptions,
    now: DateTime<Utc>,
    lookups: &NameLookups,
) -> Result<(Alert, KnownNames, Vec<(String, SourceNames)>)> {
    let mut parsed = alert::parse(input, &KnownNames::default(), now)?;
    let mut known = KnownNames::default();
    let mut per_source = Vec::new();
    if input.is_string() && !sources.is_empty() {
        apply_corrections(options, &mut parsed);
        let plan = plan_window(&parsed, options);
        // An hour more of baseline: quiet services still show up.
        if let Ok(range) = TimeRange::new(
            plan.baseline_start - chrono::Duration::hours(1),
            plan.incident_end,
        ) {
            let asks = sources
                .iter()
                .map(|(ds, conn)| lookups.names(ds, conn.clone(), &range));
            let found = futures_util::future::join_all(asks).await;
            for ((ds, _), f) in sources.iter().zip(found) {
                known.services.extend(f.names.services.iter().cloned());
                known.pods.extend(f.names.pods.iter().cloned());
                known.namespaces.extend(f.names.namespaces.iter().cloned());
                known.hosts.extend(f.names.hosts.iter().cloned());
                known.instances.extend(f.names.instances.iter().cloned());
                per_source.push((ds.name.clone(), f));
            }
            for list in [
                &mut known.services,
                &mut known.pods,
                &mut known.namespaces,
                &mut known.hosts,
                &mut known.instances,
            ] {
                list.retain(|v| !v.trim().is_empty());
                list.sort();
                list.dedup();
            }
        }
        parsed = alert::parse(input, &known, now)?;
    }
    apply_corrections(options, &mut parsed);
    Ok((parsed, known, per_source))
}

impl OnCall {
    /// What an analysis of this alert would look at, without starting it
    /// (engineer): its time, scope and windows after the corrections in `options`,
    /// the services the sources know, and notices about what was not understood.
    ///
    /// # Errors
    /// As [`OnCall::submit_analysis`] for input that could never be analysed.
    pub async fn understand_alert(
        &self,
        actor: &User,
        alert: Value,
        options: AnalysisOptions,
    ) -> Result<UnderstoodAlert> {
        actor.require(Role::Engineer)?;
        options.validate()?;
        check_alert_input(&alert)?;
        let sources = enabled_sources(self).await?;
        let (parsed, known, _) = understand(&alert, &sources, &options, Utc::now(), &self.names)
            .await
            .map_err(in_alert_field)?;
        Ok(UnderstoodAlert::new(&parsed, &options, &known))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn parsed(text: &str) -> Alert {
        let known = KnownNames {
            services: vec!["checkout".into()],
            ..KnownNames::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        alert::parse(&Value::String(text.into()), &known, now).unwrap()
    }

    #[test]
    fn no_scope_is_the_first_notice_in_the_alerts_language() {
        let a = parsed("5xx everywhere");
        let n = notices(&a, Language::En);
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(
            n[0].starts_with("No service, pod, instance or namespace"),
            "{n:?}"
        );
        assert!(n[0].contains("set the scope"), "{n:?}");
        assert!(n[1].starts_with("No time was found"), "{n:?}");
        let n = notices(&parsed("到处 5xx，10 分钟前"), Language::Zh);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].starts_with("告警中没有识别出服务"), "{n:?}");
        assert!(notices(&parsed("checkout 5xx since 10:32"), Language::En).is_empty());
    }

    #[test]
    fn corrections_replace_what_the_alert_said() {
        let mut a = parsed("checkout 5xx since 10:32");
        let at = Utc.with_ymd_and_hms(2023, 1, 29, 10, 5, 0).unwrap();
        let options = AnalysisOptions {
            starts_at: Some(at),
            services: Some(vec![
                " ts-ui-dashboard ".into(),
                "ts-ui-dashboard".into(),
                "".into(),
            ]),
            namespace: Some("train-ticket".into()),
            ..AnalysisOptions::default()
        };
        apply_corrections(&options, &mut a);
        assert_eq!(a.starts_at, at);
        assert_eq!(a.confidence["starts_at"], 1.0);
        assert_eq!(a.scope.services, vec!["ts-ui-dashboard"]);
        assert_eq!(a.scope.namespace.as_deref(), Some("train-ticket"));
        let view = UnderstoodAlert::new(&a, &options, &KnownNames::default());
        assert!(view.scope_found && view.time_found && view.notices.is_empty());
        assert_eq!(view.window.alert_start, at);
        // An empty list clears the scope: the notice comes back.
        let clear = AnalysisOptions {
            services: Some(vec![]),
            namespace: Some(" ".into()),
            ..AnalysisOptions::default()
        };
        apply_corrections(&clear, &mut a);
        assert!(!scope_found(&a.scope));
        assert_eq!(notices(&a, Language::En).len(), 1);
    }
}
