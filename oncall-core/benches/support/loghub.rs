//! Reading LogHub `*_2k.log_structured.csv` files and scoring a grouping against them.
//! Shared by `benches/log_mining.rs` and `tests/log_mining.rs` (included by path).

use std::collections::HashMap;
use std::hash::Hash;

/// The LogHub 2k systems, in the order of the LogHub/Drain papers' tables.
#[allow(dead_code)]
pub const SYSTEMS: [&str; 16] = [
    "HDFS",
    "Hadoop",
    "Spark",
    "Zookeeper",
    "BGL",
    "HPC",
    "Thunderbird",
    "Windows",
    "Linux",
    "Android",
    "HealthApp",
    "Apache",
    "Proxifier",
    "OpenSSH",
    "OpenStack",
    "Mac",
];

/// One labelled sample: each line's `Content` and its ground-truth `EventId`.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The `Content` column, in file order.
    pub contents: Vec<String>,
    /// The `EventId` column, in file order.
    pub events: Vec<String>,
}

/// Reads a `*_log_structured.csv` (RFC 4180 quoting, `""` escapes, quoted newlines).
pub fn read_structured(text: &str) -> Result<Sample, String> {
    let mut rows = parse_csv(text).into_iter();
    let header = rows.next().ok_or("empty CSV")?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no {name} column"))
    };
    let (content, event) = (column("Content")?, column("EventId")?);
    let mut sample = Sample {
        contents: Vec::new(),
        events: Vec::new(),
    };
    for (i, row) in rows.enumerate() {
        if row.len() == 1 && row[0].is_empty() {
            continue;
        }
        let get = |c: usize| {
            row.get(c)
                .cloned()
                .ok_or(format!("row {} has {} fields", i + 2, row.len()))
        };
        sample.contents.push(get(content)?);
        sample.events.push(get(event)?);
    }
    Ok(sample)
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Grouping accuracy (LogHub's definition): the share of lines whose predicted group
/// holds exactly the same lines as their ground-truth group.
pub fn grouping_accuracy<T: Eq + Hash, P: Eq + Hash>(truth: &[T], predicted: &[P]) -> f64 {
    if truth.is_empty() || truth.len() != predicted.len() {
        return 0.0;
    }
    // Lines of a predicted group are correct iff the group maps onto one truth group
    // and both have the same size.
    let mut truth_size: HashMap<&T, usize> = HashMap::new();
    for t in truth {
        *truth_size.entry(t).or_default() += 1;
    }
    let mut groups: HashMap<&P, (Option<&T>, bool, usize)> = HashMap::new();
    for (t, p) in truth.iter().zip(predicted) {
        let g = groups.entry(p).or_insert((Some(t), true, 0));
        g.2 += 1;
        if g.0 != Some(t) {
            g.1 = false;
        }
    }
    let mut correct = 0;
    for (t, pure, size) in groups.values() {
        if let Some(t) = t {
            if *pure && truth_size.get(t) == Some(size) {
                correct += size;
            }
        }
    }
    correct as f64 / truth.len() as f64
}
