//! Offline root-cause evaluation for tuning: reads the scenario files directly
//! (no servers) and runs the same reduce stage as the pipeline. The official,
//! end-to-end benchmark is `scripts/rca-eval`, which goes through real Prometheus
//! and OpenSearch-API servers.
//!
//! `cargo run --release -p oncall-core --example rca_offline -- <scenarios-dir> [lead-minutes]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a tool, not the engine

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use oncall_core::analysis::reduce::{Collected, CollectedLog, CollectedSeries, Findings, findings};
use oncall_core::evidence::metrics::TimeWindow;
use oncall_core::evidence::suspects::{SuspectWeights, service_of_pod};

fn gz_lines(path: &Path) -> impl Iterator<Item = String> {
    let f = std::fs::File::open(path).unwrap();
    BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .map(|l| l.unwrap())
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in s.split("\",") {
        if let Some((k, v)) = part.split_once("=\"") {
            out.insert(
                k.trim_matches(',').to_owned(),
                v.trim_end_matches('"').to_owned(),
            );
        }
    }
    out
}

fn load(dir: &Path) -> (Collected, DateTime<Utc>) {
    let alert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("alert.json")).unwrap()).unwrap();
    let starts: DateTime<Utc> = alert["alerts"][0]["startsAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut series: BTreeMap<String, CollectedSeries> = BTreeMap::new();
    for line in gz_lines(&dir.join("metrics.om.gz")) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (name_labels, rest) = line.split_once("} ").unwrap();
        let (name, labels) = name_labels.split_once('{').unwrap();
        let mut it = rest.split_whitespace();
        let v: f64 = it.next().unwrap().parse().unwrap();
        let ts: f64 = it.next().unwrap().parse().unwrap();
        let key = name_labels.to_owned();
        let s = series.entry(key).or_insert_with(|| {
            let mut l = parse_labels(labels);
            l.insert("__name__".into(), name.into());
            CollectedSeries {
                source: "prom".into(),
                labels: l,
                points: vec![],
            }
        });
        s.points.push((Utc.timestamp_opt(ts as i64, 0).unwrap(), v));
    }
    let mut logs = Vec::new();
    let p = dir.join("logs.jsonl.gz");
    if p.exists() {
        for line in gz_lines(&p) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            let s = |k: &str| v[k].as_str().map(str::to_owned);
            logs.push(CollectedLog {
                source: "es".into(),
                time: v["@timestamp"].as_str().unwrap().parse().unwrap(),
                message: s("message").unwrap_or_default(),
                level: s("level"),
                service: s("service"),
                pod: s("pod"),
                trace_id: s("trace_id"),
            });
        }
    }
    (
        Collected {
            logs,
            series: series.into_values().collect(),
            ..Default::default()
        },
        starts,
    )
}

/// One scenario's findings and its truth.
struct Case {
    name: String,
    truth: String,
    fault: String,
    system: String,
    findings: Findings,
}

/// Rank of the truth among the suspects: the service itself or one of its pods
/// (never a prefix match: `carts-db` is not `carts`).
fn rank_of(suspects: &[oncall_core::evidence::suspects::Suspect], truth: &str) -> Option<usize> {
    suspects
        .iter()
        .position(|s| s.component == truth || service_of_pod(&s.component) == truth)
        .map(|p| p + 1)
}

/// (AC@1 hits, AC@3 hits, summed rank with absent = 11) of `cases` under `w`.
fn score(cases: &[&Case], w: &SuspectWeights) -> (usize, usize, usize) {
    let mut out = (0, 0, 0);
    for c in cases {
        let r = rank_of(&c.findings.rank(w), &c.truth);
        out.0 += usize::from(r == Some(1));
        out.1 += usize::from(r.is_some_and(|r| r <= 3));
        out.2 += r.unwrap_or(11);
    }
    out
}

/// Weights three times lower and higher than each default, all combinations.
fn grid() -> Vec<SuspectWeights> {
    let d = SuspectWeights::default();
    let f = [1.0 / 3.0, 1.0, 3.0];
    let mut out = Vec::new();
    for a in f {
        for b in f {
            for c in f {
                for e in f {
                    for g in f {
                        out.push(SuspectWeights {
                            origins: d.origins * a,
                            paths: d.paths * b,
                            missing: d.missing * c,
                            templates: d.templates * e,
                            metrics: d.metrics * g,
                            ..d
                        });
                    }
                }
            }
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = Path::new(args.get(1).expect("scenarios dir"));
    let lead: i64 = args
        .get(2)
        .map_or(oncall_core::analysis::pipeline::LEAD_MINUTES, |s| {
            s.parse().unwrap()
        });
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("truth.json").exists())
        .collect();
    dirs.sort();
    // RCA_WEIGHTS="origins,paths,templates,metrics[,missing[,latency]]" overrides the default weights.
    let mut weights = SuspectWeights::default();
    if let Ok(w) = std::env::var("RCA_WEIGHTS") {
        let w: Vec<f64> = w.split(',').map(|x| x.parse().unwrap()).collect();
        (
            weights.origins,
            weights.paths,
            weights.templates,
            weights.metrics,
        ) = (w[0], w[1], w[2], w[3]);
        if let Some(m) = w.get(4) {
            weights.missing = *m;
        }
        if let Some(l) = w.get(5) {
            weights.latency = *l;
        }
    }
    let mut cases = Vec::new();
    for dir in dirs {
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap())
                .unwrap();
        let (collected, starts) = load(&dir);
        let window = TimeWindow {
            baseline_start: starts - Duration::minutes(lead + 30),
            incident_start: starts - Duration::minutes(lead),
            incident_end: starts + Duration::minutes(10),
        };
        let case = Case {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            truth: truth["root_cause_service"].as_str().unwrap().to_owned(),
            fault: truth["fault_type"].as_str().unwrap_or("?").to_owned(),
            system: truth["system"].as_str().unwrap_or("?").to_owned(),
            findings: findings(&collected, &window),
        };
        let suspects = case.findings.rank(&weights);
        let rank = rank_of(&suspects, &case.truth);
        if std::env::var("RCA_WHY").is_ok() {
            for s in suspects
                .iter()
                .take(3)
                .chain(suspects.iter().filter(|s| s.component == case.truth))
            {
                eprintln!("  {} {:.2}", s.component, s.score);
                for r in &s.reasons {
                    eprintln!("      {}", r.chars().take(260).collect::<String>());
                }
            }
        }
        let top: Vec<String> = suspects
            .iter()
            .take(3)
            .map(|s| format!("{}:{:.2}", s.component, s.score))
            .collect();
        println!(
            "{} {:<26} {:<15} rank {:?}  top {:?}",
            case.name, case.truth, case.fault, rank, top
        );
        cases.push(case);
    }
    let n = cases.len().max(1) as f64;
    let all: Vec<&Case> = cases.iter().collect();
    let (a1, a3, ranks) = score(&all, &weights);
    println!(
        "\nall: AC@1 {:.3}  AC@3 {:.3}  mean rank {:.2} (absent = 11)  n={}",
        a1 as f64 / n,
        a3 as f64 / n,
        ranks as f64 / n,
        cases.len()
    );
    // Per system and fault type.
    let mut groups: BTreeMap<(String, String), Vec<&Case>> = BTreeMap::new();
    for c in &cases {
        groups
            .entry((c.system.clone(), c.fault.clone()))
            .or_default()
            .push(c);
    }
    for ((system, fault), group) in &groups {
        let (a1, a3, ranks) = score(group, &weights);
        let n = group.len() as f64;
        println!(
            "{system:<14} {fault:<16} n={:<3} AC@1 {:.3}  AC@3 {:.3}  mean rank {:.2}",
            group.len(),
            a1 as f64 / n,
            a3 as f64 / n,
            ranks as f64 / n
        );
    }
    // Leave one out: each case ranked with the weights that did best on the
    // others (ties: the defaults, then the first in grid order).
    if std::env::var("RCA_LOO").is_ok() {
        let grid = grid();
        let (mut l1, mut l3, mut lranks) = (0, 0, 0);
        for (i, case) in cases.iter().enumerate() {
            let others: Vec<&Case> = cases
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c)
                .collect();
            let key = |w: &SuspectWeights| {
                let (a1, a3, r) = score(&others, w);
                (a1, a3, usize::MAX - r)
            };
            let mut best = (key(&weights), weights);
            for w in &grid {
                let k = key(w);
                if k > best.0 {
                    best = (k, *w);
                }
            }
            let r = rank_of(&case.findings.rank(&best.1), &case.truth);
            l1 += usize::from(r == Some(1));
            l3 += usize::from(r.is_some_and(|r| r <= 3));
            lranks += r.unwrap_or(11);
        }
        println!(
            "leave-one-out ({} weight sets): AC@1 {:.3}  AC@3 {:.3}  mean rank {:.2}",
            grid.len() + 1,
            l1 as f64 / n,
            l3 as f64 / n,
            lranks as f64 / n
        );
    }
}
