//! Log template mining: group log lines into [`LogTemplate`]s online, count them per
//! window and service, and flag what changed when the alert fired.
//!
//! The miner is our own Drain-style parser (He et al., "Drain: An Online Log Parsing
//! Approach with Fixed Depth Tree", ICWS 2017), written from the algorithm's
//! description:
//!
//! 1. **Masking** — each whitespace-separated token is scanned once, by hand (no regex):
//!    every ASCII alphanumeric run that contains a digit (numbers, IPs, UUIDs, hex,
//!    ids such as `blk_-4711` or `appattempt_1445_0020`, versions, dates) becomes the
//!    wildcard `<*>`, and wildcards separated only by `.:/_-,@#+` collapse into one, so
//!    `10.0.0.1:8080`, `2016/9/27:20:30:31.455` and `0x7fed806eb5d` are all `<*>` while
//!    `blk_-4711` is `blk_<*>` and `/v2/54fa…/servers` is `/<*>/servers`.
//! 2. **Routing** — a fixed-depth prefix tree keyed by the token count, then by the
//!    first [`MinerConfig::prefix_tokens`] tokens (a wildcard token, or a token seen
//!    after a node already has [`MinerConfig::max_children`] children, goes to the
//!    wildcard child), leads to a leaf holding a few candidate templates.
//! 3. **Matching** — the candidate with the highest share of equal tokens wins if that
//!    share reaches [`MinerConfig::similarity`] (ties go to the more general template);
//!    positions where the line differs from the winner become `<*>`. Otherwise the line
//!    starts a new template.
//! 4. **Merging** — whenever a template is created or generalised, its *shape* (the
//!    tokens with every run of wildcards collapsed to one) is looked up; a template
//!    with the same shape, of any length or in any leaf, is merged into the older one.
//!    This is what makes variables that span several tokens (`[TERM, HUP, INT]`, lists,
//!    free text in a field) land in one template. A trailing run of wildcards keeps its
//!    length, so a message with an optional tail stays apart.
//! 5. **Families** — templates equal except at one position form a family; once that
//!    position has shown [`MinerConfig::variable_min_values`] values (or a wildcard) it
//!    is a variable and the family merges. This finds variables the similarity test
//!    cannot see (short lines, a host or job name as the first token) while two-valued
//!    pairs such as `Accepted`/`Failed password` stay apart.
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
//! are 64-bit hashes of the token bytes. Inputs are bounded: lines are cut at
//! [`MinerConfig::max_line_bytes`] and [`MinerConfig::max_tokens`], the number of
//! templates at [`MinerConfig::max_templates`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The wildcard that stands for a variable part of a template.
pub const WILDCARD: &str = "<*>";
const WILD: &[u8] = WILDCARD.as_bytes();

/// Separators that may sit between two masked runs and be absorbed into one wildcard.
const VARIABLE_JOINERS: &[u8] = b".:/_-,@#+";

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

/// How the miner groups lines. One configuration serves every kind of log; the
/// defaults are the ones measured in `BENCHMARKS.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerConfig {
    /// Share of equal tokens (0..=1) a line needs to join a template. Default 0.8:
    /// stricter than Drain's usual 0.5, because families (below) generalise the
    /// positions that really vary, while one changed word in a short line (`Ending
    /// initialization.` / `Ending finalization.`) is usually a different event.
    pub similarity: f64,
    /// Leading tokens used as tree keys below the token count (Drain's depth minus 2).
    /// Default 2, i.e. Drain depth 4.
    pub prefix_tokens: usize,
    /// Distinct tokens a tree node keeps before sending new ones to its wildcard
    /// child. Default 100.
    pub max_children: usize,
    /// Tokens of a line that are considered; the rest is ignored. Default 256.
    pub max_tokens: usize,
    /// Bytes of a line that are considered (cut at a character boundary). Default 64 KiB.
    pub max_line_bytes: usize,
    /// Templates kept; lines that would start one more are counted under a single
    /// overflow template. Default 100 000.
    pub max_templates: usize,
    /// Example lines kept per template. Default 3.
    pub max_examples: usize,
    /// Bytes kept of each example line. Default 512.
    pub max_example_bytes: usize,
    /// Merge templates whose shapes are equal once wildcard runs are collapsed.
    /// Default true.
    pub merge_shapes: bool,
    /// A position where this many templates differ, and nowhere else, is a variable
    /// and they merge. Default 3; 0 turns it off.
    pub variable_min_values: usize,
    /// Templates shorter than this never merge by family. Default 3.
    pub family_min_tokens: usize,
}

impl Default for MinerConfig {
    fn default() -> Self {
        MinerConfig {
            similarity: 0.8,
            prefix_tokens: 2,
            max_children: 100,
            max_tokens: 256,
            max_line_bytes: 64 * 1024,
            max_templates: 100_000,
            max_examples: 3,
            max_example_bytes: 512,
            merge_shapes: true,
            variable_min_values: 3,
            family_min_tokens: 3,
        }
    }
}

/// How long each window lasted, to compare rates rather than raw counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSpans {
    /// Length of the baseline window in seconds.
    pub baseline_seconds: f64,
    /// Length of the incident window in seconds.
    pub incident_seconds: f64,
}

/// When a template counts as bursting.
///
/// The statistic is the exact conditional test for two Poisson rates: given the
/// template's `n = baseline + incident` lines, if its rate did not change the incident
/// count is Binomial(`n`, `p0`) with `p0 = incident_seconds / (baseline_seconds +
/// incident_seconds)`; the p-value is the upper tail `P(X >= incident)`. It needs no
/// smoothing and stays valid when the baseline count is zero. On top of significance,
/// the effect must be large: the smoothed rate ratio
/// `((incident + s) / incident_seconds) / ((baseline + s) / baseline_seconds)` must
/// reach [`BurstTest::min_rate_ratio`], and the incident count
/// [`BurstTest::min_incident_count`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstTest {
    /// Largest p-value still called a burst. Default 0.001.
    pub max_p_value: f64,
    /// Smallest smoothed incident/baseline rate ratio. Default 2.
    pub min_rate_ratio: f64,
    /// Smallest incident count. Default 3.
    pub min_incident_count: u64,
    /// Pseudo-count `s` added to both counts in the rate ratio. Default 0.5.
    pub smoothing: f64,
}

impl Default for BurstTest {
    fn default() -> Self {
        BurstTest {
            max_p_value: 1e-3,
            min_rate_ratio: 2.0,
            min_incident_count: 3,
            smoothing: 0.5,
        }
    }
}

/// How often one service logged a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCount {
    /// The service (pod, host) as the caller named it; `""` when unknown.
    pub service: String,
    /// Lines in the baseline window.
    pub baseline: u64,
    /// Lines in the incident window.
    pub incident: u64,
}

/// One mined log template with its counts and flags: a piece of log evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogTemplate {
    /// Stable id.
    pub id: TemplateId,
    /// Ids of younger templates merged into this one.
    pub merged_ids: Vec<TemplateId>,
    /// The template text, variables shown as `<*>`.
    pub template: String,
    /// Lines in the baseline window.
    pub baseline_count: u64,
    /// Lines in the incident window.
    pub incident_count: u64,
    /// Counts per service, most incident lines first.
    pub services: Vec<ServiceCount>,
    /// A few lines as logged (each cut at [`MinerConfig::max_example_bytes`]).
    pub examples: Vec<String>,
    /// Earliest time among the lines that carried one.
    pub first_seen: Option<DateTime<Utc>>,
    /// The highest level any of its lines had.
    pub max_level: LogLevel,
    /// Seen in the incident window and never in a non-empty baseline.
    pub is_new: bool,
    /// Its incident rate is significantly and substantially above its baseline rate
    /// (see [`BurstTest`]).
    pub is_bursting: bool,
    /// Logged at error level or worse, or — when no line had a level — its text says
    /// error, exception, fatal, panic, fail, 错误, 异常 or 失败.
    pub is_error_level: bool,
    /// Smoothed incident/baseline rate ratio.
    pub rate_ratio: f64,
    /// p-value of the burst test (1 when the incident count is not above expectation).
    pub burst_p_value: f64,
}

/// The online template miner. See the [module documentation](self).
#[derive(Debug)]
pub struct TemplateMiner {
    config: MinerConfig,
    templates: Vec<Template>,
    leaves: PrehashedMap<Vec<u32>>,
    edges: PrehashedMap<()>,
    fanout: PrehashedMap<u32>,
    shapes: PrehashedMap<u32>,
    families: PrehashedMap<Family>,
    services: HashMap<Box<str>, u32>,
    service_names: Vec<Box<str>>,
    last_service: Option<u32>,
    overflow: Option<u32>,
    lines: [u64; 2],
    /// The masked line, tokens back to back.
    buf: Vec<u8>,
    /// `(start, end)` of each token in `buf`.
    spans: Vec<(u32, u32)>,
}

/// One token of a stored template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Wild,
    Word(Box<[u8]>),
}

impl Slot {
    fn is(&self, token: &[u8]) -> bool {
        match self {
            Slot::Wild => token == WILD,
            Slot::Word(word) => **word == *token,
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    counts: [u64; 2],
    /// `(service index, [baseline, incident])`.
    services: Vec<(u32, [u64; 2])>,
    examples: Vec<String>,
    first_seen: Option<DateTime<Utc>>,
    max_level: LogLevel,
}

impl Stats {
    fn absorb(&mut self, other: Stats, max_examples: usize) {
        self.counts[0] += other.counts[0];
        self.counts[1] += other.counts[1];
        for (service, counts) in other.services {
            match self.services.iter_mut().find(|(s, _)| *s == service) {
                Some((_, c)) => {
                    c[0] += counts[0];
                    c[1] += counts[1];
                }
                None => self.services.push((service, counts)),
            }
        }
        for example in other.examples {
            if self.examples.len() >= max_examples {
                break;
            }
            if !self.examples.contains(&example) {
                self.examples.push(example);
            }
        }
        self.first_seen = match (self.first_seen, other.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_level = self.max_level.max(other.max_level);
    }
}

/// Templates equal except at one position.
#[derive(Debug, Default)]
struct Family {
    members: Vec<u32>,
    merged: bool,
}

#[derive(Debug)]
struct Template {
    slots: Vec<Slot>,
    /// Union-find parent; a root is its own parent.
    parent: u32,
    /// Hash of the current shape (wildcard runs collapsed).
    shape: u64,
    /// Counts and examples; meaningful on roots only.
    stats: Stats,
}

impl Default for TemplateMiner {
    fn default() -> Self {
        TemplateMiner::new(MinerConfig::default())
    }
}

impl TemplateMiner {
    /// An empty miner. Out-of-range settings are clamped to something usable
    /// (similarity to 0..=1, at least one token and one byte per line, one template).
    pub fn new(mut config: MinerConfig) -> Self {
        if !config.similarity.is_finite() {
            config.similarity = MinerConfig::default().similarity;
        }
        config.similarity = config.similarity.clamp(0.0, 1.0);
        config.max_tokens = config.max_tokens.max(1);
        config.max_line_bytes = config.max_line_bytes.max(1);
        config.max_templates = config.max_templates.max(1);
        TemplateMiner {
            config,
            templates: Vec::new(),
            leaves: PrehashedMap::default(),
            edges: PrehashedMap::default(),
            fanout: PrehashedMap::default(),
            shapes: PrehashedMap::default(),
            families: PrehashedMap::default(),
            services: HashMap::new(),
            service_names: Vec::new(),
            last_service: None,
            overflow: None,
            lines: [0; 2],
            buf: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// The configuration in use (after clamping).
    pub fn config(&self) -> &MinerConfig {
        &self.config
    }

    /// Lines added so far, per window: `[baseline, incident]`.
    pub fn lines(&self) -> [u64; 2] {
        self.lines
    }

    /// Number of distinct templates (merged ones count once).
    pub fn len(&self) -> usize {
        self.templates
            .iter()
            .enumerate()
            .filter(|(i, t)| t.parent as usize == *i)
            .count()
    }

    /// Whether no line was added yet.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The current id of a template: itself, or the template it was merged into.
    pub fn resolve(&self, id: TemplateId) -> TemplateId {
        TemplateId(self.root(id.0))
    }

    /// The current text of a template, variables shown as `<*>`.
    pub fn template_text(&self, id: TemplateId) -> Option<String> {
        let root = self.root(id.0);
        self.templates.get(root as usize).map(|t| render(&t.slots))
    }

    /// Masks the line the way the miner sees it, tokens joined by one space
    /// (for tests and for showing users why lines were grouped).
    pub fn mask(&mut self, text: &str) -> String {
        self.tokenize(text);
        let mut out = String::new();
        for (i, &(s, e)) in self.spans.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&String::from_utf8_lossy(&self.buf[s as usize..e as usize]));
        }
        out
    }

    /// The template a line belongs to, without counting it in either window (a
    /// line it has no template for yet gets a new one with zero counts). For lines
    /// older than the baseline that only show which paths requests take.
    pub fn template_of(&mut self, text: &str) -> TemplateId {
        self.tokenize(text);
        let id = self.classify();
        TemplateId(self.root(id))
    }

    /// Counts one line and returns the template it went to (already resolved).
    pub fn add(&mut self, record: &LogRecord<'_>) -> TemplateId {
        self.lines[record.window.index()] += 1;
        self.tokenize(record.text);
        let id = self.classify();
        let root = self.root(id);
        let service = self.service_index(record.service);
        let max_examples = self.config.max_examples;
        let max_example_bytes = self.config.max_example_bytes;
        if let Some(t) = self.templates.get_mut(root as usize) {
            let stats = &mut t.stats;
            let w = record.window.index();
            stats.counts[w] += 1;
            match stats.services.iter_mut().find(|(s, _)| *s == service) {
                Some((_, c)) => c[w] += 1,
                None => {
                    let mut c = [0; 2];
                    c[w] = 1;
                    stats.services.push((service, c));
                }
            }
            if record.level > stats.max_level {
                stats.max_level = record.level;
            }
            if let Some(time) = record.time {
                if stats.first_seen.is_none_or(|seen| time < seen) {
                    stats.first_seen = Some(time);
                }
            }
            if stats.examples.len() < max_examples {
                let example = truncate(record.text, max_example_bytes);
                if !stats.examples.iter().any(|e| e == example) {
                    stats.examples.push(example.to_owned());
                }
            }
        }
        TemplateId(root)
    }

    /// Every template with its counts and flags, in id order.
    pub fn templates(&self, spans: &WindowSpans, test: &BurstTest) -> Vec<LogTemplate> {
        let mut merged: Vec<Vec<TemplateId>> = vec![Vec::new(); self.templates.len()];
        for i in 0..self.templates.len() {
            let root = self.root(i as u32);
            if root as usize != i {
                if let Some(m) = merged.get_mut(root as usize) {
                    m.push(TemplateId(i as u32));
                }
            }
        }
        let baseline_seen = self.lines[0] > 0;
        let mut out = Vec::new();
        for (i, t) in self.templates.iter().enumerate() {
            if t.parent as usize != i {
                continue;
            }
            let stats = &t.stats;
            let [baseline, incident] = stats.counts;
            let (rate_ratio, p_value) = burst(baseline, incident, spans, test);
            let mut services: Vec<ServiceCount> = stats
                .services
                .iter()
                .map(|&(s, [b, n])| ServiceCount {
                    service: self
                        .service_names
                        .get(s as usize)
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    baseline: b,
                    incident: n,
                })
                .collect();
            services.sort_by(|a, b| {
                b.incident
                    .cmp(&a.incident)
                    .then(b.baseline.cmp(&a.baseline))
                    .then(a.service.cmp(&b.service))
            });
            let text = render(&t.slots);
            let is_error_level = if stats.max_level == LogLevel::Unknown {
                mentions_error(&text)
            } else {
                stats.max_level.is_error()
            };
            out.push(LogTemplate {
                id: TemplateId(i as u32),
                merged_ids: merged.get(i).cloned().unwrap_or_default(),
                template: text,
                baseline_count: baseline,
                incident_count: incident,
                services,
                examples: stats.examples.clone(),
                first_seen: stats.first_seen,
                max_level: stats.max_level,
                is_new: baseline_seen && baseline == 0 && incident > 0,
                is_bursting: incident >= test.min_incident_count
                    && rate_ratio >= test.min_rate_ratio
                    && p_value <= test.max_p_value,
                is_error_level,
                rate_ratio,
                burst_p_value: p_value,
            });
        }
        out
    }

    // ---- internals -------------------------------------------------------------

    fn root(&self, mut id: u32) -> u32 {
        while let Some(t) = self.templates.get(id as usize) {
            if t.parent == id {
                break;
            }
            id = t.parent;
        }
        id
    }

    fn service_index(&mut self, service: &str) -> u32 {
        if let Some(last) = self.last_service {
            if self.service_names.get(last as usize).map(|s| &**s) == Some(service) {
                return last;
            }
        }
        let index = match self.services.get(service) {
            Some(&i) => i,
            None => {
                let i = self.service_names.len() as u32;
                self.service_names.push(service.into());
                self.services.insert(service.into(), i);
                i
            }
        };
        self.last_service = Some(index);
        index
    }

    fn token(&self, i: usize) -> &[u8] {
        match self.spans.get(i) {
            Some(&(s, e)) => self.buf.get(s as usize..e as usize).unwrap_or_default(),
            None => &[],
        }
    }

    /// Masks `text` into `buf`/`spans`.
    fn tokenize(&mut self, text: &str) {
        self.buf.clear();
        self.spans.clear();
        let mut end = text.len().min(self.config.max_line_bytes);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = &text.as_bytes()[..end];
        let buf = &mut self.buf;
        let mut i = 0;
        while i < bytes.len() && self.spans.len() < self.config.max_tokens {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            let token_start = i;
            let start = buf.len();
            // End (in buf) of the last wildcard of this token.
            let mut last_wild: Option<usize> = None;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                let b = bytes[i];
                if !b.is_ascii_alphanumeric() {
                    buf.push(b);
                    i += 1;
                    continue;
                }
                let run = i;
                let mut digit = false;
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    digit |= bytes[i].is_ascii_digit();
                    i += 1;
                }
                if !digit {
                    let word = &bytes[run..i];
                    // Hex without digits is a variable when it is long (`deadbeefcafe`)
                    // or continues one (the `bdcc` of a UUID).
                    let hex = word.iter().all(u8::is_ascii_hexdigit);
                    let continues = last_wild
                        .is_some_and(|w| buf[w..].iter().all(|c| VARIABLE_JOINERS.contains(c)));
                    if !(hex && (word.len() >= 8 || continues)) {
                        buf.extend_from_slice(word);
                        continue;
                    }
                }
                // A sign belongs to the number: `-42`, `blk_-42`, but not `a-42`.
                if run > token_start
                    && bytes[run - 1] == b'-'
                    && (run - 1 == token_start || !bytes[run - 2].is_ascii_alphanumeric())
                {
                    buf.pop();
                }
                match last_wild {
                    Some(w) if buf[w..].iter().all(|c| VARIABLE_JOINERS.contains(c)) => {
                        buf.truncate(w);
                    }
                    _ => {
                        buf.extend_from_slice(WILD);
                        last_wild = Some(buf.len());
                    }
                }
            }
            if is_date_word(&buf[start..]) {
                buf.truncate(start);
                buf.extend_from_slice(WILD);
            }
            self.spans.push((start as u32, buf.len() as u32));
        }
    }

    /// Finds or creates the template of the tokenized line; returns its own id.
    fn classify(&mut self) -> u32 {
        let leaf = self.route(false);
        if let Some(id) = self.best_match(leaf) {
            self.generalise(id);
            return id;
        }
        if self.templates.len() >= self.config.max_templates {
            return self.overflow_template();
        }
        let leaf = self.route(true);
        let id = self.templates.len() as u32;
        let slots = (0..self.spans.len())
            .map(|i| {
                let token = self.token(i);
                if token == WILD {
                    Slot::Wild
                } else {
                    Slot::Word(token.into())
                }
            })
            .collect();
        self.templates.push(Template {
            slots,
            parent: id,
            shape: 0,
            stats: Stats::default(),
        });
        self.leaves.entry(leaf).or_default().push(id);
        self.join_families(id);
        self.reshape(id);
        id
    }

    /// The leaf key of the tokenized line. Searching follows existing edges or the
    /// wildcard child; inserting also adds edges while a node has room.
    fn route(&mut self, insert: bool) -> u64 {
        let mut node = mix(0x6c6f_6774_706c_7465, self.spans.len() as u64);
        let depth = self.config.prefix_tokens.min(self.spans.len());
        for i in 0..depth {
            let token = self.token(i);
            let wild_edge = mix(node, WILD_KEY);
            let edge = if token == WILD {
                wild_edge
            } else {
                let edge = mix(node, hash_bytes(token));
                if self.edges.contains_key(&edge) {
                    edge
                } else if insert {
                    let children = self.fanout.entry(node).or_insert(0);
                    if (*children as usize) < self.config.max_children {
                        *children += 1;
                        self.edges.insert(edge, ());
                        edge
                    } else {
                        wild_edge
                    }
                } else {
                    wild_edge
                }
            };
            node = edge;
        }
        node
    }

    fn best_match(&self, leaf: u64) -> Option<u32> {
        let candidates = self.leaves.get(&leaf)?;
        let n = self.spans.len();
        if n == 0 {
            return candidates.first().copied();
        }
        let mut best: Option<(usize, usize, u32)> = None;
        for &id in candidates {
            let Some(t) = self.templates.get(id as usize) else {
                continue;
            };
            if t.slots.len() != n {
                continue;
            }
            let mut equal = 0;
            let mut params = 0;
            for (i, slot) in t.slots.iter().enumerate() {
                let token = self.token(i);
                if slot.is(token) {
                    equal += 1;
                } else if *slot == Slot::Wild {
                    params += 1;
                }
            }
            if best.is_none_or(|(e, p, _)| (equal, params) > (e, p)) {
                best = Some((equal, params, id));
            }
        }
        let (equal, _, id) = best?;
        (equal as f64 >= self.config.similarity * n as f64).then_some(id)
    }

    /// Turns the positions where the line differs from template `id` into wildcards.
    fn generalise(&mut self, id: u32) {
        let mut changed = false;
        if let Some(t) = self.templates.get(id as usize) {
            changed = t
                .slots
                .iter()
                .enumerate()
                .any(|(i, slot)| !matches!(slot, Slot::Wild) && !slot.is(self.token(i)));
        }
        if !changed {
            return;
        }
        let differing: Vec<usize> = match self.templates.get(id as usize) {
            Some(t) => t
                .slots
                .iter()
                .enumerate()
                .filter(|(i, slot)| !matches!(slot, Slot::Wild) && !slot.is(self.token(*i)))
                .map(|(i, _)| i)
                .collect(),
            None => return,
        };
        if let Some(t) = self.templates.get_mut(id as usize) {
            for i in differing {
                if let Some(slot) = t.slots.get_mut(i) {
                    *slot = Slot::Wild;
                }
            }
        }
        self.join_families(id);
        self.reshape(id);
    }

    /// Records the shape of template `id` and merges it with an older template of the
    /// same shape.
    fn reshape(&mut self, id: u32) {
        if !self.config.merge_shapes {
            return;
        }
        let Some(t) = self.templates.get_mut(id as usize) else {
            return;
        };
        let shape = shape_hash(&t.slots);
        t.shape = shape;
        let other = match self.shapes.get(&shape) {
            Some(&other) if other != id => other,
            _ => {
                self.shapes.insert(shape, id);
                return;
            }
        };
        let still_that_shape = self
            .templates
            .get(other as usize)
            .is_some_and(|t| t.shape == shape);
        if !still_that_shape {
            self.shapes.insert(shape, id);
            return;
        }
        self.shapes.insert(shape, id.min(other));
        self.union(id, other);
    }

    /// Merges the groups of templates `a` and `b`; the older root stays.
    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.root(a), self.root(b));
        if a == b {
            return;
        }
        let (keep, gone) = (a.min(b), a.max(b));
        let stats = match self.templates.get_mut(gone as usize) {
            Some(t) => {
                t.parent = keep;
                std::mem::take(&mut t.stats)
            }
            None => return,
        };
        let max_examples = self.config.max_examples;
        if let Some(t) = self.templates.get_mut(keep as usize) {
            t.stats.absorb(stats, max_examples);
        }
    }

    /// Registers template `id` in its families — the templates equal to it except at
    /// one position — and merges a family once that position has shown
    /// [`MinerConfig::variable_min_values`] values (or a wildcard): the position is a
    /// variable the similarity test could not see because the template is short or
    /// the variable sits in the routing prefix.
    fn join_families(&mut self, id: u32) {
        let min_values = self.config.variable_min_values;
        if min_values == 0 {
            return;
        }
        let Some(t) = self.templates.get(id as usize) else {
            return;
        };
        let n = t.slots.len();
        if n < self.config.family_min_tokens || n > 64 {
            return;
        }
        let hashes: Vec<u64> = t
            .slots
            .iter()
            .map(|slot| match slot {
                Slot::Wild => WILD_KEY,
                Slot::Word(word) => hash_bytes(word),
            })
            .collect();
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0x6661_6d69_6c79_0000_u64 ^ n as u64);
        for h in &hashes {
            let last = prefix.last().copied().unwrap_or_default();
            prefix.push(mix(last, *h));
        }
        let mut suffix = vec![0x7461_696c_0000_0000_u64; n + 1];
        for j in (0..n).rev() {
            suffix[j] = mix(suffix[j + 1], hashes[j]);
        }
        for i in 0..n {
            let key = mix(mix(prefix[i], WILD_KEY ^ i as u64), suffix[i + 1]);
            let family = self.families.entry(key).or_default();
            if !family.members.contains(&id) {
                family.members.push(id);
            }
            let members = family.members.clone();
            let merged = family.merged;
            let wild = members.iter().any(|&m| {
                self.templates
                    .get(m as usize)
                    .and_then(|t| t.slots.get(i))
                    .is_some_and(|s| *s == Slot::Wild)
            });
            let mut roots: Vec<u32> = members.iter().map(|&m| self.root(m)).collect();
            roots.sort_unstable();
            roots.dedup();
            if !(merged || wild || roots.len() >= min_values) {
                continue;
            }
            for &m in &members {
                self.union(m, id);
                if let Some(slot) = self
                    .templates
                    .get_mut(m as usize)
                    .and_then(|t| t.slots.get_mut(i))
                {
                    *slot = Slot::Wild;
                }
            }
            if let Some(family) = self.families.get_mut(&key) {
                family.merged = true;
                family.members = vec![id];
            }
        }
    }

    fn overflow_template(&mut self) -> u32 {
        if let Some(id) = self.overflow {
            return id;
        }
        let id = self.templates.len() as u32;
        self.templates.push(Template {
            slots: vec![Slot::Wild],
            parent: id,
            shape: 0,
            stats: Stats::default(),
        });
        self.overflow = Some(id);
        id
    }
}

/// Month and weekday abbreviations (`Jun`, `Fri`, optionally ending in `,`): parts of
/// a timestamp inside the message, hence variables.
fn is_date_word(token: &[u8]) -> bool {
    const WORDS: [&[u8]; 19] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun",
    ];
    let token = token.strip_suffix(b",").unwrap_or(token);
    token.len() == 3 && WORDS.contains(&token)
}

fn render(slots: &[Slot]) -> String {
    let mut out = String::new();
    for (i, slot) in slots.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match slot {
            Slot::Wild => out.push_str(WILDCARD),
            Slot::Word(word) => out.push_str(&String::from_utf8_lossy(word)),
        }
    }
    out
}

fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn mentions_error(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "error",
        "exception",
        "fatal",
        "panic",
        "fail",
        "错误",
        "异常",
        "失败",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// `(smoothed rate ratio, p-value)` of the burst test described on [`BurstTest`].
fn burst(baseline: u64, incident: u64, spans: &WindowSpans, test: &BurstTest) -> (f64, f64) {
    let positive = |x: f64| if x.is_finite() && x > 0.0 { x } else { 1.0 };
    let tb = positive(spans.baseline_seconds);
    let ti = positive(spans.incident_seconds);
    let s = if test.smoothing.is_finite() && test.smoothing > 0.0 {
        test.smoothing
    } else {
        0.5
    };
    let ratio = ((incident as f64 + s) / ti) / ((baseline as f64 + s) / tb);
    let p0 = ti / (ti + tb);
    (
        ratio,
        binomial_upper_tail(baseline + incident, incident, p0),
    )
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`; 1 when `k` is not above the mean.
fn binomial_upper_tail(n: u64, k: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 || (k as f64) <= n as f64 * p {
        return 1.0;
    }
    let (nf, kf) = (n as f64, k as f64);
    let ln_choose = ln_gamma(nf + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(nf - kf + 1.0);
    let mut term = (ln_choose + kf * p.ln() + (nf - kf) * (1.0 - p).ln()).exp();
    let odds = p / (1.0 - p);
    let mut sum = 0.0;
    let mut j = k;
    // Above the mean the terms shrink monotonically; stop once they no longer matter.
    while j <= n {
        sum += term;
        if term <= sum * 1e-17 || term == 0.0 {
            break;
        }
        term *= (n - j) as f64 / (j + 1) as f64 * odds;
        j += 1;
    }
    sum.clamp(0.0, 1.0)
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, nine terms; ~15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

// ---- hashing -------------------------------------------------------------------

const WILD_KEY: u64 = 0x2a2a_2a2a_2a2a_2a2a;

/// One multiply-rotate step (the FxHash mix); fast, not collision-resistant, which is
/// fine here: a collision only adds a candidate that the similarity check rejects,
/// or merges two shapes (see `shape_hash`).
fn mix(h: u64, v: u64) -> u64 {
    (h.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// Final avalanche so the low bits (the hash table's bucket index) are well mixed.
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = mix(0, bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(word));
    }
    finish(h)
}

/// Hash of a template's shape: its words in order, each run of wildcards inside it as
/// one. A trailing run keeps its length: a template that ends in variables says little
/// about how long its lines are, and collapsing it merged unrelated message tails.
fn shape_hash(slots: &[Slot]) -> u64 {
    let mut h = 0x7368_6170_6521_0000;
    let mut previous_wild = false;
    let tail = slots.iter().rev().take_while(|s| **s == Slot::Wild).count();
    let body = slots.len() - tail;
    for (i, slot) in slots.iter().enumerate() {
        match slot {
            Slot::Wild if previous_wild && i < body => continue,
            Slot::Wild => {
                previous_wild = true;
                h = mix(h, WILD_KEY);
            }
            Slot::Word(word) => {
                previous_wild = false;
                h = mix(h, hash_bytes(word));
            }
        }
    }
    finish(h)
}

/// A hasher for keys that already are well-mixed 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0, u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = finish(n);
    }
}

type PrehashedMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn miner() -> TemplateMiner {
        TemplateMiner::default()
    }

    fn add(m: &mut TemplateMiner, text: &str) -> TemplateId {
        m.add(&LogRecord::new(text, Window::Incident))
    }

    fn spans() -> WindowSpans {
        WindowSpans {
            baseline_seconds: 1800.0,
            incident_seconds: 600.0,
        }
    }

    fn report(m: &TemplateMiner) -> Vec<LogTemplate> {
        m.templates(&spans(), &BurstTest::default())
    }

    #[test]
    fn masks_numbers_ids_addresses_and_dates() {
        let mut m = miner();
        let cases = [
            ("took 42 ms", "took <*> ms"),
            ("offset -17 and +3", "offset <*> and +<*>"),
            ("from 10.0.0.12:8080 to [::1]", "from <*> to [::<*>]"),
            ("ip 2607:f140:6000:8:c6b3:1ff:fecd:467f", "ip <*>"),
            (
                "instance b9000564-fe1a-409b-b8cc-1e88b294cd1d gone",
                "instance <*> gone",
            ),
            ("addr 0x7fed806eb5d ok", "addr <*> ok"),
            ("block blk_-6952295868487656571 done", "block blk_<*> done"),
            (
                "GET /v2/54fadb412c4e/servers/detail",
                "GET /<*>/servers/detail",
            ),
            ("at 2016/9/27:20:30:31.455 start", "at <*> start"),
            ("at Fri Jun 17 07:07:00 2005", "at <*> <*> <*> <*> <*>"),
            ("hash deadbeefcafe seen", "hash <*> seen"),
            ("user alice-2 left", "user alice-<*> left"),
            ("plain words stay", "plain words stay"),
        ];
        for (line, masked) in cases {
            assert_eq!(m.mask(line), masked, "masking {line:?}");
        }
    }

    #[test]
    fn similar_lines_share_a_template_that_generalises() {
        let mut m = miner();
        let a = add(&mut m, "Connection reset by peer port 22 alpha stage one");
        assert_eq!(
            m.template_text(a).as_deref(),
            Some("Connection reset by peer port <*> alpha stage one")
        );
        let b = add(&mut m, "Connection reset by peer port 23 beta stage one");
        assert_eq!(a, b, "a stable id while the template generalises");
        assert_eq!(
            m.template_text(a).as_deref(),
            Some("Connection reset by peer port <*> <*> stage one")
        );
        let c = add(&mut m, "Disk quota exceeded for volume 7");
        assert_ne!(a, c);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn one_changed_word_in_a_short_line_is_another_event() {
        let mut m = miner();
        let a = add(&mut m, "Ending TrustedInstaller initialization.");
        let b = add(&mut m, "Ending TrustedInstaller finalization.");
        assert_ne!(a, b);
        let c = add(
            &mut m,
            "Accepted password for root from 1.2.3.4 port 22 ssh2",
        );
        let d = add(&mut m, "Failed password for root from 1.2.3.4 port 22 ssh2");
        assert_ne!(c, d, "two values at one position are not yet a variable");
    }

    #[test]
    fn a_position_with_many_values_becomes_a_variable() {
        let mut m = miner();
        let users = ["alice", "bob", "carol", "dave"];
        let ids: Vec<TemplateId> = users
            .iter()
            .map(|u| add(&mut m, &format!("session opened for user {u}")))
            .collect();
        let first = m.resolve(ids[0]);
        for id in &ids {
            assert_eq!(m.resolve(*id), first);
        }
        assert_eq!(
            m.template_text(first).as_deref(),
            Some("session opened for user <*>")
        );
        // A variable leading token (a job name) is found the same way.
        let jobs = ["com.apple.a", "com.apple.b", "com.apple.c"];
        let ids: Vec<TemplateId> = jobs
            .iter()
            .map(|j| add(&mut m, &format!("{j}: scheduler told me to run this job")))
            .collect();
        assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn variables_spanning_several_tokens_merge_by_shape() {
        let mut m = miner();
        let a = add(&mut m, "Registered signals 1 2 3 for worker pool");
        let b = add(&mut m, "Registered signals 1 2 for worker pool");
        let c = add(&mut m, "Registered signals 9 for worker pool");
        assert_eq!(m.resolve(b), m.resolve(a));
        assert_eq!(m.resolve(c), m.resolve(a));
        let t = report(&m);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].incident_count, 3);
        assert_eq!(t[0].merged_ids.len(), 2);
    }

    #[test]
    fn a_trailing_variable_run_does_not_swallow_other_tails() {
        let mut m = miner();
        let a = add(&mut m, "auth failure; ruser= rhost=10.0.0.1");
        let b = add(&mut m, "auth failure; ruser= rhost=10.0.0.1 user=root");
        assert_ne!(m.resolve(a), m.resolve(b));
    }

    #[test]
    fn counts_per_window_and_service() {
        let mut m = miner();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).single();
        let t1 = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).single();
        let mut rec = LogRecord::new("GET /api/orders 200 in 12 ms", Window::Baseline)
            .service("orders")
            .level(LogLevel::Info);
        if let Some(t) = t0 {
            rec = rec.at(t);
        }
        let id = m.add(&rec);
        let mut rec =
            LogRecord::new("GET /api/orders 200 in 15 ms", Window::Incident).service("orders");
        if let Some(t) = t1 {
            rec = rec.at(t);
        }
        m.add(&rec);
        m.add(&LogRecord::new("GET /api/orders 200 in 9 ms", Window::Incident).service("gateway"));
        assert_eq!(m.lines(), [1, 2]);
        let t = report(&m);
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert_eq!(t.id, id);
        assert_eq!((t.baseline_count, t.incident_count), (1, 2));
        assert_eq!(
            t.services,
            vec![
                ServiceCount {
                    service: "orders".into(),
                    baseline: 1,
                    incident: 1
                },
                ServiceCount {
                    service: "gateway".into(),
                    baseline: 0,
                    incident: 1
                },
            ]
        );
        assert_eq!(t.first_seen, t1, "the earliest time, not the first added");
        assert_eq!(t.max_level, LogLevel::Info);
        assert_eq!(t.examples.len(), 3);
    }

    #[test]
    fn examples_are_capped() {
        let mut m = TemplateMiner::new(MinerConfig {
            max_examples: 2,
            max_example_bytes: 9,
            ..MinerConfig::default()
        });
        for i in 0..10 {
            add(&mut m, &format!("request {i} served from cache"));
        }
        let t = report(&m);
        assert_eq!(t[0].examples, vec!["request 0", "request 1"]);
    }

    #[test]
    fn flags_new_bursting_and_error_templates() {
        let mut m = miner();
        // Steady: 30 per baseline (30 min), 10 per incident (10 min): same rate.
        for i in 0..30 {
            m.add(&LogRecord::new(
                &format!("heartbeat {i} ok"),
                Window::Baseline,
            ));
        }
        for i in 0..10 {
            m.add(&LogRecord::new(
                &format!("heartbeat {i} ok"),
                Window::Incident,
            ));
        }
        // Bursting: 3 in baseline, 40 in incident.
        for i in 0..3 {
            m.add(&LogRecord::new(
                &format!("retry {i} of payment call"),
                Window::Baseline,
            ));
        }
        for i in 0..40 {
            m.add(&LogRecord::new(
                &format!("retry {i} of payment call"),
                Window::Incident,
            ));
        }
        // New and error level.
        for i in 0..5 {
            m.add(
                &LogRecord::new(
                    &format!("NullPointerException in OrderService line {i}"),
                    Window::Incident,
                )
                .level(LogLevel::parse("ERROR")),
            );
        }
        // New, no level, but the text says it failed.
        m.add(&LogRecord::new("connection to db failed", Window::Incident));
        let t = report(&m);
        let find = |prefix: &str| t.iter().find(|t| t.template.starts_with(prefix));
        let heartbeat = find("heartbeat");
        let retry = find("retry");
        let npe = find("NullPointerException");
        let db = find("connection to db");
        let (Some(heartbeat), Some(retry), Some(npe), Some(db)) = (heartbeat, retry, npe, db)
        else {
            panic!("templates missing: {t:#?}");
        };
        assert!(!heartbeat.is_new && !heartbeat.is_bursting && !heartbeat.is_error_level);
        assert!((heartbeat.rate_ratio - 1.0).abs() < 0.1);
        assert!(!retry.is_new && retry.is_bursting, "{retry:?}");
        assert!(retry.burst_p_value < 1e-6);
        assert!(npe.is_new && npe.is_bursting && npe.is_error_level);
        assert_eq!(npe.max_level, LogLevel::Error);
        assert!(db.is_new && !db.is_bursting && db.is_error_level);
    }

    #[test]
    fn nothing_is_new_without_a_baseline() {
        let mut m = miner();
        add(&mut m, "cache warmed in 3 s");
        assert!(!report(&m)[0].is_new);
    }

    #[test]
    fn burst_statistic_matches_the_binomial_tail() {
        // P(X >= 3 | n = 3, p = 0.5) = 1/8; P(X >= 9 | n = 10, p = 0.5) = 11/1024.
        assert!((binomial_upper_tail(3, 3, 0.5) - 0.125).abs() < 1e-12);
        assert!((binomial_upper_tail(10, 9, 0.5) - 11.0 / 1024.0).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(10, 2, 0.5), 1.0);
        assert_eq!(binomial_upper_tail(10, 0, 0.5), 1.0);
        // Large counts stay finite and tiny.
        let p = binomial_upper_tail(2_000_000, 1_000_000, 0.25);
        assert!((0.0..1e-100).contains(&p));
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        // Zero-length windows fall back to equal spans instead of dividing by zero.
        let (ratio, p) = burst(
            0,
            5,
            &WindowSpans {
                baseline_seconds: 0.0,
                incident_seconds: f64::NAN,
            },
            &BurstTest::default(),
        );
        assert!(ratio.is_finite() && p.is_finite());
    }

    #[test]
    fn empty_and_whitespace_lines_form_one_template() {
        let mut m = miner();
        let a = add(&mut m, "");
        let b = add(&mut m, "   \t ");
        assert_eq!(a, b);
        assert_eq!(m.template_text(a).as_deref(), Some(""));
    }

    #[test]
    fn huge_lines_are_capped() {
        let mut m = miner();
        let word_line = "word ".repeat(1 << 18); // 1.25 MiB, 262 144 tokens
        let id = add(&mut m, &word_line);
        let text = m.template_text(id).unwrap_or_default();
        assert_eq!(text.split(' ').count(), MinerConfig::default().max_tokens);
        let one_token = "x".repeat(1 << 20);
        let id = add(&mut m, &one_token);
        let text = m.template_text(id).unwrap_or_default();
        assert_eq!(text.len(), MinerConfig::default().max_line_bytes);
        // A cut in the middle of a multi-byte character stays valid UTF-8.
        let wide = "错".repeat(1 << 19);
        let id = add(&mut m, &wide);
        assert!(m.template_text(id).is_some_and(|t| t.len() <= 64 * 1024));
        let t = report(&m);
        assert!(t.iter().all(|t| t.examples.iter().all(|e| e.len() <= 512)));
    }

    #[test]
    fn chinese_lines_are_mined() {
        let mut m = miner();
        let a = add(&mut m, "订单服务 调用 支付服务 超时 耗时 3012 毫秒");
        let b = add(&mut m, "订单服务 调用 支付服务 超时 耗时 45 毫秒");
        let c = add(&mut m, "用户 登录 失败：密码错误");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            m.template_text(a).as_deref(),
            Some("订单服务 调用 支付服务 超时 耗时 <*> 毫秒")
        );
        let t = report(&m);
        let failed = t.iter().find(|t| t.id == c);
        assert!(failed.is_some_and(|t| t.is_error_level));
    }

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

    #[test]
    fn the_template_cap_sends_the_rest_to_one_overflow_template() {
        let mut m = TemplateMiner::new(MinerConfig {
            max_templates: 2,
            ..MinerConfig::default()
        });
        add(&mut m, "alpha beta gamma");
        add(&mut m, "delta epsilon zeta eta");
        let x = add(&mut m, "one two");
        let y = add(&mut m, "three four five six seven");
        assert_eq!(x, y);
        assert_eq!(m.template_text(x).as_deref(), Some(WILDCARD));
    }

    #[test]
    fn templates_serialize_as_json() {
        let mut m = miner();
        m.add(&LogRecord::new("disk 3 full", Window::Incident).level(LogLevel::Warn));
        let json = serde_json::to_value(report(&m)).unwrap_or_default();
        assert_eq!(json[0]["template"], "disk <*> full");
        assert_eq!(json[0]["id"], 0);
        assert_eq!(json[0]["max_level"], "warn");
        assert_eq!(json[0]["incident_count"], 1);
    }

    /// Random lines (ASCII, digits, punctuation, CJK, odd whitespace): the miner never
    /// panics, every line lands in a template, counts add up, ids resolve to roots.
    #[test]
    fn invariants_hold_on_random_lines() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<char> = "ab xyz019 .:-_/[]()=,\t错误服务\u{3000}<*>"
            .chars()
            .collect();
        let mut m = miner();
        let mut ids = Vec::new();
        for _ in 0..3000 {
            let len = (next() % 60) as usize;
            let line: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let window = if next() % 2 == 0 {
                Window::Baseline
            } else {
                Window::Incident
            };
            let id = m.add(&LogRecord::new(&line, window).service(if next() % 3 == 0 {
                "a"
            } else {
                "b"
            }));
            ids.push(id);
        }
        let t = report(&m);
        assert_eq!(t.len(), m.len());
        let total: u64 = t.iter().map(|t| t.baseline_count + t.incident_count).sum();
        assert_eq!(total, 3000);
        let per_service: u64 = t
            .iter()
            .flat_map(|t| &t.services)
            .map(|s| s.baseline + s.incident)
            .sum();
        assert_eq!(per_service, 3000);
        for id in ids {
            let root = m.resolve(id);
            assert_eq!(m.resolve(root), root);
            assert!(t.iter().any(|t| t.id == root));
        }
    }
}
