//! What changed on one component: for an alert about a single host, pod or
//! instance ("CPU above 70 % on node-3"), the question is not *which component*
//! (there is one) but *which of its resources* — CPU, memory, disk, network,
//! processes — moved, by how much, since when.
//!
//! Method: the component's metric shifts (each already significant: past the
//! robust threshold and held, see [`super::metrics`]) are grouped by the resource
//! their metric measures, read from the metric's name as the common exporters
//! name them (node_exporter's `node_cpu_*`, `node_memory_*`, `node_disk_*`,
//! `node_network_*`; cAdvisor's `container_cpu_*`, `container_memory_*`; the
//! client libraries' `process_*`). Resources are ranked by their largest
//! *effect size*: the move relative to the series' own level,
//! `|peak − median| / max(|median|, |peak|·ε)`, because robust deviations only say
//! that a move is real, not how large it is, and a flat series makes any move
//! thousands of deviations. The monitoring plumbing itself (`go_*`, `promhttp_*`,
//! scrape durations) is ranked last: a busy host slows its exporter too.
//!
//! Pure code, no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::metrics::{Direction, MetricShift};
use super::suspects::component_of;

/// A resource of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// CPU time, load, run queue.
    Cpu,
    /// Memory, swap, page faults, OOM kills.
    Memory,
    /// Disk I/O and filesystem space.
    Disk,
    /// Network traffic, sockets, connections.
    Network,
    /// Processes, threads, file descriptors, forks.
    Processes,
    /// Restarts and boots.
    Restarts,
    /// Anything else the component reports.
    Other,
    /// The monitoring agent's own figures (ranked last).
    Monitoring,
}

impl Resource {
    /// A short name for people (`CPU`, `memory`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Resource::Cpu => "CPU",
            Resource::Memory => "memory",
            Resource::Disk => "disk",
            Resource::Network => "network",
            Resource::Processes => "processes",
            Resource::Restarts => "restarts",
            Resource::Other => "other metrics",
            Resource::Monitoring => "monitoring",
        }
    }
}

/// The resource a metric measures, from its name.
pub fn resource_of(metric: &str) -> Resource {
    let m = metric.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if m.starts_with("go_") || m.starts_with("promhttp_") || has(&["scrape", "exporter_build"]) {
        Resource::Monitoring
    } else if has(&["restart", "boot_time", "start_time"]) {
        Resource::Restarts
    } else if has(&[
        "cpu",
        "load1",
        "load5",
        "load15",
        "schedstat",
        "context_switches",
        "pressure_cpu",
    ]) {
        Resource::Cpu
    } else if has(&[
        "memory",
        "mem_",
        "_mem",
        "swap",
        "oom",
        "vmstat_pg",
        "hugepages",
        "pressure_memory",
    ]) {
        Resource::Memory
    } else if has(&[
        "disk",
        "filesystem",
        "_fs_",
        "diskstats",
        "io_time",
        "pressure_io",
        "block",
    ]) {
        Resource::Disk
    } else if has(&[
        "network",
        "net_",
        "_net",
        "tcp",
        "udp",
        "sockstat",
        "conntrack",
        "netstat",
        "receive",
        "transmit",
    ]) {
        Resource::Network
    } else if has(&[
        "procs",
        "processes",
        "threads",
        "forks",
        "fds",
        "file_descriptors",
        "process_",
    ]) {
        Resource::Processes
    } else {
        Resource::Other
    }
}

/// One resource of the subject that changed, with its strongest series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceFinding {
    /// Which resource.
    pub resource: Resource,
    /// The strongest series' metric.
    pub metric: String,
    /// Its other labels.
    pub labels: BTreeMap<String, String>,
    /// Its values are a per-second rate of a counter.
    #[serde(default)]
    pub rate: bool,
    /// Its baseline median.
    pub baseline: f64,
    /// The incident value furthest from it.
    pub peak: f64,
    /// Which way it moved.
    pub direction: Direction,
    /// The move relative to the series' level (1.0 = by as much as its level).
    pub effect: f64,
    /// When it began.
    pub started_at: DateTime<Utc>,
    /// Series of this resource that moved.
    pub series: usize,
}

/// What changed on one component, its resources largest move first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectFindings {
    /// The component (host, pod or service) the alert is about.
    pub component: String,
    /// Its resources that moved, largest effect first.
    pub findings: Vec<ResourceFinding>,
}

/// A subject's series labels without those that name the subject itself
/// (`instance`, `job`, `node`, `host`): what tells its series apart.
pub fn own_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "instance" | "job" | "node" | "host"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Relative floor of the level an effect is measured against, so a series that
/// was flat at zero counts its move as 1/ε at most.
const LEVEL_FLOOR: f64 = 0.01;

/// The move of `shift` relative to its level (see the module documentation).
pub fn effect_size(shift: &MetricShift) -> f64 {
    let moved = (shift.peak - shift.baseline_median).abs();
    let level = shift
        .baseline_median
        .abs()
        .max(LEVEL_FLOOR * shift.peak.abs())
        .max(f64::MIN_POSITIVE);
    moved / level
}

/// True when `shift`'s series belongs to `subject` (a host matches with or
/// without its port).
fn belongs(shift: &MetricShift, subject: &str) -> bool {
    let bare = |s: &str| s.rsplit_once(':').map_or(s, |(h, _)| h).to_owned();
    let subject_bare = bare(subject);
    if let Some((_, name, pod)) = component_of(&shift.labels)
        && (name == subject || bare(&name) == subject_bare || pod.as_deref() == Some(subject))
    {
        return true;
    }
    ["instance", "node", "host", "hostname", "pod"]
        .iter()
        .filter_map(|k| shift.labels.get(*k))
        .any(|v| v == subject || bare(v) == subject_bare)
}

/// The resource an alert is about, read from its expression, name and summary
/// (`rate(node_cpu_seconds_total…)`, `HostLowMemory`, "disk almost full"); `None`
/// when they name none.
pub fn resource_named(texts: &[&str]) -> Option<Resource> {
    texts
        .iter()
        .map(|t| resource_of(t))
        .find(|r| !matches!(r, Resource::Other | Resource::Monitoring))
}

/// The resources of `subject` that moved: the resource the alert is about
/// (`about`) first when it moved, then the others by effect size, largest first
/// (monitoring figures last); empty when none of its series moved. The alert's
/// own resource leads because it is what the engineer was paged for; the others
/// that moved come after it as what else changed.
pub fn subject_findings(
    shifts: &[MetricShift],
    subject: &str,
    about: Option<Resource>,
) -> SubjectFindings {
    let mut best: BTreeMap<Resource, (f64, &MetricShift, usize)> = BTreeMap::new();
    // Only moves that held (a one-sample blip, such as the CPU a memory hog
    // spends touching its pages, is not what changed).
    let held = super::metrics::ShiftConfig::default().threshold;
    for shift in shifts
        .iter()
        .filter(|s| s.score >= held && belongs(s, subject))
    {
        let resource = resource_of(&shift.metric);
        let effect = effect_size(shift);
        let entry = best.entry(resource).or_insert((effect, shift, 0));
        entry.2 += 1;
        if effect > entry.0 {
            entry.0 = effect;
            entry.1 = shift;
        }
    }
    let mut findings: Vec<ResourceFinding> = best
        .into_iter()
        .map(|(resource, (effect, s, series))| ResourceFinding {
            resource,
            metric: s.metric.clone(),
            labels: s.labels.clone(),
            rate: s.rate,
            baseline: s.baseline_median,
            peak: s.peak,
            direction: s.direction,
            effect,
            started_at: s.started_at,
            series,
        })
        .collect();
    findings.sort_by(|a, b| {
        (a.resource == Resource::Monitoring)
            .cmp(&(b.resource == Resource::Monitoring))
            .then_with(|| (Some(b.resource) == about).cmp(&(Some(a.resource) == about)))
            .then_with(|| b.effect.total_cmp(&a.effect))
    });
    SubjectFindings {
        component: subject.to_owned(),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(metric: &str, instance: &str, median: f64, peak: f64, score: f64) -> MetricShift {
        MetricShift {
            metric: metric.into(),
            labels: [("instance".to_string(), instance.to_string())]
                .into_iter()
                .collect(),
            baseline_median: median,
            baseline_spread: 0.01,
            peak,
            score,
            direction: if peak >= median {
                Direction::Up
            } else {
                Direction::Down
            },
            relative_change: 0.0,
            started_at: DateTime::parse_from_rfc3339("2026-11-24T10:30:00Z")
                .unwrap()
                .with_timezone(&Utc),
            held: peak,
            anomalous_points: 4,
            points: vec![],
            appeared: false,
            rate: true,
        }
    }

    #[test]
    fn metric_names_map_to_resources() {
        assert_eq!(resource_of("node_cpu_seconds_total"), Resource::Cpu);
        assert_eq!(resource_of("node_load1"), Resource::Cpu);
        assert_eq!(
            resource_of("container_memory_working_set_bytes"),
            Resource::Memory
        );
        assert_eq!(
            resource_of("node_memory_MemAvailable_bytes"),
            Resource::Memory
        );
        assert_eq!(
            resource_of("node_disk_io_time_seconds_total"),
            Resource::Disk
        );
        assert_eq!(resource_of("node_filesystem_avail_bytes"), Resource::Disk);
        assert_eq!(
            resource_of("node_network_receive_bytes_total"),
            Resource::Network
        );
        assert_eq!(resource_of("node_procs_running"), Resource::Processes);
        assert_eq!(
            resource_of("kube_pod_container_status_restarts_total"),
            Resource::Restarts
        );
        assert_eq!(
            resource_of("node_scrape_collector_duration_seconds"),
            Resource::Monitoring
        );
        assert_eq!(resource_of("go_goroutines"), Resource::Monitoring);
    }

    #[test]
    fn the_largest_move_on_the_subject_comes_first() {
        let shifts = vec![
            // Memory barely moved but its flat series makes it many deviations.
            shift(
                "node_memory_MemAvailable_bytes",
                "web-1:9100",
                2.0e10,
                1.99e10,
                1000.0,
            ),
            shift("node_cpu_seconds_total", "web-1:9100", 0.05, 0.98, 300.0),
            shift("node_procs_running", "web-1:9100", 1.0, 3.0, 40.0),
            shift(
                "node_scrape_collector_duration_seconds",
                "web-1:9100",
                0.001,
                0.5,
                900.0,
            ),
            // Another host's CPU is not the subject's.
            shift("node_cpu_seconds_total", "db-1:9100", 0.05, 5.0, 900.0),
        ];
        let f = subject_findings(&shifts, "web-1", None);
        assert_eq!(f.findings[0].resource, Resource::Cpu, "{f:#?}");
        assert!((f.findings[0].peak - 0.98).abs() < 1e-9);
        assert_eq!(f.findings.last().unwrap().resource, Resource::Monitoring);
        assert_eq!(f.findings.len(), 4);
        // An alert about memory puts memory first when it moved at all.
        let f = subject_findings(&shifts, "web-1", Some(Resource::Memory));
        assert_eq!(f.findings[0].resource, Resource::Memory, "{f:#?}");
    }

    #[test]
    fn the_alert_names_its_resource() {
        assert_eq!(
            resource_named(&[
                "100 * (1 - avg(rate(node_cpu_seconds_total{mode=\"idle\"}[1m])))",
                "X"
            ]),
            Some(Resource::Cpu)
        );
        assert_eq!(
            resource_named(&["", "HostLowMemory"]),
            Some(Resource::Memory)
        );
        assert_eq!(resource_named(&["", "SLOBurn"]), None);
    }
}
