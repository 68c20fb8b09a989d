//! Log template mining: group log lines into [`LogTemplate`]s online, count them per
//! window and service, and flag what changed when the alert fired.
//!
//! The miner is our own Drain-style parser (He et al., "Drain: An Online Log Parsing
//! Approach with Fixed Depth Tree", ICWS 2017), written from the algorithm's
//! description. One file per concern:
//!
//! 1. **Masking** (`masking.rs`) — each whitespace-separated token is scanned once, by
//!    hand (no regex): every ASCII alphanumeric run that contains a digit (numbers,
//!    IPs, UUIDs, hex, ids such as `blk_-4711` or `appattempt_1445_0020`, versions,
//!    dates) becomes the wildcard `<*>`, and wildcards separated only by `.:/_-,@#+`
//!    collapse into one, so `10.0.0.1:8080`, `2016/9/27:20:30:31.455` and
//!    `0x7fed806eb5d` are all `<*>` while `blk_-4711` is `blk_<*>` and
//!    `/v2/54fa…/servers` is `/<*>/servers`.
//! 2. **Routing** (`mining.rs`) — a fixed-depth prefix tree keyed by the token count,
//!    then by the first [`MinerConfig::prefix_tokens`] tokens (a wildcard token, or a
//!    token seen after a node already has [`MinerConfig::max_children`] children, goes
//!    to the wildcard child), leads to a leaf holding a few candidate templates.
//! 3. **Matching** (`mining.rs`) — the candidate with the highest share of equal tokens
//!    wins if that share reaches [`MinerConfig::similarity`] (ties go to the more
//!    general template); positions where the line differs from the winner become
//!    `<*>`. Otherwise the line starts a new template.
//! 4. **Merging** (`families.rs`) — whenever a template is created or generalised, its
//!    *shape* (the tokens with every run of wildcards collapsed to one) is looked up; a
//!    template with the same shape, of any length or in any leaf, is merged into the
//!    older one. This is what makes variables that span several tokens (`[TERM, HUP,
//!    INT]`, lists, free text in a field) land in one template. A trailing run of
//!    wildcards keeps its length, so a message with an optional tail stays apart.
//! 5. **Families** (`families.rs`) — templates equal except at one position form a
//!    family; once that position has shown [`MinerConfig::variable_min_values`] values
//!    (or a wildcard) it is a variable and the family merges. This finds variables the
//!    similarity test cannot see (short lines, a host or job name as the first token)
//!    while two-valued pairs such as `Accepted`/`Failed password` stay apart.
//! 6. **Scoring** (`scoring.rs`) — counts per window and service, and the `new`,
//!    `bursting` ([`BurstTest`]) and `error-level` flags.
//! 7. **Gist** (`gist.rs`) — how a sentence quotes a line: its content without
//!    header, ids and wrapping exceptions ([`gist`]).
//!
//! One configuration serves every kind of log; `BENCHMARKS.md` has its grouping
//! accuracy and speed on the sixteen LogHub systems against Drain3.
//!
//! Everything is incremental: [`TemplateMiner::add`] takes one line at a time and
//! returns the [`TemplateId`] it was counted under; ids are stable (a template keeps
//! its id as it generalises; a merged template's id [`resolves`](TemplateMiner::resolve)
//! to the older one). Per template the miner keeps counts in the baseline and the
//! incident [`Window`], per service, the first-seen time, the highest level, and a few
//! example lines. [`TemplateMiner::templates`] turns that into serializable
//! [`LogTemplate`]s with the `new`, `bursting` and `error-level` flags.
//!
//! The hot path does not allocate once the templates are known: the masked line is
//! written into a reused buffer, token positions into a reused vector, and tree keys
//! are 64-bit hashes of the token bytes (`hashing.rs`). Inputs are bounded: lines are
//! cut at [`MinerConfig::max_line_bytes`] and [`MinerConfig::max_tokens`], the number
//! of templates at [`MinerConfig::max_templates`].

mod families;
mod gist;
mod hashing;
mod masking;
mod mining;
mod scoring;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use gist::{GIST_CHARS, gist};
pub use masking::WILDCARD;
pub use mining::{MinerConfig, TemplateMiner};
pub use scoring::{BurstTest, LogTemplate, ServiceCount, WindowSpans};

/// Which of the two windows of an analysis a log line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Before the alert: what normal looks like.
    Baseline,
    /// Around and after the alert start.
    Incident,
}

impl Window {
    fn index(self) -> usize {
        match self {
            Window::Baseline => 0,
            Window::Incident => 1,
        }
    }
}

/// Severity of a log line as the source reported it, ordered from least to most severe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// The source gave no level, or one we do not recognise.
    #[default]
    Unknown,
    /// Trace / verbose.
    Trace,
    /// Debug.
    Debug,
    /// Info / notice.
    Info,
    /// Warning.
    Warn,
    /// Error.
    Error,
    /// Fatal / critical / emergency / panic.
    Fatal,
}

impl LogLevel {
    /// Reads a level name as log sources write it: `ERROR`, `err`, `E`, `warning`,
    /// `W`, `crit`, `severe`, `notice`, `错误`, `警告`, `严重`… Anything else is
    /// [`LogLevel::Unknown`].
    pub fn parse(name: &str) -> LogLevel {
        let name = name.trim();
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "t" | "v" | "trace" | "verbose" | "finest" | "finer" => LogLevel::Trace,
            "d" | "debug" | "fine" | "调试" => LogLevel::Debug,
            "i" | "info" | "information" | "informational" | "notice" | "n" | "信息" => {
                LogLevel::Info
            }
            "w" | "warn" | "warning" | "警告" => LogLevel::Warn,
            "e" | "err" | "error" | "severe" | "错误" => LogLevel::Error,
            "f" | "fatal" | "crit" | "critical" | "alert" | "emerg" | "emergency" | "panic"
            | "a" | "严重" | "致命" | "紧急" => LogLevel::Fatal,
            _ => LogLevel::Unknown,
        }
    }

    /// Whether this level is error or worse.
    pub fn is_error(self) -> bool {
        self >= LogLevel::Error
    }
}

/// One log line handed to the miner, with what the caller knows about it.
#[derive(Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    /// The message (without the timestamp/level prefix if the source splits them).
    pub text: &'a str,
    /// Baseline or incident.
    pub window: Window,
    /// The component that logged it (service, pod, host); `""` when unknown.
    pub service: &'a str,
    /// The level the source reported.
    pub level: LogLevel,
    /// When it was logged, if known.
    pub time: Option<DateTime<Utc>>,
}

impl<'a> LogRecord<'a> {
    /// A line in `window` with no service, level or time.
    pub fn new(text: &'a str, window: Window) -> Self {
        LogRecord {
            text,
            window,
            service: "",
            level: LogLevel::Unknown,
            time: None,
        }
    }

    /// The same record logged by `service`.
    pub fn service(mut self, service: &'a str) -> Self {
        self.service = service;
        self
    }

    /// The same record at `level`.
    pub fn level(mut self, level: LogLevel) -> Self {
        self.level = level;
        self
    }

    /// The same record logged at `time`.
    pub fn at(mut self, time: DateTime<Utc>) -> Self {
        self.time = Some(time);
        self
    }
}

/// A template's stable identity within one [`TemplateMiner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TemplateId(pub u32);

/// Fixtures shared by the tests of the submodules.
#[cfg(test)]
mod test_util {
    use super::{
        BurstTest, LogRecord, LogTemplate, TemplateId, TemplateMiner, Window, WindowSpans,
    };

    pub(super) fn miner() -> TemplateMiner {
        TemplateMiner::default()
    }

    pub(super) fn add(m: &mut TemplateMiner, text: &str) -> TemplateId {
        m.add(&LogRecord::new(text, Window::Incident))
    }

    pub(super) fn spans() -> WindowSpans {
        WindowSpans {
            baseline_seconds: 1800.0,
            incident_seconds: 600.0,
        }
    }

    pub(super) fn report(m: &TemplateMiner) -> Vec<LogTemplate> {
        m.templates(&spans(), &BurstTest::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_in_english_and_chinese() {
        assert_eq!(LogLevel::parse("ERROR"), LogLevel::Error);
        assert_eq!(LogLevel::parse(" warning "), LogLevel::Warn);
        assert_eq!(LogLevel::parse("E"), LogLevel::Error);
        assert_eq!(LogLevel::parse("crit"), LogLevel::Fatal);
        assert_eq!(LogLevel::parse("严重"), LogLevel::Fatal);
        assert_eq!(LogLevel::parse("信息"), LogLevel::Info);
        assert_eq!(LogLevel::parse("whatever"), LogLevel::Unknown);
        assert!(LogLevel::Fatal.is_error() && !LogLevel::Warn.is_error());
    }
}
