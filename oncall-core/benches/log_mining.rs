//! Log template mining benchmark: grouping accuracy (GA) and throughput of our miner
//! and of Drain3 on the sixteen LogHub 2k samples, in one invocation.
//!
//! ```text
//! cargo bench -p oncall-core --bench log_mining                # data from LOGHUB_DIR or ../shared
//! cargo bench -p oncall-core --bench log_mining -- /path/to/loghub-2k
//! ```
//!
//! - Input: the `Content` column of `<System>_2k.log_structured.csv`; truth: `EventId`.
//! - Ours: `TemplateMiner::default()` — one configuration for every system — fed
//!   through `TemplateMiner::add` (window, service and level bookkeeping included).
//!   GA is scored on the final grouping (`resolve` of each line's id).
//! - Drain3: `scripts/drain3_bench.py` run as a subprocess (`PYTHON`, default
//!   `python3`): sim_th 0.5, depth 4, masks for IPs, hex and numbers; GA is scored here
//!   with the same function on its cluster ids.
//! - Time: each system is mined `BENCH_RUNS` times (default 5) from scratch by both; the
//!   median run counts. Only mining is timed, not reading files. Single thread each.
//!   Throughput over all systems = all lines / sum of medians.

#[path = "support/loghub.rs"]
mod loghub;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use oncall_core::evidence::{LogRecord, MinerConfig, TemplateId, TemplateMiner, Window};

struct Drain3System {
    seconds: f64,
    clusters: Vec<u64>,
}

struct Drain3 {
    version: String,
    systems: Vec<(String, Drain3System)>,
}

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let repo = std::fs::canonicalize(&repo).unwrap_or(repo);
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("LOGHUB_DIR").map(PathBuf::from))
        .unwrap_or_else(|| repo.join("../shared/data/loghub-2k"));
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5);

    println!("# Log template mining: oncall-core TemplateMiner vs Drain3");
    println!("data: {}", dir.display());
    println!("machine: {}", machine());
    println!("runs per system: {runs} (median)");
    println!("ours: {:?}", MinerConfig::default());

    let drain3 = run_drain3(&repo, &dir, runs);
    match &drain3 {
        Ok(d) => println!(
            "drain3: {} (sim_th 0.5, depth 4, masks IP/HEX/NUM)",
            d.version
        ),
        Err(why) => {
            println!();
            println!(
                "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
            );
            println!("!! DRAIN3 NOT MEASURED: {why}");
            println!("!! install it with `pip install drain3`; only our miner is reported below.");
            println!(
                "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
            );
        }
    }
    println!();
    println!("| System | Lines | GA ours | GA Drain3 | Lines/s ours | Lines/s Drain3 | Speed-up |");
    println!("|---|---:|---:|---:|---:|---:|---:|");

    let mut n = 0usize;
    let (mut ga_ours, mut ga_d3) = (0.0, 0.0);
    let (mut lines, mut secs_ours, mut secs_d3, mut lines_d3) = (0usize, 0.0, 0.0, 0usize);
    let mut d3_count = 0usize;
    for system in loghub::SYSTEMS {
        let path = dir.join(format!("{system}_2k.log_structured.csv"));
        let sample = match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| loghub::read_structured(&t))
        {
            Ok(s) => s,
            Err(e) => {
                println!("| {system} | missing: {} ({e}) | | | | | |", path.display());
                continue;
            }
        };
        let (seconds, groups) = mine(&sample.contents, runs);
        let ga = loghub::grouping_accuracy(&sample.events, &groups);
        let rate = sample.contents.len() as f64 / seconds;
        n += 1;
        ga_ours += ga;
        lines += sample.contents.len();
        secs_ours += seconds;
        let theirs = drain3.as_ref().ok().and_then(|d| {
            d.systems
                .iter()
                .find(|(s, _)| s == system)
                .map(|(_, r)| r)
                .filter(|r| r.clusters.len() == sample.events.len())
        });
        match theirs {
            Some(d) => {
                let ga3 = loghub::grouping_accuracy(&sample.events, &d.clusters);
                let rate3 = sample.contents.len() as f64 / d.seconds;
                ga_d3 += ga3;
                secs_d3 += d.seconds;
                lines_d3 += sample.contents.len();
                d3_count += 1;
                println!(
                    "| {system} | {} | {ga:.3} | {ga3:.3} | {rate:.0} | {rate3:.0} | {:.1}× |",
                    sample.contents.len(),
                    rate / rate3
                );
            }
            None => println!(
                "| {system} | {} | {ga:.3} | — | {rate:.0} | — | — |",
                sample.contents.len()
            ),
        }
    }
    if n == 0 {
        println!("no LogHub samples found in {}", dir.display());
        std::process::exit(1);
    }
    let ours_rate = lines as f64 / secs_ours;
    if d3_count > 0 {
        let d3_rate = lines_d3 as f64 / secs_d3;
        println!(
            "| **Average** ({n} systems) | {lines} | **{:.3}** | **{:.3}** | **{ours_rate:.0}** | **{d3_rate:.0}** | **{:.1}×** |",
            ga_ours / n as f64,
            ga_d3 / d3_count as f64,
            ours_rate / d3_rate
        );
    } else {
        println!(
            "| **Average** ({n} systems) | {lines} | **{:.3}** | — | **{ours_rate:.0}** | — | — |",
            ga_ours / n as f64
        );
    }
    println!();
    println!("GA: average over systems; lines/s: all lines / sum of per-system median times.");
}

/// Mines `lines` `runs` times from scratch; returns the median time and the final
/// grouping of the last run.
fn mine(lines: &[String], runs: usize) -> (f64, Vec<TemplateId>) {
    let mut times = Vec::with_capacity(runs);
    let mut groups = Vec::new();
    for _ in 0..runs {
        let mut miner = TemplateMiner::default();
        let mut ids = Vec::with_capacity(lines.len());
        let start = Instant::now();
        for line in lines {
            ids.push(miner.add(&LogRecord::new(line, Window::Incident)));
        }
        times.push(start.elapsed().as_secs_f64());
        groups = ids.into_iter().map(|id| miner.resolve(id)).collect();
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2].max(1e-9), groups)
}

fn run_drain3(repo: &Path, dir: &Path, runs: usize) -> Result<Drain3, String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = repo.join("scripts/drain3_bench.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(dir)
        .arg("--runs")
        .arg(runs.to_string())
        .output()
        .map_err(|e| format!("cannot run {python} {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} exited with {}: {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("unreadable output of {}: {e}", script.display()))?;
    let systems = json["systems"]
        .as_array()
        .ok_or("no systems in drain3 output")?
        .iter()
        .filter_map(|s| {
            let name = s["system"].as_str()?.to_string();
            let seconds = s["seconds"].as_f64()?;
            let clusters = s["clusters"]
                .as_array()?
                .iter()
                .map(|c| c.as_u64())
                .collect::<Option<Vec<u64>>>()?;
            Some((name, Drain3System { seconds, clusters }))
        })
        .collect();
    Ok(Drain3 {
        version: json["drain3_version"]
            .as_str()
            .unwrap_or("unknown")
            .to_string(),
        systems,
    })
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cores} cores available, {cpu}, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
