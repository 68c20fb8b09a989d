//! Template merging by shape and by family, our addition to Drain (He et al., ICWS
//! 2017) for variables its token-similarity test cannot see. Merged templates form a
//! union-find forest; the oldest template of a group is its root and keeps the counts.
//!
//! - **Shape**: a template's words in order with every run of wildcards collapsed to
//!   one (a trailing run keeps its length). Templates of equal shape, of any length or
//!   in any leaf of the tree, merge: variables that span several tokens (`[TERM, HUP,
//!   INT]`, lists, free text in a field) land in one template.
//! - **Family**: templates equal except at one position. Once that position has shown
//!   [`MinerConfig::variable_min_values`] values (or a wildcard) it is a variable and
//!   the family merges: short lines, or a host or job name as the first token, while
//!   two-valued pairs such as `Accepted`/`Failed password` stay apart.
//!
//! [`MinerConfig::variable_min_values`]: super::MinerConfig::variable_min_values

use super::hashing::{WILD_KEY, finish, hash_bytes, mix};
use super::mining::{Slot, TemplateMiner};

/// Templates equal except at one position.
#[derive(Debug, Default)]
pub(super) struct Family {
    members: Vec<u32>,
    merged: bool,
}

impl TemplateMiner {
    /// Records the shape of template `id` and merges it with an older template of the
    /// same shape.
    pub(super) fn reshape(&mut self, id: u32) {
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
    ///
    /// [`MinerConfig::variable_min_values`]: super::MinerConfig::variable_min_values
    pub(super) fn join_families(&mut self, id: u32) {
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

#[cfg(test)]
mod tests {
    use super::super::TemplateId;
    use super::super::test_util::{add, miner, report};

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
}
