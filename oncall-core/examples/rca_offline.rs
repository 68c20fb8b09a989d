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
use oncall_core::analysis::reduce::{Collected, CollectedLog, CollectedSeries, reduce_with};
use oncall_core::evidence::metrics::TimeWindow;
use oncall_core::evidence::suspects::SuspectWeights;

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
        },
        starts,
    )
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
    // RCA_WEIGHTS="origins,paths,templates,metrics[,missing]" overrides the default weights.
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
    }
    let (mut ac1, mut ac3, mut n) = (0, 0, 0);
    for dir in dirs {
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap())
                .unwrap();
        let truth_service = truth["root_cause_service"].as_str().unwrap().to_owned();
        let (collected, starts) = load(&dir);
        let window = TimeWindow {
            baseline_start: starts - Duration::minutes(lead + 30),
            incident_start: starts - Duration::minutes(lead),
            incident_end: starts + Duration::minutes(10),
        };
        let ev = reduce_with(&collected, &window, &weights);
        let rank = ev
            .suspects
            .iter()
            .position(|s| s.component == truth_service)
            .map(|p| p + 1);
        if std::env::var("RCA_WHY").is_ok() {
            for s in ev
                .suspects
                .iter()
                .take(3)
                .chain(ev.suspects.iter().filter(|s| s.component == truth_service))
            {
                eprintln!("  {} {:.2}", s.component, s.score);
                for r in &s.reasons {
                    eprintln!("      {}", r.chars().take(260).collect::<String>());
                }
            }
        }
        if std::env::var("RCA_MISSING").is_ok() {
            let pos = ev
                .missing_steps
                .iter()
                .position(|m| m.service == truth_service);
            eprintln!(
                "  missing: truth at {pos:?}: {:?}",
                ev.missing_steps
                    .iter()
                    .take(4)
                    .map(|m| format!(
                        "{} {:.1} ({:.0} vs {})",
                        m.service, m.surprise, m.expected, m.seen
                    ))
                    .collect::<Vec<_>>()
            );
        }
        n += 1;
        if rank == Some(1) {
            ac1 += 1;
        }
        if rank.is_some_and(|r| r <= 3) {
            ac3 += 1;
        }
        eprintln!(
            "shifts {} templates {} (of {}) series {}",
            ev.metric_shifts.len(),
            ev.log_templates.len(),
            ev.templates_total,
            ev.series
        );
        let top: Vec<String> = ev
            .suspects
            .iter()
            .take(3)
            .map(|s| format!("{}:{:.2}", s.component, s.score))
            .collect();
        println!(
            "{} {:<26} {:<15} rank {:?}  top {:?}",
            dir.file_name().unwrap().to_string_lossy(),
            truth_service,
            truth["fault_type"].as_str().unwrap(),
            rank,
            top
        );
    }
    println!(
        "AC@1 {:.3}  AC@3 {:.3}  (n={n})",
        ac1 as f64 / n as f64,
        ac3 as f64 / n as f64
    );
}
