//! The root-cause benchmark on synthetic incidents (generated, not recorded:
//! see `oncall_core::synthetic`): for each fault kind, `N` incidents over random
//! topologies of 6–14 services with a random faulty service, plus `N` whose
//! faulty service is the entry service; reports AC@1 / AC@3 per kind.
//!
//! `cargo run --release -p oncall-core --example rca_synthetic -- [N]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a tool, not the engine

use oncall_core::analysis::reduce::reduce;
use oncall_core::synthetic::{FaultKind, SyntheticConfig, generate};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map_or(20, |s| s.parse().expect("a count"));
    // RCA_DATA=metrics: no logs; RCA_DATA=graph: no logs, with service-graph metrics;
    // RCA_DATA=gauges: no logs, per-period gauges instead of counters.
    let data = std::env::var("RCA_DATA").unwrap_or_else(|_| "logs".into());
    println!("data: {data}");
    println!(
        "{:<11} {:<8} {:>4} {:>6} {:>6} {:>9}",
        "fault", "faulty", "n", "AC@1", "AC@3", "mean rank"
    );
    for fault in FaultKind::ALL {
        for entry in [false, true] {
            let (mut a1, mut a3, mut ranks) = (0, 0, 0);
            for seed in 0..n {
                let cfg = SyntheticConfig {
                    seed: seed * 31 + 7,
                    services: 6 + (seed % 9) as usize,
                    fault,
                    faulty: entry.then_some(0),
                    logs: data == "logs",
                    service_graph: data == "graph",
                    gauges: data == "gauges",
                    ..SyntheticConfig::default()
                };
                let incident = generate(&cfg);
                let e = reduce(&incident.collected, &incident.window);
                let rank = e
                    .suspects
                    .iter()
                    .position(|s| s.component == incident.truth)
                    .map(|p| p + 1);
                if std::env::var("RCA_WHY").is_ok() && rank != Some(1) {
                    eprintln!(
                        "{} seed {} truth {} rank {rank:?}: {:?}",
                        fault.as_str(),
                        cfg.seed,
                        incident.truth,
                        e.suspects
                            .iter()
                            .take(3)
                            .map(|s| (s.component.as_str(), s.score, s.reasons.first()))
                            .collect::<Vec<_>>()
                    );
                }
                a1 += usize::from(rank == Some(1));
                a3 += usize::from(rank.is_some_and(|r| r <= 3));
                ranks += rank.unwrap_or(11);
            }
            let n = n as f64;
            println!(
                "{:<11} {:<8} {:>4} {:>6.3} {:>6.3} {:>9.2}",
                fault.as_str(),
                if entry { "entry" } else { "any" },
                n,
                a1 as f64 / n,
                a3 as f64 / n,
                ranks as f64 / n
            );
        }
    }
}
