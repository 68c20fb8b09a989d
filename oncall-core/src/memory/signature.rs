//! Building an incident [`Signature`] from an analysis' alert and evidence, and
//! turning it into weighted terms.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alert::Alert;
use crate::analysis::reduce::Evidence;
use crate::evidence::metrics::Direction;
use crate::evidence::suspects::{EvidenceKind, component_of, service_of_pod};
use crate::evidence::templates::{MinerConfig, TemplateMiner, WILDCARD};

/// Suspects a signature keeps.
pub const SUSPECTS: usize = 5;
/// Log templates a signature keeps.
pub const TEMPLATES: usize = 12;
/// Metric shifts a signature keeps.
pub const SHIFTS: usize = 12;
/// Longest term kept (longer ones are cut): index keys stay bounded.
pub const MAX_TERM_CHARS: usize = 190;

/// One suspect as remembered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureSuspect {
    /// The component, pods reduced to their service.
    pub component: String,
    /// The kind of evidence behind its strongest reason.
    pub lead: Option<EvidenceKind>,
    /// Its relative score then, 0..1.
    pub score: f64,
}

/// What an incident looked like (see the [module docs](super)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// The alert's name.
    pub alert_name: String,
    /// Scope labels, `key=value`, sorted.
    pub scope: Vec<String>,
    /// Top suspects, best first.
    pub suspects: Vec<SignatureSuspect>,
    /// Hashes (16 hex digits) of the normalized top log templates.
    pub templates: Vec<String>,
    /// Metric shifts as `family/component/up|down`.
    pub shifts: Vec<String>,
}

impl Signature {
    /// The signature of an analysis of `alert` that found `evidence` (taken before
    /// any memory prior was applied, so memory never feeds on itself).
    pub fn of(alert: &Alert, evidence: &Evidence) -> Signature {
        let s = &alert.scope;
        let mut scope: Vec<String> = Vec::new();
        let mut push = |k: &str, v: &str| {
            let v = v.trim();
            if !v.is_empty() {
                let t = format!("{k}={v}");
                if !scope.contains(&t) {
                    scope.push(t);
                }
            }
        };
        for v in &s.services {
            push("service", v);
        }
        for v in &s.pods {
            push("service", &service_of_pod(v));
        }
        for v in &s.hosts {
            push("host", v);
        }
        if let Some(v) = &s.namespace {
            push("namespace", v);
        }
        if let Some(v) = &s.job {
            push("job", v);
        }
        scope.sort();

        let mut suspects: Vec<SignatureSuspect> = Vec::new();
        for sus in &evidence.suspects {
            let component = service_of_pod(&sus.component);
            if suspects.iter().any(|x| x.component == component) {
                continue;
            }
            suspects.push(SignatureSuspect {
                component,
                lead: sus.lead,
                score: sus.score.clamp(0.0, 1.0),
            });
            if suspects.len() == SUSPECTS {
                break;
            }
        }

        let mut miner = TemplateMiner::new(MinerConfig::default());
        let mut templates: Vec<String> = Vec::new();
        for t in evidence
            .log_templates
            .iter()
            .filter(|t| t.incident_count > 0 && (t.is_error_level || t.is_new || t.is_bursting))
        {
            let h = template_hash(&mut miner, &t.template);
            if !templates.contains(&h) {
                templates.push(h);
            }
            if templates.len() == TEMPLATES {
                break;
            }
        }

        let mut shifts: Vec<String> = Vec::new();
        for m in &evidence.metric_shifts {
            let component = component_of(&m.labels).map_or_else(String::new, |(_, n, _)| n);
            let dir = match m.direction {
                Direction::Up => "up",
                Direction::Down => "down",
            };
            let t = format!("{}/{component}/{dir}", metric_family(&m.metric));
            if !shifts.contains(&t) {
                shifts.push(t);
            }
            if shifts.len() == SHIFTS {
                break;
            }
        }

        Signature {
            alert_name: alert.name.trim().to_owned(),
            scope,
            suspects,
            templates,
            shifts,
        }
    }

    /// The signature's terms and their frequencies (weights), each term once.
    ///
    /// Within a field, `alert:`, `scope:`, `tpl:` and `shift:` terms weigh 1 and a
    /// suspect's `suspect:<component>` and `lead:<component>/<kind>` weigh its
    /// relative score (at least 0.1), so the top suspect counts most. Each of the
    /// five fields (alert, scope, suspects, templates, shifts) is then scaled to unit
    /// length, so every kind of fact has the same say however many terms it has:
    /// twelve metric shifts do not drown the one alert name and the top suspect.
    pub fn terms(&self) -> Vec<(String, f64)> {
        let mut fields: [BTreeMap<String, f64>; 5] = Default::default();
        let mut add = |field: usize, t: String, w: f64| {
            let e = fields[field].entry(cut(&t)).or_insert(0.0);
            *e = e.max(w);
        };
        if !self.alert_name.is_empty() {
            add(0, format!("alert:{}", self.alert_name.to_lowercase()), 1.0);
        }
        for s in &self.scope {
            add(1, format!("scope:{s}"), 1.0);
        }
        for s in &self.suspects {
            let w = s.score.clamp(0.1, 1.0);
            add(2, format!("suspect:{}", s.component), w);
            if let Some(k) = s.lead {
                add(2, format!("lead:{}/{}", s.component, kind_name(k)), w);
            }
        }
        for t in &self.templates {
            add(3, format!("tpl:{t}"), 1.0);
        }
        for s in &self.shifts {
            add(4, format!("shift:{s}"), 1.0);
        }
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for field in fields {
            let norm = field.values().map(|w| w * w).sum::<f64>().sqrt();
            if norm > 0.0 {
                for (t, w) in field {
                    out.insert(t, w / norm);
                }
            }
        }
        out.into_iter().collect()
    }

    /// The top suspect's component.
    pub fn top_suspect(&self) -> Option<&str> {
        self.suspects.first().map(|s| s.component.as_str())
    }
}

/// A term in plain words, for "what the two have in common".
pub fn describe_term(term: &str) -> String {
    let (kind, rest) = term.split_once(':').unwrap_or(("", term));
    match kind {
        "alert" => format!("alert {rest}"),
        "scope" => format!("scope {rest}"),
        "suspect" => format!("suspect {rest}"),
        "lead" => format!(
            "{} evidence at {}",
            rest.rsplit('/').next().unwrap_or(""),
            rest.rsplit_once('/').map_or(rest, |(c, _)| c)
        ),
        "tpl" => format!("log template #{rest}"),
        "shift" => {
            let parts: Vec<&str> = rest.split('/').collect();
            match parts.as_slice() {
                [family, component, dir] => format!(
                    "{family} {} at {}",
                    if *dir == "up" { "rose" } else { "fell" },
                    if component.is_empty() { "?" } else { component }
                ),
                _ => rest.to_owned(),
            }
        }
        _ => term.to_owned(),
    }
}

/// The stored name of an evidence kind.
pub fn kind_name(k: EvidenceKind) -> &'static str {
    match k {
        EvidenceKind::Origins => "origins",
        EvidenceKind::Paths => "paths",
        EvidenceKind::Missing => "missing",
        EvidenceKind::Templates => "templates",
        EvidenceKind::Metrics => "metrics",
        EvidenceKind::Latency => "latency",
        EvidenceKind::Resources => "resources",
        EvidenceKind::Graph => "graph",
        EvidenceKind::Memory => "memory",
    }
}

/// The normalized template text (see the [module docs](super)): masked with the
/// miner's masking, every token holding a wildcard made one wildcard, runs of
/// wildcards collapsed, lower-cased.
pub fn normalize_template(miner: &mut TemplateMiner, template: &str) -> String {
    let masked = miner.mask(template);
    let mut out: Vec<&str> = Vec::new();
    for tok in masked.split_whitespace() {
        let tok = if tok.contains(WILDCARD) {
            WILDCARD
        } else {
            tok
        };
        if tok == WILDCARD && out.last() == Some(&WILDCARD) {
            continue;
        }
        out.push(tok);
    }
    out.join(" ").to_lowercase()
}

/// The first 16 hex digits of the SHA-256 of the normalized template.
pub fn template_hash(miner: &mut TemplateMiner, template: &str) -> String {
    let digest = Sha256::digest(normalize_template(miner, template).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A metric's family: its name without `rate(…)`, a `/s` and type or unit suffixes.
pub fn metric_family(metric: &str) -> String {
    let mut m = metric.trim();
    if let Some(inner) = m.strip_prefix("rate(").or_else(|| m.strip_prefix("irate(")) {
        m = inner.split([')', '[']).next().unwrap_or(inner);
    }
    let mut m = m.trim_end_matches("/s").to_owned();
    loop {
        let before = m.len();
        for suffix in [
            "_total",
            "_count",
            "_sum",
            "_bucket",
            "_seconds",
            "_bytes",
            "_percent",
            "_ratio",
            "_millicores",
            "_mib",
            "_rate",
        ] {
            if let Some(s) = m.strip_suffix(suffix)
                && !s.is_empty()
            {
                m = s.to_owned();
            }
        }
        if m.len() == before {
            break;
        }
    }
    m
}

fn cut(t: &str) -> String {
    if t.chars().count() <= MAX_TERM_CHARS {
        t.to_owned()
    } else {
        t.chars().take(MAX_TERM_CHARS).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_across_ids_numbers_and_hosts() {
        let mut m = TemplateMiner::new(MinerConfig::default());
        let a = template_hash(
            &mut m,
            "<*> ERROR c.s.ContactsServiceImpl query failed for 42 on 10.0.0.7:8080",
        );
        let b = template_hash(
            &mut m,
            "<*> ERROR c.s.ContactsServiceImpl query failed for <*> on <*>",
        );
        let c = template_hash(
            &mut m,
            "<*> <*> ERROR c.s.ContactsServiceImpl query failed for 9f3a2c1d-0000-4e5f-8a9b-1234567890ab on db-host-3",
        );
        let d = template_hash(
            &mut m,
            "<*> ERROR c.s.ContactsServiceImpl connection refused",
        );
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.len(), 16);
        assert!(!a.contains("ERROR"), "a hash, not the text");
    }

    #[test]
    fn metric_families_drop_units_and_rates() {
        assert_eq!(metric_family("pod_cpu_usage_rate_percent"), "pod_cpu_usage");
        assert_eq!(metric_family("pod_cpu_usage_millicores"), "pod_cpu_usage");
        assert_eq!(
            metric_family("rate(http_requests_total[1m])"),
            "http_requests"
        );
        assert_eq!(
            metric_family("entry_latency_p99_seconds"),
            "entry_latency_p99"
        );
    }

    #[test]
    fn suspects_weigh_their_scores_and_terms_are_unique() {
        let s = Signature {
            alert_name: "HighErrorRate".into(),
            scope: vec!["service=api".into()],
            suspects: vec![
                SignatureSuspect {
                    component: "db".into(),
                    lead: Some(EvidenceKind::Metrics),
                    score: 1.0,
                },
                SignatureSuspect {
                    component: "api".into(),
                    lead: None,
                    score: 0.02,
                },
            ],
            templates: vec!["00aa".into()],
            shifts: vec!["cpu/db/up".into()],
        };
        let t: BTreeMap<String, f64> = s.terms().into_iter().collect();
        assert_eq!(t["alert:higherrorrate"], 1.0, "a field of one term");
        // suspects: db 1, its lead 1, api floored to 0.1, over their length
        let norm = (1.0f64 + 1.0 + 0.01).sqrt();
        assert!((t["suspect:db"] - 1.0 / norm).abs() < 1e-12);
        assert!((t["lead:db/metrics"] - 1.0 / norm).abs() < 1e-12);
        assert!((t["suspect:api"] - 0.1 / norm).abs() < 1e-12, "floored");
        assert_eq!(t.len(), 7);
        assert_eq!(describe_term("shift:cpu/db/up"), "cpu rose at db");
        assert_eq!(describe_term("lead:db/metrics"), "metrics evidence at db");
    }
}
