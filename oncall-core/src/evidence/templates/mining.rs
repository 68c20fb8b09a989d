//! Drain online log parsing (He et al., "Drain: An Online Log Parsing Approach with
//! Fixed Depth Tree", ICWS 2017): a fixed-depth prefix tree routes each masked line to
//! a few candidate templates, and the most similar one takes it and generalises.
//!
//! The tree is keyed by the token count, then by the first
//! [`MinerConfig::prefix_tokens`] tokens (a wildcard token, or a token seen after a node
//! already has [`MinerConfig::max_children`] children, goes to the wildcard child); its
//! nodes and leaves are 64-bit hashes, not allocated nodes. The candidate with the
//! highest share of equal tokens wins if that share reaches [`MinerConfig::similarity`]
//! (ties go to the more general template); positions where the line differs become
//! `<*>`. Otherwise the line starts a new template, or past
//! [`MinerConfig::max_templates`] goes to one overflow template. New and generalised
//! templates are then merged by shape and family (`families.rs`).

use std::collections::HashMap;

use super::families::Family;
use super::hashing::{PrehashedMap, WILD_KEY, hash_bytes, mix};
use super::masking::{WILD, WILDCARD};
use super::scoring::Stats;
use super::{LogRecord, TemplateId};

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

/// The online template miner. See the [module documentation](super).
#[derive(Debug)]
pub struct TemplateMiner {
    pub(super) config: MinerConfig,
    pub(super) templates: Vec<Template>,
    pub(super) leaves: PrehashedMap<Vec<u32>>,
    pub(super) edges: PrehashedMap<()>,
    pub(super) fanout: PrehashedMap<u32>,
    pub(super) shapes: PrehashedMap<u32>,
    pub(super) families: PrehashedMap<Family>,
    pub(super) services: HashMap<Box<str>, u32>,
    pub(super) service_names: Vec<Box<str>>,
    pub(super) last_service: Option<u32>,
    pub(super) overflow: Option<u32>,
    pub(super) lines: [u64; 2],
    /// The masked line, tokens back to back.
    pub(super) buf: Vec<u8>,
    /// `(start, end)` of each token in `buf`.
    pub(super) spans: Vec<(u32, u32)>,
}

/// One token of a stored template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Slot {
    Wild,
    Word(Box<[u8]>),
}

impl Slot {
    pub(super) fn is(&self, token: &[u8]) -> bool {
        match self {
            Slot::Wild => token == WILD,
            Slot::Word(word) => **word == *token,
        }
    }
}

#[derive(Debug)]
pub(super) struct Template {
    pub(super) slots: Vec<Slot>,
    /// Union-find parent; a root is its own parent.
    pub(super) parent: u32,
    /// Hash of the current shape (wildcard runs collapsed).
    pub(super) shape: u64,
    /// Counts and examples; meaningful on roots only.
    pub(super) stats: Stats,
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
        if let Some(t) = self.templates.get_mut(root as usize) {
            t.stats.count(record, service, &self.config);
        }
        TemplateId(root)
    }

    // ---- internals -------------------------------------------------------------

    pub(super) fn root(&self, mut id: u32) -> u32 {
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

/// The template's text: its words, variables as [`WILDCARD`], joined by one space.
pub(super) fn render(slots: &[Slot]) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::Window;
    use super::super::test_util::{add, miner, report};
    use super::*;

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
