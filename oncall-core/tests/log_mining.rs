//! Grouping accuracy of the log template miner on three LogHub 2k samples kept in
//! `tests/data/loghub/` (see its README for source and licence). The floors are what
//! the miner measures today minus a small margin, so a change that makes grouping
//! worse fails here; `cargo bench -p oncall-core --bench log_mining` covers all sixteen
//! systems and compares with Drain3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

#[path = "../benches/support/loghub.rs"]
mod loghub;

use std::path::PathBuf;

use oncall_core::evidence::{LogRecord, TemplateId, TemplateMiner, Window};

fn grouping_accuracy(system: &str) -> f64 {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/loghub")
        .join(format!("{system}_2k.log_structured.csv"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    let sample = loghub::read_structured(&text).expect("fixture parses");
    assert_eq!(sample.contents.len(), 2000, "{system}: 2k lines");
    let mut miner = TemplateMiner::default();
    let ids: Vec<TemplateId> = sample
        .contents
        .iter()
        .map(|line| miner.add(&LogRecord::new(line, Window::Incident)))
        .collect();
    // Templates merge as evidence accumulates: score the final grouping.
    let groups: Vec<TemplateId> = ids.into_iter().map(|id| miner.resolve(id)).collect();
    loghub::grouping_accuracy(&sample.events, &groups)
}

#[test]
fn hdfs_grouping_accuracy() {
    let ga = grouping_accuracy("HDFS");
    assert!(ga >= 0.99, "HDFS GA {ga:.3} (measured 0.998)");
}

#[test]
fn apache_grouping_accuracy() {
    let ga = grouping_accuracy("Apache");
    assert!(ga >= 0.99, "Apache GA {ga:.3} (measured 1.000)");
}

#[test]
fn openssh_grouping_accuracy() {
    let ga = grouping_accuracy("OpenSSH");
    assert!(ga >= 0.98, "OpenSSH GA {ga:.3} (measured 0.995)");
}

#[test]
fn grouping_accuracy_is_the_loghub_definition() {
    // Truth {0,1} {2}; predicted {0} {1,2}: no line's group is exact.
    assert_eq!(loghub::grouping_accuracy(&["a", "a", "b"], &[1, 2, 2]), 0.0);
    // Truth {0,1} {2}; predicted {0,1} {2}, labels differ: all exact.
    assert_eq!(loghub::grouping_accuracy(&["a", "a", "b"], &[7, 7, 9]), 1.0);
    // Truth {0} {1} {2}; predicted {0,1} {2}: only line 2.
    let ga = loghub::grouping_accuracy(&["a", "b", "c"], &[1, 1, 2]);
    assert!((ga - 1.0 / 3.0).abs() < 1e-12);
    // Quoted CSV fields with commas, doubled quotes and newlines.
    let sample =
        loghub::read_structured("LineId,Content,EventId\n1,\"a, \"\"b\"\"\nc\",E1\n2,plain,E2\n")
            .expect("parses");
    assert_eq!(sample.contents, vec!["a, \"b\"\nc", "plain"]);
    assert_eq!(sample.events, vec!["E1", "E2"]);
}
